'use strict';
// The example gateway with --workers 2 on a real redis-server: one rollout
// plan governs both workers. The primary runs it on the workers' figures
// added up (each worker's threads among them) and tells every worker the
// percent, through a Redis restart too; /admin/faults applies to every
// worker; refusals (400, 409) come back through the primary as they are.

const { startRedis } = require('./support/redis-server');
const { startGatewayProcess } = require('./support/gateway-process');
const { jsonClient } = require('./support/http-json');
const { until } = require('./support/clients');
const { addSamples } = require('../../examples/gateway/cluster-rollout');

jest.setTimeout(60000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let redis;
let gw;
let getJson;
let sendJson;

const rollout = (body) => sendJson('POST', '/admin/rollout', body);
const start = (plan) => rollout({ action: 'start', plan });
const workerPercents = async () => (await getJson('/admin/routing')).body.workers.map((w) => w.nativePercent);

async function planState() {
  const { body } = await getJson('/admin/rollout');
  return body.plan && body.plan.state;
}

beforeAll(async () => {
  redis = await startRedis();
  // Simulated clients (they reconnect when a step moves them), dealt out
  // round-robin: both workers hold some.
  gw = await startGatewayProcess(['--workers', '2', '--redis', redis.url, '--native-percent', '0', '--threads', '1', '--feed-rate', '0', '--clients', '12']);
  ({ getJson, sendJson } = jsonClient(gw.http));
});

afterEach(async () => {
  if (['running', 'paused'].includes(await planState())) await rollout({ action: 'abort' });
  expect((await sendJson('PUT', '/admin/faults', { faults: [] })).status).toBe(200);
  expect((await sendJson('PUT', '/admin/routing', { nativePercent: 0, drain: true })).status).toBe(200);
  // A stall under way when the fault was cleared still ends late (and
  // counts): not in the next test's first interval.
  await sleep(1000);
});

afterAll(async () => {
  if (gw) await gw.stop();
  if (redis) await redis.stop();
});

// Two workers' samples as rolloutSample answers them.
function sample(seed, { stalls = 0, available = true } = {}) {
  const path = (n) => ({
    delivered: 100 * n, drops: n, upgrades: 10 * n, connections: 5 * n, closedByCode: { 1006: n },
    latencyHistogram: { count: 3 * n, sumNs: 1000 * n, buckets: [1000, n, 5000 + seed, 2 * n] },
  });
  return {
    available,
    native: { ...path(seed), threads: [{ index: 0, running: true, stalls }] },
    legacy: path(seed + 1),
    fallbacksByReason: { busy: seed },
    loopDelay: { p99Ms: seed, maxMs: seed },
  };
}

test('the primary adds the workers\' figures up: counters, closes, histograms bucket by bucket, threads by worker', () => {
  const sum = addSamples(new Map([[0, sample(1)], [1, sample(2, { stalls: 3 })]]));
  expect(sum.paths.native).toMatchObject({ delivered: 300, drops: 3, upgrades: 30, connections: 15, closedByCode: { 1006: 3 }, available: true });
  expect(sum.paths.native.latencyHistogram).toEqual({ count: 9, sumNs: 3000, buckets: [1000, 3, 5001, 2, 5002, 4] });
  expect(sum.paths.legacy).toMatchObject({ delivered: 500, connections: 25 });
  expect(sum.paths.native.threads).toEqual([{ index: '0/0', running: true, stalls: 0 }, { index: '1/0', running: true, stalls: 3 }]);
  expect(sum.fallbacksByReason).toEqual({ busy: 3 });
  expect(addSamples(new Map([[0, sample(1)], [1, sample(2, { available: false })]])).paths.native.available).toBe(false);
  expect(addSamples(new Map()).paths.native.available).toBe(false);
});

test('the primary refuses a bad plan (400) and a second one (409), and counts every worker\'s connections', async () => {
  const bad = await start({ steps: [50, 10] });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatch(/steps\[1\]/);
  expect((await rollout({ action: 'pause' })).status).toBe(409);

  expect((await start({ steps: [10, 100], interval: 60000 })).status).toBe(200);
  const second = await start({ steps: [10, 100], interval: 60000 });
  expect(second.status).toBe(409);
  expect(second.body.error).toMatch(/already has a rollout \(running\)/);
  expect(await workerPercents()).toEqual([10, 10]);
  await until(async () => {
    const { connections } = (await getJson('/admin/rollout')).body;
    return connections.native + connections.legacy === 12;
  }, 20000, 'both workers\' 12 connections counted');
  expect((await rollout({ action: 'pause' })).body.plan.state).toBe('paused');
  expect((await rollout({ action: 'resume' })).body.plan.state).toBe('running');
});

test('one plan walks every worker to 100 on the figures of both', async () => {
  expect((await start({ steps: [25, 100], interval: 700, checks: { threadHealth: true, fallbacks: true } })).status).toBe(200);
  await until(async () => (await planState()) === 'completed', 20000, 'the plan to complete');
  expect(await workerPercents()).toEqual([100, 100]);
  const { body } = await getJson('/admin/rollout');
  // One native thread per worker: the plan judged both.
  expect(body.plan.lastChecks.find((c) => c.name === 'threadHealth').figures).toMatchObject({ threads: 2, stalls: 0 });
  // /stats shows the primary's plan as a single gateway's shows its own.
  expect((await getJson('/stats')).body.rollouts).toEqual([expect.objectContaining({ router: 0, state: 'completed', stepPercent: 100 })]);
  // And /metrics its series, once (no worker label: no worker runs it).
  const metrics = await (await fetch(gw.http('/metrics'))).text();
  expect(metrics).toContain('ficus_rollout_state{router="0",state="completed"} 1');
  expect(metrics).toContain('ficus_rollout_step_percent{router="0"} 100');
  expect(metrics.match(/^# TYPE ficus_rollout_state /gm)).toHaveLength(1);
  // Moved up with each step (rebalance): every client ends on native.
  await until(async () => (await getJson('/admin/rollout')).body.connections.native === 12, 20000, 'every client on native');
});

test('the stall failpoint, set on every worker, rolls the plan back on every worker', async () => {
  const set = await sendJson('PUT', '/admin/faults', { faults: [{ name: 'native.worker.stall', ms: 600, everyMs: 200 }] });
  expect(set.status).toBe(200);
  expect(set.body.workers.map((w) => w.faults)).toEqual([
    [{ name: 'native.worker.stall', ms: 600, everyMs: 200 }],
    [{ name: 'native.worker.stall', ms: 600, everyMs: 200 }],
  ]);
  const refused = await sendJson('PUT', '/admin/faults', { faults: [{ name: 'native.nope' }] });
  expect(refused.status).toBe(400);

  expect((await start({ steps: [50, 100], interval: 1000, threshold: 2, checks: { threadHealth: true } })).status).toBe(200);
  await until(async () => (await planState()) === 'rolledBack', 20000, 'the plan to roll back');
  expect(await workerPercents()).toEqual([0, 0]);
  const { body } = await getJson('/admin/rollout');
  const rollback = body.plan.history.find((h) => h.decision === 'rollback');
  expect(rollback.reason).toMatch(/threadHealth/);
  // Threads are named worker/thread: both workers' stalled.
  expect(rollback.checks[0].figures.stalled.sort()).toEqual(['0/0', '1/0']);
});

test('the plan goes on through a Redis restart', async () => {
  const plan = { steps: [10, 25, 50, 75, 90, 100], interval: 1000, checks: { threadHealth: true, fallbacks: true } };
  expect((await start(plan)).status).toBe(200);
  const decided = async (kind) => (await getJson('/admin/rollout')).body.plan.history.some((h) => h.decision === kind);
  await until(() => decided('advance'), 10000, 'a first step up');
  await redis.kill();
  await sleep(1500); // an interval without Redis
  const during = (await getJson('/admin/rollout')).body.plan;
  expect([during.state, during.history.at(-1).reason]).toEqual(['running', expect.any(String)]);
  redis = await startRedis({ port: redis.port });
  await until(async () => (await planState()) === 'completed', 20000, 'the plan to complete');
  expect(await workerPercents()).toEqual([100, 100]);
  await until(async () => (await getJson('/stats')).body.bridge.state === 'ready', 10000, 'both bridges ready again');
  expect((await getJson('/stats')).body.bridge.reconnects).toBeGreaterThan(0);
});
