'use strict';
// A Dispatcher owns both delivery paths: the native core (its own threads,
// off this event loop) and the legacy `ws` path. Routers attached to HTTP
// servers decide per upgrade which path a client lands on; publish()
// reaches subscribers on both.

const { EventEmitter } = require('node:events');
const { NativePath, warnIfUnavailable } = require('./native-path');
const { LegacyPath } = require('./legacy-path');
const { History } = require('./history');
const { StreamFeed } = require('./stream-feed');
const { Router } = require('./router');
const { FicusError, codes } = require('./errors');
const { forEachLine, decodeEvent, eventJson } = require('./events');
const { nowNs } = require('./histogram');
const { pathStats } = require('./path-stats');
const { Faults } = require('./failpoints');
const { ProbeConnections } = require('./probe-connections');
const { toPrometheus } = require('./prometheus');
const { DEFAULTS, RANGES, LIMITS, isSendableCloseCode } = require('./protocol');
const v = require('./validate');
const { isEpoch, isStreamId } = require('./shared-stream');

const inRange = ([min, max]) => (value, name) => v.integer(value, name, { min, max });

// Connection ids: numbers on the native path, strings on the legacy one.
function isNativeId(id) {
  if (typeof id === 'string') return false;
  if (typeof id !== 'number') throw v.typeError('a connection id (number or string)', 'id', id);
  if (!Number.isSafeInteger(id) || id < 0) throw v.rangeError('a native connection id (a non-negative integer)', 'id', id);
  return true;
}

// publishLocal's options.ids: stream ids "<ms>-<n>", one per non-blank line.
function checkIds(options, native) {
  if (options === undefined) return undefined;
  v.options(options, 'options', { ids: (value) => value }, {});
  const { ids } = options;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids)) throw v.typeError('an array of stream ids "<ms>-<n>"', 'options.ids', ids);
  ids.forEach((id, i) => {
    if (!isStreamId(id)) throw v.typeError('a stream id "<ms>-<n>"', `options.ids[${i}]`, id);
  });
  if (!native) throw new FicusError(codes.NATIVE_UNAVAILABLE, 'publishLocal(input, { ids }) needs the native core');
  return ids;
}

// Shared by both paths, so a client cannot tell them apart.
const OPTIONS = {
  ...Object.fromEntries(Object.entries(RANGES).map(([name, range]) => [name, inRange(range)])),
  native: v.boolean,
  backpressure: (value, name) => v.oneOf(value, name, ['drop', 'close']),
};

class Dispatcher extends EventEmitter {
  #native = null; // the NativePath, while the native core runs
  #sharedIngest = null; // fn(data): where ingested events go while the stream is shared
  #leftShared = false; // since: the core numbers nothing itself, ingested events come here
  #onTailReport = null; // fn(report): while the core reads the shared stream itself
  #onAppendReport = null; // fn(report): while the core writes it itself
  #nativeError = null; // why there is none
  #legacy;
  #history = null; // lib/history.js, only without the native core
  #feed; // the legacy path's live delivery, from the stream
  #skipTimer; // moves that cursor on while the legacy path has nobody
  #routers = new Set();
  #probes = new ProbeConnections(); // routers' probe connections (lib/probes.js)
  #nextRouterSlot = 0;

