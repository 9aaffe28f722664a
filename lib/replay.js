'use strict';
// Legacy-path replays: a reconnecting client that sent `since` gets every
// event for its topics published after that position, in stream order,
// before any live one, then {"type":"recovered","complete":true}. While a
// connection replays, live delivery skips it (LegacyPath._fanOut checks
// conn.replay): its replay reads those events from the stream itself, up
// to the live cursor (lib/stream-feed.js), and the connection goes live in
// the same turn it catches up, so nothing is lost or sent twice at the
// seam.
//
// Replays are read in chunks of at most replayEventsPerTick events per
// turn of the event loop, shared by all replaying connections round-robin,
// so a reconnect storm cannot starve live delivery; a connection whose
// send buffer is half full waits for it to drain. A replay that falls
// behind the history's trimming is overtaken (the caller closes 1013).

const { matchesAny } = require('./wildcard');
const v = require('./validate');

// How long replays that all wait on full send buffers sleep.
const DRAIN_WAIT_MS = 5;

// One connection's replay. Events before `startCursor` (the live cursor
// when it began) are replayed for the topics `since` asked about
// (`fresh`), except those that went out live already: from the
// connection's `liveFrom` (the live cursor when it opened) on, for a topic
// it had before (`prior`). Events from `startCursor` on were held back:
// every topic of the connection counts.
class Replay {
  constructor(conn, seq, startCursor, prior, fresh) {
    this.conn = conn;
    this.seq = seq;
    this.startCursor = startCursor;
    this.prior = prior;
    this.fresh = fresh;
  }

  wants(seq, orderTopic, driverTopic) {
    if (seq >= this.startCursor) {
      const topics = this.conn.topics;
      return matchesAny(topics, orderTopic) || matchesAny(topics, driverTopic);
    }
    const fresh = matchesAny(this.fresh, orderTopic) || matchesAny(this.fresh, driverTopic);
    if (!fresh || this.prior.size === 0 || seq < this.conn.liveFrom) return fresh;
    return !(matchesAny(this.prior, orderTopic) || matchesAny(this.prior, driverTopic));
  }
}

class Replayer {
  #host;
  #queue = []; // Replays, served round-robin
  #next = 0;
  #scheduled = null; // the pending setImmediate or setTimeout
  #stopped = false;

  // host: {
  //   stream       readStream (NativePath or lib/history.js)
  //   cursor()     the live cursor (StreamFeed.cursor)
  //   perTick      replayEventsPerTick
  //   canSend(conn)  false while its send buffer is too full to add to
  //   send(conn, position, payload)  one positioned frame
  //   finish(conn, result)  'complete' (caught up) or 'overtaken'; not
  //                called for a connection that closed meanwhile
  //   isOpen(conn)
  // }
  constructor(host) {
    v.plainObject(host, 'host');
    if (!host.stream || typeof host.stream.readStream !== 'function') throw v.typeError('a stream', 'host.stream', host.stream);
    for (const name of ['cursor', 'canSend', 'send', 'finish', 'isOpen']) v.fn(host[name], `host.${name}`);
    v.integer(host.perTick, 'host.perTick', { min: 1 });
    this.#host = host;
  }

  get active() {
    return this.#queue.length;
  }

  // Starts replaying to `conn` from `seq` (findPosition's answer); sets
  // conn.replay, which holds its live events back until it is done.
  start(conn, seq, prior, fresh) {
    v.integer(seq, 'seq');
    const replay = new Replay(conn, seq, this.#host.cursor(), prior, fresh);
    conn.replay = replay;
    this.#queue.push(replay);
    this.#schedule(0);
  }

  stop() {
    this.#stopped = true;
    this.#cancelTimer();
    for (const replay of this.#queue) replay.conn.replay = null;
    this.#queue.length = 0;
  }

  #cancelTimer() {
    if (this.#scheduled === null) return;
    if (this.#scheduled.kind === 'immediate') clearImmediate(this.#scheduled.handle);
    else clearTimeout(this.#scheduled.handle);
    this.#scheduled = null;
  }

  #schedule(delayMs) {
    if (this.#stopped || this.#scheduled !== null || this.#queue.length === 0) return;
    if (delayMs === 0) {
      this.#scheduled = { kind: 'immediate', handle: setImmediate(() => this.#tick()) };
    } else {
      const handle = setTimeout(() => this.#tick(), delayMs);
      handle.unref();
      this.#scheduled = { kind: 'timeout', handle };
    }
  }

  // One turn: up to perTick events read, over the replays in turn.
  #tick() {
    this.#scheduled = null;
    const host = this.#host;
    let budget = host.perTick;
    let progressed = false;
    let visited = 0;
    while (budget > 0 && this.#queue.length > 0 && visited < this.#queue.length) {
      if (this.#next >= this.#queue.length) this.#next = 0;
      const replay = this.#queue[this.#next];
      const outcome = this.#step(replay, budget);
      if (outcome.done) {
        this.#queue.splice(this.#next, 1);
        visited = 0;
      } else {
        this.#next += 1;
        visited += 1;
      }
      budget -= outcome.read;
      if (outcome.read > 0 || outcome.done) progressed = true;
    }
    this.#schedule(progressed ? 0 : DRAIN_WAIT_MS);
  }

  // Reads and sends one chunk for `replay`: { read, done }.
  #step(replay, budget) {
    const host = this.#host;
    const { conn } = replay;
    if (!host.isOpen(conn)) {
      conn.replay = null;
      return { read: 0, done: true };
    }
    const cursor = host.cursor();
    if (replay.seq < cursor) {
      if (!host.canSend(conn)) return { read: 0, done: false };
      const chunk = host.stream.readStream(replay.seq, Math.min(budget, host.perTick), cursor);
      if (chunk.missed > 0) {
        conn.replay = null;
        host.finish(conn, 'overtaken');
        return { read: 0, done: true };
      }
      const { events } = chunk;
      // Nothing below the live cursor to read: the history lost it.
      if (events.length === 0) {
        conn.replay = null;
        host.finish(conn, 'overtaken');
        return { read: 0, done: true };
      }
      const first = chunk.next - events.length;
      let i = 0;
      for (; i < events.length; i += 1) {
        const [position, payload, orderTopic, driverTopic] = events[i];
        if (!replay.wants(first + i, orderTopic, driverTopic)) continue;
        // A full buffer pauses this replay here; the rest is read again.
        if (!host.canSend(conn)) break;
        host.send(conn, position, payload);
        if (!host.isOpen(conn)) break;
      }
      replay.seq = first + i;
      if (!host.isOpen(conn)) {
        conn.replay = null;
        return { read: i, done: true };
      }
      if (replay.seq < host.cursor()) return { read: Math.max(i, 1), done: false };
    }
    conn.replay = null;
    host.finish(conn, 'complete');
    return { read: 1, done: true };
  }
}

module.exports = { Replayer };
