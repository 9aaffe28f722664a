'use strict';
// lib/history.js (the stream's history without the addon), lib/position.js
// and lib/recovery-query.js: positions, bounds, and what a `since` finds.
// The core's history answers the same questions through the binding
// (NativePath.readStream, streamHead, findPosition): recovery.test.js
// checks both through real clients.

const { History } = require('../../lib/history');
const { isPosition, parsePosition } = require('../../lib/position');
const { recoveryOf } = require('../../lib/recovery-query');

function clock(start = 1_733_385_600_000) {
  const c = { ms: start, now: () => c.ms };
  return c;
}

function fill(history, count, from = 0) {
  const positions = [];
  for (let i = from; i < from + count; i += 1) positions.push(history.append(`{"i":${i}}`, `order:o${i % 3}`, i % 2 ? 'driver:d' : null));
  return positions;
}

const payloads = (read) => read.events.map(([, payload]) => payload.toString());

test('positions: epoch, wall-clock ms and a counter within the ms, in order', () => {
  const c = clock();
  const h = new History({ maxEvents: 10, maxAgeMs: 0, now: c.now });
  const [a, b] = fill(h, 2);
  c.ms += 5;
  const [d] = fill(h, 1);
  expect(a).toBe(`${h.epoch}-${c.ms - 5}-0`);
  expect(b).toBe(`${h.epoch}-${c.ms - 5}-1`);
  expect(d).toBe(`${h.epoch}-${c.ms}-0`);
  expect(h.epoch).toMatch(/^[0-9a-f]{16}$/);
  for (const p of [a, b, d]) expect(isPosition(p)).toBe(true);
  // A clock that steps back does not reorder the stream.
  c.ms -= 100;
  const [e] = fill(h, 1);
  expect(parsePosition(e)).toEqual({ epoch: h.epoch, ms: c.ms + 100, n: 1 });
  expect(new History({ maxEvents: 1, maxAgeMs: 0 }).epoch).not.toBe(h.epoch);
});

test('readStream: [from, min(head, until, from + max)), with positions, payloads and topics', () => {
  const h = new History({ maxEvents: 100, maxAgeMs: 0 });
  const positions = fill(h, 10);
  expect(h.streamHead()).toBe(10);
  const read = h.readStream(2, 3);
  expect(read.next).toBe(5);
  expect(read.missed).toBe(0);
  expect(read.events.map(([p]) => p)).toEqual(positions.slice(2, 5));
  expect(read.events[0].slice(2)).toEqual(['order:o2', null]);
  expect(read.events[1].slice(2)).toEqual(['order:o0', 'driver:d']);
  expect(Buffer.isBuffer(read.events[0][1])).toBe(true);
  expect(h.readStream(8, 100)).toEqual(expect.objectContaining({ next: 10, missed: 0 }));
  expect(h.readStream(0, 100, 4).next).toBe(4);
  expect(h.readStream(10, 5)).toEqual({ next: 10, missed: 0, events: [] });
});

test('count bound: trimmed events are skipped and reported as missed', () => {
  const h = new History({ maxEvents: 5, maxAgeMs: 0 });
  fill(h, 12);
  expect(h.stats()).toEqual(expect.objectContaining({ events: 5, maxEvents: 5, maxAgeMs: 0 }));
  const read = h.readStream(3, 100);
  expect(read.missed).toBe(4);
  expect(payloads(read)).toEqual([7, 8, 9, 10, 11].map((i) => `{"i":${i}}`));
  expect(read.next).toBe(12);
  expect(h.stats().bytes).toBe(payloads(read).join('').length);
});

test('age bound: events older than historyMaxAgeMs are trimmed, on reading too', () => {
  const c = clock();
  const h = new History({ maxEvents: 1000, maxAgeMs: 1000, now: c.now });
  const old = fill(h, 3);
  c.ms += 600;
  const recent = fill(h, 2, 3);
  expect(h.stats().events).toBe(5);
  c.ms += 500; // the first three are 1,100 ms old now
  expect(h.stats().events).toBe(2);
  expect(h.findPosition(old[0])).toBe(-1);
  expect(h.findPosition(old[2])).toBe(3); // the newest trimmed one still bounds the gap
  expect(h.findPosition(recent[0])).toBe(4);
  c.ms += 10_000;
  expect(h.stats()).toEqual(expect.objectContaining({ events: 0, bytes: 0 }));
  expect(h.findPosition(recent[1])).toBe(5); // the newest position: nothing to replay, complete
});

