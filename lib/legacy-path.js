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
const {
  DEFAULTS, LIMITS, CLOSE, CLOSE_REASONS, MAX_TIMER_MS, RECOVERED, closeCodeKey, frameBytes, positionedFrame,
} = require('./protocol');
const { Replayer } = require('./replay');
const { GrantMatcher, refusalMessage, revocationMessage } = require('./grant');
const { OUTCOME, accessCounters, refreshRequest } = require('./access');
const { TokenBucket } = require('./token-bucket');
const { AccessState, VERDICT } = require('./access-state');
const { TopicIndex } = require('./topic-index');

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
    this.topics = new Set(); // as subscribed: 'order:*' is a wildcard
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
    // The messages it may still send (Connection::messages_), or null when
    // not limited (a publisher, or maxMessagesPerSecond 0).
    this.messages = null;
    // The router's hook record (lib/access.js) and, when its authorize hook
    // may widen the grant, the topics pending and answered; the expiry
    // timer while the credentials expire.
    this.access = null;
    this.accessState = null;
    this.expiryTimer = null;
    // Opted in to stream positions (recover=1, since=, or a subscribe
    // with "since"): events go out as {"pos":…,"event":…}, and a full send
    // buffer closes it (1008) rather than dropping, so it can resume.
    this.recover = false;
    // Its replay (lib/replay.js) while it recovers; live events wait.
    this.replay = null;
    // The stream's live cursor when it opened: live events before it were
    // never sent here (a replay for a later subscribe needs to know).
    this.liveFrom = 0;
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
    this._messageRate = o.maxMessagesPerSecond === 0 ? null : { perSecond: o.maxMessagesPerSecond, burst: o.messageBurst };
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
    this._subscribers = new TopicIndex();
    this._matched = []; // deliver()'s scratch: the Sets an event reaches
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
      rateLimited: 0,
      grantsExpired: 0,
      replayedEvents: 0,
    };
    this._recoveries = { complete: 0, incomplete: 0, overtaken: 0 };
    // The stream it reads events and positions from (useStream).
    this._stream = null;
    this._feed = null;
    this._replayer = null;
    this._position = null; // deliver()'s event position, if any
    this._positioned = null; // and its positioned frame, once built
    this._trimmed = false; // deliver() for an event the history lost
    this._access = accessCounters();
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

  // The stream's history (NativePath, or lib/history.js without the addon)
  // and the live feed reading it (lib/stream-feed.js): what replays read.
  useStream(stream, feed) {
    this._stream = stream;
    this._feed = feed;
    this._replayer = new Replayer({
      stream,
      perTick: this._options.replayEventsPerTick,
      cursor: () => feed.cursor,
      isOpen: (conn) => conn.ws.readyState === OPEN,
      canSend: (conn) => conn.ws.readyState === OPEN && conn.ws.bufferedAmount * 2 < this._options.maxBufferedBytes,
      send: (conn, position, payload) => {
        const frame = positionedFrame(position, payload);
        if (this._sendFrame(conn, frame, frameBytes(frame.length), SEND_TEXT)) this._counters.replayedEvents += 1;
      },
      finish: (conn, result) => {
        this._recoveries[result] += 1;
        if (result === 'overtaken') this._closeConnection(conn, CLOSE.TRY_AGAIN_LATER, CLOSE_REASONS.recoveryOvertaken);
        else this._sendControl(conn, RECOVERED[result]);
      },
    });
  }

  // --------------------------------------------------------------- opening

  // Completes the upgrade of a request already judged (path, routing,
  // identity) by the caller, subscribed to `topics`.
  // With `publisher`, every text message the connection sends is an event:
  // emitted as 'publish' (the dispatcher publishes it to both paths).
  // onOpen(id) is called once the handshake succeeded.
  // `grant`: null (the client may subscribe to anything) or { allow }: the
  // patterns its subscribes (by message, and `topics`) are checked against.
  // `expiresAt` (ms since the epoch, or null) and `access` (the router's
  // hook record, lib/access.js): as on the native path. `recover`: the
  // client opted in to positioned frames; `since`: the position it
  // resumes from (already checked to be one by the router).
  open(req, socket, head, {
    identity, topics = [], publisher = false, grant = null, route = 0, onOpen, expiresAt = null, access = null,
    recover = false, since,
  } = {}) {
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
      const id = this._adopt(ws, socket, identity, route, publisher ? [] : topics, publisher, matcher,
        publisher ? null : { expiresAt, access, recover: recover || since !== undefined, since });
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

  _adopt(ws, socket, identity, route, topics, publisher = false, grant = null, credentials = null) {
    const id = `l${this._nextId}`;
    this._nextId += 1;
    const openedMs = performance.now();
    // Events appended while the legacy path had no connection are nobody's
    // here: the first one starts live from the head.
    if (this._connections.size === 0 && this._feed !== null) this._feed.skipToHead();
    const conn = new LegacyConnection(id, ws, identity, route, openedMs);
    if (this._feed !== null) conn.liveFrom = this._feed.cursor;
    conn.publisher = publisher;
    conn.grant = grant;
    if (!publisher && this._messageRate !== null) conn.messages = new TokenBucket(this._messageRate, openedMs);
    if (credentials !== null) {
      const { expiresAt, access } = credentials;
      if (access !== null) {
        Object.assign(access.info, { id, path: 'legacy' });
        conn.access = access;
        if (access.asks) conn.accessState = new AccessState();
      }
      this._setExpiry(conn, expiresAt);
    }
    this._connections.set(id, conn);
    this._counters.connectionsOpened += 1;
    // The initial topics are the client's request too when they came from
    // the query (Connection::upgrade): a grant checks them.
    const error = this._subscribeAll(conn, topics, true);
    if (error !== null) this._closeConnection(conn, CLOSE.POLICY_VIOLATION, error);
    if (credentials !== null && credentials.recover) {
      conn.recover = true;
      if (credentials.since !== undefined) this._recover(conn, credentials.since, new Set(), new Set(conn.topics));
    }
    // Any bytes from the client count as a sign of life, as in the native
    // onData(): messages, pings, pongs, even part of a frame. Their time
    // refills the message bucket, as there: before `ws` parses them, so
    // this listener goes first.
    socket.prependListener('data', () => {
      const now = performance.now();
      conn.lastActivityMs = now;
      conn.pingSentMs = 0;
      if (conn.messages !== null) conn.messages.refill(this._messageRate, now);
    });
    ws.on('message', (data, isBinary) => this._onMessage(conn, data, isBinary));
    // Pings and pongs count as messages too (Connection::onPing, onPong).
    ws.on('ping', () => this._admit(conn));
    ws.on('pong', () => this._admit(conn));
    ws.on('error', (err) => this._onError(conn, err));
    ws.on('close', (code) => this._onClose(conn, code));
    this.emit('open', { id, identity });
    return id;
  }

  // --------------------------------------------------------------- reading

  _onMessage(conn, data, isBinary) {
    this._counters.messagesIn += 1;
    if (!this._admit(conn)) return;
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
        const { since } = message;
        const prior = since === undefined ? null : new Set(conn.topics);
        const error = this._subscribeAll(conn, message.topics, true);
        if (error !== null) {
          this._closeConnection(conn, CLOSE.POLICY_VIOLATION, error);
          return;
        }
        if (since === undefined) return;
        conn.recover = true;
        const fresh = new Set();
        for (const topic of conn.topics) if (!prior.has(topic)) fresh.add(topic);
        this._recover(conn, since, prior, fresh);
        return;
      }
      case 'unsubscribe':
        for (const topic of message.topics) this._unsubscribeOne(conn, topic);
        return;
      case 'invalid':
        this._closeConnection(conn, CLOSE.POLICY_VIOLATION, message.error);
        return;
      default: {
        const text = data.toString('utf8');
        if (conn.access !== null && conn.access.refreshes) {
          const request = refreshRequest(text);
          if (request !== undefined) {
            this._refresh(conn, request.token);
            return;
          }
        }
        this.emit('message', { id: conn.id, data: text, binary: false });
      }
    }
  }

  // Replays what `conn` missed since `since` for the topics in `fresh`
  // (those in `prior` were live already), or says the history does not
  // cover it: complete:false, nothing replayed, and it stays live. One
  // replay at a time: a second `since` meanwhile is answered
  // complete:false (its topics join the running replay's catch-up).
  _recover(conn, since, prior, fresh) {
    const seq = this._replayer === null || conn.replay !== null || typeof since !== 'string' ? -1
      : this._stream.findPosition(since);
    if (seq === -1) {
      this._recoveries.incomplete += 1;
      this._sendControl(conn, RECOVERED.incomplete);
      return;
    }
    this._replayer.start(conn, since, seq, prior, fresh);
  }

  // Spends a token of the connection's message bucket; past it, closes the
  // connection with 1008 (Connection::admitMessage) and returns false, as
  // for anything that arrives once it is closing.
  _admit(conn) {
    if (conn.ws.readyState !== OPEN) return false;
    if (conn.messages === null || conn.messages.take()) return true;
    this._counters.rateLimited += 1;
    this._closeConnection(conn, CLOSE.POLICY_VIOLATION, CLOSE_REASONS.messageRateExceeded);
    return false;
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
        const verdict = conn.accessState === null ? VERDICT.refused : conn.accessState.check(topic);
        if (verdict === VERDICT.ask) {
          // Not subscribed until the answer: no event for it goes out before.
          this._authorize(conn, topic);
          continue;
        }
        if (verdict === VERDICT.waiting) continue;
        if (verdict !== VERDICT.allowed) {
          if (this._refuse(conn, topic)) continue;
          return CLOSE_REASONS.tooManyRefusedSubscribes;
        }
      }
      if (conn.topics.size >= this._options.maxTopicsPerConnection) return CLOSE_REASONS.tooManyTopics;
      this._subscribeOne(conn, topic);
    }
    return null;
  }

  // Tells the client `topic` is refused (Connection::refuse); false once
  // its refusals are past maxRefusedSubscribes (nothing sent: the caller
  // closes).
  _refuse(conn, topic) {
    this._counters.subscribesRefused += 1;
    if (conn.refused >= this._options.maxRefusedSubscribes) return false;
    conn.refused += 1;
    this._sendControl(conn, refusalMessage(topic));
    return true;
  }

  _refuseOrClose(conn, topic) {
    if (!this._refuse(conn, topic)) {
      this._closeConnection(conn, CLOSE.POLICY_VIOLATION, CLOSE_REASONS.tooManyRefusedSubscribes);
    }
  }

  // A text message of ours, like the native control frame: it bypasses
  // maxBufferedBytes (each kind is bounded per connection).
  _sendControl(conn, text) {
    const payload = Buffer.from(text, 'utf8');
    conn.ws.send(payload, SEND_TEXT);
    this._counters.messagesOut += 1;
    this._counters.bytesOut += frameBytes(payload.length);
  }

  // ---------------------------------------------------------- credentials

  // Asks the router's authorize hook about a topic now pending
  // (Connection::askEmbedder); the answer subscribes or refuses as a
  // subscribe message would. A timed-out hook refuses without the refusal
  // being remembered (AccessState::expirePending).
  _authorize(conn, topic) {
    conn.access.access.decide(this._access, conn.access, topic).then((outcome) => {
      const state = conn.accessState;
      if (conn.ws.readyState !== OPEN) return;
      if (outcome === OUTCOME.timedOut) {
        if (!state.pending.has(topic)) return;
        state.cancel(topic);
        this._refuseOrClose(conn, topic);
        return;
      }
      const allowed = outcome === OUTCOME.allowed;
      if (!state.answer(topic, allowed)) return; // unsubscribed meanwhile
      if (!allowed) {
        this._refuseOrClose(conn, topic);
        return;
      }
      const error = this._subscribeAll(conn, [topic]);
      if (error !== null) this._closeConnection(conn, CLOSE.POLICY_VIOLATION, error);
    });
  }

  // A client's refresh message (Connection::updateGrant on the native
  // path): the new expiry, the answer, then the new grant, dropping (and
  // telling) subscriptions it no longer allows.
  _refresh(conn, token) {
    conn.access.access.renew(this._access, conn.access, token).then((update) => {
      if (conn.ws.readyState !== OPEN) return;
      if (!update.ok) {
        this.send(conn.id, update.answer);
        return;
      }
      this._setExpiry(conn, update.expiresAt);
      this._sendControl(conn, update.answer);
      if (update.allow === undefined) return;
      conn.grant = update.allow === null ? null : new GrantMatcher(update.allow);
      if (conn.accessState !== null) conn.accessState.forgetAnswers();
      if (conn.grant === null) return;
      for (const topic of [...conn.topics]) {
        if (conn.grant.allows(topic)) continue;
        this._unsubscribeOne(conn, topic);
        this._sendControl(conn, revocationMessage(topic));
      }
    });
  }

  // Closes the connection with 3005 when its credentials expire. One timer
  // per expiring connection (the native path files them on its deadline
  // wheel instead); setTimeout takes at most MAX_TIMER_MS, so a longer
  // expiry re-arms.
  _setExpiry(conn, expiresAt) {
    clearTimeout(conn.expiryTimer);
    conn.expiryTimer = null;
    if (expiresAt === null) return;
    const left = expiresAt - Date.now();
    if (left <= 0) {
      this._counters.grantsExpired += 1;
      this._closeConnection(conn, CLOSE.TOKEN_EXPIRED, CLOSE_REASONS.tokenExpired);
      return;
    }
    conn.expiryTimer = setTimeout(() => this._setExpiry(conn, expiresAt), Math.min(left, MAX_TIMER_MS));
    conn.expiryTimer.unref();
  }

  _subscribeOne(conn, topic) {
    if (conn.topics.has(topic)) return;
    conn.topics.add(topic);
    this._subscribers.add(conn, topic);
  }

  _unsubscribeOne(conn, topic) {
    if (conn.accessState !== null) conn.accessState.cancel(topic);
    if (!conn.topics.delete(topic)) return;
    this._subscribers.remove(conn, topic);
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
  // orderTopic or driverTopic, or to a wildcard prefix of either (once
  // each); returns how many it went to. publishNs is nowNs() when the
  // event was published: the latency recorded runs from then to the end of
  // each send call. `position`: the event's stream position, or null: it
  // goes to opted-in connections as {"pos":…,"event":…} (built once, and
  // only when one of them is a subscriber), to the others as it is.
  deliver(orderTopic, driverTopic, data, publishNs = nowNs(), position = null) {
    const matched = this._matched;
    matched.length = 0; // in case a send threw last time
    this._subscribers.collect(orderTopic, matched);
    if (driverTopic != null) this._subscribers.collect(driverTopic, matched);
    if (matched.length === 0) return 0;
    this._position = position;
    this._positioned = null;
    // One conversion for all: `ws` would encode a string once per send.
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const size = frameBytes(payload.length);
    const sequence = ++this._sequence;
    let sent = 0;
    for (let i = 0; i < matched.length; i += 1) {
      sent += this._fanOut(matched[i], payload, size, sequence, publishNs);
    }
    matched.length = 0;
    this._positioned = null;
    return sent;
  }

  // An event the history trimmed before the legacy path read it (see
  // StreamFeed.pump): delivered without a position, so an opted-in
  // subscriber cannot be given it as it expects; it is closed 1013 to
  // resume (and learns from complete:false that the gap is lost).
  deliverTrimmed(orderTopic, driverTopic, data, publishNs = nowNs()) {
    this._trimmed = true;
    try {
      return this.deliver(orderTopic, driverTopic, data, publishNs, null);
    } finally {
      this._trimmed = false;
    }
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
      if (conn.replay !== null) continue; // its replay reads it from the stream
      let bytes = payload;
      let bytesSize = size;
      if (conn.recover && (this._position !== null || this._trimmed)) {
        if (this._trimmed) {
          if (conn.ws.readyState === OPEN) this._recoveries.overtaken += 1;
          this._closeConnection(conn, CLOSE.TRY_AGAIN_LATER, CLOSE_REASONS.recoveryOvertaken);
          continue;
        }
        bytes = this._positioned || (this._positioned = positionedFrame(this._position, payload));
        bytesSize = frameBytes(bytes.length);
      } else if (pins && conn.ws.bufferedAmount > 0) {
        bytes = copy || (copy = Buffer.from(payload));
      }
      if (!this._sendFrame(conn, bytes, bytesSize, SEND_TEXT)) continue;
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
      // An opted-in client is closed, never skipped silently: it resumes
      // from its last position instead of missing an event.
      if (this._closeOnBackpressure || conn.recover) {
        this._closeConnection(conn, CLOSE.POLICY_VIOLATION, CLOSE_REASONS.sendBufferFull);
      }
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
    clearTimeout(conn.expiryTimer);
    for (const topic of conn.topics) this._subscribers.remove(conn, topic);
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
    if (this._replayer !== null) this._replayer.stop();
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
      recoveries: { ...this._recoveries },
      eventsMissed: this._feed === null ? 0 : this._feed.missed,
      access: { ...this._access },
      closedByCode,
      sendBufferBytes,
      topics: this._subscribers.size,
      latency: this._latency.snapshot(),
    };
  }
}

module.exports = { LegacyPath };
