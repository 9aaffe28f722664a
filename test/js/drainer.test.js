'use strict';
// lib/drainer.js on its own, with Jest's fake timers: how many native
// connections a drain closes per second, for rates that are and are not a
// multiple of its 10 ticks a second.

const { Drainer } = require('../../lib/drainer');

// A path with connections 1..n in bucket 50 unless `buckets` says
// otherwise; drainConnection() answers from `answers` (then 'closed').
function fakePath(ids, { buckets = {}, answers = [] } = {}) {
  const closes = [];
  const connections = new Map(ids.map((id) => [id, buckets[id] ?? 50]));
  const path = {
    connections,
    bucketOf: (id) => connections.get(id),
    drainConnection: (id, code, reason) => {
      const answer = answers.length ? answers.shift() : 'closed';
      if (answer !== 'closed') return answer;
      closes.push({ id, code, reason });
      connections.delete(id);
      return 'closed';
    },
    forEachAbove: (slot, bucket, fn) => ids.forEach(fn),
  };
  return { path, closes };
}

const router = (nativePercent = 0) => ({ nativePercent, host: { slot: 0 } });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test.each([1, 5, 15, 40, 200])('drainRatePerSecond %d closes that many a second', (rate) => {
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
  const { path, closes } = fakePath(ids);
  const drainer = new Drainer(path, router(), { drainRatePerSecond: rate, retryAfterMs: [0, 0] });
  drainer.drain(0);
  jest.advanceTimersByTime(100);
  expect(closes.length).toBe(Math.max(1, Math.floor(rate / 10))); // the first tick starts at once
  jest.advanceTimersByTime(2900);
  expect(closes.length).toBeGreaterThanOrEqual(Math.floor(rate * 3) - 1);
  expect(closes.length).toBeLessThanOrEqual(Math.ceil(rate * 3) + 1);
  expect(closes.every((c) => c.code === 1012)).toBe(true);
  expect(drainer.stats()).toEqual({ pending: 1000 - closes.length, closed: closes.length });
  drainer.stop();
});

test('stops once the queue is empty, and skips connections that closed meanwhile', () => {
  const { path, closes } = fakePath([1, 2, 3, 4]);
  path.connections.delete(2);
  const drainer = new Drainer(path, router(), { drainRatePerSecond: 200, retryAfterMs: [10, 50] });
  drainer.drain(0);
  jest.advanceTimersByTime(100);
  expect(closes.map((c) => c.id)).toEqual([1, 3, 4]);
  for (const c of closes) {
    const retry = Number(/retry after (\d+) ms/.exec(c.reason)[1]);
    expect(retry).toBeGreaterThanOrEqual(10);
    expect(retry).toBeLessThanOrEqual(50);
  }
  expect(drainer.timer).toBeNull();
  expect(drainer.stats()).toEqual({ pending: 0, closed: 3 });
});

test('connections whose bucket is native again (the percent went back up) are not closed', () => {
  const { path, closes } = fakePath([1, 2, 3, 4], { buckets: { 1: 10, 2: 60, 3: 30, 4: 70 } });
  const r = router(0);
  const drainer = new Drainer(path, r, { drainRatePerSecond: 10, retryAfterMs: [0, 0] });
  drainer.drain(0);
  jest.advanceTimersByTime(100);
  expect(closes.map((c) => c.id)).toEqual([1]);
  r.nativePercent = 50; // buckets below 50 stay native from now on
  jest.advanceTimersByTime(1000);
  expect(closes.map((c) => c.id)).toEqual([1, 2, 4]);
  expect(drainer.stats()).toEqual({ pending: 0, closed: 3 });
});

test('a close the core refuses as busy is tried again; one it cannot do is not counted', () => {
  const { path, closes } = fakePath([1, 2], { answers: ['busy', 'busy', 'gone'] });
  const drainer = new Drainer(path, router(), { drainRatePerSecond: 10, retryAfterMs: [0, 0] });
  drainer.drain(0);
  jest.advanceTimersByTime(100);
  expect(drainer.stats()).toEqual({ pending: 2, closed: 0 });
  jest.advanceTimersByTime(100);
  expect(drainer.stats()).toEqual({ pending: 2, closed: 0 });
  jest.advanceTimersByTime(2000);
  expect(closes.map((c) => c.id)).toEqual([2]); // 1 was refused as unknown after two busy answers
  expect(drainer.stats()).toEqual({ pending: 0, closed: 1 });
});

test("'up' moves legacy connections whose bucket is now native, at the same rate, and skips ones no longer native", () => {
  const { path, closes } = fakePath([1, 2, 3, 4], { buckets: { 1: 10, 2: 20, 3: 30, 4: 40 } });
  const selected = [];
  path.forEachBelow = (slot, bucket, fn) => {
    selected.push(bucket);
    for (const [id, b] of path.connections) if (b < bucket) fn(id);
  };
  const r = router(35);
  const drainer = new Drainer(path, r, { drainRatePerSecond: 10, retryAfterMs: [0, 0] }, 'up');
  drainer.drain(35);
  expect(selected).toEqual([35]);
  expect(drainer.stats()).toEqual({ pending: 3, closed: 0 });
  jest.advanceTimersByTime(100);
  expect(closes.map((c) => c.id)).toEqual([1]);
  r.nativePercent = 15; // lowered again: buckets 20 and 30 stay legacy
  jest.advanceTimersByTime(1000);
  expect(closes.map((c) => c.id)).toEqual([1]);
  expect(closes[0].code).toBe(1012);
  expect(drainer.stats()).toEqual({ pending: 0, closed: 1 });
});
