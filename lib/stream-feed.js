'use strict';
// The legacy path's live delivery, read from the stream's history (the
// core's through the binding, or lib/history.js without the addon) so that
// legacy subscribers get events in stream order, the order the native
// workers deliver, with the positions opted-in clients are sent. The
// cursor is the seq of the next event the legacy path has not delivered;
// a replaying connection (lib/replay.js) catches up to it and then goes
// live.

const { nowNs } = require('./histogram');
const v = require('./validate');

class StreamFeed {
  #stream;
  #legacy;
  #cursor;

  // `stream`: readStream/streamHead (NativePath or History); `legacy`: the
  // LegacyPath it delivers to.
  constructor(stream, legacy) {
    if (!stream || typeof stream.readStream !== 'function') throw v.typeError('a stream', 'stream', stream);
    if (!legacy || typeof legacy.deliverTrimmed !== 'function') throw v.typeError('a LegacyPath', 'legacy', legacy);
    this.#stream = stream;
    this.#legacy = legacy;
    this.#cursor = stream.streamHead();
    this.missed = 0; // events trimmed before the legacy path read them
  }

  get cursor() {
    return this.#cursor;
  }

  // What was appended while nobody on the legacy path could want it is
  // not theirs: a connection opening now starts live from here.
  skipToHead() {
    this.#cursor = this.#stream.streamHead(true);
  }

  // Delivers the event just appended at the head (lib/history.js, without
  // the addon: nothing else appends, so the stream's order is the order of
  // these calls, and an event is delivered before a small history can
  // trim it).
  deliverAppended(orderTopic, driverTopic, payload, publishNs, position) {
    this.#cursor = this.#stream.streamHead();
    if (this.#legacy.connectionCount === 0) return;
    this.#legacy.deliver(orderTopic, driverTopic, payload, publishNs, position);
  }

  // Delivers every event appended since the last call, in stream order.
  // `fallback`: the events the caller knows were just appended, flat as
  // [orderTopic, driverTopic, payload, ...]: when the stream trimmed some
  // before they were read (the core holds unread events back for the
  // legacy path, but only up to its backlog bound), these are delivered
  // instead, without positions
  // (an opted-in subscriber is then closed 1013 to resume; see
  // LegacyPath.deliverTrimmed) and the rest is counted as missed.
  pump(fallback = null, publishNs = nowNs()) {
    if (fallback !== null && !Array.isArray(fallback)) throw v.typeError('an array or null', 'fallback', fallback);
    if (this.#legacy.connectionCount === 0) {
      this.skipToHead();
      return;
    }
    const head = this.#stream.streamHead();
    if (this.#cursor >= head) return;
    const read = this.#stream.readStream(this.#cursor, head - this.#cursor, head);
    this.#cursor = Math.max(read.next, head);
    if (read.missed > 0) {
      this.missed += read.missed;
      if (fallback === null) return;
      for (let i = 0; i < fallback.length; i += 3) {
        this.#legacy.deliverTrimmed(fallback[i], fallback[i + 1], fallback[i + 2], publishNs);
      }
      return;
    }
    for (const [position, payload, orderTopic, driverTopic] of read.events) {
      this.#legacy.deliver(orderTopic, driverTopic, payload, publishNs, position);
    }
  }
}

module.exports = { StreamFeed };
