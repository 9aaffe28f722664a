'use strict';
// Repetitions are reported as the median with the min–max range.

function finite(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}

function median(values) {
  const v = finite(values).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// The mean of the numbers among `values`; null when there are none. For
// shares of time (a phase's busy share is the mean of its seconds').
function mean(values) {
  const v = finite(values);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

// { median, min, max, n } over the numbers among `values` (nulls skipped).
function spread(values) {
  const v = finite(values);
  if (v.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

// Applies spread() to every numeric leaf reached by `pick` over the runs.
function spreadOf(runs, pick) {
  return spread(runs.map((r) => {
    try {
      return pick(r);
    } catch {
      return null;
    }
  }));
}

module.exports = { median, mean, spread, spreadOf };
