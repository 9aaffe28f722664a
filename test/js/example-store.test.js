'use strict';
// The example gateway's order store (examples/gateway/store.js): a batch
// read in place (applyBatch, what each cluster worker does with what Redis
// brings back) keeps exactly the orders that parsing every event would.

const { OrderStore, batchItems, plainOrderId } = require('../../examples/gateway/store');

const event = (orderId, status, extra = '') =>
  `{"event_type":"status","order_id":${orderId},"status":"${status}","timestamp":"2026-12-06T00:00:00Z"${extra}}`;

// Every kind of line the in-place reading must get right: plain ids,
// spaces around the colon, an escaped id (parsed to know), the key named
// twice (parsed), a CR before the newline and blank lines (not events).
const LINES = [];
for (let i = 0; i < 60; i += 1) LINES.push(event(`"o${i}"`, i % 2 ? 'picked_up' : 'created'));
LINES.push('{"order_id" :  "o7", "status":"delivered","timestamp":"2026-12-06T00:00:01Z"}');
LINES.push(event('"o\\u0038"', 'cancelled')); // o8, escaped
LINES.push('{"note":{"order_id":"o9"},"order_id":"o10","status":"delivered","timestamp":"2026-12-06T00:00:02Z"}');
LINES.push(`${event('"o11"', 'delivered')}\r`);
LINES.push('   ');
LINES.push('');
LINES.push(event('"o12"', 'delivered'));

function snapshot(store) {
  return [...store.orders.values()].map((o) => [o.order_id, o.status, o.history.length]).sort();
}

function both(count, index, rejected = []) {
  const data = Buffer.from(LINES.join('\n'));
  const result = { accepted: batchItems(data).length - rejected.length, rejected: rejected.map((i) => ({ index: i, reason: 'test' })) };
  const inPlace = new OrderStore({ shard: { index, count } });
  inPlace.applyBatch(data, result);
  const parsed = new OrderStore({ shard: { index, count } });
  const items = batchItems(data);
  const rejectedSet = new Set(rejected);
  items.forEach((item, i) => {
    if (rejectedSet.has(i)) return;
    const e = JSON.parse(item);
    if (parsed.owns(e.order_id)) parsed.apply(e);
  });
  return { inPlace: snapshot(inPlace), parsed: snapshot(parsed) };
}

describe('example order store', () => {
  test('a batch read in place keeps the same orders as parsing every event, for every shard', () => {
    let kept = 0;
    for (let index = 0; index < 3; index += 1) {
      const { inPlace, parsed } = both(3, index);
      expect(inPlace).toEqual(parsed);
      kept += inPlace.length;
    }
    // Each of o0..o59 (every other line names one of them) lands in exactly one shard.
    expect(kept).toBe(60);
  });

  test('rejected events are left out by their index', () => {
    for (let index = 0; index < 2; index += 1) {
      const { inPlace, parsed } = both(2, index, [0, 5, 61]);
      expect(inPlace).toEqual(parsed);
    }
    const whole = new OrderStore();
    const data = Buffer.from(LINES.join('\n'));
    whole.applyBatch(data, { accepted: 1, rejected: [{ index: 0, reason: 'test' }] });
    expect(whole.get('o0')).toBeUndefined();
    expect(whole.get('o1')).toBeDefined();
  });

  test('without shards every event is kept', () => {
    const store = new OrderStore();
    store.applyBatch(Buffer.from(LINES.join('\n')), { accepted: 66, rejected: [] });
    expect(store.size).toBe(60);
    expect(store.get('o7').status).toBe('delivered');
    expect(store.get('o8').status).toBe('cancelled');
    expect(store.get('o10').status).toBe('delivered');
  });

  test('an order id is read in place only when plain and named once', () => {
    expect(plainOrderId('{"order_id":"o1"}')).toBe('o1');
    expect(plainOrderId('{"order_id" : \t"o1"}')).toBe('o1');
    expect(plainOrderId('{"order_id":"o\\u0031"}')).toBeNull();
    expect(plainOrderId('{"a":{"order_id":"x"},"order_id":"o1"}')).toBeNull();
    expect(plainOrderId('{"order_id":1}')).toBeNull();
    expect(plainOrderId('{"status":"x"}')).toBeNull();
    // Only within [start, end): the next line's id is not this line's.
    const text = '{"status":"x"}\n{"order_id":"o2"}';
    expect(plainOrderId(text, 0, text.indexOf('\n'))).toBeNull();
    expect(plainOrderId(text, text.indexOf('\n') + 1, text.length)).toBe('o2');
  });
});
