'use strict';
// The stream's history when the native core is not loaded (native: false,
// or no addon for this platform): the events accepted by this dispatcher,
// in order, bounded by count (historyMaxEvents) and age (historyMaxAgeMs),
// each with its position (lib/position.js). With the addon loaded the
// legacy path reads the core's own history through the binding instead
// (NativePath.readStream and friends): there is one history per process,
// and this one exists only so that recovery works the same without it.
// The interface is the binding's: readStream, streamHead, findPosition,
// and stats() as the core reports its history.
//
// Sequence numbers (seq) are the stream's dense internal index, from 0;
// clients only ever see positions.

const { parsePosition, formatPosition, comparePositions, randomEpoch } = require('./position');
const v = require('./validate');

// Trimmed entries are spliced off in batches, not one shift() each.
const COMPACT_AT = 1024;

class History {
  #maxEvents;
  #maxAgeMs;
  #now;
  #epoch = randomEpoch();
  #entries = []; // { ms, n, position, payload, orderTopic, driverTopic }
  #start = 0; // index in #entries of the oldest retained entry
  #base = 0; // seq of #entries[#start]
  #bytes = 0;
  #newest = null; // { ms, n } of the last appended entry, retained or not
  #lastTrimmed = null; // { ms, n } of the newest trimmed entry

  // `now`: the wall clock in ms (tests pass their own).
  constructor({ maxEvents, maxAgeMs, now = Date.now } = {}) {
    this.#maxEvents = v.integer(maxEvents, 'maxEvents', { min: 0, max: 10_000_000 });
    this.#maxAgeMs = v.integer(maxAgeMs, 'maxAgeMs', { min: 0, max: 2 ** 31 - 1 });
    this.#now = v.fn(now, 'now');
  }

  get epoch() {
    return this.#epoch;
  }

  // Appends one accepted event; returns its position. `payload`: the
  // event's bytes (a string is converted once).
  append(payload, orderTopic, driverTopic = null) {
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    if (!Buffer.isBuffer(bytes)) throw v.typeError('a Buffer or string', 'payload', payload);
    v.string(orderTopic, 'orderTopic');
    if (driverTopic !== null) v.string(driverTopic, 'driverTopic');
    // Positions never go backwards, even when the wall clock does.
    let ms = this.#now();
    let n = 0;
    if (this.#newest !== null && ms <= this.#newest.ms) {
      ms = this.#newest.ms;
      n = this.#newest.n + 1;
    }
    const position = formatPosition(this.#epoch, ms, n);
    this.#entries.push({ ms, n, position, payload: bytes, orderTopic, driverTopic });
    this.#bytes += bytes.length;
    this.#newest = { ms, n };
    this.#trim(ms);
    return position;
  }

  // The seq the next appended event will get. (The core's takes `skip`;
  // this history holds nothing back for unread events, so has no use for it.)
  streamHead() {
    return this.#base + this.#entries.length - this.#start;
  }

  // Events with seq in [from, min(head, until, from + maxEvents)), as
  // [position, payload, orderTopic, driverTopic]; `missed`: how many from
  // `from` on were trimmed already (skipped); `next`: the seq to read next.
  readStream(fromSeq, maxEvents, untilSeq = Number.MAX_SAFE_INTEGER) {
    v.integer(fromSeq, 'fromSeq');
    v.integer(maxEvents, 'maxEvents', { min: 1 });
    v.integer(untilSeq, 'untilSeq');
    this.#trim(this.#now());
    const missed = Math.max(0, this.#base - fromSeq);
    const first = fromSeq + missed;
    const end = Math.min(this.streamHead(), untilSeq, fromSeq + maxEvents);
    const events = [];
    for (let seq = first; seq < end; seq += 1) {
      const e = this.#entries[this.#start + seq - this.#base];
      events.push([e.position, e.payload, e.orderTopic, e.driverTopic]);
    }
    return { next: first + events.length, missed, events };
  }

  // The seq of the first event after `since`, or -1 when the history does
  // not cover the gap: not a position, another epoch, a position not yet
  // issued, or one older than what is retained.
  findPosition(since) {
    const p = parsePosition(since);
    if (p === null || p.epoch !== this.#epoch || this.#newest === null) return -1;
    this.#trim(this.#now());
    const toNewest = comparePositions(p, this.#newest);
    if (toNewest > 0) return -1;
    if (toNewest === 0) return this.streamHead();
    if (this.#lastTrimmed !== null && comparePositions(p, this.#lastTrimmed) < 0) return -1;
    // The first retained entry after `p` (binary search: entries are in order).
    let lo = this.#start;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePositions(this.#entries[mid], p) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return this.#base + lo - this.#start;
  }

  stats() {
    this.#trim(this.#now());
    return {
      events: this.#entries.length - this.#start,
      bytes: this.#bytes,
      maxEvents: this.#maxEvents,
      maxAgeMs: this.#maxAgeMs,
      epoch: this.#epoch,
    };
  }

  // Drops entries past the count bound and older than the age bound.
  #trim(nowMs) {
    const oldest = this.#maxAgeMs === 0 ? -Infinity : nowMs - this.#maxAgeMs;
    while (this.#start < this.#entries.length) {
      const e = this.#entries[this.#start];
      if (this.#entries.length - this.#start <= this.#maxEvents && e.ms >= oldest) break;
      this.#bytes -= e.payload.length;
      this.#lastTrimmed = { ms: e.ms, n: e.n };
      this.#entries[this.#start] = undefined;
      this.#start += 1;
      this.#base += 1;
    }
    if (this.#start >= COMPACT_AT && this.#start * 2 >= this.#entries.length) {
      this.#entries.splice(0, this.#start);
      this.#start = 0;
    }
  }
}

module.exports = { History };
