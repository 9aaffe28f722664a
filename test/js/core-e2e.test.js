'use strict';
// The native core's own listener against `ws`, a client nobody here wrote:
// handshake, subscriptions, ordered delivery, ping/pong, close codes.

const { startCoreServer } = require('./support/core-server');
const { connect, closed, until, event } = require('./support/clients');

let server;

beforeAll(async () => {
  server = await startCoreServer(['--max-message-bytes', '4096']);
});

afterAll(async () => {
  expect(await server.stop()).toBe(0); // every loop closed cleanly
});

test('handshake succeeds and subscribers get their events in order', async () => {
  const a = await connect(server.url('/ws?topics=order:e2e1'));
  const b = await connect(server.url('/ws?topics=driver:e2ed1,order:e2e2'));
  const none = await connect(server.url('/ws'));
  await until(async () => (await server.stats()).connections >= 3, 5000, '3 connections');

  const events = [];
  for (let i = 0; i < 200; i += 1) {
    events.push(event(i % 2 ? 'e2e1' : 'e2e2', i % 3 ? null : 'e2ed1', i));
  }
  server.publish(...events);

  const forA = events.filter((e) => e.order_id === 'e2e1');
  const forB = events.filter((e) => e.order_id === 'e2e2' || e.driver_id === 'e2ed1');
  await until(() => a.received.length >= forA.length && b.received.length >= forB.length,
    5000, 'deliveries');
  expect(a.received.map((m) => JSON.parse(m).seq)).toEqual(forA.map((e) => e.seq));
  // Events matching both of b's topics arrive once.
  expect(b.received.map((m) => JSON.parse(m).seq)).toEqual(forB.map((e) => e.seq));
  expect(JSON.parse(a.received[0])).toEqual(forA[0]);
  expect(none.received).toEqual([]);
  for (const ws of [a, b, none]) ws.close(1000);
});

test('subscribe and unsubscribe messages', async () => {
  const ws = await connect(server.url('/ws'));
  ws.send(JSON.stringify({ type: 'subscribe', topics: ['order:e2e-sub'] }));
  await until(async () => {
    server.publish(event('e2e-sub', null, 1));
    await new Promise((r) => setTimeout(r, 20));
    return ws.received.length > 0;
  }, 5000, 'first delivery after subscribe');
  ws.send(JSON.stringify({ type: 'unsubscribe', topics: ['order:e2e-sub'] }));
  await new Promise((r) => setTimeout(r, 100));
  const count = ws.received.length;
  server.publish(event('e2e-sub', null, 2));
  await new Promise((r) => setTimeout(r, 200));
  expect(ws.received.length).toBe(count);
  ws.close();
});

test('ping gets a pong with the same payload', async () => {
  const ws = await connect(server.url('/ws'));
  const pong = new Promise((resolve) => ws.once('pong', (data) => resolve(data.toString())));
  ws.ping('hello-core');
  expect(await pong).toBe('hello-core');
  ws.close();
});

test('close handshake echoes the code', async () => {
  const ws = await connect(server.url('/ws'));
  const done = closed(ws);
  ws.close(4001, 'bye');
  expect((await done).code).toBe(4001);
});

test('invalid UTF-8 in a text frame closes with 1007', async () => {
  const ws = await connect(server.url('/ws'));
  const done = closed(ws);
  ws.on('error', () => {});
  // ws sends these bytes as a text frame without validating them.
  ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
  expect((await done).code).toBe(1007);
});

test('a message over max_message_bytes closes with 1009', async () => {
  const ws = await connect(server.url('/ws'));
  const done = closed(ws);
  ws.on('error', () => {});
  ws.send('x'.repeat(5000));
  expect((await done).code).toBe(1009);
});

test('an invalid subscribe message closes with 1008', async () => {
  const ws = await connect(server.url('/ws'));
  const done = closed(ws);
  ws.on('error', () => {});
  ws.send(JSON.stringify({ type: 'subscribe', topics: 'order:not-an-array' }));
  expect((await done).code).toBe(1008);
});

test('invalid events are rejected and counted, never delivered', async () => {
  const ws = await connect(server.url('/ws?topics=order:e2e-bad'));
  await until(async () => (await server.stats()).connections >= 1);
  const before = (await server.stats()).events_rejected;
  server.publish('{"order_id":"e2e-bad"}', 'not json', '{"order_id":"e2e-bad","status":"x","timestamp":"yesterday"}');
  server.publish(event('e2e-bad', null, 7));
  await until(() => ws.received.length === 1);
  expect(JSON.parse(ws.received[0]).seq).toBe(7);
  expect((await server.stats()).events_rejected).toBe(before + 3);
  ws.close();
});

test('a wrong path is refused with 404 before any upgrade', async () => {
  await expect(connect(server.url('/nope'))).rejects.toThrow(/404/);
});
