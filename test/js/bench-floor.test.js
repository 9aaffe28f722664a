'use strict';
// bench/floor, the syscall-floor server the benchmarks measure beside the
// two paths: it must speak the bench protocol correctly (routing, one copy
// per connection, order, rejects) or its cost figures compare nothing.

const http = require('node:http');
const { FloorServer } = require('../../bench/lib/gateway');
const { connect, closed, until, event } = require('./support/clients');

let server;
const url = (target) => `ws://127.0.0.1:${server.port}${target}`;

beforeAll(async () => {
  server = await new FloorServer().start();
});

afterAll(async () => {
  await server.stop();
});

test('answers /healthz and refuses other plain requests', async () => {
  const get = (p) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
  expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
  expect((await get('/nope')).status).toBe(404);
});

test('routes events by order and driver, once per connection, in order; rejects events without an order', async () => {
  const a = await connect(url('/ws?topics=order:f1'));
  const b = await connect(url('/ws?topics=driver%3Afd1,order:f2'));
  const none = await connect(url('/ws'));
  const pub = await connect(url('/publish'));

  const events = [];
  for (let i = 0; i < 300; i += 1) events.push(event(i % 2 ? 'f1' : 'f2', i % 3 ? null : 'fd1', i));
  pub.send(JSON.stringify({ status: 'lost', driver_id: 'fd1' })); // no order_id: not delivered
  for (const e of events) pub.send(JSON.stringify(e));

  const forA = events.filter((e) => e.order_id === 'f1');
  const forB = events.filter((e) => e.order_id === 'f2' || e.driver_id === 'fd1');
  await until(() => a.received.length >= forA.length && b.received.length >= forB.length, 5000, 'deliveries');
  expect(a.received.map((m) => JSON.parse(m).seq)).toEqual(forA.map((e) => e.seq));
  expect(b.received.map((m) => JSON.parse(m).seq)).toEqual(forB.map((e) => e.seq));
  expect(JSON.parse(a.received[0])).toEqual(forA[0]);
  expect(none.received).toEqual([]);
  for (const ws of [a, b, none, pub]) ws.close(1000);
});

test('a closed subscriber is unsubscribed; a malformed frame gets a protocol close', async () => {
  const gone = await connect(url('/ws?topics=order:f3'));
  const stays = await connect(url('/ws?topics=order:f3'));
  const pub = await connect(url('/publish'));
  const goneClosed = closed(gone);
  gone.close(1000);
  expect((await goneClosed).code).toBe(1000);
  pub.send(JSON.stringify(event('f3', null, 1)));
  await until(() => stays.received.length === 1, 5000, 'the remaining subscriber');

  const bad = await connect(url('/ws'));
  const badClosed = closed(bad);
  bad._socket.write(Buffer.from([0x81, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65])); // unmasked client frame
  expect((await badClosed).code).toBe(1002);
  for (const ws of [stays, pub]) ws.close(1000);
});
