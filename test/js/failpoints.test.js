'use strict';
// Rehearsal faults (lib/failpoints.js): each one takes effect while set and
// stops when cleared; names and parameters are validated.

const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');
const { FAULT_NAMES } = require('../../lib/failpoints');

let gw;
afterEach(() => gw && gw.close());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('every fault is off by default, and list() shows what is set', async () => {
  gw = await startGateway();
  const { faults } = gw.dispatch;
  expect(faults.list()).toEqual([]);
  faults.set('native.worker.stall', { ms: 50, everyMs: 1000 }).set('router.authenticate.slow', { ms: 10 });
  expect(faults.list()).toEqual([
    { name: 'native.worker.stall', ms: 50, everyMs: 1000 },
    { name: 'router.authenticate.slow', ms: 10 },
  ]);
  faults.clear('native.worker.stall');
  expect(faults.list().map((f) => f.name)).toEqual(['router.authenticate.slow']);
  faults.clear();
  expect(faults.list()).toEqual([]);
  expect(FAULT_NAMES).toEqual(['native.worker.stall', 'native.delivery.drop', 'native.adopt.refuse', 'router.authenticate.slow']);
});

test('bad names and parameters are refused, naming them', async () => {
  gw = await startGateway();
  const { faults } = gw.dispatch;
  expect(() => faults.set('native.worker.nap', {})).toThrow(RangeError);
  expect(() => faults.set('native.worker.nap', {})).toThrow(/for name/);
  expect(() => faults.set(42)).toThrow(TypeError);
  expect(() => faults.set('native.worker.stall', { ms: 10 })).toThrow(/params\.everyMs/);
  expect(() => faults.set('native.worker.stall', { ms: 0, everyMs: 10 })).toThrow(RangeError);
  expect(() => faults.set('native.delivery.drop', { share: 1.5 })).toThrow(/params\.share/);
  expect(() => faults.set('native.delivery.drop', { share: '1' })).toThrow(TypeError);
  expect(() => faults.set('native.adopt.refuse', { ms: 1 })).toThrow(/params\.ms/);
  expect(() => faults.set('router.authenticate.slow', null)).toThrow(/params/);
  expect(() => faults.clear('nope')).toThrow(RangeError);
  expect(faults.list()).toEqual([]);
});

test('native.worker.stall blocks the workers: stalls counted, delivery late; cleared, healthy again', async () => {
  gw = await startGateway({ attach: { nativePercent: 100 } });
  const ws = await connect(gw.url('/ws?topics=order:st'));
  const threads = () => gw.dispatch.stats().paths.native.threads;
  const stalls = () => threads().reduce((n, t) => n + t.stalls, 0);
  const before = stalls();

  gw.dispatch.faults.set('native.worker.stall', { ms: 700, everyMs: 100 });
  await until(() => stalls() >= before + 2, 5000, 'two stalls counted');
  const latency = gw.dispatch.stats().paths.native.latencyMs.count;
  for (let i = 0; i < 5; i += 1) {
    gw.dispatch.publish(event('st', null, i));
    await sleep(100);
  }
  await until(() => ws.received.length === 5, 5000, 'the stalled deliveries');
  const h = gw.dispatch.stats().paths.native;
  expect(h.latencyMs.count).toBe(latency + 5);
  expect(h.latencyMs.max).toBeGreaterThanOrEqual(100); // some waited for a stall to end

  gw.dispatch.faults.clear('native.worker.stall');
  await sleep(800); // a stall begun before the clear ends
  const cleared = stalls();
  await sleep(800);
  expect(stalls()).toBe(cleared);
  ws.close();
});

test('native.delivery.drop skips that share of native deliveries, counted as drops', async () => {
  gw = await startGateway({ attach: { nativePercent: 100 } });
  const ws = await connect(gw.url('/ws?topics=order:dr'));
  await until(() => gw.dispatch.stats().paths.native.connections === 1);
  gw.dispatch.faults.set('native.delivery.drop', { share: 1 });
  gw.dispatch.publish([event('dr', null, 1), event('dr', null, 2)]);
  await until(() => gw.dispatch.stats().paths.native.drops === 2, 5000, 'two drops');
  gw.dispatch.faults.clear('native.delivery.drop');
  gw.dispatch.publish(event('dr', null, 3));
  await until(() => ws.received.length === 1, 5000, 'the delivery after the clear');
  expect(JSON.parse(ws.received[0]).seq).toBe(3);
  expect(gw.dispatch.stats().paths.native.drops).toBe(2);
  ws.close();
});

test('native.adopt.refuse keeps upgrades meant for native on legacy (a fallback)', async () => {
  gw = await startGateway({ attach: { nativePercent: 100 } });
  const paths = [];
  gw.router.on('connection', ({ path }) => paths.push(path));
  gw.dispatch.faults.set('native.adopt.refuse');
  const a = await connect(gw.url('/ws'));
  gw.dispatch.faults.clear('native.adopt.refuse');
  const b = await connect(gw.url('/ws'));
  expect(paths).toEqual(['legacy', 'native']);
  expect(gw.dispatch.stats().paths.native.fallbacksByReason).toEqual({ 'stopped-or-busy': 1 });
  a.close();
  b.close();
});

test('router.authenticate.slow delays authenticate, and counts against its timeout', async () => {
  gw = await startGateway({ attach: { authenticate: () => true, authenticateTimeoutMs: 300 } });
  gw.dispatch.faults.set('router.authenticate.slow', { ms: 150 });
  let started = Date.now();
  const a = await connect(gw.url('/ws'));
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);

  gw.dispatch.faults.set('router.authenticate.slow', { ms: 1000 });
  await expect(connect(gw.url('/ws'))).rejects.toThrow(/503/);
  expect(gw.dispatch.stats().rejectedUpgrades.authTimeout).toBe(1);

  gw.dispatch.faults.clear('router.authenticate.slow');
  started = Date.now();
  const b = await connect(gw.url('/ws'));
  expect(Date.now() - started).toBeLessThan(140);
  a.close();
  b.close();
});

test('native faults need a native core; every call needs an open dispatcher', async () => {
  gw = await startGateway({ dispatcher: { native: false } });
  expect(() => gw.dispatch.faults.set('native.adopt.refuse')).toThrow(/no native core/);
  gw.dispatch.faults.set('router.authenticate.slow', { ms: 5 });
  await gw.dispatch.close();
  expect(() => gw.dispatch.faults.clear()).toThrow(/closed/);
});
