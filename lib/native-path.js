'use strict';
// The native path: connections served by the addon's core, on its own
// threads, off this event loop. The twin of lib/legacy-path.js, with the
// same interface for the dispatcher, router and drainer (open, subscribe,
// unsubscribe, send, closeConnection, drainConnection, stats, shutdown).
//
// This is the one module of lib/ that loads the addon and touches its
// objects: the core is a private field, its numeric call statuses are
// turned into results here, and nothing else sees either.

const path = require('node:path');
const { EventEmitter } = require('node:events');
const handoff = require('./handoff');
const locator = require('./addon-locator');
const { FicusError, codes, rethrowLater } = require('./errors');
const { nowNs } = require('./histogram');
const { bucketOfRoute, slotOfRoute } = require('./bucket');
const { OUTCOME, accessCounters, refreshRequest } = require('./access');
const { LocalIds, randomEpoch } = require('./shared-stream');

// ------------------------------------------------------------ the addon

let addon = null;
let loadError = null;
let warned = false;

// Loads the addon once per environment. When it cannot load (no prebuild
// for this platform and no local build, unsupported platform) ficus keeps
// working on the legacy path and says why (lib/addon-locator.js).
function loadAddon() {
  if (addon || loadError) return addon;
  if (process.platform === 'win32') {
    loadError = new Error('the native core supports Linux and macOS; Windows stays on the legacy path');
    loadError.fix = null;
    return null;
  }
  const errors = [];
  for (const candidate of locator.candidates()) {
    try {
      addon = require(candidate);
      return addon;
    } catch (error) {
      if (error.code === 'MODULE_NOT_FOUND') continue;
      errors.push(`${path.relative(locator.root, candidate) || candidate}: ${error.message.split('\n')[0]}`);
    }
  }
  loadError = locator.unavailable(errors);
  return null;
}

// Called when a dispatcher is created: when the addon cannot load, one
// process warning per process says so, why, and what to do. Returns
// whether it warned.
function warnIfUnavailable() {
  if (arguments.length > 0) throw new TypeError('warnIfUnavailable() takes no arguments');
  if (warned || loadAddon() !== null) return false;
  warned = true;
  process.emitWarning(`ficus: native core off, every connection stays on the legacy ws path; ${loadError.message}`,
    { code: 'FICUS_NATIVE_UNAVAILABLE' });
  return true;
}

// ------------------------------------------------------------- statuses

// What the core's calls return (CallStatus in native/core/include/ficus/
// core.h), by the codes the addon exports: never compared as text.
const STATUS_MESSAGES = {
  ok: 'ok',
  stopped: 'the native core is not running',
  busy: 'the native core is overloaded (worker inbox full)',
  full: 'the native core is at maxConnections',
  unknownConnection: 'no such native connection',
  invalidArgument: 'invalid argument',
};

let statusNames = null; // code -> name, from the addon's callStatus table

function statusName(code) {
  if (statusNames === null) {
    statusNames = [];
    for (const [name, value] of Object.entries(addon.callStatus)) statusNames[value] = name;
  }
  return statusNames[code] || 'invalidArgument';
}

function headerValue(value) {
  return Array.isArray(value) ? value.join(', ') : value || '';
}

class NativePath extends EventEmitter {
  #core;
  #routes = new Map(); // id -> route (lib/bucket.js)
  #access = new Map(); // id -> the router's hook record (lib/access.js), if any
  #accessCounters = accessCounters();
  #mirroring = false;
  #localIds = new LocalIds(); // after leaveSharedStream()

