'use strict';
// Runs a Dispatcher on Redis, so that several gateway processes (or hosts)
// deliver the same events. Two modes:
//
// - 'stream' (the default): a Redis Stream is the one ordered stream of
//   events; every gateway reads it (lib/redis-stream.js) and hands out its
//   entry ids as positions, so a client resumes on any gateway. Everything
//   published goes through it (publish-through is implied).
// - 'pubsub': Redis pub/sub, at-most-once, described below.
//
// Pub/sub: whatever arrives on the channels is
// delivered to this process's subscribers on both paths, the messages of one
// event-loop turn in one publish. With publishThrough, dispatcher.publish()
// validates here and sends the valid events to Redis instead of delivering
// them: every bridged instance, this one included, delivers them once when
// they come back.
//
// Wire format: a message is one event or newline-delimited events (what
// publish-through sends: the events of one event-loop turn, or of
// batchWindowMs, up to 1 MiB a message). Blank lines are not events.
//
// The official `redis` client reconnects by itself (here with a bounded,
// jittered exponential backoff) and resubscribes before it reports ready.
// Pub/sub is at-most-once: what is published while a subscriber is
// disconnected never reaches it (docs/scaling.md).

const { EventEmitter } = require('node:events');
const { forEachLine, decodeEvent } = require('./events');
const { FicusError, codes, wrap } = require('./errors');
const v = require('./validate');
const { StreamReader, appendCommand } = require('./redis-stream');
const { randomEpoch } = require('./shared-stream');
const {
  OPTIONS, DEFAULTS, checkMode, checkUrl, backoff, coreTarget, resolveHost,
} = require('./redis-options');

const NEWLINE = Buffer.from('\n');
const CLOSE_FLUSH_MS = 1000;
const POST_RETRY_MS = 10;
let appendGenerations = 0; // the core's writers of every bridge of the process: reports name theirs

// A command to the core that its queue refused (full) is posted again
// shortly while `wanted()`: a worker left holding or diverted would drop
// its publishers' events.
function retryPost(post, wanted) {
  if (!wanted() || post()) return;
  setTimeout(() => retryPost(post, wanted), POST_RETRY_MS).unref();
}
const MAX_MESSAGE_BYTES = 1024 * 1024; // publish-through: a bigger turn is sent in several messages
const MIN_DEFAULT_MAXLEN = 10000; // stream mode's default MAXLEN, at least

// Strings and Buffers, newline-separated: a string if all are strings.
function joinLines(lines) {
  if (lines.every((line) => typeof line === 'string')) return lines.join('\n');
  const parts = [];
  for (const line of lines) parts.push(typeof line === 'string' ? Buffer.from(line) : line, NEWLINE);
  parts.pop();
  return Buffer.concat(parts);
}

// `redis` is an optional peer dependency: only bridge() needs it.
function requireRedis() {
  try {
    return require('redis');
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND' || !/'redis'/.test(error.message)) throw error;
    throw new FicusError(codes.MISSING_PEER,
      'dispatch.bridge() needs the `redis` package (an optional peer dependency of ficus): run `npm install redis` in your project',
      { cause: error });
  }
}

