'use strict';
// The reconnect-storm brake (lib/upgrade-rate.js): a router takes at most
// upgradeBurst upgrades at once and maxUpgradesPerSecond after that, and
// one identity identityUpgradeBurst / maxIdentityUpgradesPerSecond; past
// either the upgrade is answered 503 with Retry-After and counted. The
// rates here are one token per 10 s, so that "N at once" holds on a loaded
// machine: the N+1th comes long before a token is back.

const WebSocket = require('ws');
const { startGateway } = require('./support/gateway');
const { until } = require('./support/clients');
const { UpgradeRate, MAX_TRACKED_IDENTITIES, retryAfterSeconds } = require('../../lib/upgrade-rate');
const ficus = require('../../lib');

const PATHS = ['native', 'legacy'];
const SLOW = 0.1; // upgrades per second: one token every 10 s
const RETRY_AFTER_MS = [2000, 3000];

let gw;
let sockets = [];
afterEach(async () => {
  for (const ws of sockets) ws.terminate();
  sockets = [];
  if (gw) await gw.close();
  gw = null;
});

// Opens a WebSocket; resolves { status: 101, path } or the refusal's
// { status, retryAfter }.
function upgrade(url, headers) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      sockets.push(ws);
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (req, res) => {
      resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] });
      req.destroy();
    });
    ws.once('error', reject);
  });
}

async function upgrades(n, url, headers) {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(await upgrade(url, typeof headers === 'function' ? headers(i) : headers));
  return out;
}