  constructor(options) {
    super();
    this.options = v.options(options, 'options', OPTIONS, DEFAULTS);
    this.events = { published: 0, accepted: 0, rejected: 0, nativeFailures: 0 };
    this.closed = false;
    this.redisBridge = null;
    if (this.options.native) warnIfUnavailable(); // once per process, when the addon cannot load
    this.#legacy = new LegacyPath(this.options);
    this.#legacy.on('message', (m) => {
      if (!this.#probes.has('legacy', m.id)) this.emit('message', { path: 'legacy', ...m });
    });
    // Legacy publisher connections publish like publish() does.
    this.#legacy.on('publish', ({ data }) => {
      if (!this.closed) this.publish(data);
    });
    // Native ingest connections' events reach legacy subscribers only when
    // there are some: the core mirrors them to JS while asked to.
    this.#legacy.on('open', () => this.#updateMirror());
    this.#legacy.on('close', (m) => {
      this.#updateMirror();
      if (!this.#probes.closed('legacy', m)) this.emit('close', { path: 'legacy', ...m });
    });
    if (this.options.native) {
      try {
        this.#native = new NativePath(this.options);
      } catch (error) {
        this.#nativeError = new FicusError(codes.NATIVE_UNAVAILABLE,
          `native core unavailable, serving every connection on the legacy path: ${error.message}`,
          { cause: error });
      }
    } else {
      this.#nativeError = new FicusError(codes.NATIVE_UNAVAILABLE, 'native core disabled by options.native = false');
    }
    // One stream of accepted events, with positions: the core's history
    // when the core runs (both paths read it), else a JS one.
    if (this.#native === null) {
      this.#history = new History({ maxEvents: this.options.historyMaxEvents, maxAgeMs: this.options.historyMaxAgeMs });
    }
    this.#feed = new StreamFeed(this.#native || this.#history, this.#legacy);
    // While the legacy path has nobody, events ingested by native publisher
    // connections raise no notification: once a second its cursor skips
    // them, so the core does not hold them back from trimming for it.
    this.#skipTimer = setInterval(() => {
      if (this.#legacy.connectionCount === 0) this.#feed.skipToHead();
    }, 1000);
    this.#skipTimer.unref();
    this.#legacy.useStream(this.#native || this.#history, this.#feed);
    if (this.#native) {
      // Native ingest connections' events are in the stream already (the
      // notification says when to read it), unless the stream is shared.
      this.#native.on('events', (e) => this.#onIngested(e));
      this.#native.on('streamRead', (note) => this.#onTailRead(note));
      this.#native.on('streamEnded', (note) => {
        if (this.#onTailReport !== null) this.#onTailReport(note);
      });
      for (const type of ['appendHeld', 'appendFailed']) {
        this.#native.on(type, (note) => {
          if (this.#onAppendReport !== null) this.#onAppendReport(note);
        });
      }
      this.#native.on('message', (m) => {
        if (!this.#probes.has('native', m.id)) this.emit('message', { path: 'native', ...m });
      });
      this.#native.on('close', (m) => {
        if (!this.#probes.closed('native', m)) this.emit('close', { path: 'native', ...m });
      });
    }
    // Rehearsal faults (lib/failpoints.js), all off.
    this.faults = new Faults(this.#native, () => this.assertOpen());
    // process.exit() skips environment cleanup hooks: stop the threads here.
    this.exitHandler = () => this.#stopNative(0);
    process.on('exit', this.exitHandler);
  }

  get nativeAvailable() {
    return this.#native !== null;
  }

  get nativeError() {
    return this.#nativeError;
  }

  attach(server, options) {
    this.assertOpen();
    if (!server || typeof server.on !== 'function' || typeof server.listen !== 'function') {
      throw v.typeError('an http.Server (or https.Server)', 'server', server);
    }
    // The router sees the paths, not the dispatcher (see lib/router.js).
    const host = {
      native: this.#native,
      legacy: this.#legacy,
      slot: this.#nextRouterSlot,
      // What a Grant's patterns are checked against (lib/grant.js).
      maxTopicBytes: this.options.maxTopicBytes,
      faults: this.faults,
      stats: () => this.stats(),
      publishProbe: (event) => this.#publishProbe(event),
      probeOpened: (path, id) => this.#probes.opened(path, id),
      detached: () => this.#routers.delete(router),
    };
    const router = new Router(host, server, options);
    this.#nextRouterSlot += 1;
    this.#routers.add(router);
    return router;
  }

  // Publishes one event (object, JSON string or Buffer) or many (an array,
  // or newline-delimited JSON in a string or Buffer). Valid events reach
  // every subscriber on both paths; invalid ones are returned with the
  // reason, never delivered. Returns { accepted, rejected: [{ index, reason }] }.
  // Through a publish-through bridge the valid events go to Redis instead,
  // and are delivered (and counted) when they come back.
  publish(input) {
    this.assertOpen();
    if (this.redisBridge && this.redisBridge.publishesThrough) {
      const result = this.redisBridge.publishThrough(input);
      this.events.published += result.rejected.length;
      this.events.rejected += result.rejected.length;
      return result;
    }
    return this.publishLocal(input);
  }

  // publish() to this process's subscribers only (what a bridge delivers).
  // `options.ids`: a shared stream's id of each event (lib/redis-stream.js);
  // then the result also has `duplicates`.
  publishLocal(input, options) {
    const ids = checkIds(options, this.#native !== null);
    const started = nowNs();
    const batch = this.normalize(input);
    let { rejected } = batch;
    let accepted = 0;
    let duplicates;
    const { bytes, indexOf } = batch;
    if (bytes.length > 0 && this.#native) {
      const routes = this.#legacy.connectionCount > 0 ? [] : undefined;
      const payload = routes && typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      const result = this.#native.publish(payload, routes, ids);
      if (ids !== undefined) duplicates = result.duplicates;
      if (result.error !== null) {
        this.events.nativeFailures += result.accepted;
        // Counted either way; reported to 'error' listeners only, so an app
        // without one is not thrown at in the middle of a publish.
        if (this.listenerCount('error') > 0) {
          this.emit('error', new FicusError(codes.BUSY, `native path did not take ${result.accepted} events: ${result.error}`));
        }
      }
      accepted = result.accepted;
      rejected = rejected.concat(result.rejected.map((r) => ({ index: indexOf(r.index), reason: r.reason })));
      // The legacy path delivers from the stream, in stream order (with any
      // ingested events between); the routes are what it falls back to
      // when the history could not hold the batch (StreamFeed.pump).
      if (routes) {
        const fallback = [];
        for (let i = 0; i < routes.length; i += 4) {
          fallback.push(routes[i + 2], routes[i + 3], payload.subarray(routes[i], routes[i + 1]));
        }
        this.#feed.pump(fallback, started);
      } else {
        this.#feed.pump(null, started);
      }
    } else if (bytes.length > 0) {
      // Buffers stay bytes: invalid UTF-8 is rejected as the core would, not
      // turned into U+FFFD by a conversion.
      forEachLine(bytes, (line, index) => {
        const decoded = decodeEvent(line, this.options);
        if (!decoded.ok) {
          rejected.push({ index: indexOf(index), reason: decoded.error });
          return;
        }
        accepted += 1;
        const payload = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
        const position = this.#history.append(payload, decoded.orderTopic, decoded.driverTopic);
        this.#feed.deliverAppended(decoded.orderTopic, decoded.driverTopic, payload, started, position);
      });
    }
    rejected.sort((a, b) => a.index - b.index);
    this.events.published += accepted + rejected.length;
    this.events.accepted += accepted;
    this.events.rejected += rejected.length;
    if (ids !== undefined) return { accepted, rejected, duplicates: duplicates || 0 };
    return { accepted, rejected };
  }

  // Turns any accepted input into newline-delimited bytes plus the
  // rejections found on the way, and a map from line to input index.
  normalize(input) {
    const identity = (i) => i;
    if (Buffer.isBuffer(input) || typeof input === 'string') {
      return { bytes: input, rejected: [], indexOf: identity };
    }
    if (Array.isArray(input)) {
      const lines = [];
      const lineToIndex = [];
      const rejected = [];
      input.forEach((item, index) => {
        const text = this.eventText(item, index, rejected);
        if (text === undefined) return;
        lines.push(text);
        lineToIndex.push(index);
      });
      return { bytes: lines.join('\n'), rejected, indexOf: (line) => lineToIndex[line] };
    }
    if (input !== null && typeof input === 'object') {
      const rejected = [];
      const text = this.eventText(input, 0, rejected);
      return { bytes: text === undefined ? '' : text, rejected, indexOf: identity };
    }
    throw v.typeError('an event object, a JSON string, a Buffer or an array of them', 'input', input);
  }

  eventText(item, index, rejected) {
    if (typeof item === 'string' || Buffer.isBuffer(item)) {
      const text = item.toString();
      if (text.includes('\n')) {
        rejected.push({ index, reason: 'an array item must hold one event (no newline)' });
        return undefined;
      }
      return text;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      rejected.push({ index, reason: 'event: expected a JSON object' });
      return undefined;
    }
    // Not judged here: every line is decoded where it is published (by the
    // core, or lib/events without it), with the verdict and text
    // validateEventObject would give. Only what has no JSON text is
    // rejected here.
    const { text, error } = eventJson(item, this.options);
    if (error !== undefined) rejected.push({ index, reason: error });
    return text;
  }

  // Subscribes to Redis channels and delivers what arrives; with
  // publishThrough, publish() goes through Redis. See lib/redis-bridge.js.
  bridge(redisUrl, options) {
    this.assertOpen();
    if (this.redisBridge && this.redisBridge.state !== 'closed') {
      throw new FicusError(codes.BRIDGED, 'this dispatcher already has an open bridge: close it first');
    }
    // Loaded on first use: a dispatcher without a bridge never loads the client.
    const { Bridge } = require('./redis-bridge');
    this.redisBridge = new Bridge(this, redisUrl, options);
    return this.redisBridge;
  }

  // Probe events (lib/probes.js) stay in this process, except under a
  // shared stream, which alone orders events: there they go through Redis
  // like the application's, and only while the bridge is up (else they
  // count as the probes' publishFailures), so that Redis being away is
  // not taken for loss on a path.
  #publishProbe(event) {
    if (this.#sharedIngest === null) return this.publishLocal(event);
    if (this.redisBridge && this.redisBridge.state === 'ready') return this.publish(event);
    return { accepted: 0, rejected: [] };
  }

  #updateMirror() {
    if (this.#native) this.#native.setMirror(this.#sharedIngest !== null || this.#leftShared || this.#legacy.connectionCount > 0);
  }

  // ------------------------------------------------------ shared stream
  // For the Redis bridge's stream mode (lib/redis-stream.js): positions come
  // from a Redis Stream. While shared, native publisher connections' events
  // are not delivered here but handed to `onIngest(data)`, which publishes
  // them through Redis (they are delivered when they come back).

  useSharedStream(epoch, onIngest) {
    this.assertOpen();
    if (!isEpoch(epoch)) throw v.typeError('16 lowercase hex digits', 'epoch', epoch);
    v.fn(onIngest, 'onIngest');
    if (this.#native === null) throw this.#nativeError;
    this.#native.useSharedStream(epoch);
    this.#sharedIngest = onIngest;
    this.#leftShared = false;
    this.#updateMirror();
  }

  // Back to a stream of this process's own (a new epoch; see native-path.js).
  leaveSharedStream() {
    if (this.#native === null || this.#sharedIngest === null) return;
    this.#sharedIngest = null;
    this.#leftShared = true;
    if (!this.closed) this.#native.leaveSharedStream();
    this.#updateMirror();
  }

  // The core reads the shared stream itself (lib/redis-stream.js; config
  // as NativePath.tailStream), replacing the reading it did, if any.
  // `onReport(report)` sees each batch's report ('streamRead', after the
  // legacy path has delivered it and it is counted as publishLocal would
  // count it) and the reading's end ('streamEnded').
  tailSharedStream(config, onReport) {
    this.assertOpen();
    v.fn(onReport, 'onReport');
    const native = this.#sharedCore('tailSharedStream');
    this.#onTailReport = onReport;
    native.tailStream(config);
  }

  // The native path while the stream is shared, or an error naming `call`.
  #sharedCore(call) {
    if (this.#native === null || this.#sharedIngest === null) {
      throw new FicusError(codes.NATIVE_UNAVAILABLE, `${call}() needs the native core on a shared stream (useSharedStream)`);
    }
    return this.#native;
  }

  // Reports still on their way go to the last `onReport`: the batches
  // they tell of are in the stream.
  stopSharedStreamTail() {
    if (this.#native !== null && !this.closed) this.#native.stopTail();
  }

  // The core writes what native publisher connections ingest to the shared
  // stream itself (lib/redis-bridge.js; config as NativePath.appendStream),
  // replacing the writing it did, if any: they no longer reach `onIngest`.
  // `onReport(report)` sees each worker's 'appendHeld' and every
  // 'appendFailed'. Returns how many workers hold their events until
  // releaseSharedStreamAppend(config.generation).
  appendSharedStream(config, onReport) {
    this.assertOpen();
    v.fn(onReport, 'onReport');
    const native = this.#sharedCore('appendSharedStream');
    this.#onAppendReport = onReport;
    return native.appendStream(config);
  }

  // Whether every worker took it (false: a command queue was full, post
  // again).
  releaseSharedStreamAppend(generation) {
    return this.#native === null || this.closed || this.#native.releaseAppend(generation);
  }

  // Native publisher connections' events reach `onIngest` again (the
  // events a worker held unreleased too). Returns as above.
  stopSharedStreamAppend() {
    this.#onAppendReport = null;
    return this.#native === null || this.closed || this.#native.stopAppend();
  }

  // Events the core's writers wrote and Redis took, and those they dropped.
  sharedStreamAppends() {
    if (this.#native === null || this.closed) return { appended: 0, dropped: 0 };
    const { total } = this.#native.stats();
    return { appended: total.streamAppended, dropped: total.streamAppendDropped };
  }

  #onTailRead(note) {
    const { result } = note;
    this.events.published += result.accepted + result.rejected.length;
    this.events.accepted += result.accepted;
    this.events.rejected += result.rejected.length;
    if (result.accepted > 0) this.#feed.pump(null);
    if (this.#onTailReport !== null) this.#onTailReport(note);
  }

  // "<epoch>-<ms>-<n>" of the newest event in this process's history, or null.
  lastPosition() {
    return this.#native === null ? null : this.#native.lastPosition();
  }

  // e.events: [orderTopic, driverTopic, data, ...] (lib/native-path.js).
  #onIngested(e) {
    if (this.#leftShared && !this.closed) {
      // Numbered here (native-path.js, leaveSharedStream), then delivered
      // on both paths as publish() would.
      const lines = [];
      for (let i = 2; i < e.events.length; i += 3) lines.push(e.events[i]);
      this.publishLocal(lines.join('\n'));
      return;
    }
    if (this.#sharedIngest === null) {
      this.#feed.pump(e.events, e.publishNs);
      return;
    }
    // A shared stream orders them: they go through it, and are delivered
    // when they come back.
    for (let i = 2; i < e.events.length; i += 3) this.#sharedIngest(e.events[i]);
  }

  // The path a connection id belongs to: numbers are native, strings
  // legacy. null for a native id when there is no native path.
  #pathOf(id) {
    return isNativeId(id) ? this.#native : this.#legacy;
  }

  // Connection-level calls by id: numbers are native, strings legacy.
  send(id, data) {
    this.assertOpen();
    const path = this.#pathOf(id);
    const binary = Buffer.isBuffer(data);
    if (!binary && typeof data !== 'string') throw v.typeError('a string or Buffer', 'data', data);
    return path !== null && path.send(id, data, binary);
  }

  closeConnection(id, code = 1000, reason = '') {
    this.assertOpen();
    const path = this.#pathOf(id);
    v.integer(code, 'code', { min: 1000, max: 4999 });
    if (!isSendableCloseCode(code)) throw v.rangeError('a close code of 1000-1003, 1007-1014 or 3000-4999', 'code', code);
    v.string(reason, 'reason');
    const max = LIMITS.maxCloseReasonBytes;
    if (Buffer.byteLength(reason) > max) throw v.rangeError(`a reason of at most ${max} bytes`, 'reason', reason);
    return path !== null && path.closeConnection(id, code, reason);
  }

  stats() {
    const routing = [...this.#routers].map((r) => r.stats());
    const native = this.#native && this.#native.stats();
    const stats = pathStats({
      native,
      history: native ? native.history : this.#history.stats(),
      nativeError: this.#nativeError,
      legacy: this.#legacy.stats(),
      routing,
      events: this.events,
      closed: this.closed,
    });
    // Probe connections are the dispatcher's own, not traffic.
    this.#probes.exclude(stats.paths);
    if (this.redisBridge) stats.bridge = this.redisBridge.stats();
    return stats;
  }

  metrics() {
    return toPrometheus(this.stats());
  }

  // The same series in a prom-client registry (the default one unless
  // given); returns a function that removes them. See lib/prom-client.js.
  registerMetrics(registry) {
    return require('./prom-client').registerMetrics(this, registry);
  }

  assertOpen() {
    if (this.closed) throw new FicusError(codes.CLOSED, 'this dispatcher was closed');
  }

  #stopNative(timeoutMs) {
    return this.#native === null || this.#native.shutdown(timeoutMs);
  }

  // Stops routing, closes the bridge and every connection on both paths
  // with 1001, and stops the native threads. Idempotent: every call returns the same
  // promise, which resolves when done.
  close() {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const bridgeClosed = this.redisBridge ? this.redisBridge.close() : undefined;
      for (const router of [...this.#routers]) router.detach();
      clearInterval(this.#skipTimer);
      const legacyDone = this.#legacy.shutdown(this.options.shutdownTimeoutMs);
      // Joins the native threads (bounded by shutdownTimeoutMs).
      this.#stopNative();
      await legacyDone;
      await bridgeClosed;
      process.off('exit', this.exitHandler);
    })();
    return this.closing;
  }
}

function createDispatcher(options) {
  return new Dispatcher(options);
}

module.exports = { Dispatcher, createDispatcher };