class Bridge extends EventEmitter {
  constructor(dispatcher, redisUrl, options) {
    super();
    checkUrl(redisUrl);
    this.options = checkMode(options, v.options(options, 'options', OPTIONS, DEFAULTS));
    this.mode = this.options.mode;
    if (this.options.backoffMinMs > this.options.backoffMaxMs) {
      throw v.rangeError(`an integer of at least options.backoffMinMs (${this.options.backoffMinMs})`,
        'options.backoffMaxMs', this.options.backoffMaxMs);
    }
    this.dispatcher = dispatcher;
    this.channels = this.mode === 'pubsub' ? this.options.channels : [];
    this.state = 'connecting';
    this.everReady = false;
    this.subscribed = false;
    this.subscribing = false;
    this.counters = { received: 0, published: 0, rejected: 0, dropped: 0, reconnects: 0 };
    this.lastError = null;
    this.disconnectedMs = 0;
    this.inbox = []; // messages of the current event-loop turn
    this.flushScheduled = false;
    this.outbox = { parts: [], events: 0, bytes: 0 }; // publish-through, this turn
    this.outboxScheduled = false;
    this.inflight = new Set(); // publish-through PUBLISH commands not yet answered
    this.inflightBytes = 0;

    const { createClient, RESP_TYPES } = requireRedis();
    if (this.mode === 'stream' && !dispatcher.nativeAvailable) {
      throw new FicusError(codes.NATIVE_UNAVAILABLE,
        `mode 'stream' needs the native core, whose history hands out the positions (${dispatcher.nativeError.message}); use { mode: 'pubsub' }`,
        { cause: dispatcher.nativeError });
    }
    const newClient = (extra) => createClient({
      url: redisUrl,
      socket: {
        connectTimeout: this.options.connectTimeoutMs,
        reconnectStrategy: backoff(this.options.backoffMinMs, this.options.backoffMaxMs),
      },
      ...extra,
    });
    // A subscribed connection can run nothing but (un)subscribe, a reader's
    // blocks in XREAD: publishing needs a second one, whose offline queue
    // is bounded. The reader queues nothing while offline: a command that
    // waited for a reconnect would run before the reader learns the epoch.
    this.subscriber = newClient(this.mode === 'stream' ? { disableOfflineQueue: true } : {});
    this.publisher = this.options.publishThrough
      ? newClient({ commandsQueueMaxLength: this.options.maxQueuedPublishes })
      : null;
    for (const client of this.clients()) {
      client.on('error', (error) => this.noteError(error));
      for (const event of ['connect', 'ready', 'reconnecting', 'end']) client.on(event, () => this.update());
    }
    this.downSince = Date.now();
    this.reader = null;
    if (this.mode === 'stream') {
      this.reader = new StreamReader(this, this.subscriber, {
        key: this.options.stream,
        readCount: this.options.readCount,
        readBlockMs: this.options.readBlockMs,
        backoff: backoff(this.options.backoffMinMs, this.options.backoffMaxMs),
        respTypes: RESP_TYPES,
        tail: coreTarget(redisUrl, this.options.reader, 'reader'),
        timeoutMs: this.options.connectTimeoutMs,
      });
      // Redis keeps what a core can replay; and, whatever the history, some
      // slack for a reader that falls behind or reconnects (a core without
      // history, historyMaxEvents 0, still needs the stream to read).
      this.streamMaxLen = this.options.streamMaxLen ?? Math.max(dispatcher.options.historyMaxEvents, MIN_DEFAULT_MAXLEN);
      this.held = []; // publishes before the reader's first sync (see send())
      this.writerTarget = coreTarget(redisUrl, this.options.writer, 'writer');
      this.writer = 'js'; // 'native' once the core's writers are started
      this.appendGeneration = 0;
      // Shared from now on, under a placeholder epoch until the reader
      // learns the stream's: ingested events already go through Redis.
      dispatcher.useSharedStream(randomEpoch(), (data) => this.publishIngested(data));
    } else {
      this.subscriber.on('ready', () => {
        if (!this.subscribed && !this.subscribing) this.subscribe();
      });
    }
    for (const client of this.clients()) client.connect().catch((error) => this.noteError(error));
    if (this.reader) this.reader.start();
    else this.subscribe(); // queued until the connection is up
  }

  clients() {
    return this.publisher ? [this.subscriber, this.publisher] : [this.subscriber];
  }

  // True while dispatcher.publish() should go through Redis.
  get publishesThrough() {
    return this.options.publishThrough && this.state !== 'closed';
  }

  subscribe() {
    this.subscribing = true;
    this.subscriber.subscribe(this.channels, (message) => this.onMessage(message), true)
      .then(() => {
        this.subscribed = true;
      }, (error) => {
        // Cut off before the answer: the next 'ready' subscribes again.
        if (this.state !== 'closed') this.noteError(error);
      })
      .finally(() => {
        this.subscribing = false;
        this.update();
      });
  }

