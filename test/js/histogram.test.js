'use strict';
// lib/histogram.js: the JS twin of native/core/src/latency_histogram.cc.

const { LatencyHistogram, nowNs, bucketOf, bucketUpperBound } = require('../../lib/histogram');

describe('buckets', () => {
  test('values below 8 have a bucket each', () => {
    for (let ns = 0; ns < 8; ns += 1) {
      expect(bucketOf(ns)).toBe(ns);
      expect(bucketUpperBound(ns)).toBe(ns);
    }
  });

  // Same numbers as LatencyHistogram::bucketOf in C++.
  test.each([
    [8, 8], [9, 9], [15, 15], [16, 16], [17, 16], [18, 17], [31, 23], [32, 24],
    [1000, 63], [1_000_000, 143], [2 ** 32, 240], [2 ** 32 + 2 ** 29, 241],
    [Number.MAX_SAFE_INTEGER, 407],
  ])('bucketOf(%d) = %d', (ns, bucket) => {
    expect(bucketOf(ns)).toBe(bucket);
  });

  test('every value lies between its bucket\'s bounds, with at most 12.5% error', () => {
    const values = [8, 9, 100, 1023, 1024, 1025, 123_456, 987_654_321, 2 ** 40 + 12345, 2 ** 52 + 1];
    for (let v = 8; v < 5000; v += 7) values.push(v);
    for (const ns of values) {
      const bucket = bucketOf(ns);
      expect(bucketUpperBound(bucket)).toBeGreaterThanOrEqual(ns);
      expect(bucketUpperBound(bucket - 1)).toBeLessThan(ns);
      expect((bucketUpperBound(bucket) - ns) / ns).toBeLessThanOrEqual(0.125);
    }
  });

  test('buckets are contiguous: each starts one past the previous upper bound', () => {
    for (let bucket = 8; bucket < 400; bucket += 1) {
      expect(bucketOf(bucketUpperBound(bucket - 1) + 1)).toBe(bucket);
      expect(bucketOf(bucketUpperBound(bucket))).toBe(bucket);
    }
  });
});

describe('LatencyHistogram', () => {
  test('an empty histogram reports zeros', () => {
    expect(new LatencyHistogram().snapshot()).toEqual({
      count: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, sumNs: 0, buckets: [],
    });
  });

  test('percentiles are bucket upper bounds, never above the maximum', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i += 1) h.record(i * 1000); // 1 µs .. 1 ms
    const s = h.snapshot();
    expect(s.count).toBe(1000);
    expect(s.maxNs).toBe(1_000_000);
    expect(s.sumNs).toBe(500_500_000);
    // [bound, count] pairs: bounds rising, counts adding up to the total.
    const bounds = s.buckets.filter((_, i) => i % 2 === 0);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    expect(s.buckets.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(s.p50Ns).toBe(bucketUpperBound(bucketOf(500_000)));
    expect(s.p90Ns).toBe(bucketUpperBound(bucketOf(900_000)));
    expect(s.p99Ns).toBe(Math.min(bucketUpperBound(bucketOf(990_000)), 1_000_000));
    expect(s.p999Ns).toBe(1_000_000); // the bound is above the max: capped
    for (const [p, exact] of [[s.p50Ns, 500_000], [s.p90Ns, 900_000], [s.p99Ns, 990_000]]) {
      expect(p).toBeGreaterThanOrEqual(exact);
      expect(p).toBeLessThanOrEqual(exact * 1.125);
    }
  });

  test('rank is floor(p * count), at least 1 (HistogramSnapshot::percentile)', () => {
    const h = new LatencyHistogram();
    h.record(100);
    h.record(10_000);
    // floor(0.5 * 2) = 1: the first value's bucket.
    expect(h.percentile(0.5)).toBe(bucketUpperBound(bucketOf(100)));
    expect(h.percentile(0.9)).toBe(bucketUpperBound(bucketOf(100)));
    expect(h.percentile(1)).toBe(10_000);
    expect(h.percentile(0)).toBe(bucketUpperBound(bucketOf(100)));
  });

  test('negative, fractional and NaN values are clamped like the native unsigned math', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(NaN);
    h.record(7.9);
    expect(h.count).toBe(3);
    expect(h.max).toBe(7);
    expect(h.percentile(0.5)).toBe(0);
  });

  test('reset empties it', () => {
    const h = new LatencyHistogram();
    h.record(123);
    h.reset();
    expect(h.snapshot()).toEqual(new LatencyHistogram().snapshot());
  });

  test('merge adds counts and keeps the largest maximum', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const both = new LatencyHistogram();
    for (let i = 0; i < 100; i += 1) {
      a.record(i * 17);
      both.record(i * 17);
      b.record(i * 1001);
      both.record(i * 1001);
    }
    const merged = LatencyHistogram.merge(a, b);
    expect(merged.snapshot()).toEqual(both.snapshot());
    expect(a.count).toBe(100); // the inputs are untouched
  });
});

describe('nowNs', () => {
  test('is monotonic nanoseconds', async () => {
    const start = nowNs();
    const hrStart = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const elapsed = nowNs() - start;
    const hrElapsed = Number(process.hrtime.bigint() - hrStart);
    expect(elapsed).toBeGreaterThanOrEqual(15e6);
    // Same clock as process.hrtime, to within a millisecond.
    expect(Math.abs(elapsed - hrElapsed)).toBeLessThan(1e6);
  });
});
