'use strict';
// lib/drainer.js on its own, with Jest's fake timers: how many native
// connections a drain closes per second, for rates that are and are not a
// multiple of its 10 ticks a second.

const { Drainer } = require('../../lib/drainer');

function fakeDispatcher(ids) {
  const closes = [];
  const dispatcher = {
    nativeConnections: new Set(ids),
    core: {
      close: (id, code, reason) => {
        closes.push({ id, code, reason });
        dispatcher.nativeConnections.delete(id);
        return 'ok';
      },
    },
    forNativeAbove: (router, bucket, fn) => ids.forEach(fn),
  };
  return { dispatcher, closes };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test.each([1, 5, 15, 40, 200])('drainRatePerSecond %d closes that many a second', (rate) => {
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
  const { dispatcher, closes } = fakeDispatcher(ids);
  const drainer = new Drainer(dispatcher, {}, { drainRatePerSecond: rate, retryAfterMs: [0, 0] });
  drainer.drainAbove(0);
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
  const { dispatcher, closes } = fakeDispatcher([1, 2, 3, 4]);
  dispatcher.nativeConnections.delete(2);
  const drainer = new Drainer(dispatcher, {}, { drainRatePerSecond: 200, retryAfterMs: [10, 50] });
  drainer.drainAbove(0);
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