  noteError(error) {
    this.lastError = error && error.message ? error.message : String(error);
    this.update();
    if (this.state !== 'closed' && this.listenerCount('error') > 0) this.emit('error', wrap(codes.REDIS, error));
  }

  // Recomputes the state from both connections and keeps the clock of the
  // time spent without Redis.
  update() {
    if (this.state === 'closed') return;
    const ready = this.subscribed && this.clients().every((c) => c.isReady);
    let next;
    if (ready) next = 'ready';
    else next = this.everReady ? 'reconnecting' : 'connecting';
    if (next === this.state) return;
    const previous = this.state;
    const now = Date.now();
    if (next === 'ready') {
      this.disconnectedMs += now - this.downSince;
      if (this.everReady) this.counters.reconnects += 1;
      this.everReady = true;
    } else if (previous === 'ready') {
      this.downSince = now;
    }
    this.state = next;
    this.emit('state', { state: next, previous });
  }

  // Resolves once the bridge is connected and subscribed (at once if it is).
  ready() {
    if (this.state === 'ready') return Promise.resolve(this);
    if (this.state === 'closed') return Promise.reject(new FicusError(codes.CLOSED, 'this bridge was closed'));
    return new Promise((resolve, reject) => {
      const onState = ({ state }) => {
        if (state !== 'ready' && state !== 'closed') return;
        this.off('state', onState);
        if (state === 'ready') resolve(this);
        else reject(new FicusError(codes.CLOSED, 'this bridge was closed'));
      };
      this.on('state', onState);
    });
  }

