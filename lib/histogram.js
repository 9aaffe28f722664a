'use strict';
// A log-linear (HDR-style) latency histogram in nanoseconds, the JS twin of
// native/core/src/latency_histogram.cc: values below 8 have a bucket each,
// every power of two above is split into 8 linear sub-buckets (worst
// relative error 12.5%), and percentiles are reported as bucket upper bounds
// capped at the maximum, so the legacy path's figures compare with the
// native core's bucket for bucket.

const { performance } = require('node:perf_hooks');

const SUB_BITS = 3;
const SUB_BUCKETS = 1 << SUB_BITS;
const BUCKETS = 64 * SUB_BUCKETS;
const TWO_POW_32 = 4294967296;

// Monotonic nanoseconds (as a Number) on the clock of process.hrtime
// (libuv's uv_hrtime), counted from this process's time origin.
// performance.now() reads that same clock without allocating the array of
// process.hrtime() or the BigInt of process.hrtime.bigint(): the legacy path
// calls this once per delivery. Only differences of two values mean
// anything.
function nowNs() {
  return performance.now() * 1e6;
}

// Index of the highest set bit of a positive integer below 2^64.
function highestBit(n) {
  if (n < TWO_POW_32) return 31 - Math.clz32(n);
  return 63 - Math.clz32(Math.floor(n / TWO_POW_32));
}

// Same mapping as LatencyHistogram::bucketOf.
function bucketOf(ns) {
  if (ns < SUB_BUCKETS) return ns;
  const exponent = highestBit(ns);
  const shift = exponent - SUB_BITS;
  // A power of two divides exactly, so floor() gives the shifted value.
  const sub = Math.floor(ns / 2 ** shift) & (SUB_BUCKETS - 1);
  return (exponent - SUB_BITS + 1) * SUB_BUCKETS + sub;
}

// Same as LatencyHistogram::bucketUpperBound.
function bucketUpperBound(bucket) {
  if (bucket < SUB_BUCKETS) return bucket;
  const exponent = Math.floor(bucket / SUB_BUCKETS) + SUB_BITS - 1;
  const sub = bucket % SUB_BUCKETS;
  const shift = exponent - SUB_BITS;
  return (SUB_BUCKETS | sub) * 2 ** shift + (2 ** shift - 1);
}

// Values are whole nanoseconds from 0 to 2^53 - 1: negative ones (a clock
// that went backwards, a publish time from the future) count as 0, like the
// native side's unsigned difference clamped at 0.
function toWholeNs(ns) {
  if (!(ns > 0)) return 0; // also NaN
  if (ns >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  return Math.floor(ns);
}

class LatencyHistogram {
  constructor() {
    // Float64: counts past 2^32 stay exact.
    this._counts = new Float64Array(BUCKETS);
    this._total = 0;
    this._max = 0;
    this._sum = 0;
  }

  record(ns) {
    const value = toWholeNs(ns);
    this._counts[bucketOf(value)] += 1;
    this._total += 1;
    this._sum += value;
    if (value > this._max) this._max = value;
  }

  reset() {
    this._counts.fill(0);
    this._total = 0;
    this._max = 0;
    this._sum = 0;
  }

  get count() {
    return this._total;
  }

  get max() {
    return this._max;
  }

  // Same rule as HistogramSnapshot::percentile: the upper bound of the
  // bucket holding the value of rank floor(p * count) (at least 1), never
  // above the maximum; 0 when empty.
  percentile(p) {
    if (this._total === 0) return 0;
    const fraction = p <= 0 ? 0 : Math.min(p, 1);
    const rank = Math.max(1, Math.floor(fraction * this._total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this._counts[i];
      if (seen >= rank) return Math.min(bucketUpperBound(i), this._max);
    }
    return this._max;
  }

  // Field names of the native stats' `latency` object; `buckets` lists the
  // non-empty buckets as [upperBoundNs, count, ...].
  snapshot() {
    const buckets = [];
    for (let i = 0; i < BUCKETS; i += 1) {
      if (this._counts[i] !== 0) buckets.push(bucketUpperBound(i), this._counts[i]);
    }
    return {
      count: this._total,
      p50Ns: this.percentile(0.5),
      p90Ns: this.percentile(0.9),
      p99Ns: this.percentile(0.99),
      p999Ns: this.percentile(0.999),
      maxNs: this._max,
      sumNs: this._sum,
      buckets,
    };
  }

  // Adds every count of `other` to this one.
  add(other) {
    for (let i = 0; i < BUCKETS; i += 1) this._counts[i] += other._counts[i];
    this._total += other._total;
    this._sum += other._sum;
    if (other._max > this._max) this._max = other._max;
    return this;
  }

  // A new histogram holding the counts of all of `histograms`.
  static merge(...histograms) {
    const merged = new LatencyHistogram();
    for (const histogram of histograms) merged.add(histogram);
    return merged;
  }
}

LatencyHistogram.bucketOf = bucketOf;
LatencyHistogram.bucketUpperBound = bucketUpperBound;
LatencyHistogram.BUCKETS = BUCKETS;

module.exports = { LatencyHistogram, nowNs, bucketOf, bucketUpperBound };
