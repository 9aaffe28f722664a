'use strict';
// Reads and merges the load generator's HDR-style histograms (see
// bench/loadgen/common.h): values below 32 are exact, above that 32
// sub-buckets per power of two. A histogram is
// { count, sum, min, max, buckets: [[index, count], ...] } in nanoseconds.

const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;

function upperBound(index) {
  if (index < SUB) return index;
  const e = Math.floor(index / SUB) + SUB_BITS - 1;
  const sub = index % SUB;
  return (SUB + sub + 1) * 2 ** (e - SUB_BITS) - 1;
}

function empty() {
  return { count: 0, sum: 0, min: 0, max: 0, buckets: [] };
}

function merge(histograms) {
  const counts = new Map();
  const out = empty();
  let min = Infinity;
  for (const h of histograms) {
    if (!h || !h.count) continue;
    out.count += h.count;
    out.sum += h.sum;
    out.max = Math.max(out.max, h.max);
    min = Math.min(min, h.min);
    for (const [i, c] of h.buckets) counts.set(i, (counts.get(i) || 0) + c);
  }
  out.min = Number.isFinite(min) ? min : 0;
  out.buckets = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  return out;
}

// Upper bound of the bucket holding the p-quantile (0..1), capped at max.
function percentile(h, p) {
  if (!h || !h.count) return null;
  let rank = Math.floor(p * h.count);
  if (rank >= h.count) rank = h.count - 1;
  let seen = 0;
  for (const [i, c] of h.buckets) {
    seen += c;
    if (seen > rank) return Math.min(upperBound(i), h.max);
  }
  return h.max;
}

const round3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);

// Percentiles in milliseconds.
function summaryMs(h) {
  const ms = (ns) => (ns === null ? null : round3(ns / 1e6));
  return {
    count: h ? h.count : 0,
    p50: ms(percentile(h, 0.5)),
    p90: ms(percentile(h, 0.9)),
    p99: ms(percentile(h, 0.99)),
    p999: ms(percentile(h, 0.999)),
    max: h && h.count ? ms(h.max) : null,
    mean: h && h.count ? ms(h.sum / h.count) : null,
  };
}

module.exports = { merge, percentile, summaryMs, upperBound, empty };
