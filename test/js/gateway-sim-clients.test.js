'use strict';
// The example gateway's simulated clients (examples/gateway/sim-clients.js)
// across a rollback: drained with 1012 off the native path, each resumes
// with since=<last position> on the legacy path and gets what was
// published while it was away. With the feed off each follows one of the
// orders o1..o50 (feed.js's randomOrderId), so a round of one event per
// order reaches every client exactly once: after R rounds, published
// before, during and after the move, GET /admin/clients says `received` is
// R per client when nothing was lost or delivered twice. Also the pieces of
// public/resume.js (shared with the dashboard's tracker) on their own.

const { startGatewayProcess } = require('./support/gateway-process');
const { until, event } = require('./support/clients');
const { Resumption, retryDelayMs } = require('../../examples/gateway/public/resume');

jest.setTimeout(60000);

const CLIENTS = 20;
const ORDERS = 50;

let gw;
let rounds = 0;

beforeAll(async () => {
  gw = await startGatewayProcess(['--clients', String(CLIENTS), '--feed-rate', '0', '--native-percent', '100', '--threads', '1']);
});

afterAll(async () => {
  if (gw) await gw.stop();
});

async function getJson(target) {
  return (await fetch(gw.http(target))).json();
}

async function setRouting(change) {
  const res = await fetch(gw.http('/admin/routing'), { method: 'PUT', body: JSON.stringify(change) });
  expect(res.status).toBe(200);
}

async function publishRound() {
  rounds += 1;
  const body = Array.from({ length: ORDERS }, (_, i) => JSON.stringify(event(`o${i + 1}`, null, rounds))).join('\n');
  const res = await fetch(gw.http('/events'), { method: 'POST', body });
  expect((await res.json()).accepted).toBe(ORDERS);
}

test('drained by a rollback, the simulated clients resume on legacy and miss nothing', async () => {
  await until(async () => (await getJson('/stats')).paths.native.connections === CLIENTS, 15000, 'every client on the native path');
  await publishRound(); // gives each client a position
  await until(async () => (await getJson('/admin/clients')).received === CLIENTS, 10000, 'the first round');

  await setRouting({ nativePercent: 0, drain: true });
  // The retry hint is at least a second: all of them are away for this round.
  await until(async () => (await getJson('/admin/clients')).open === 0, 10000, 'every client drained');
  await publishRound();
  // More rounds while they come back, one by one after their hints.
  const away = async () => {
    const clients = await getJson('/admin/clients');
    return clients.recovered.complete + clients.recovered.incomplete < CLIENTS || clients.open < CLIENTS;
  };
  for (let i = 0; i < 60 && await away(); i += 1) {
    await publishRound();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  await setRouting({ nativePercent: 100 }); // and back (no drain: they stay on legacy)
  await publishRound();
  await until(async () => (await getJson('/admin/clients')).received >= rounds * CLIENTS, 10000, 'every round at every client');
  await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show

  const clients = await getJson('/admin/clients');
  expect(rounds).toBeGreaterThan(2);
  expect(clients).toMatchObject({
    count: CLIENTS,
    open: CLIENTS,
    received: rounds * CLIENTS,
    resumes: CLIENTS,
    recovered: { complete: CLIENTS, incomplete: 0 },
  });
  expect(clients.reconnects).toBe(CLIENTS);
  const stats = await getJson('/stats');
  expect(stats.paths.legacy.connections).toBe(CLIENTS);
  expect(stats.gateway.simulatedClients.recovered.complete).toBe(CLIENTS);
});

test('public/resume.js: the query, a frame\'s position and event, the retry delay', () => {
  const r = new Resumption();
  expect(r.query(new URLSearchParams('topics=order:o1&since=x')).toString()).toBe('topics=order%3Ao1&recover=1');
  const text = '{"pos":"3f2a9c0d1e4b5a69-1733385600123-7","event":{"order_id":"o1","note":"\\"pos\\""}}';
  expect(r.read(text)).toEqual({ pos: '3f2a9c0d1e4b5a69-1733385600123-7', event: '{"order_id":"o1","note":"\\"pos\\""}' });
  expect(JSON.parse(r.read(text).event)).toEqual({ order_id: 'o1', note: '"pos"' });
  expect(r.query(new URLSearchParams('recover=1')).toString()).toBe('since=3f2a9c0d1e4b5a69-1733385600123-7');
  expect(r.read('{"type":"recovered","complete":false}')).toEqual({ recovered: true, complete: false });
  expect([r.read('{"order_id":"o1"}'), r.read('not json'), r.read('{"pos":"p"}')]).toEqual([null, null, null]);
  expect(r.last).toBe('3f2a9c0d1e4b5a69-1733385600123-7');
  expect(() => r.read(Buffer.from('{}'))).toThrow(TypeError);
  expect(retryDelayMs(1012, 'service restart; retry after 2345 ms')).toBe(2345);
  expect(retryDelayMs(1012, 'service restart; retry after 99999 ms')).toBe(10000);
  for (const [code, reason] of [[1013, 'recovery overtaken'], [1006, ''], [1001, 'retry after 5 ms']]) {
    const delay = retryDelayMs(code, reason);
    expect(delay).toBeGreaterThanOrEqual(1000);
    expect(delay).toBeLessThanOrEqual(3000);
  }
});
