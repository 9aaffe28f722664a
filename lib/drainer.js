'use strict';
// Moving connections between paths without a reconnect storm: on a
// rollback, native connections whose bucket is no longer native; on a
// rebalance upward, legacy connections whose bucket is now native. Either
// way they are closed with 1012 (service restart) a few at a time, the
// close reason carrying a jittered retry hint so clients spread their
// reconnects, which then land on the other path.

const { CLOSE, serviceRestartReason } = require('./protocol');

const TICK_MS = 100;
// Credit is kept in thousandths of a connection, so that rates which are
// not a multiple of 1000 / TICK_MS (5/s: half a connection a tick) are met
// exactly, in integers.
const ONE = 1000;

// Which connections a drainer moves, given the router's percent.
const DIRECTIONS = {
  // Rollback: native connections in buckets no longer native.
  down: {
    select: (path, slot, percent, fn) => path.forEachAbove(slot, percent, fn),
    moves: (bucket, percent) => bucket >= percent,
  },
  // Rebalance upward: legacy connections in buckets now native.
  up: {
    select: (path, slot, percent, fn) => path.forEachBelow(slot, percent, fn),
    moves: (bucket, percent) => bucket < percent,
  },
};

// `path` is the path connections are moved off (the NativePath for 'down',
// or null when there is none; the LegacyPath for 'up'); it offers
// forEachAbove / forEachBelow(slot, bucket, fn), bucketOf(id) and
// drainConnection(id, code, reason).
class Drainer {
  constructor(path, router, { drainRatePerSecond, retryAfterMs }, direction = 'down') {
    this.path = path;
    this.router = router;
    this.direction = DIRECTIONS[direction];
    this.creditPerTick = (drainRatePerSecond * TICK_MS * ONE) / 1000;
    this.credit = 0;
    this.retryAfterMs = retryAfterMs;
    this.queue = [];
    this.closed = 0;
    this.timer = null;
  }

  // Queues the connections to move at `percent` (the router's new one).
  drain(percent) {
    if (!this.path) return;
    const queued = new Set(this.queue);
    this.direction.select(this.path, this.router.host.slot, percent, (id) => {
      if (!queued.has(id)) this.queue.push(id);
    });
    if (this.queue.length > 0 && !this.timer) {
      this.credit = Math.max(0, ONE - this.creditPerTick); // the first tick closes at least one
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  tick() {
    // Credit is spent while the queue lasts and the timer stops with it, so
    // it never piles up into a burst.
    this.credit += this.creditPerTick;
    while (this.credit >= ONE && this.queue.length > 0) {
      const id = this.queue.shift();
      const bucket = this.path.bucketOf(id);
      // Closed meanwhile, or where it belongs again since the percent moved back.
      if (bucket === undefined || !this.direction.moves(bucket, this.router.nativePercent)) continue;
      const [min, max] = this.retryAfterMs;
      const retry = Math.round(min + Math.random() * (max - min));
      const result = this.path.drainConnection(id, CLOSE.SERVICE_RESTART, serviceRestartReason(retry));
      if (result === 'busy') {
        // Its worker's inbox is full: try again next tick.
        this.queue.unshift(id);
        break;
      }
      if (result === 'closed') this.closed += 1;
      this.credit -= ONE;
    }
    if (this.queue.length === 0) this.stop();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  stats() {
    return { pending: this.queue.length, closed: this.closed };
  }
}

module.exports = { Drainer };
