'use strict';
// Sticky percentage routing with real clients: the split matches the
// percent, reconnects land on the same path, raising the percent never
// moves a native client back.

const { startGateway } = require('./support/gateway');
const { connect, until } = require('./support/clients');

jest.setTimeout(120000);

let gw;
const pathOf = new Map(); // identity -> path of its last connection

beforeAll(async () => {
  gw = await startGateway({ attach: { nativePercent: 30 } });
  gw.router.on('connection', ({ path, identity }) => pathOf.set(identity, path));
});

afterAll(() => gw.close());

async function connectAll(keys) {
  const sockets = [];
  for (let i = 0; i < keys.length; i += 100) {
    const batch = keys.slice(i, i + 100).map((key) => connect(gw.url('/ws'), { headers: { 'x-client-id': key } }));
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function closeAll(sockets) {
  await Promise.all(sockets.map((ws) => new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close(1000);
  })));
}

test('1,000 distinct keys at 30% split within ±5 points, and stick', async () => {
  const keys = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
  let sockets = await connectAll(keys);
  await until(() => gw.dispatch.stats().paths.native.connections + gw.dispatch.stats().paths.legacy.connections === 1000,
    20000, 'all 1000 connections counted');
  const stats = gw.dispatch.stats();
  expect(stats.paths.native.connections).toBeGreaterThanOrEqual(250);
  expect(stats.paths.native.connections).toBeLessThanOrEqual(350);
  expect(stats.paths.native.fallbacks).toBe(0);
  const first = new Map(keys.map((k) => [k, pathOf.get(k)]));
  expect([...first.values()].filter((p) => p === 'native').length).toBe(stats.paths.native.connections);

  await closeAll(sockets);
  pathOf.clear();
  sockets = await connectAll(keys);
  for (const key of keys) expect(pathOf.get(key)).toBe(first.get(key));
  await closeAll(sockets);

  gw.router.setNativePercent(60);
  pathOf.clear();
  sockets = await connectAll(keys);
  for (const key of keys) {
    if (first.get(key) === 'native') expect(pathOf.get(key)).toBe('native');
  }
  const native60 = keys.filter((k) => pathOf.get(k) === 'native').length;
  expect(native60).toBeGreaterThanOrEqual(550);
  expect(native60).toBeLessThanOrEqual(650);
  await closeAll(sockets);
});

test("the dispatcher's 'close' event names the identity on both paths", async () => {
  const closes = new Map(); // identity -> path
  const onClose = ({ path, identity }) => closes.set(identity, path);
  gw.dispatch.on('close', onClose);
  try {
    // Keys until one lands on each path (30% native).
    const keys = Array.from({ length: 40 }, (_, i) => `closer-${i}`);
    const sockets = await connectAll(keys);
    await closeAll(sockets);
    await until(() => keys.every((key) => closes.has(key)), 5000, 'a close event per key');
    for (const key of keys) expect(closes.get(key)).toBe(pathOf.get(key));
    expect(new Set(keys.map((key) => closes.get(key)))).toEqual(new Set(['native', 'legacy']));
  } finally {
    gw.dispatch.off('close', onClose);
  }
});
