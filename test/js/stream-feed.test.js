'use strict';
// lib/stream-feed.js: the legacy path's live delivery read from the
// stream. With the addon it reads the core's history through the binding
// after each publish and each batch of ingested events; here the stream
// is lib/history.js (the same interface) and the legacy path a recorder,
// so the cursor's rules are checked alone: every event once, in stream
// order, with its position; nothing from before the first connection; and
// what happens when the history trimmed events before they were read.

const { StreamFeed } = require('../../lib/stream-feed');
const { History } = require('../../lib/history');

function recorder() {
  return {
    connectionCount: 1,
    calls: [],
    deliver(orderTopic, driverTopic, payload, publishNs, position) {
      this.calls.push(['live', orderTopic, payload.toString(), position]);
    },
    deliverTrimmed(orderTopic, driverTopic, payload) {
      this.calls.push(['trimmed', orderTopic, payload.toString()]);
    },
  };
}

function append(history, from, n) {
  const positions = [];
  for (let i = from; i < from + n; i += 1) positions.push(history.append(`e${i}`, `order:${i}`));
  return positions;
}

test('each pump delivers what was appended since the last one, once, in order, with positions', () => {
  const history = new History({ maxEvents: 100, maxAgeMs: 0 });
  append(history, 0, 3); // before the feed: not delivered
  const legacy = recorder();
  const feed = new StreamFeed(history, legacy);
  const positions = append(history, 3, 4);
  feed.pump();
  feed.pump();
  const more = append(history, 7, 2);
  feed.pump();
  expect(legacy.calls).toEqual([3, 4, 5, 6, 7, 8].map((i) => ['live', `order:${i}`, `e${i}`, [...positions, ...more][i - 3]]));
  expect(feed.cursor).toBe(9);
  expect(feed.missed).toBe(0);
});

test('without legacy connections the cursor follows the head and nothing is read', () => {
  const history = new History({ maxEvents: 100, maxAgeMs: 0 });
  const legacy = recorder();
  legacy.connectionCount = 0;
  const feed = new StreamFeed(history, legacy);
  append(history, 0, 5);
  feed.pump();
  expect(feed.cursor).toBe(5);
  append(history, 5, 2);
  feed.skipToHead(); // a first connection opens
  legacy.connectionCount = 1;
  append(history, 7, 1);
  feed.pump();
  expect(legacy.calls).toEqual([['live', 'order:7', 'e7', expect.any(String)]]);
});

test('a batch the history trimmed before it was read: the caller\'s copies go out without positions, the loss is counted', () => {
  const history = new History({ maxEvents: 2, maxAgeMs: 0 });
  const legacy = recorder();
  const feed = new StreamFeed(history, legacy);
  append(history, 0, 5);
  const fallback = [0, 1, 2, 3, 4].flatMap((i) => [`order:${i}`, null, Buffer.from(`e${i}`)]);
  feed.pump(fallback);
  expect(legacy.calls).toEqual([0, 1, 2, 3, 4].map((i) => ['trimmed', `order:${i}`, `e${i}`]));
  expect(feed.missed).toBe(3);
  expect(feed.cursor).toBe(5);
  append(history, 5, 1);
  feed.pump();
  expect(legacy.calls.at(-1)).toEqual(['live', 'order:5', 'e5', expect.any(String)]);
});

test('arguments are validated, naming them', () => {
  const history = new History({ maxEvents: 2, maxAgeMs: 0 });
  expect(() => new StreamFeed(null, recorder())).toThrow(/stream/);
  expect(() => new StreamFeed(history, {})).toThrow(/legacy/);
  expect(() => new StreamFeed(history, recorder()).pump('x')).toThrow(/fallback/);
});
