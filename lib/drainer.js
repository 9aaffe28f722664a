'use strict';
// Rollback without a reconnect storm: native connections whose bucket is
// no longer native are closed with 1012 (service restart) a few at a time.
// The close reason carries a jittered retry hint so clients spread their
// reconnects; they then land on the legacy path.

const TICK_MS = 100;
const SERVICE_RESTART = 1012;

class Drainer {
  constructor(dispatcher, router, { drainRatePerSecond, retryAfterMs }) {
    this.dispatcher = dispatcher;
    this.router = router;
    this.perTick = Math.max(1, Math.round((drainRatePerSecond * TICK_MS) / 1000));
    this.retryAfterMs = retryAfterMs;
    this.queue = [];
    this.closed = 0;
    this.timer = null;
  }

  drainAbove(percent) {
    const queued = new Set(this.queue);
    this.dispatcher.forNativeAbove(this.router, percent, (id) => {
      if (!queued.has(id)) this.queue.push(id);
    });
    if (this.queue.length > 0 && !this.timer) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  tick() {
    const core = this.dispatcher.core;
    let budget = this.perTick;
    while (budget > 0 && this.queue.length > 0) {
      const id = this.queue.shift();
      if (!core || !this.dispatcher.nativeConnections.has(id)) continue;
      const [min, max] = this.retryAfterMs;
      const retry = Math.round(min + Math.random() * (max - min));
      core.close(id, SERVICE_RESTART, `service restart; retry after ${retry} ms`);
      this.closed += 1;
      budget -= 1;
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