  // Starts the core's threads; throws (with the reason) when the addon is
  // missing or the core cannot start.
  constructor(options) {
    super();
    if (!loadAddon()) throw loadError;
    const core = new addon.Core(options, (batch) => this.#onNotify(batch));
    try {
      core.start();
    } catch (error) {
      core.stop(0); // releases what the constructor set up
      throw error;
    }
    this.#core = core;
  }

  // --------------------------------------------------------------- opening

  // Hands an upgraded socket whose reads were paused (handoff.pauseReads,
  // `handle`) to the core, which answers the handshake itself. When it took
  // the socket, calls onOpen(id) and returns {}; else returns { reason,
  // head }: why not, and the bytes taken out of the stream (the legacy path
  // must see them).
  // `grant`: null (the client may subscribe to anything) or { allow }: the
  // patterns the core checks its subscribes against (lib/grant.js).
  // `expiresAt`: when the credentials expire (ms since the epoch) or null;
  // the core's deadline wheel closes the connection then. `access`: the
  // router's hook record (lib/access.js) or null.
  open(req, socket, head, {
    pathname, query, identity, topics, publisher, grant = null, route, handle, onOpen, expiresAt = null, access = null,
  }) {
    const initial = handoff.takeBufferedBytes(socket, head);
    const result = this.#core.adopt(handle.fd, initial, {
      method: req.method,
      path: pathname,
      query,
      host: headerValue(req.headers.host),
      upgrade: headerValue(req.headers.upgrade),
      connection: headerValue(req.headers.connection),
      key: headerValue(req.headers['sec-websocket-key']),
      version: headerValue(req.headers['sec-websocket-version']),
      protocols: headerValue(req.headers['sec-websocket-protocol']),
      extensions: headerValue(req.headers['sec-websocket-extensions']),
      identity,
      topics: publisher ? [] : topics,
      allow: publisher || grant === null ? null : grant.allow,
      publisher,
      authorizeTimeoutMs: access !== null && access.asks ? access.access.timeoutMs : 0,
      expiresInMs: expiresAt === null ? 0 : Math.max(1, expiresAt - Date.now()),
    });
    if (result.status !== addon.callStatus.ok) {
      const reason = result.status === addon.callStatus.full ? 'full' : 'stopped-or-busy';
      return { reason, head: initial || Buffer.alloc(0) };
    }
    handoff.releaseSocket(socket);
    this.#routes.set(result.id, route);
    if (access !== null) {
      Object.assign(access.info, { id: result.id, path: 'native' });
      this.#access.set(result.id, access);
    }
    onOpen(result.id);
    return {};
  }

  // -------------------------------------------------------------- routing

  // The bucket a connection was routed by, or undefined once it closed.
  bucketOf(id) {
    const route = this.#routes.get(id);
    return route === undefined ? undefined : bucketOfRoute(route);
  }

  // Calls fn(id) for every connection router `slot` placed in a bucket >= `bucket`.
  forEachAbove(slot, bucket, fn) {
    for (const [id, route] of this.#routes) {
      if (slotOfRoute(route) === slot && bucketOfRoute(route) >= bucket) fn(id);
    }
  }

  // ------------------------------------------------------------ publishing

  // Validates and fans out newline-delimited events (a Buffer). With
  // `routes` (an array), pushes [start, end, orderTopic, driverTopic] for
  // each accepted event, so the caller can deliver it on the legacy path.
  // Returns { accepted, rejected: [{ index, reason }], error }: `error` says
  // why the accepted events did not all reach every worker.
  // `ids`: for a shared stream, each non-blank line's id there ("<ms>-<n>");
  // lines at or before the newest appended are skipped (`duplicates`).
  publish(ndjson, routes, ids) {
    const given = ids === undefined ? this.#localIds.idsFor(ndjson) : ids;
    const result = this.#core.publishEvents(ndjson, routes, given);
    const name = statusName(result.status);
    return {
      accepted: result.accepted,
      rejected: result.rejected,
      duplicates: result.duplicates || 0,
      error: name === 'ok' ? null : STATUS_MESSAGES[name],
    };
  }

  // --------------------------------------------------------- shared stream
  // The Redis bridge's stream mode (lib/redis-stream.js): positions come
  // from a Redis Stream whose epoch is `epoch` (16 lowercase hex); the
  // core drops the old epoch's history, refuses publishes without ids and
  // hands ingested events to JS only (mirror). See lib/shared-stream.js.

  useSharedStream(epoch) {
    this.#core.useSharedStream(epoch);
    this.#localIds.stop();
  }

  // The core reads the shared stream itself (src: native/core stream_tail.h):
  // `config` is { generation, host (numeric), port, username, password, db,
  // key, afterId, count, blockMs, timeoutMs }, checked by the bridge. Its
  // reports come as 'streamRead' and 'streamEnded' events.
  tailStream(config) {
    this.#check('start reading the stream', this.#core.tailStream(config));
  }

  stopTail() {
    this.#core.stopTail();
  }

  // Every worker writes what its publisher connections ingest to the
  // shared stream itself (src: native/core stream_appender.h), holding it
  // until releaseAppend(generation). `config` is { generation, host
  // (numeric), port, username, password, db, timeoutMs, key, maxLen,
  // backoffMinMs, backoffMaxMs, maxQueuedBytes, batchWindowMs }, checked
  // by the bridge.
  // Each worker reports 'appendHeld'; failures come as 'appendFailed'.
  // Returns how many workers there are (holds to wait for).
  appendStream(config) {
    this.#check('start writing the stream', this.#core.appendStream(config));
    return this.#core.stats().workers.length;
  }

  // Both false when a worker's command queue was full (post again).
  releaseAppend(generation) {
    return this.#core.releaseAppend(generation) === addon.callStatus.ok;
  }

  stopAppend() {
    return this.#core.stopAppend() === addon.callStatus.ok;
  }

  #check(what, status) {
    if (statusName(status) !== 'ok') {
      throw new FicusError(codes.BUSY, `the core did not ${what}: ${STATUS_MESSAGES[statusName(status)]}`);
    }
  }

  // The bridge closed: the core cannot go back to numbering its events
  // itself, so it moves to an epoch of its own (old positions resume into
  // complete:false, never into a gap) and ids are made here.
  leaveSharedStream() {
    this.#core.useSharedStream(randomEpoch());
    this.#localIds.start();
  }

  // "<epoch>-<ms>-<n>" of the newest event appended, or null.
  lastPosition() {
    return this.#core.lastPosition();
  }

  // Events that native publisher connections ingest reach JS ('events')
  // only while someone here wants them.
  setMirror(on) {
    if (on === this.#mirroring) return;
    this.#mirroring = on;
    this.#core.setMirrorIngest(on);
  }

  // ---------------------------------------------------------- the stream

  // The core's history, read by the legacy path (lib/stream-feed.js,
  // lib/replay.js): one history per process, whichever path a client is
  // on. Same interface as lib/history.js, which stands in without the
  // addon. Sequence numbers are the stream's internal index.

  // Events with seq in [fromSeq, min(head, untilSeq, fromSeq + maxEvents)):
  // { next, missed, events: [[position, payload, orderTopic, driverTopic]] }.
  readStream(fromSeq, maxEvents, untilSeq) {
    return untilSeq === undefined ? this.#core.readStream(fromSeq, maxEvents)
      : this.#core.readStream(fromSeq, maxEvents, untilSeq);
  }

  // The seq the next appended event will get. With `skip`, the legacy
  // path has nobody to deliver what came before to: the core stops
  // holding those events back from trimming for it (reading marks its
  // cursor, like a worker's).
  streamHead(skip = false) {
    return this.#core.streamHead(skip);
  }

  // The seq of the first event after `since`, or -1 when the history does
  // not cover the gap.
  findPosition(since) {
    return this.#core.findPosition(since);
  }

  // Rehearsal faults (lib/failpoints.js): the whole set at once.
  setFailpoints(settings) {
    this.#core.setFailpoints(settings);
  }

  // ----------------------------------------------------------- connections

  subscribe(id, topics) {
    return this.#core.subscribe(id, topics) === addon.callStatus.ok;
  }

  unsubscribe(id, topics) {
    return this.#core.unsubscribe(id, topics) === addon.callStatus.ok;
  }

  // false for unknown (or closed) ids, and when the worker's inbox is full.
  send(id, data, binary = false) {
    return this.#core.send(id, data, binary) === addon.callStatus.ok;
  }

  closeConnection(id, code, reason) {
    return this.#core.close(id, code, reason) === addon.callStatus.ok;
  }

  // Closes one connection for a rollback (1012 with a retry hint). Returns
  // 'closed', 'busy' (its worker's inbox is full: try again later) or
  // 'gone' (it had closed already).
  drainConnection(id, code, reason) {
    const status = this.#core.close(id, code, reason);
    if (status === addon.callStatus.busy) return 'busy';
    return status === addon.callStatus.ok ? 'closed' : 'gone';
  }

  // ------------------------------------------------------------- reporting

  // A batch of notifications from the workers. A throwing listener must
  // neither lose the rest of the batch nor vanish: its error is rethrown
  // on its own tick, where Node reports it like any uncaught exception (an
  // exception left inside a native callback would only be logged).
  // Ingested events are reported once per batch ('events'), after the
  // rest: they are in the stream already, and the legacy path reads them
  // from there in stream order; the notifications' own copies are only
  // what it falls back to when the history trimmed them first.
  // A worker's 'appendHeld' is the exception: it says every event that
  // worker mirrored came before it, so those are reported first.
  #onNotify(batch) {
    let ingested = null;
    for (const note of batch) {
      if (note.type === 'event') {
        (ingested || (ingested = [])).push(note.orderTopic, note.driverTopic, note.data);
        continue;
      }
      if (note.type === 'appendHeld' && ingested !== null) {
        this.#emitIngested(ingested);
        ingested = null;
      }
      try {
        this.#handle(note);
      } catch (error) {
        rethrowLater(error);
      }
    }
    if (ingested !== null) this.#emitIngested(ingested);
  }

  #emitIngested(events) {
    try {
      this.emit('events', { events, publishNs: nowNs() });
    } catch (error) {
      rethrowLater(error);
    }
  }

  #handle(note) {
    if (note.type === 'message') {
      if (this.#refreshed(note.id, note.data)) return;
      this.emit('message', { id: note.id, data: note.data, binary: Buffer.isBuffer(note.data) });
    } else if (note.type === 'authorize') {
      this.#authorize(note.id, note.topic);
    } else if (note.type === 'streamRead' || note.type === 'streamEnded'
      || note.type === 'appendHeld' || note.type === 'appendFailed') {
      this.emit(note.type, note);
    } else if (note.type === 'close') {
      this.#routes.delete(note.id);
      this.#access.delete(note.id);
      this.emit('close', { id: note.id, code: note.code, identity: note.identity });
    }
  }

  // The core asks whether the client may subscribe to a topic its grant's
  // patterns do not allow. A hook that timed out is not answered: the
  // core's own deadline (the same authorizeTimeoutMs) refuses, and does not
  // remember the refusal, as the legacy path does not.
  #authorize(id, topic) {
    const record = this.#access.get(id);
    if (record === undefined) return; // closed meanwhile
    record.access.decide(this.#accessCounters, record, topic).then((outcome) => {
      if (outcome !== OUTCOME.timedOut) this.#core.answerAuthorization(id, topic, outcome === OUTCOME.allowed);
    });
  }

  // A client's refresh message goes to the router's refresh hook, not to
  // 'message' listeners; the answer (and the new grant) goes back to the
  // connection's worker. True when `data` was one.
  #refreshed(id, data) {
    const record = this.#access.get(id);
    if (record === undefined || !record.refreshes) return false;
    const request = refreshRequest(data);
    if (request === undefined) return false;
    record.access.renew(this.#accessCounters, record, request.token).then((update) => {
      if (!update.ok) {
        this.#core.send(id, update.answer, false);
        return;
      }
      this.#core.updateGrant(id, {
        expiresInMs: update.expiresAt === null ? 0 : Math.max(1, update.expiresAt - Date.now()),
        allow: update.allow,
        answer: update.answer,
      });
    });
    return true;
  }

  // The core's counters and the hooks' (see lib/path-stats.js for the
  // shape users see).
  stats() {
    return { ...this.#core.stats(), access: { ...this.#accessCounters } };
  }

  // Closes every connection with 1001, flushes within `timeoutMs` (the
  // shutdown timeout when undefined; 0 at process exit) and joins the
  // threads; the last notifications are delivered. Idempotent. Returns
  // whether every loop closed cleanly.
  shutdown(timeoutMs) {
    const clean = this.#core.stop(timeoutMs);
    this.#onNotify(this.#core.takeNotifications());
    return clean;
  }
}

// { decodeEvent, decodeClientMessage }: the core's own event decoder
// (native/binding/decode_wrap.h), or null without the addon. lib/events
// validates through them when they are there.
function nativeDecoders() {
  if (!loadAddon()) return null;
  return { decodeEvent: addon.decodeEvent, decodeClientMessage: addon.decodeClientMessage };
}

module.exports = {
  NativePath,
  loadAddon,
  nativeAvailable: () => loadAddon() !== null,
  warnIfUnavailable,
  nativeDecoders,
  get loadError() {
    loadAddon();
    return loadError;
  },
};
