'use strict';
// At 50%, publish() reaches every subscriber on both paths exactly once, in
// publish order, whichever path it landed on.

const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');

let gw;
afterEach(() => gw && gw.close());

test('every subscriber gets exactly its events, once, in order, on both paths', async () => {
  gw = await startGateway({ attach: { nativePercent: 50 } });
  const paths = new Map();
  gw.router.on('connection', ({ path, identity }) => paths.set(identity, path));

  const clients = [];
  for (let i = 0; i < 40; i += 1) {
    const order = `o${i % 5}`;
    const driver = i % 4 === 0 ? `d${i % 3}` : null;
    const topics = driver ? `order:${order},driver:${driver}` : `order:${order}`;
    const ws = await connect(gw.url(`/ws?topics=${topics}`), { headers: { 'x-client-id': `c${i}` } });
    clients.push({ ws, order, driver, id: `c${i}` });
  }
  await until(() => paths.size === 40);
  const onNative = [...paths.values()].filter((p) => p === 'native').length;
  expect(onNative).toBeGreaterThan(5);
  expect(onNative).toBeLessThan(35);

  const events = [];
  for (let seq = 0; seq < 300; seq += 1) {
    events.push(event(`o${seq % 5}`, seq % 2 ? `d${seq % 3}` : null, seq));
  }
  // Mixed shapes: single objects, arrays, NDJSON strings and Buffers.
  for (let i = 0; i < events.length; i += 10) {
    const chunk = events.slice(i, i + 10);
    const shape = (i / 10) % 4;
    const input = shape === 0 ? chunk
      : shape === 1 ? chunk.map((e) => JSON.stringify(e)).join('\n')
        : shape === 2 ? Buffer.from(chunk.map((e) => JSON.stringify(e)).join('\n'))
          : null;
    if (input === null) {
      for (const e of chunk) expect(gw.dispatch.publish(e).accepted).toBe(1);
    } else {
      const result = gw.dispatch.publish(input);
      expect(result).toEqual({ accepted: 10, rejected: [] });
    }
  }

  for (const c of clients) {
    c.expected = events.filter((e) => e.order_id === c.order || (c.driver && e.driver_id === c.driver)).map((e) => e.seq);
  }
  await until(() => clients.every((c) => c.ws.received.length >= c.expected.length), 10000, 'all deliveries');
  await new Promise((r) => setTimeout(r, 100)); // nothing extra may follow
  for (const c of clients) {
    const got = c.ws.received.map((m) => JSON.parse(m).seq);
    expect({ client: c.id, path: paths.get(c.id), got }).toEqual({ client: c.id, path: paths.get(c.id), got: c.expected });
  }
  const stats = gw.dispatch.stats();
  expect(stats.paths.native.delivered + stats.paths.legacy.delivered)
    .toBe(clients.reduce((n, c) => n + c.expected.length, 0));
  expect(stats.events.accepted).toBe(300);
});

test('a client subscribed to both topics of an event gets it once', async () => {
  gw = await startGateway({ attach: { nativePercent: 50 } });
  const both = [];
  for (let i = 0; i < 10; i += 1) {
    both.push(await connect(gw.url('/ws?topics=order:x1,driver:y1'), { headers: { 'x-client-id': `both${i}` } }));
  }
  gw.dispatch.publish(event('x1', 'y1', 1));
  gw.dispatch.publish(event('x1', 'y1', 2));
  await until(() => both.every((ws) => ws.received.length >= 2));
  await new Promise((r) => setTimeout(r, 100));
  for (const ws of both) expect(ws.received.map((m) => JSON.parse(m).seq)).toEqual([1, 2]);
});

test('invalid events are returned with reasons and reach nobody', async () => {
  gw = await startGateway({ attach: { nativePercent: 50 } });
  const clients = [];
  for (let i = 0; i < 6; i += 1) {
    clients.push(await connect(gw.url('/ws?topics=order:bad1'), { headers: { 'x-client-id': `b${i}` } }));
  }
  const result = gw.dispatch.publish([
    { order_id: '', status: 'x', timestamp: '2026-11-27T10:00:00Z' },
    event('bad1', null, 1),
    '{"order_id":"bad1"',
    { order_id: 'bad1', status: 'x', timestamp: 'yesterday' },
  ]);
  expect(result.accepted).toBe(1);
  expect(result.rejected.map((r) => r.index)).toEqual([0, 2, 3]);
  expect(result.rejected[0].reason).toMatch(/order_id/);
  expect(result.rejected[2].reason).toMatch(/timestamp/);
  await until(() => clients.every((ws) => ws.received.length === 1));
  await new Promise((r) => setTimeout(r, 100));
  for (const ws of clients) expect(ws.received.length).toBe(1);
});

test('maxEventBytes applies to events given as objects, as to JSON text, on both paths', async () => {
  gw = await startGateway({ dispatcher: { maxEventBytes: 256 * 1024 }, attach: { nativePercent: 50 } });
  const clients = [];
  for (let i = 0; i < 6; i += 1) {
    clients.push(await connect(gw.url('/ws?topics=order:big1'), { headers: { 'x-client-id': `g${i}` } }));
  }
  const big = event('big1', null, 1, { note: 'x'.repeat(100 * 1024) });
  expect(gw.dispatch.publish(big)).toEqual(expect.objectContaining({ accepted: 1, rejected: [] }));
  expect(gw.dispatch.publish(JSON.stringify(event('big1', null, 2, { note: 'y'.repeat(100 * 1024) })))).toEqual(
    expect.objectContaining({ accepted: 1, rejected: [] }));
  const tooBig = event('big1', null, 3, { note: 'z'.repeat(300 * 1024) });
  expect(gw.dispatch.publish([tooBig]).rejected).toEqual([{ index: 0, reason: `event: larger than ${256 * 1024} bytes` }]);
  await until(() => clients.every((ws) => ws.received.length === 2));
  const stats = gw.dispatch.stats();
  expect(stats.paths.native.connections).toBeGreaterThan(0);
  expect(stats.paths.legacy.connections).toBeGreaterThan(0);
});

test('without the native core, bytes with invalid UTF-8 are rejected as the core rejects them', async () => {
  gw = await startGateway({ dispatcher: { native: false } });
  const ws = await connect(gw.url('/ws?topics=order:u1'), { headers: { 'x-client-id': 'u1' } });
  const bad = Buffer.concat([Buffer.from('{"order_id":"u1","status":"'), Buffer.from([0xc3, 0x28]),
    Buffer.from('","timestamp":"2026-11-27T10:00:00Z"}')]);
  const good = Buffer.from(JSON.stringify(event('u1', null, 1)));
  const result = gw.dispatch.publish(Buffer.concat([bad, Buffer.from('\n'), good]));
  expect(result.accepted).toBe(1);
  expect(result.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/UTF-8/) }]);
  expect(require('../../lib').validateEvent(bad)).toMatch(/UTF-8/);
  expect(require('../../lib').validateEvent(good)).toBeNull();
  await until(() => ws.received.length === 1);
  expect(JSON.parse(ws.received[0]).seq).toBe(1);
  ws.close();
});
