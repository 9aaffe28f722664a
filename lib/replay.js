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
// turn of the event loop in all, so a reconnect storm cannot starve live
// delivery. One read serves every replay it covers: a storm of clients
// resuming from nearby positions reads the stream about once, not once
// per client (each filters the chunk by its own topics). A connection
// whose send buffer is half full waits for it to drain. A replay that
// falls behind the history's trimming is overtaken (the caller closes
// 1013).

const { matchesAny, isWildcard } = require('./wildcard');
const v = require('./validate');
const { LIMITS } = require('./protocol');

// How long replays that all wait on full send buffers sleep.
const DRAIN_WAIT_MS = 5;

// findPosition's answer for a position of the shared stream this gateway
// has not read up to yet (the client read further on another gateway).
const NOT_YET_MIRRORED = -2;

// One connection's replay. Of the topics `since` asked about (`fresh`), the
// events from `from` (the first after `since`) on, except those that went
// out live already: from the connection's `liveFrom` (the live cursor when
// it opened) on, for a topic it had before (`prior`). Of its other topics,
// the events from `startCursor` (the live cursor when it was held) on: live
// delivery skips a replaying connection. `from` is null while `since` is
// past what this gateway has mirrored (`awaiting` until its deadline).
class Replay {
  constructor(conn, from, startCursor, prior, fresh) {
    this.conn = conn;
    this.startCursor = startCursor;
    this.prior = prior;
    this.fresh = fresh;
    this.from = null;
    this.seq = null; // the next event to examine
    this.awaiting = null; // { since, deadlineMs }
    if (from !== null) this.startAt(from);
  }

  startAt(from) {
    this.awaiting = null;
    this.from = from;
    this.seq = this.prior.size === 0 ? from : Math.min(from, this.startCursor);
  }

  // Whether the live cursor passed everything this replay sends: until it
  // is past `from`, live events are ones the client has already.
  caughtUp(cursor) {
    return this.seq >= cursor && cursor >= this.from;
  }

  wants(seq, orderTopic, driverTopic) {
    const topics = this.conn.topics; // as now: an unsubscribe meanwhile counts
    if (!(matchesAny(topics, orderTopic) || matchesAny(topics, driverTopic))) return false;
    const fresh = matchesAny(this.fresh, orderTopic) || matchesAny(this.fresh, driverTopic);
    if (!fresh) return seq >= this.startCursor;
    if (seq < this.from) return false;
    if (seq >= this.startCursor || this.prior.size === 0 || seq < this.conn.liveFrom) return true;
    return !(matchesAny(this.prior, orderTopic) || matchesAny(this.prior, driverTopic));
  }
}

class Replayer {
  #host;
  #replays = new Set();
  #scheduled = null; // the pending setImmediate or setTimeout
  #stopped = false;
  // Where the last read ended: the next starts at the first replay at or
  // after it, wrapping to the oldest (a sweep). Starting every read at the
  // oldest would hold replays that are nearly done behind each newcomer
  // of a storm, resuming from seconds back.
  #head = 0;

