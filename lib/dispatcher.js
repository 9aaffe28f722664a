'use strict';
// A Dispatcher owns both delivery paths: the native core (its own threads,
// off this event loop) and the legacy `ws` path. Routers attached to HTTP
// servers decide per upgrade which path a client lands on; publish()
// reaches subscribers on both.

const { EventEmitter } = require('node:events');
const native = require('./native');
const { LegacyPath } = require('./legacy-path');
const { Router } = require('./router');
const { FicusError, codes, rethrowLater } = require('./errors');
const { forEachLine, decodeEvent, validateEventObject } = require('./events');
const { nowNs } = require('./histogram');
const { pathStats } = require('./path-stats');
const { toPrometheus } = require('./prometheus');
const v = require('./validate');
const coreStatus = require('./core-status');

const positive = (min, max) => (value, name) => v.integer(value, name, { min, max });

// Connection ids: numbers on the native path, strings on the legacy one.
function isNativeId(id) {
  if (typeof id === 'string') return false;
  if (typeof id !== 'number') throw v.typeError('a connection id (number or string)', 'id', id);
  if (!Number.isSafeInteger(id) || id < 0) throw v.rangeError('a native connection id (a non-negative integer)', 'id', id);
  return true;
}

// The codes an endpoint may send (RFC 6455 7.4): 1004 is reserved, 1005,
// 1006 and 1015 only ever describe a close, 1016-2999 are unassigned.
const sendableCloseCode = (code) => (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
  (code >= 3000 && code <= 4999);

// Shared by both paths, so a client cannot tell them apart.
const OPTIONS = {
  threads: positive(0, 64),
  native: v.boolean,
  maxConnections: positive(0, Number.MAX_SAFE_INTEGER),
  maxMessageBytes: positive(125, 1 << 30),
  maxBufferedBytes: positive(1024, 1 << 30),
  backpressure: (value, name) => v.oneOf(value, name, ['drop', 'close']),
  maxTopicsPerConnection: positive(1, 1 << 20),
  maxTopicBytes: positive(1, 65535),
  maxEventBytes: positive(64, 1 << 30),
  handshakeTimeoutMs: positive(10, 2 ** 31 - 1),
  pingIntervalMs: positive(10, 2 ** 31 - 1),
  pongTimeoutMs: positive(10, 2 ** 31 - 1),
  closeTimeoutMs: positive(10, 2 ** 31 - 1),
  shutdownTimeoutMs: positive(0, 2 ** 31 - 1),
};

const DEFAULTS = {
  threads: 0,
  native: true,
  maxConnections: 0,
  maxMessageBytes: 64 * 1024,
  maxBufferedBytes: 1024 * 1024,
  backpressure: 'drop',
  maxTopicsPerConnection: 64,
  maxTopicBytes: 256,
  maxEventBytes: 64 * 1024,
  handshakeTimeoutMs: 10000,
  pingIntervalMs: 30000,
  pongTimeoutMs: 30000,
  closeTimeoutMs: 5000,
  shutdownTimeoutMs: 2000,
};

function startCore(options, onNotify) {
  const addon = native.addon;
  if (!addon) throw native.loadError;
  const core = new addon.Core(options, onNotify);
  try {
    core.start();
  } catch (error) {
    core.stop(0); // releases what the constructor set up
    throw error;
  }
  return core;
}

class Dispatcher extends EventEmitter {
  constructor(options) {
    super();
    this.options = v.options(options, 'options', OPTIONS, DEFAULTS);
    this.legacy = new LegacyPath(this.options);
    this.legacy.on('message', (m) => this.emit('message', { path: 'legacy', ...m }));
    // Legacy publisher connections publish like publish() does.
    this.legacy.on('publish', ({ data }) => {
      if (!this.closed) this.publish(data);
    });
    // Native ingest connections' events reach legacy subscribers only when
    // there are some: the core mirrors them to JS while asked to.
    this.legacy.on('open', () => this.updateMirror());
    this.legacy.on('close', (m) => {
      this.updateMirror();
      this.emit('close', { path: 'legacy', ...m });
    });
    this.routers = new Set();
    // id -> router slot * 256 + bucket: a small integer, no object per
    // connection (the core keeps the identity and reports it on close).
    this.nativeConnections = new Map();
    this.nextRouterSlot = 0;
    this.events = { published: 0, accepted: 0, rejected: 0, nativeFailures: 0 };
    this.closed = false;
    this.core = null;
    this.nativeError = null;
    this.redisBridge = null;
    if (this.options.native) {
      try {
        this.core = startCore(this.options, (batch) => this.onNotify(batch));
      } catch (error) {
        this.nativeError = new FicusError(codes.NATIVE_UNAVAILABLE,
          `native core unavailable, serving every connection on the legacy path: ${error.message}`,
          { cause: error });
      }
    } else {
      this.nativeError = new FicusError(codes.NATIVE_UNAVAILABLE, 'native core disabled by options.native = false');
    }
    // process.exit() skips environment cleanup hooks: stop the threads here.
    this.exitHandler = () => this.stopCore(0);
    process.on('exit', this.exitHandler);
  }

  get nativeAvailable() {
    return this.core !== null;
  }

  attach(server, options) {
    this.assertOpen();
    if (!server || typeof server.on !== 'function' || typeof server.listen !== 'function') {
      throw v.typeError('an http.Server (or https.Server)', 'server', server);
    }
    const router = new Router(this, server, options);
    router.slot = this.nextRouterSlot;
    this.nextRouterSlot += 1;
    this.routers.add(router);
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
  publishLocal(input) {
    const started = nowNs();
    const batch = this.normalize(input);
    let { rejected } = batch;
    let accepted = 0;
    const { bytes, indexOf } = batch;
    if (bytes.length > 0 && this.core) {
      const routes = this.legacy.connectionCount > 0 ? [] : undefined;
      const payload = routes && typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      const result = this.core.publishEvents(payload, routes);
      if (!result.ok) {
        this.events.nativeFailures += result.accepted;
        // Counted either way; reported to 'error' listeners only, so an app
        // without one is not thrown at in the middle of a publish.
        if (this.listenerCount('error') > 0) {
          this.emit('error', new FicusError(codes.BUSY, `native path did not take ${result.accepted} events: ${result.status}`));
        }
      }
      accepted = result.accepted;
      rejected = rejected.concat(result.rejected.map((r) => ({ index: indexOf(r.index), reason: r.reason })));
      if (routes) {
        for (let i = 0; i < routes.length; i += 4) {
          this.legacy.deliver(routes[i + 2], routes[i + 3], payload.subarray(routes[i], routes[i + 1]), started);
        }
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
        this.legacy.deliver(decoded.orderTopic, decoded.driverTopic, line, started);
      });
    }
    rejected.sort((a, b) => a.index - b.index);
    this.events.published += accepted + rejected.length;
    this.events.accepted += accepted;
    this.events.rejected += rejected.length;
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
    const error = validateEventObject(item, this.options);
    if (error) {
      rejected.push({ index, reason: error });
      return undefined;
    }
    return JSON.stringify(item);
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

  trackNative(id, router, bucket) {
    this.nativeConnections.set(id, router.slot * 256 + bucket);
  }

  // The bucket a native connection was routed by, or undefined once it closed.
  nativeBucketOf(id) {
    const packed = this.nativeConnections.get(id);
    return packed === undefined ? undefined : packed % 256;
  }

  // Calls fn(id) for every native connection `router` placed in a bucket >= `bucket`.
  forNativeAbove(router, bucket, fn) {
    for (const [id, packed] of this.nativeConnections) {
      if (Math.floor(packed / 256) === router.slot && packed % 256 >= bucket) fn(id);
    }
  }

  // A batch of notifications from the native workers. A throwing listener
  // must neither lose the rest of the batch nor vanish: its error is
  // rethrown on its own tick, where Node reports it like any uncaught
  // exception (an exception left inside a native callback would only be
  // logged as a warning).
  onNotify(batch) {
    for (const note of batch) {
      try {
        this.handleNotification(note);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }

  updateMirror() {
    const wanted = this.legacy.connectionCount > 0;
    if (this.core && wanted !== this.mirroring) {
      this.mirroring = wanted;
      this.core.setMirrorIngest(wanted);
    }
  }

  handleNotification(note) {
    if (note.type === 'event') {
      this.legacy.deliver(note.orderTopic, note.driverTopic, note.data, nowNs());
    } else if (note.type === 'message') {
      this.emit('message', { path: 'native', id: note.id, data: note.data, binary: Buffer.isBuffer(note.data) });
    } else if (note.type === 'close') {
      this.nativeConnections.delete(note.id);
      this.emit('close', { path: 'native', id: note.id, code: note.code, identity: note.identity });
    }
  }

  // Connection-level calls by id: numbers are native, strings legacy.
  send(id, data) {
    this.assertOpen();
    const native = isNativeId(id);
    const binary = Buffer.isBuffer(data);
    if (!binary && typeof data !== 'string') throw v.typeError('a string or Buffer', 'data', data);
    if (native) return this.core ? this.core.send(id, data, binary) === coreStatus.OK : false;
    return this.legacy.send(id, data, binary);
  }

  closeConnection(id, code = 1000, reason = '') {
    this.assertOpen();
    const native = isNativeId(id);
    v.integer(code, 'code', { min: 1000, max: 4999 });
    if (!sendableCloseCode(code)) throw v.rangeError('a close code of 1000-1003, 1007-1014 or 3000-4999', 'code', code);
    v.string(reason, 'reason');
    if (Buffer.byteLength(reason) > 123) throw v.rangeError('a reason of at most 123 bytes', 'reason', reason);
    if (native) return this.core ? this.core.close(id, code, reason) === coreStatus.OK : false;
    return this.legacy.closeConnection(id, code, reason);
  }

  stats() {
    const routing = [...this.routers].map((r) => r.stats());
    const stats = pathStats({
      core: this.core,
      nativeError: this.nativeError,
      legacy: this.legacy.stats(),
      routing,
      events: this.events,
      closed: this.closed,
    });
    if (this.redisBridge) stats.bridge = this.redisBridge.stats();
    return stats;
  }

  metrics() {
    return toPrometheus(this.stats());
  }

  assertOpen() {
    if (this.closed) throw new FicusError(codes.CLOSED, 'this dispatcher was closed');
  }

  stopCore(timeoutMs) {
    if (!this.core) return true;
    const clean = this.core.stop(timeoutMs);
    this.onNotify(this.core.takeNotifications());
    return clean;
  }

  // Stops routing, closes the bridge and every connection on both paths
  // with 1001, and stops the native threads. Idempotent: every call returns the same
  // promise, which resolves when done.
  close() {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const bridgeClosed = this.redisBridge ? this.redisBridge.close() : undefined;
      for (const router of [...this.routers]) router.detach();
      const legacyDone = this.legacy.shutdown(this.options.shutdownTimeoutMs);
      // Joins the native threads (bounded by shutdownTimeoutMs).
      this.stopCore();
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

module.exports = { Dispatcher, createDispatcher, OPTIONS, DEFAULTS };
