'use strict';
// A token bucket, the native core's (native/core/include/ficus/token_bucket.h)
// in JS: full at first, refilled at `perSecond` up to `burst`, one token per
// message or upgrade. Times are milliseconds from one monotonic clock
// (performance.now()). The legacy path limits each connection's messages
// with it; the router its upgrades, per gateway and per identity
// (lib/upgrade-rate.js).

class TokenBucket {
  // rate: { perSecond, burst }, perSecond > 0.
  constructor(rate, nowMs) {
    this.tokens = rate.burst;
    this.stampMs = nowMs;
  }

  // Adds what the time since the last refill earned, up to the burst.
  refill(rate, nowMs) {
    if (nowMs <= this.stampMs) return;
    this.tokens = Math.min(rate.burst, this.tokens + ((nowMs - this.stampMs) * rate.perSecond) / 1000);
    this.stampMs = nowMs;
  }

  // Spends one token; false (nothing spent) when less than one is left.
  take() {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  // Milliseconds until a token is back (0 when there is one).
  msUntilToken(rate) {
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / rate.perSecond;
  }

  // Full again by nowMs: a bucket in that state says nothing a new one
  // would not, so a table may forget it.
  fullBy(rate, nowMs) {
    return this.tokens + ((nowMs - this.stampMs) * rate.perSecond) / 1000 >= rate.burst;
  }
}

module.exports = { TokenBucket };
