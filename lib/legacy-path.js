'use strict';
// The legacy path: WebSocket connections served in the Node process with
// the `ws` package, for the share of traffic not routed to the native core.
// From the client's side it must be the native path's twin (see
// native/core/src/connection.cc and worker.cc): same topic semantics, same
// subscribe/unsubscribe messages and limits, same close codes, same
// heartbeat rules, same backpressure policy. It is also the benchmark's
// baseline, so delivery allocates nothing per connection beyond what `ws`
// itself does.

const { EventEmitter } = require('node:events');
const { STATUS_CODES } = require('node:http');
const { performance } = require('node:perf_hooks');
const { WebSocketServer, WebSocket } = require('ws');

const { decodeClientMessage } = require('./events');
const { LatencyHistogram, nowNs } = require('./histogram');
const { bucketOfRoute, slotOfRoute } = require('./bucket');
const { DEFAULTS, LIMITS, CLOSE, CLOSE_REASONS, closeCodeKey, frameBytes } = require('./protocol');
const { GrantMatcher, refusalMessage } = require('./grant');

const OPEN = WebSocket.OPEN;
// Shared by every send: `ws` copies its options, never keeps them.
const SEND_TEXT = Object.freeze({ binary: false });
const SEND_BINARY = Object.freeze({ binary: true });
// A view of a buffer this much larger than itself is worth copying before it
// waits in a slow reader's queue (Node's own 8 KiB allocation pool is not).
const PIN_SLACK_BYTES = 64 * 1024;

class LegacyConnection {
  constructor(id, ws, identity, route, nowMs) {
    this.id = id;
    this.ws = ws;
    this.identity = identity;
    this.route = route; // the router and bucket that placed it (lib/bucket.js)
    this.topics = new Set();
    // Sequence number of the last event sent here: an event matching two of
    // this connection's topics goes out once (worker.cc does the same).
    this.lastDelivery = 0;
    this.lastActivityMs = nowMs; // any bytes from the client
    this.pingSentMs = 0; // 0: no ping outstanding
    this.closingSinceMs = 0; // when it stopped being open
    this.closeCode = 0; // the code we closed with; 0: the peer's, or ws's
    // What the client may subscribe to: null for anything, else a
    // GrantMatcher (Connection::grant_); refusals so far.
    this.grant = null;
    this.refused = 0;
  }
}

// Native close frames cut the reason at 123 bytes on a character boundary
// (truncateUtf8 in frame_codec.cc); `ws` would throw instead.
function closeReason(reason) {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= LIMITS.maxCloseReasonBytes) return reason;
  let cut = LIMITS.maxCloseReasonBytes;
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut -= 1;
  return bytes.subarray(0, cut);
}

// `ws` puts the close code a receiver error calls for (1002, 1007, 1009)
// under a symbol it does not export.
function statusCodeOf(err) {
  for (const symbol of Object.getOwnPropertySymbols(err)) {
    if (symbol.description === 'status-code') return err[symbol];
  }
  return 0;
}