  // host: {
  //   stream       readStream (NativePath or lib/history.js)
  //   cursor()     the live cursor (StreamFeed.cursor)
  //   perTick      replayEventsPerTick
  //   canSend(conn)  false while its send buffer is too full to add to
  //   send(conn, position, payload)  one positioned frame
  //   finish(conn, result)  'complete' (caught up), 'incomplete' (its
  //                `since` was never mirrored) or 'overtaken'; not
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
    return this.#replays.size;
  }

  // Starts replaying to `conn` what it missed since `since`, from `seq`
  // (findPosition's answer: NOT_YET_MIRRORED waits up to mirrorWaitMs for
  // it); sets conn.replay, which holds its live events back until done.
  start(conn, since, seq, prior, fresh) {
    v.integer(seq, 'seq', { min: NOT_YET_MIRRORED });
    const awaited = seq === NOT_YET_MIRRORED;
    const replay = new Replay(conn, awaited ? null : seq, this.#host.cursor(), prior, fresh);
    if (awaited) replay.awaiting = { since, deadlineMs: performance.now() + LIMITS.mirrorWaitMs };
    conn.replay = replay;
    this.#replays.add(replay);
    this.#schedule(0);
  }

  stop() {
    this.#stopped = true;
    this.#cancelTimer();
    for (const replay of this.#replays) replay.conn.replay = null;
    this.#replays.clear();
  }

  #cancelTimer() {
    if (this.#scheduled === null) return;
    if (this.#scheduled.kind === 'immediate') clearImmediate(this.#scheduled.handle);
    else clearTimeout(this.#scheduled.handle);
    this.#scheduled = null;
  }

  #schedule(delayMs) {
    if (this.#stopped || this.#scheduled !== null || this.#replays.size === 0) return;
    if (delayMs === 0) {
      this.#scheduled = { kind: 'immediate', handle: setImmediate(() => this.#tick()) };
    } else {
      const handle = setTimeout(() => this.#tick(), delayMs);
      handle.unref();
      this.#scheduled = { kind: 'timeout', handle };
    }
  }

  #end(replay, result) {
    this.#replays.delete(replay);
    replay.conn.replay = null;
    if (result !== null) this.#host.finish(replay.conn, result);
  }

  // One turn: chunks of the stream, up to perTick events in all, each
  // from the oldest place a replay that can send is at, handed to every
  // replay it covers. Replays that reach the live cursor go live in the
  // same turn (no live event can come between: the cursor only moves when
  // the legacy path delivers, never during a turn).
  #tick() {
    this.#scheduled = null;
    const host = this.#host;
    let budget = host.perTick;
    let read = false;
    while (budget > 0 && this.#replays.size > 0) {
      const cursor = host.cursor();
      let oldest = Infinity;
      let ahead = Infinity;
      for (const replay of [...this.#replays]) {
        if (!host.isOpen(replay.conn)) this.#end(replay, null);
        else if (replay.awaiting !== null && !this.#resolve(replay)) continue;
        else if (replay.caughtUp(cursor)) this.#end(replay, 'complete');
        else if (replay.seq < cursor && host.canSend(replay.conn)) {
          oldest = Math.min(oldest, replay.seq);
          if (replay.seq >= this.#head) ahead = Math.min(ahead, replay.seq);
        }
      }
      if (oldest === Infinity) break; // done, or all wait for their buffers
      const from = ahead === Infinity ? oldest : ahead;
      read = true;
      const chunk = host.stream.readStream(from, budget, cursor);
      const { events } = chunk;
      const first = chunk.next - events.length;
      budget -= Math.max(events.length, 1);
      this.#head = chunk.next;
      // Everything below this was trimmed before it was read (a replay
      // waiting for its buffer may be further back still: also gone).
      const trimmedTo = chunk.missed > 0 ? from + chunk.missed : 0;
      const byTopic = indexByTopic(events);
      for (const replay of [...this.#replays]) {
        if (replay.seq < trimmedTo) {
          this.#end(replay, 'overtaken');
          continue;
        }
        if (replay.seq >= first && replay.seq < chunk.next && host.canSend(replay.conn)) {
          this.#serve(replay, events, first, byTopic);
        }
      }
    }
    // Waiting only for send buffers to drain (or for the live cursor to
    // reach a `since`): no need to spin.
    this.#schedule(read ? 0 : DRAIN_WAIT_MS);
  }

  // An awaited replay: true once it knows where to start; false while it
  // waits, or after it ended 'incomplete' (cut off from the shared stream,
  // or the stream moved on without covering the gap).
  #resolve(replay) {
    const seq = this.#host.stream.findPosition(replay.awaiting.since);
    if (seq >= 0) {
      replay.startAt(seq);
      return true;
    }
    if (seq === NOT_YET_MIRRORED && performance.now() < replay.awaiting.deadlineMs) return false;
    this.#end(replay, 'incomplete');
    return false;
  }

  // Sends `replay` what it wants of `events` (seqs from `first`) from its
  // place on; a full buffer pauses it at the event it could not send.
  // Thousands of replays share a chunk: one with literal topics visits
  // only its topics' events (`byTopic`), not the whole chunk.
  #serve(replay, events, first, byTopic) {
    const host = this.#host;
    const { conn } = replay;
    const offsets = candidates(conn.topics, byTopic);
    if (offsets !== null) {
      for (const i of offsets) {
        const seq = first + i;
        if (seq < replay.seq) continue;
        const [position, payload, orderTopic, driverTopic] = events[i];
        if (!replay.wants(seq, orderTopic, driverTopic)) continue;
        if (!host.canSend(conn)) {
          replay.seq = seq;
          return;
        }
        host.send(conn, position, payload);
        if (!host.isOpen(conn)) return;
      }
      replay.seq = first + events.length;
      return;
    }
    let seq = replay.seq;
    for (; seq < first + events.length; seq += 1) {
      const [position, payload, orderTopic, driverTopic] = events[seq - first];
      if (!replay.wants(seq, orderTopic, driverTopic)) continue;
      if (!host.canSend(conn)) break;
      host.send(conn, position, payload);
      if (!host.isOpen(conn)) break;
    }
    replay.seq = seq;
  }
}

// topic -> the offsets in `events` of the events on it, ascending.
function indexByTopic(events) {
  const byTopic = new Map();
  for (let i = 0; i < events.length; i += 1) {
    for (const topic of [events[i][2], events[i][3]]) {
      if (topic === null || topic === undefined) continue;
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    }
  }
  return byTopic;
}

// The offsets of the events a connection on `topics` may want, ascending,
// or null when it has a wildcard (then every event is looked at).
function candidates(topics, byTopic) {
  const lists = [];
  for (const topic of topics) {
    if (isWildcard(topic)) return null;
    const list = byTopic.get(topic);
    if (list !== undefined) lists.push(list);
  }
  if (lists.length <= 1) return lists[0] || [];
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

module.exports = { Replayer, NOT_YET_MIRRORED };