  onMessage(message) {
    this.inbox.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  // One publish for everything that arrived in this turn.
  flush() {
    this.flushScheduled = false;
    const batch = this.inbox;
    this.inbox = [];
    if (batch.length === 0 || this.dispatcher.closed) return;
    const data = batch.length === 1 ? batch[0] : joinLines(batch);
    this.delivered(data, this.dispatcher.publishLocal(data));
  }

  // Stream entries that are not one event (no `data`, several lines).
  rejectedEntries(count, reason) {
    this.counters.received += count;
    this.counters.rejected += count;
    if (this.listenerCount('rejected') > 0) this.emit('rejected', { count, reason });
  }

  // Counts what a batch from Redis became, and tells listeners.
  delivered(data, result) {
    this.counters.received += result.accepted + result.rejected.length;
    this.counters.rejected += result.rejected.length;
    if (result.rejected.length > 0 && this.listenerCount('rejected') > 0) {
      this.emit('rejected', { count: result.rejected.length, reason: result.rejected[0].reason });
    }
    if (this.listenerCount('events') > 0) this.emit('events', { data, ...result });
  }

  // dispatcher.publish() with publishThrough: validates like publish() and
  // queues the valid events for Redis; they are delivered when they come
  // back. Returns the PublishResult of the validation.
  publishThrough(input) {
    const { bytes, rejected, indexOf } = this.dispatcher.normalize(input);
    const lines = [];
    forEachLine(bytes, (line, index) => {
      const decoded = decodeEvent(line, this.dispatcher.options);
      if (decoded.ok) lines.push(line);
      else rejected.push({ index: indexOf(index), reason: decoded.error });
    });
    rejected.sort((a, b) => a.index - b.index);
    if (lines.length > 0) this.queue(lines);
    return { accepted: lines.length, rejected };
  }

  // Stream mode: an event a native publisher connection ingested (already
  // validated by the core) goes to Redis, and is delivered when it comes back.
  publishIngested(data) {
    if (this.state !== 'closed') this.queue([data]);
  }

  // Everything published in one turn (or batchWindowMs) goes as one
  // message, in order: a caller publishing event by event does not cost a
  // message each, and every instance wakes once per message, not per event.
  queue(lines) {
    const out = this.outbox;
    for (const line of lines) {
      out.parts.push(line);
      out.bytes += line.length;
    }
    out.events += lines.length;
    if (out.bytes >= MAX_MESSAGE_BYTES) {
      this.flushOutbox();
    } else if (!this.outboxScheduled) {
      this.outboxScheduled = true;
      const flush = () => {
        this.outboxScheduled = false;
        this.flushOutbox();
      };
      if (this.options.batchWindowMs > 0) setTimeout(flush, this.options.batchWindowMs);
      else setImmediate(flush);
    }
  }

  flushOutbox() {
    const out = this.outbox;
    if (out.parts.length === 0) return;
    this.outbox = { parts: [], events: 0, bytes: 0 };
    if (this.mode === 'stream') this.append(out.parts, out.bytes);
    else this.send(joinLines(out.parts), out.events);
  }

  // Stream mode: the events of one turn as one command (a script that
  // XADDs each, one entry and id per event, in order). Until the reader
  // has learnt where the stream ends for the first time they are held, or
  // this gateway could miss its own first events (it reads from there on).
  append(lines, bytes) {
    if (this.reader.everSynced || this.state === 'closed') {
      this.transmit(appendCommand(this.options.stream, this.streamMaxLen, lines), lines.length, bytes);
      return;
    }
    if (this.inflightBytes + bytes > this.options.maxQueuedPublishBytes) {
      this.counters.dropped += lines.length;
      this.noteError(new Error(`publish-through: more than ${this.options.maxQueuedPublishBytes} bytes waiting for Redis, ${lines.length} events dropped`));
      return;
    }
    this.inflightBytes += bytes;
    this.held.push({ lines, bytes });
  }

  // The reader knows where it reads from: what was held goes now, and
  // the core may write its publishers' events itself from now on.
  releaseHeld() {
    const held = this.held;
    this.held = [];
    for (const { lines, bytes } of held) {
      this.inflightBytes -= bytes;
      this.append(lines, bytes);
    }
    if (this.writerTarget !== null) {
      this.startCoreWriter().catch((error) => this.noteError(error));
    }
  }

  // Stream mode: every worker of the core writes what its native publisher
  // connections ingest (native/core stream_appender.h). Until a worker
  // reports its hold, its events still come here (publishIngested), in
  // order before the hold; once every worker holds, what this client has
  // sent is answered first, then the core's writers are released: each
  // publisher's events reach the stream in the order it sent them.
  async startCoreWriter() {
    const t = this.writerTarget;
    const host = await resolveHost(t.hostname, 0);
    if (this.state === 'closed') return;
    appendGenerations += 1;
    const generation = appendGenerations;
    this.appendGeneration = generation;
    let holds = 0;
    let workers = Infinity;
    try {
      workers = this.dispatcher.appendSharedStream({
        generation,
        host,
        port: t.port,
        username: t.username,
        password: t.password,
        db: t.db,
        timeoutMs: this.options.connectTimeoutMs,
        key: this.options.stream,
        maxLen: this.streamMaxLen,
        backoffMinMs: this.options.backoffMinMs,
        backoffMaxMs: this.options.backoffMaxMs,
        maxQueuedBytes: this.options.maxQueuedPublishBytes,
        batchWindowMs: this.options.batchWindowMs,
      }, (note) => {
        if (note.generation !== generation) return;
        if (note.type === 'appendFailed') {
          this.noteError(new FicusError(codes.REDIS, `stream ${this.options.stream}: the core's writer: ${note.reason}`));
        } else if ((holds += 1) === workers) {
          this.releaseCoreWriter(generation).catch((error) => this.noteError(error));
        }
      });
    } catch (error) {
      // A worker's command queue full: this client writes their events, as
      // before (the workers that took it hand back what they held).
      this.appendGeneration = 0;
      retryPost(() => this.dispatcher.stopSharedStreamAppend(), () => !this.dispatcher.closed);
      throw error;
    }
    this.writer = 'native';
    this.coreBase = this.dispatcher.sharedStreamAppends();
  }

  async releaseCoreWriter(generation) {
    this.flushOutbox();
    await Promise.allSettled([...this.inflight]);
    const wanted = () => this.state !== 'closed' && generation === this.appendGeneration && !this.dispatcher.closed;
    if (wanted()) retryPost(() => this.dispatcher.releaseSharedStreamAppend(generation), wanted);
  }

  // What the core's writers wrote and dropped since this bridge started
  // them (the core's counters span its whole life), frozen once closed.
  coreAppends() {
    if (this.coreFinal) return this.coreFinal;
    const now = this.dispatcher.sharedStreamAppends();
    return { appended: now.appended - this.coreBase.appended, dropped: now.dropped - this.coreBase.dropped };
  }

  send(payload, count) {
    this.transmit(['PUBLISH', this.channels[0], payload], count, payload.length);
  }

  transmit(command, count, bytes) {
    // The client's offline queue counts commands, not bytes: bounded here
    // too, or a Redis outage under big messages would hold gigabytes.
    if (this.inflightBytes + bytes > this.options.maxQueuedPublishBytes) {
      this.counters.dropped += count;
      this.noteError(new Error(`publish-through: more than ${this.options.maxQueuedPublishBytes} bytes waiting for Redis, ${count} events dropped`));
      return;
    }
    this.inflightBytes += bytes;
    const sent = this.publisher.sendCommand(command).then(() => {
      this.counters.published += count;
    }, (error) => {
      // Offline queue full, or cut off before Redis answered.
      this.counters.dropped += count;
      this.noteError(error);
    });
    this.inflight.add(sent);
    sent.finally(() => {
      this.inflight.delete(sent);
      this.inflightBytes -= bytes;
    });
  }

  stats() {
    const down = this.state !== 'ready' && this.state !== 'closed' ? Date.now() - this.downSince : 0;
    const counters = { ...this.counters };
    if (this.mode === 'stream' && this.writer === 'native') {
      const core = this.coreAppends();
      counters.published += core.appended;
      counters.dropped += core.dropped;
    }
    return {
      state: this.state,
      mode: this.mode,
      channels: [...this.channels],
      publishThrough: this.options.publishThrough,
      ...counters,
      lastError: this.lastError,
      disconnectedMs: this.disconnectedMs + down,
      ...(this.reader ? { stream: { ...this.reader.stats(), writer: this.writer } } : {}),
    };
  }

  // Unsubscribes and disconnects. Publishes already sent get up to 1 s for
  // their answer; the dispatcher then publishes locally again. Idempotent.
  close() {
    if (this.closing) return this.closing;
    if (this.state !== 'ready') this.disconnectedMs += Date.now() - this.downSince;
    const previous = this.state;
    this.state = 'closed';
    this.emit('state', { state: 'closed', previous });
    if (this.publisher) this.flushOutbox();
    if (this.reader) {
      // Held publishes never learnt where to go: dropped, counted.
      for (const { lines } of this.held) this.counters.dropped += lines.length;
      this.held = [];
      this.reader.stop();
      // What the core's writers wrote gets up to 1 s for its answers too.
      this.appendGeneration = 0;
      if (this.writer === 'native') {
        // As of now: answers still on their way are not counted here.
        this.coreFinal = this.coreAppends();
        retryPost(() => this.dispatcher.stopSharedStreamAppend(), () => !this.dispatcher.closed);
      }
      // publish() delivers locally again, on an epoch of this process's own.
      this.dispatcher.leaveSharedStream();
    }
    this.closing = (async () => {
      if (this.publisher && this.publisher.isReady && this.inflight.size > 0) {
        let timer;
        await Promise.race([
          Promise.allSettled([...this.inflight]),
          new Promise((resolve) => {
            timer = setTimeout(resolve, CLOSE_FLUSH_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      for (const client of this.clients()) {
        if (client.isOpen) client.destroy();
      }
    })();
    return this.closing;
  }
}

module.exports = { Bridge, OPTIONS, DEFAULTS, backoff };