function expectRetryAfter(refusal) {
  expect(refusal.status).toBe(503);
  // At least the jitter's lower bound; at most until a token is back (10 s).
  expect(refusal.retryAfter).toMatch(/^\d+$/);
  const seconds = Number(refusal.retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(RETRY_AFTER_MS[0] / 1000);
  expect(seconds).toBeLessThanOrEqual(1 / SLOW);
}

describe.each(PATHS)('%s path', (p) => {
  const headers = (extra = {}) => ({ 'x-ficus-path': p, ...extra });
  const base = { nativePercent: 0, overrideHeader: 'x-ficus-path', retryAfterMs: RETRY_AFTER_MS };

  async function start(attach) {
    gw = await startGateway({ attach: { ...base, ...attach } });
    return p === 'legacy' || gw.dispatch.nativeAvailable;
  }

  test('per router: upgradeBurst upgrades pass, the next gets 503 with Retry-After before authenticate runs', async () => {
    let authenticated = 0;
    const authenticate = () => {
      authenticated += 1;
      return true;
    };
    if (!(await start({ maxUpgradesPerSecond: SLOW, upgradeBurst: 3, authenticate }))) return;
    const results = await upgrades(4, gw.url('/ws'), (i) => headers({ 'x-client-id': `c${i}` }));
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([101, 101, 101]);
    expectRetryAfter(results[3]);
    expect(authenticated).toBe(3);
    await until(() => gw.dispatch.stats().paths[p].connections === 3, 5000, 'the three on their path');
    const stats = gw.dispatch.stats();
    expect(stats.rejectedUpgrades.upgradeRate).toBe(1);
    expect(stats.rejectedUpgrades.identityRate).toBe(0);
    expect(gw.dispatch.metrics()).toContain('ficus_upgrades_rejected_total{reason="upgradeRate"} 1');
  });

  test('per identity: identityUpgradeBurst upgrades pass, the next gets 503; other identities go on', async () => {
    // A Grant's identity, when it has one, is the identity braked.
    const authenticate = (req) => (req.headers['x-identity'] ? { identity: req.headers['x-identity'] } : true);
    if (!(await start({ maxIdentityUpgradesPerSecond: SLOW, identityUpgradeBurst: 3, authenticate }))) return;
    const alice = await upgrades(4, gw.url('/ws'), headers({ 'x-client-id': 'alice' }));
    expect(alice.slice(0, 3).map((r) => r.status)).toEqual([101, 101, 101]);
    expectRetryAfter(alice[3]);
    expect((await upgrade(gw.url('/ws'), headers({ 'x-client-id': 'bob' }))).status).toBe(101);
    expect((await upgrade(gw.url('/ws'), headers({ 'x-client-id': 'carol', 'x-identity': 'alice' }))).status).toBe(503);
    const stats = gw.dispatch.stats();
    expect(stats.rejectedUpgrades.identityRate).toBe(2);
    expect(stats.rejectedUpgrades.upgradeRate).toBe(0);
    expect(gw.dispatch.metrics()).toContain('ficus_upgrades_rejected_total{reason="identityRate"} 2');
  });

  test('connections without an identity (no key answer, no Grant identity) are not braked per identity', async () => {
    if (!(await start({ maxIdentityUpgradesPerSecond: SLOW, identityUpgradeBurst: 1 }))) return;
    const results = await upgrades(4, gw.url('/ws'), headers());
    expect(results.map((r) => r.status)).toEqual([101, 101, 101, 101]);
  });
});

test('0 turns each brake off', async () => {
  gw = await startGateway({ attach: { maxUpgradesPerSecond: 0, upgradeBurst: 1, maxIdentityUpgradesPerSecond: 0 } });
  const results = await upgrades(25, gw.url('/ws'), { 'x-client-id': 'same' });
  expect(results.every((r) => r.status === 101)).toBe(true);
});

test('the defaults let one identity open identityUpgradeBurst connections at once', async () => {
  gw = await startGateway();
  const { identityUpgradeBurst } = gw.router.options;
  const results = await upgrades(identityUpgradeBurst, gw.url('/ws'), { 'x-client-id': 'tabs' });
  expect(results.every((r) => r.status === 101)).toBe(true);
  expect(gw.dispatch.stats().rejectedUpgrades.identityRate).toBe(0);
});

test('the identity table is bounded, and forgets identities whose bucket is full again', () => {
  const options = {
    maxUpgradesPerSecond: 0, upgradeBurst: 1, maxIdentityUpgradesPerSecond: 2, identityUpgradeBurst: 5, retryAfterMs: [1000, 1000],
  };
  const brake = new UpgradeRate(options, 0);
  // An attacker with ever new identities, all within one second.
  for (let i = 0; i < MAX_TRACKED_IDENTITIES + 5000; i += 1) expect(brake.admitIdentity(`id${i}`, 500)).toBeNull();
  expect(brake.trackedIdentities).toBe(MAX_TRACKED_IDENTITIES);
  // One token spent at 2 a second is back after 0.5 s: the next sweep (a
  // second after the last) forgets them all.
  expect(brake.admitIdentity('late', 1000)).toBeNull();
  expect(brake.trackedIdentities).toBe(1);
  // A tracked identity past its burst stays refused until a token is back.
  for (let i = 0; i < 4; i += 1) expect(brake.admitIdentity('late', 1000)).toBeNull();
  expect(brake.admitIdentity('late', 1000)).toBe(1);
  expect(brake.admitIdentity('late', 1400)).toBe(1);
  expect(brake.admitIdentity('late', 1500)).toBeNull();
  brake.stop();
});

test('once upgrades stop, a timer forgets the buckets that are full again', async () => {
  const options = {
    maxUpgradesPerSecond: 0, upgradeBurst: 1, maxIdentityUpgradesPerSecond: 2, identityUpgradeBurst: 5, retryAfterMs: [1000, 1000],
  };
  const { performance } = require('node:perf_hooks');
  const brake = new UpgradeRate(options, performance.now());
  for (let i = 0; i < 100; i += 1) expect(brake.admitIdentity(`id${i}`, performance.now())).toBeNull();
  expect(brake.trackedIdentities).toBe(100);
  // Each spent one token, back 0.5 s later; no upgrade comes after them.
  await until(() => brake.trackedIdentities === 0, 5000);
  expect(brake.sweepTimer).toBeNull();
  brake.stop();
});

test('Retry-After: whole seconds, at least until a token is back, jittered within retryAfterMs', () => {
  for (let i = 0; i < 200; i += 1) {
    const s = retryAfterSeconds(0, [1000, 10000]);
    expect(Number.isInteger(s) && s >= 1 && s <= 10).toBe(true);
  }
  expect(retryAfterSeconds(25_000, [1000, 2000])).toBe(25);
  expect(retryAfterSeconds(0, [0, 0])).toBe(1);
  const seen = new Set(Array.from({ length: 200 }, () => retryAfterSeconds(0, [1000, 10000])));
  expect(seen.size).toBeGreaterThan(3);
});

test('the options are validated, naming the argument', () => {
  const dispatch = ficus.createDispatcher({ native: false });
  const server = require('node:http').createServer();
  try {
    expect(() => dispatch.attach(server, { maxUpgradesPerSecond: -1 })).toThrow(RangeError);
    expect(() => dispatch.attach(server, { maxUpgradesPerSecond: 'x' })).toThrow(/options\.maxUpgradesPerSecond/);
    expect(() => dispatch.attach(server, { upgradeBurst: 0.5 })).toThrow(RangeError);
    expect(() => dispatch.attach(server, { identityUpgradeBurst: 0 })).toThrow(/options\.identityUpgradeBurst/);
    expect(() => dispatch.attach(server, { maxIdentityUpgradesPerSecond: Infinity })).toThrow(RangeError);
    expect(() => ficus.createDispatcher({ maxMessagesPerSecond: 1.5 })).toThrow(/options\.maxMessagesPerSecond/);
    expect(() => ficus.createDispatcher({ messageBurst: 0 })).toThrow(RangeError);
  } finally {
    dispatch.close();
  }
});
