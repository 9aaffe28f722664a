'use strict';
// The router's reconnect-storm brake: upgrades per second for the whole
// router (checked before authenticate, so a storm costs the auth service
// nothing) and per identity (checked after it, so only an identity
// authenticate accepted can be braked: a client cannot spend another's
// allowance by claiming its key). Past either, the upgrade is answered 503
// with a Retry-After header (docs/operations.md, "Limits and defaults").

const { performance } = require('node:perf_hooks');
const { TokenBucket } = require('./token-bucket');

// Identities tracked at once. A bucket is forgotten once it is full again
// (swept at most once a second, O(table) then: on the next upgrade, or by a
// timer while the table is not empty, so that a gateway whose upgrades have
// stopped does not keep a bucket per client it accepted), so the table holds roughly
// the identities seen in the last few seconds, and the gateway brake bounds
// how many those are. Past this size (an attacker with that many valid
// identities within seconds, or a brake set very high) a new identity is
// let through untracked: the gateway brake still holds, and memory stays
// within about 16,384 × 150 bytes.
const MAX_TRACKED_IDENTITIES = 16384;
const SWEEP_INTERVAL_MS = 1000;

// Seconds for a Retry-After header: at least until a token is back, and
// spread over [minMs, maxMs] so that the clients one brake refused together
// do not all come back in the same second.
function retryAfterSeconds(waitMs, [minMs, maxMs]) {
  const jittered = minMs + Math.random() * (maxMs - minMs);
  return Math.max(1, Math.ceil(Math.max(waitMs, jittered) / 1000));
}

class UpgradeRate {
  // options: the router's (maxUpgradesPerSecond, upgradeBurst,
  // maxIdentityUpgradesPerSecond, identityUpgradeBurst, retryAfterMs).
  constructor(options, nowMs) {
    this.retryAfterMs = options.retryAfterMs;
    this.gatewayRate = options.maxUpgradesPerSecond === 0 ? null
      : { perSecond: options.maxUpgradesPerSecond, burst: options.upgradeBurst };
    this.gateway = this.gatewayRate && new TokenBucket(this.gatewayRate, nowMs);
    this.identityRate = options.maxIdentityUpgradesPerSecond === 0 ? null
      : { perSecond: options.maxIdentityUpgradesPerSecond, burst: options.identityUpgradeBurst };
    this.identities = new Map(); // identity -> TokenBucket
    this.sweptMs = nowMs;
    this.sweepTimer = null;
  }

  // Stops the sweep timer (the router was detached).
  stop() {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  // An upgrade for this router: null when it may go on, else the
  // Retry-After seconds to answer it with.
  admitUpgrade(nowMs) {
    if (this.gateway === null) return null;
    return this.#admit(this.gateway, this.gatewayRate, nowMs);
  }

  // The same for an upgrade authenticate accepted as `identity`.
  admitIdentity(identity, nowMs) {
    if (this.identityRate === null) return null;
    this.#sweep(nowMs);
    let bucket = this.identities.get(identity);
    if (bucket === undefined) {
      if (this.identities.size >= MAX_TRACKED_IDENTITIES) return null;
      bucket = new TokenBucket(this.identityRate, nowMs);
      this.identities.set(identity, bucket);
      this.#armSweep();
    }
    return this.#admit(bucket, this.identityRate, nowMs);
  }

  get trackedIdentities() {
    return this.identities.size;
  }

  #admit(bucket, rate, nowMs) {
    bucket.refill(rate, nowMs);
    if (bucket.take()) return null;
    return retryAfterSeconds(bucket.msUntilToken(rate), this.retryAfterMs);
  }

  // Sweeps again a second from now while buckets are left; unref'd, so it
  // never keeps the process alive.
  #armSweep() {
    if (this.sweepTimer !== null) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      this.#sweep(performance.now());
      if (this.identities.size > 0) this.#armSweep();
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  #sweep(nowMs) {
    if (nowMs - this.sweptMs < SWEEP_INTERVAL_MS) return;
    this.sweptMs = nowMs;
    for (const [identity, bucket] of this.identities) {
      if (bucket.fullBy(this.identityRate, nowMs)) this.identities.delete(identity);
    }
  }
}

module.exports = { UpgradeRate, MAX_TRACKED_IDENTITIES, retryAfterSeconds };