// The native handshake's error response (buildErrorResponse in
// handshake.cc), then the socket is closed.
function rejectHandshake(socket, status, reason, headers = {}) {
  socket.on('error', () => {}); // a reset peer is no news here
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain\r\n' +
    Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function emptyCloseCounts() {
  const counts = {};
  for (let code = 1000; code <= 1015; code += 1) counts[code] = 0;
  counts.other = 0;
  return counts;
}

class LegacyPath extends EventEmitter {
  constructor(options = {}) {
    super();
    const o = { ...DEFAULTS, ...options };
    this._options = o;
    this._closeOnBackpressure = o.backpressure === 'close';
    // Client messages are decoded with the worker's limits (worker.cc): a
    // message may name as many topics as a connection may hold.
    this._messageLimits = {
      maxDepth: LIMITS.maxDepth,
      maxTopicBytes: o.maxTopicBytes,
      maxTopicsPerMessage: o.maxTopicsPerConnection,
    };
    this._wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
      // Like the native core: no subprotocol is selected.
      handleProtocols: () => false,
    });
    this._connections = new Map(); // id -> LegacyConnection
    this._subscribers = new Map(); // topic -> Set<LegacyConnection>
    this._nextId = 1;
    this._sequence = 0; // numbers deliver() calls, for once-per-connection
    this._latency = new LatencyHistogram();
    this._counters = {
      connectionsOpened: 0,
      handshakesRejected: 0,
      messagesIn: 0,
      messagesOut: 0,
      bytesOut: 0,
      deliveries: 0,
      dropsBackpressure: 0,
      dropsClosing: 0,
      subscribesRefused: 0,
    };
    this._closedByCode = emptyCloseCounts();
    this._shutdown = null; // { promise, resolve, timer } once close() began
    // One coarse timer checks every deadline, like a native worker's timer
    // wheel: a quarter of the shortest one, between 5 ms and 1 s.
    const shortest = Math.min(o.pingIntervalMs, o.pongTimeoutMs, o.closeTimeoutMs);
    this._sweepTimer = setInterval(() => this._sweep(), Math.min(Math.max(Math.floor(shortest / 4), 5), 1000));
    this._sweepTimer.unref();
  }

  get connectionCount() {
    return this._connections.size;
  }

  // --------------------------------------------------------------- opening

  // Completes the upgrade of a request already judged (path, routing,
  // identity) by the caller, subscribed to `topics`.
  // With `publisher`, every text message the connection sends is an event:
  // emitted as 'publish' (the dispatcher publishes it to both paths).
  // onOpen(id) is called once the handshake succeeded.
  // `grant`: null (the client may subscribe to anything) or { allow }: the
  // patterns its subscribes (by message, and `topics`) are checked against.
  open(req, socket, head, { identity, topics = [], publisher = false, grant = null, route = 0, onOpen } = {}) {
    if (this._shutdown !== null) {
      this._counters.handshakesRejected += 1;
      rejectHandshake(socket, 503, CLOSE_REASONS.shuttingDown);
      return;
    }
    // ws would also accept hybi-08; the native core speaks RFC 6455 only.
    if (req.headers['sec-websocket-version'] !== '13') {
      this._counters.handshakesRejected += 1;
      rejectHandshake(socket, 426, 'unsupported WebSocket version', { 'Sec-WebSocket-Version': '13' });
      return;
    }
    const refusal = this._checkHandshakeTopics(topics);
    if (refusal !== null) {
      this._counters.handshakesRejected += 1;
      rejectHandshake(socket, 400, refusal);
      return;
    }
    // ws refuses a bad key, method or extension header itself (and closes
    // the socket) without calling back: counted when the socket closes
    // unopened.
    const refused = () => {
      this._counters.handshakesRejected += 1;
    };
    socket.once('close', refused);
    this._wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', refused);
      const matcher = publisher || grant === null ? null : new GrantMatcher(grant.allow);
      const id = this._adopt(ws, socket, identity, route, publisher ? [] : topics, publisher, matcher);
      if (onOpen) onOpen(id);
    });
  }

  // The native handshake refuses these with 400 (Connection::upgrade).
  _checkHandshakeTopics(topics) {
    if (topics.length > this._options.maxTopicsPerConnection) return CLOSE_REASONS.tooManyTopics;
    for (const topic of topics) {
      if (!this._topicFits(topic)) return CLOSE_REASONS.badTopicName;
    }
    return null;
  }

  _topicFits(topic) {
    return topic.length > 0 && Buffer.byteLength(topic, 'utf8') <= this._options.maxTopicBytes;
  }

  _adopt(ws, socket, identity, route, topics, publisher = false, grant = null) {
    const id = `l${this._nextId}`;
    this._nextId += 1;
    const conn = new LegacyConnection(id, ws, identity, route, performance.now());
    conn.publisher = publisher;
    conn.grant = grant;
    this._connections.set(id, conn);
    this._counters.connectionsOpened += 1;
    // The initial topics are the client's request too when they came from
    // the query (Connection::upgrade): a grant checks them.
    const error = this._subscribeAll(conn, topics, true);
    if (error !== null) this._closeConnection(conn, CLOSE.POLICY_VIOLATION, error);
    // Any bytes from the client count as a sign of life, as in the native
    // onData(): messages, pings, pongs, even part of a frame.
    socket.on('data', () => {
      conn.lastActivityMs = performance.now();
      conn.pingSentMs = 0;
    });
    ws.on('message', (data, isBinary) => this._onMessage(conn, data, isBinary));
    ws.on('error', (err) => this._onError(conn, err));
    ws.on('close', (code) => this._onClose(conn, code));
    this.emit('open', { id, identity });
    return id;
  }

  // --------------------------------------------------------------- reading

  _onMessage(conn, data, isBinary) {
    this._counters.messagesIn += 1;
    if (conn.ws.readyState !== OPEN) return;
    if (isBinary) {
      this.emit('message', { id: conn.id, data, binary: true });
      return;
    }
    if (conn.publisher) {
      this.emit('publish', { id: conn.id, data });
      return;
    }
    const message = decodeClientMessage(data, this._messageLimits);
    switch (message.type) {
      case 'subscribe': {
        const error = this._subscribeAll(conn, message.topics, true);
        if (error !== null) this._closeConnection(conn, CLOSE.POLICY_VIOLATION, error);
        return;
      }
      case 'unsubscribe':
        for (const topic of message.topics) this._unsubscribeOne(conn, topic);
        return;
      case 'invalid':
        this._closeConnection(conn, CLOSE.POLICY_VIOLATION, message.error);
        return;
      default:
        this.emit('message', { id: conn.id, data: data.toString('utf8'), binary: false });
    }
  }

  // Receiver errors (message too big, invalid UTF-8, protocol errors): `ws`
  // has already sent the close frame; record its code, as the native side
  // records the code it fails the connection with.
  _onError(conn, err) {
    const code = statusCodeOf(err);
    if (conn.closeCode === 0 && code !== 0) conn.closeCode = code;
  }

  // ---------------------------------------------------------------- topics

  // Topics are added one by one until one breaks a limit (as
  // Connection::addTopics does); returns that limit's close reason. With
  // `authorize` (the client's own request), a topic its grant does not
  // allow is refused with a message and counted, and the rest go on.
  _subscribeAll(conn, topics, authorize = false) {
    for (const topic of topics) {
      if (!this._topicFits(topic)) return CLOSE_REASONS.badTopicName;
      if (authorize && conn.grant !== null && !conn.grant.allows(topic)) {
        if (this._refuse(conn, topic)) continue;
        return CLOSE_REASONS.tooManyRefusedSubscribes;
      }
      if (conn.topics.size >= this._options.maxTopicsPerConnection) return CLOSE_REASONS.tooManyTopics;
      this._subscribeOne(conn, topic);
    }
    return null;
  }

  // Tells the client `topic` is refused (Connection::refuse); false once
  // its refusals are past maxRefusedSubscribes (nothing sent: the caller
  // closes). Like the native control frame, it bypasses maxBufferedBytes.
  _refuse(conn, topic) {
    this._counters.subscribesRefused += 1;
    if (conn.refused >= this._options.maxRefusedSubscribes) return false;
    conn.refused += 1;
    const payload = Buffer.from(refusalMessage(topic), 'utf8');
    conn.ws.send(payload, SEND_TEXT);
    this._counters.messagesOut += 1;
    this._counters.bytesOut += frameBytes(payload.length);
    return true;
  }

  _subscribeOne(conn, topic) {
    if (conn.topics.has(topic)) return;
    conn.topics.add(topic);
    let subscribers = this._subscribers.get(topic);
    if (subscribers === undefined) {
      subscribers = new Set();
      this._subscribers.set(topic, subscribers);
    }
    subscribers.add(conn);
  }

  _unsubscribeOne(conn, topic) {
    if (!conn.topics.delete(topic)) return;
    const subscribers = this._subscribers.get(topic);
    subscribers.delete(conn);
    if (subscribers.size === 0) this._subscribers.delete(topic);
  }

  // Subscribes by id, for the embedder. A topic past a limit closes the
  // connection with 1008 and that limit's reason, as a subscribe message
  // does (the core's SubscribeCommand does the same).
  subscribe(id, topics) {
    const conn = this._connections.get(id);
    if (conn === undefined) return false;
    if (conn.ws.readyState !== OPEN) return true;
    const error = this._subscribeAll(conn, topics);
    if (error !== null) this._closeConnection(conn, CLOSE.POLICY_VIOLATION, error);
    return true;
  }

  unsubscribe(id, topics) {
    const conn = this._connections.get(id);
    if (conn === undefined) return false;
    for (const topic of topics) this._unsubscribeOne(conn, topic);
    return true;
  }

  // --------------------------------------------------------------- writing

  // Sends `data` as one text frame to every connection subscribed to
  // orderTopic or driverTopic (once each); returns how many it went to.
  // publishNs is nowNs() when the event was published: the latency recorded
  // runs from then to the end of each send call.
  deliver(orderTopic, driverTopic, data, publishNs = nowNs()) {
    const first = this._subscribers.get(orderTopic);
    const second = driverTopic == null ? undefined : this._subscribers.get(driverTopic);
    if (first === undefined && second === undefined) return 0;
    // One conversion for all: `ws` would encode a string once per send.
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const size = frameBytes(payload.length);
    const sequence = ++this._sequence;
    let sent = 0;
    if (first !== undefined) sent += this._fanOut(first, payload, size, sequence, publishNs);
    if (second !== undefined) sent += this._fanOut(second, payload, size, sequence, publishNs);
    return sent;
  }

  // Sends `data` as one text frame to every subscriber of `topic`.
  publishRaw(topic, data, publishNs = nowNs()) {
    return this.deliver(topic, null, data, publishNs);
  }

  _fanOut(subscribers, payload, size, sequence, publishNs) {
    let sent = 0;
    // An event is usually a view of its whole publish batch (up to 1 MiB).
    // Sent to a socket that is writing at once, the view is done with right
    // away; queued behind a slow reader, it would keep the whole batch
    // alive as long as that reader holds it. Those readers get a copy, made
    // once per event.
    const pins = payload.length < payload.buffer.byteLength - PIN_SLACK_BYTES;
    let copy = null;
    for (const conn of subscribers) {
      if (conn.lastDelivery === sequence) continue;
      conn.lastDelivery = sequence;
      let bytes = payload;
      if (pins && conn.ws.bufferedAmount > 0) bytes = copy || (copy = Buffer.from(payload));
      if (!this._sendFrame(conn, bytes, size, SEND_TEXT)) continue;
      sent += 1;
      this._latency.record(nowNs() - publishNs);
    }
    this._counters.deliveries += sent;
    return sent;
  }

  // One frame to one connection under the backpressure policy
  // (Connection::send): false when it was not sent.
  _sendFrame(conn, payload, size, sendOptions) {
    const ws = conn.ws;
    if (ws.readyState !== OPEN) {
      this._counters.dropsClosing += 1;
      return false;
    }
    if (ws.bufferedAmount + size > this._options.maxBufferedBytes) {
      this._counters.dropsBackpressure += 1;
      if (this._closeOnBackpressure) this._closeConnection(conn, CLOSE.POLICY_VIOLATION, CLOSE_REASONS.sendBufferFull);
      return false;
    }
    ws.send(payload, sendOptions);
    this._counters.messagesOut += 1;
    this._counters.bytesOut += size;
    return true;
  }

  // Sends one message to one connection by id; false for unknown ids.
  send(id, data, binary = false) {
    const conn = this._connections.get(id);
    if (conn === undefined) return false;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this._sendFrame(conn, payload, frameBytes(payload.length), binary ? SEND_BINARY : SEND_TEXT);
    return true;
  }

  // --------------------------------------------------------------- closing

  closeConnection(id, code = 1000, reason = '') {
    const conn = this._connections.get(id);
    if (conn === undefined) return false;
    this._closeConnection(conn, code, reason);
    return true;
  }

  // The drain's interface, as on the native path (lib/drainer.js).
  bucketOf(id) {
    const conn = this._connections.get(id);
    return conn === undefined ? undefined : bucketOfRoute(conn.route);
  }

  forEachAbove(slot, bucket, fn) {
    for (const conn of this._connections.values()) {
      if (slotOfRoute(conn.route) === slot && bucketOfRoute(conn.route) >= bucket) fn(conn.id);
    }
  }

  // A rebalance upward moves these (lib/drainer.js, 'up').
  forEachBelow(slot, bucket, fn) {
    for (const conn of this._connections.values()) {
      if (slotOfRoute(conn.route) === slot && bucketOfRoute(conn.route) < bucket) fn(conn.id);
    }
  }

  drainConnection(id, code, reason) {
    return this.closeConnection(id, code, reason) ? 'closed' : 'gone';
  }

  // Sends our close frame and waits closeTimeoutMs for the peer's (the
  // sweep enforces it). The code we sent is the one recorded.
  _closeConnection(conn, code, reason) {
    const ws = conn.ws;
    if (ws.readyState !== OPEN) return;
    conn.closeCode = code;
    conn.closingSinceMs = performance.now();
    ws.close(code, closeReason(reason));
  }

  _terminate(conn, code) {
    if (conn.closeCode === 0) conn.closeCode = code;
    conn.ws.terminate();
  }

  _onClose(conn, wsCode) {
    const code = conn.closeCode !== 0 ? conn.closeCode : wsCode;
    for (const topic of conn.topics) {
      const subscribers = this._subscribers.get(topic);
      subscribers.delete(conn);
      if (subscribers.size === 0) this._subscribers.delete(topic);
    }
    conn.topics.clear();
    this._connections.delete(conn.id);
    this._closedByCode[closeCodeKey(code)] += 1;
    this.emit('close', { id: conn.id, code, identity: conn.identity });
    if (this._shutdown !== null && this._connections.size === 0) this._finishShutdown();
  }

  // Closes every connection with 1001, waits until they are gone or
  // timeoutMs has passed, then terminates the rest. Idempotent.
  shutdown(timeoutMs = 2000) {
    if (this._shutdown !== null) return this._shutdown.promise;
    const shutdown = { promise: null, resolve: null, timer: null };
    shutdown.promise = new Promise((resolve) => {
      shutdown.resolve = resolve;
    });
    this._shutdown = shutdown;
    for (const conn of this._connections.values()) {
      this._closeConnection(conn, CLOSE.GOING_AWAY, CLOSE_REASONS.shuttingDown);
    }
    shutdown.timer = setTimeout(() => {
      for (const conn of this._connections.values()) this._terminate(conn, 0);
    }, timeoutMs);
    if (this._connections.size === 0) this._finishShutdown();
    return shutdown.promise;
  }

  _finishShutdown() {
    const shutdown = this._shutdown;
    if (shutdown.resolve === null) return;
    clearTimeout(shutdown.timer);
    clearInterval(this._sweepTimer);
    this._wss.close();
    shutdown.resolve();
    shutdown.resolve = null;
  }

  // ------------------------------------------------------------ heartbeat

  // The native deadlines (Connection::onDeadline): ping a connection silent for
  // pingIntervalMs, drop it (1006) when the ping has had no answer for
  // pongTimeoutMs; a closing connection gets closeTimeoutMs to finish.
  _sweep() {
    const now = performance.now();
    const { pingIntervalMs, pongTimeoutMs, closeTimeoutMs } = this._options;
    for (const conn of this._connections.values()) {
      const ws = conn.ws;
      if (ws.readyState === OPEN) {
        if (conn.pingSentMs !== 0) {
          if (now - conn.pingSentMs >= pongTimeoutMs) this._terminate(conn, CLOSE.ABNORMAL);
        } else if (now - conn.lastActivityMs >= pingIntervalMs) {
          conn.pingSentMs = now;
          ws.ping();
        }
      } else if (conn.closingSinceMs === 0) {
        conn.closingSinceMs = now; // closed by the peer or by `ws` itself
      } else if (now - conn.closingSinceMs >= closeTimeoutMs) {
        this._terminate(conn, 0);
      }
    }
  }

  // ---------------------------------------------------------------- stats

  stats() {
    let sendBufferBytes = 0;
    for (const conn of this._connections.values()) sendBufferBytes += conn.ws.bufferedAmount;
    const closedByCode = {};
    for (const [key, count] of Object.entries(this._closedByCode)) {
      if (count !== 0) closedByCode[key] = count;
    }
    return {
      connections: this._connections.size,
      ...this._counters,
      closedByCode,
      sendBufferBytes,
      topics: this._subscribers.size,
      latency: this._latency.snapshot(),
    };
  }
}

module.exports = { LegacyPath };
