'use strict';
// Live percent changes and rollback: lowering to 0 with drain closes every
// native connection with 1012 within the window, at a bounded rate, and
// the reconnects land on legacy.

const { startGateway } = require('./support/gateway');
const { connect, closed, until } = require('./support/clients');

let gw;
afterEach(() => gw && gw.close());

test('rollback to 0% drains native connections with 1012 and reconnects land on legacy', async () => {
  gw = await startGateway({ attach: { nativePercent: 100, drainRatePerSecond: 40, retryAfterMs: [10, 50] } });
  const clients = [];
  for (let i = 0; i < 20; i += 1) {
    clients.push(await connect(gw.url('/ws?topics=order:rb'), { headers: { 'x-client-id': `rb${i}` } }));
  }
  await until(() => gw.dispatch.stats().paths.native.connections === 20);
  const closes = clients.map((ws) => closed(ws));

  const started = Date.now();
  gw.router.setNativePercent(0, { drain: true });
  expect(gw.router.nativePercent).toBe(0);
  const results = await Promise.all(closes);
  const took = Date.now() - started;
  for (const r of results) {
    expect(r.code).toBe(1012);
    expect(r.reason).toMatch(/^service restart; retry after \d+ ms$/);
  }
  // 20 connections at 40/s: about half a second, never all at once.
  expect(took).toBeGreaterThan(300);
  expect(took).toBeLessThan(3000);
  expect(gw.dispatch.stats().drain).toEqual({ pending: 0, closed: 20 });

  const paths = [];
  gw.router.on('connection', ({ path }) => paths.push(path));
  const again = [];
  for (let i = 0; i < 20; i += 1) {
    again.push(await connect(gw.url('/ws?topics=order:rb'), { headers: { 'x-client-id': `rb${i}` } }));
  }
  expect(paths).toEqual(Array(20).fill('legacy'));
  await until(() => gw.dispatch.stats().paths.native.connections === 0);
  for (const ws of again) ws.close();
});

test('a decrease without drain keeps existing native connections', async () => {
  gw = await startGateway({ attach: { nativePercent: 100 } });
  const ws = await connect(gw.url('/ws'), { headers: { 'x-client-id': 'keep' } });
  gw.router.setNativePercent(0);
  await new Promise((r) => setTimeout(r, 200));
  expect(gw.dispatch.stats().paths.native.connections).toBe(1);
  expect(ws.readyState).toBe(ws.OPEN);
  ws.close();
});

test('percent changes apply to the next upgrade immediately', async () => {
  gw = await startGateway({ attach: { nativePercent: 0 } });
  const paths = [];
  gw.router.on('connection', ({ path }) => paths.push(path));
  const a = await connect(gw.url('/ws'));
  gw.router.setNativePercent(100);
  const b = await connect(gw.url('/ws'));
  gw.router.setNativePercent(0);
  const c = await connect(gw.url('/ws'));
  expect(paths).toEqual(['legacy', 'native', 'legacy']);
  for (const ws of [a, b, c]) ws.close();
});