test('findPosition: the first event after it, or -1 when the gap is not covered', () => {
  const c = clock();
  const h = new History({ maxEvents: 5, maxAgeMs: 0, now: c.now });
  expect(h.findPosition(`${h.epoch}-${c.ms}-0`)).toBe(-1); // nothing issued yet: a future position
  const positions = [];
  for (let i = 0; i < 8; i += 1) {
    positions.push(...fill(h, 1, i));
    c.ms += 1;
  }
  // Retained: seq 3..7. The newest trimmed (seq 2) still bounds a complete replay.
  expect(h.findPosition(positions[7])).toBe(8);
  expect(h.findPosition(positions[4])).toBe(5);
  expect(h.findPosition(positions[2])).toBe(3);
  expect(h.findPosition(positions[1])).toBe(-1);
  const { epoch, ms } = parsePosition(positions[5]);
  expect(h.findPosition(`${epoch}-${ms}-7`)).toBe(6); // between two events
  expect(h.findPosition(`${epoch}-${ms + 1000}-0`)).toBe(-1); // future
  expect(h.findPosition(`0123456789abcdef-${ms}-0`)).toBe(-1); // foreign epoch
  expect(h.findPosition('not a position')).toBe(-1);
  expect(h.findPosition(`${epoch.toUpperCase()}-${ms}-0`)).toBe(-1);
});

test('historyMaxEvents 0 keeps nothing: only the newest position is covered', () => {
  const h = new History({ maxEvents: 0, maxAgeMs: 0 });
  const positions = fill(h, 3);
  expect(h.stats().events).toBe(0);
  expect(h.findPosition(positions[2])).toBe(3);
  expect(h.findPosition(positions[1])).toBe(-1);
  expect(h.readStream(0, 10)).toEqual({ next: 3, missed: 3, events: [] });
});

test('arguments are validated, naming them', () => {
  expect(() => new History({ maxEvents: -1, maxAgeMs: 0 })).toThrow(/maxEvents/);
  expect(() => new History({ maxEvents: 1, maxAgeMs: 'x' })).toThrow(TypeError);
  const h = new History({ maxEvents: 1, maxAgeMs: 0 });
  expect(() => h.append(42, 'order:o')).toThrow(/payload/);
  expect(() => h.append('{}', 7)).toThrow(/orderTopic/);
  expect(() => h.readStream(-1, 1)).toThrow(/fromSeq/);
  expect(() => h.readStream(0, 0)).toThrow(/maxEvents/);
  expect(() => recoveryOf(null)).toThrow(/query/);
});

test('the upgrade query: recover=1, since=<position>, a since that is not one', () => {
  const pos = '3f2a9c0d1e4b5a69-1733385600123-0';
  expect(recoveryOf('')).toEqual({ recover: false, since: undefined });
  expect(recoveryOf('topics=order:1')).toEqual({ recover: false, since: undefined });
  expect(recoveryOf('topics=order:1&recover=1')).toEqual({ recover: true, since: undefined });
  expect(recoveryOf('recover=0')).toEqual({ recover: false, since: undefined });
  expect(recoveryOf(`since=${pos}&topics=a`)).toEqual({ recover: true, since: pos });
  // As the core's Position::parse: leading zeros count by value; ms at most 2^53, n at most 2^32 - 1.
  expect(recoveryOf('since=3f2a9c0d1e4b5a69-0001733385600123-007').since).toBe('3f2a9c0d1e4b5a69-0001733385600123-007');
  expect(recoveryOf(`since=3f2a9c0d1e4b5a69-${2 ** 53}-${2 ** 32 - 1}`).recover).toBe(true);
  for (const bad of ['', 'abc', '3f2a9c0d1e4b5a6-1-0', '3F2A9C0D1E4B5A69-1-0', `${pos}-1`, '3f2a9c0d1e4b5a69--0',
    '3f2a9c0d1e4b5a69-1-', '3f2a9c0d1e4b5a69-+1-0', `3f2a9c0d1e4b5a69-${2 ** 53 + 2}-0`, `3f2a9c0d1e4b5a69-1-${2 ** 32}`,
    '3f2a9c0d1e4b5a69-12345678901234567-0', '3f2a9c0d1e4b5a69-1-12345678901', ` ${pos}`]) {
    expect([bad, recoveryOf(`since=${encodeURIComponent(bad)}`)]).toEqual([bad, null]);
  }
});
