'use strict';
// router.rollout(): a plan walks the percent up its steps, one per passing
// interval, with real servers and clients and time compressed into short
// intervals; it holds on an inconclusive interval and rolls back after
// `threshold` failed ones.

const { startGateway } = require('./support/gateway');
const { until, event } = require('./support/clients');
const { Fleet } = require('./support/fleet');
const { checks } = require('../../lib/rollout-checks');

jest.setTimeout(60000);

let gw;
let fleet;
let publisher;
afterEach(async () => {
  clearInterval(publisher);
  if (fleet) fleet.stop();
  fleet = null;
  if (gw) await gw.close();
  gw = null;
});

const INTERVAL = 1000;
const DRAIN_RATE = 100;
const RETRY = [10, 100];
// Buckets 0, 2, 4, … 98: every step of the plan moves some clients.
const BUCKETS = Array.from({ length: 50 }, (_, i) => i * 2);

// The checks at test scale: few samples suffice, the event loop of a busy
// test machine gets room; the stall/latency bounds stay as in production.
const testChecks = () => [
  checks.latencyP99({ minSamples: 5 }),
  checks.drops({ minSamples: 5 }),
  checks.abnormalCloses({ minSamples: 1 }),
  checks.fallbacks(),
  checks.threadHealth(),
  checks.eventLoopDelay({ maxP99Ms: 1000 }),
];

async function startFleet(nativePercent = 0) {
  gw = await startGateway({ attach: { nativePercent, drainRatePerSecond: DRAIN_RATE, retryAfterMs: RETRY } });
  fleet = new Fleet(gw, BUCKETS);
  await fleet.start();
  await until(() => fleet.followsSplit(nativePercent), 5000, 'the fleet open');
  let seq = 0;
  publisher = setInterval(() => gw.dispatch.publish(event('fleet', null, seq++)), 20);
}

// How long the connection split may take to follow a step: the moved
// clients at the drain rate, the longest retry hint, and a second of slack
// for reconnecting on a shared test machine (docs/migration-guide.md).
const followMs = (moved) => (moved / DRAIN_RATE) * 1000 + RETRY[1] + 1000;

test('a healthy native path: the plan walks 1 → 100 and the connection split follows each step', async () => {
  await startFleet(0);
  const steps = [1, 5, 25, 50, 100];
  const decisions = [];
  const followed = [];
  gw.router.on('rollout', (d) => {
    decisions.push(d);
    if (d.decision === 'start' || d.decision === 'advance') {
      const { previous, nativePercent } = d;
      const limit = followMs(fleet.movingUp(previous, nativePercent));
      const begun = Date.now();
      followed.push(until(() => fleet.followsSplit(nativePercent) || gw.router.nativePercent !== nativePercent,
        limit, `the split at ${nativePercent} %`).then(() => ({ nativePercent, ms: Date.now() - begun, limit })));
    }
  });
  const plan = gw.router.rollout({ steps, interval: INTERVAL, checks: testChecks(), threshold: 2 });
  expect(plan.status()).toMatchObject({ state: 'running', step: 0, nativePercent: 1 });
  await until(() => plan.state !== 'running', 30000, 'the plan to finish');

  const status = plan.status();
  expect(status.state).toBe('completed');
  expect(gw.router.nativePercent).toBe(100);
  expect(decisions.map((d) => d.decision).filter((d) => d !== 'hold')).toEqual(['start', 'advance', 'advance', 'advance', 'advance', 'complete']);
  expect(decisions.filter((d) => d.decision === 'advance').map((d) => d.nativePercent)).toEqual([5, 25, 50, 100]);
  for (const f of await Promise.all(followed)) expect(f.ms).toBeLessThanOrEqual(f.limit);
  await until(() => fleet.followsSplit(100), followMs(0), 'every client native');
  expect(fleet.count('legacy')).toBe(0);
  expect(fleet.count('native')).toBe(BUCKETS.length);
  // Each passing decision carries every check's result and figures.
  const complete = decisions[decisions.length - 1];
  expect(complete.checks.map((c) => c.name)).toEqual(status.checks);
  expect(complete.checks.every((c) => c.result === 'pass')).toBe(true);
  expect(complete.checks.find((c) => c.name === 'latencyP99').figures.nativeSamples).toBeGreaterThanOrEqual(5);

  const stats = gw.dispatch.stats();
  expect(stats.rebalance.closed).toBe(fleet.movingUp(0, 100));
  expect(stats.rollouts).toEqual([expect.objectContaining({ router: 0, state: 'completed', step: 4, stepPercent: 100 })]);
  expect(gw.dispatch.metrics()).toMatch(/^ficus_rollout_state\{router="0",state="completed"\} 1$/m);
  expect(gw.dispatch.metrics()).toMatch(/^ficus_rollout_decisions_total\{router="0",decision="advance"\} 4$/m);
});

test('a stalled native worker at 50 %: the guard fails the checks and rolls back; every client is back on legacy', async () => {
  await startFleet(0);
  const decisions = [];
  let stalledAt = 0;
  gw.router.on('rollout', (d) => {
    decisions.push(d);
    if (d.decision === 'advance' && d.nativePercent === 50) {
      stalledAt = Date.now();
      gw.dispatch.faults.set('native.worker.stall', { ms: 700, everyMs: 200 });
    }
  });
  const threshold = 2;
  const plan = gw.router.rollout({ steps: [25, 50, 100], interval: INTERVAL, checks: testChecks(), threshold });
  await until(() => plan.state !== 'running', 30000, 'the plan to stop');

  expect(plan.state).toBe('rolledBack');
  const rollback = decisions[decisions.length - 1];
  expect(rollback.decision).toBe('rollback');
  // interval × threshold, plus one interval for the checks and the timers.
  expect(Date.parse(rollback.at) - stalledAt).toBeLessThanOrEqual(INTERVAL * (threshold + 1));
  expect(rollback).toMatchObject({ previous: 50, nativePercent: 0 });
  expect(rollback.reason).toMatch(/threadHealth \(native worker\(s\) .* stalled/);
  const health = rollback.checks.find((c) => c.name === 'threadHealth');
  expect(health.result).toBe('fail');
  expect(health.figures.stalls).toBeGreaterThan(0);
  const latency = rollback.checks.find((c) => c.name === 'latencyP99');
  expect(latency.figures.native).toBeGreaterThan(0);
  // Holds at the stalled step only: on a loaded test machine an interval at
  // 25 % may fail the latency ratio once and hold before passing (CI saw
  // native 14.7 ms against legacy 1.4 ms × 2 + 5), which resets the count.
  expect(decisions.filter((d) => d.decision === 'hold' && d.nativePercent === 50)).toHaveLength(threshold - 1);

  // Every native client drained (1012) and back on legacy within the drain time.
  const native = BUCKETS.filter((b) => b < 50).length;
  await until(() => fleet.followsSplit(0), followMs(native) + 700, 'every client on legacy');
  expect(fleet.count('native')).toBe(0);
  expect(gw.dispatch.stats().drain.closed).toBe(native);
});

test('an interval without traffic is inconclusive: the plan holds', async () => {
  gw = await startGateway();
  const plan = gw.router.rollout({ steps: [10, 50], interval: 200, checks: testChecks() });
  await until(() => plan.status().history.filter((h) => h.decision === 'hold').length >= 3, 5000, 'three holds');
  const status = plan.status();
  expect(status).toMatchObject({ state: 'running', step: 0, nativePercent: 10, failedChecks: 0 });
  const hold = status.history[1];
  expect(hold.reason).toMatch(/^inconclusive: latencyP99 \(0 native samples/);
  expect(status.lastChecks.find((c) => c.name === 'latencyP99')).toMatchObject({ result: 'inconclusive' });
  plan.abort();
});

test('a throwing custom check counts as failed, with its error recorded', async () => {
  gw = await startGateway();
  let calls = 0;
  const plan = gw.router.rollout({
    steps: [10, 20, 30],
    interval: 100,
    threshold: 1,
    rollbackTo: 'lastGood',
    checks: [async function flaky(interval) {
      calls += 1;
      expect(interval).toHaveProperty('native.latency');
      if (calls >= 2) throw new Error('probe down');
      return true;
    }],
  });
  await until(() => plan.state !== 'running', 5000, 'the rollback');
  const status = plan.status();
  expect(status.state).toBe('rolledBack');
  expect(status.lastChecks).toEqual([{ name: 'flaky', result: 'fail', figures: {}, reason: 'threw: probe down', error: 'probe down' }]);
  expect(gw.router.nativePercent).toBe(10); // the last good step
  expect(status.history.map((h) => h.decision)).toEqual(['start', 'advance', 'rollback']);
});

test('pause holds the step, resume starts a fresh interval, abort stops where it stands', async () => {
  gw = await startGateway();
  const plan = gw.router.rollout({ steps: [10, 20, 30], interval: 100, checks: [() => ({ result: 'pass', figures: { x: 1 } })] });
  plan.pause();
  await new Promise((r) => setTimeout(r, 350));
  expect(plan.status()).toMatchObject({ state: 'paused', step: 0, nativePercent: 10 });
  expect(() => plan.pause()).toThrow(expect.objectContaining({ code: 'ERR_FICUS_ROLLOUT' }));
  expect(() => gw.router.rollout({ steps: [50] })).toThrow(expect.objectContaining({ code: 'ERR_FICUS_ROLLOUT' }));
  plan.resume();
  await until(() => plan.step === 1, 3000, 'an advance after resume');
  plan.abort();
  const at = gw.router.nativePercent;
  await new Promise((r) => setTimeout(r, 300));
  expect(plan.status()).toMatchObject({ state: 'aborted', nativePercent: at });
  expect(plan.status().history.map((h) => h.decision)).toEqual(['start', 'pause', 'resume', 'advance', 'abort']);
  expect(() => plan.resume()).toThrow(/aborted/);
  expect(() => plan.abort()).toThrow(expect.objectContaining({ code: 'ERR_FICUS_ROLLOUT' }));
  // A new plan once the last one stopped.
  const next = gw.router.rollout({ steps: [at, 100], interval: 100, checks: [() => true] });
  expect(next.status().step).toBe(0);
  next.abort();
});

test('bad plans are refused at start, naming the field', async () => {
  gw = await startGateway({ attach: { nativePercent: 40 } });
  const r = gw.router;
  const ok = { steps: [50, 100], interval: 100 };
  expect(() => r.rollout({ ...ok, steps: [5, 25, 10] })).toThrow(RangeError);
  expect(() => r.rollout({ ...ok, steps: [5, 25, 10] })).toThrow(/options\.steps\[2\]/);
  expect(() => r.rollout({ ...ok, steps: [50, 50] })).toThrow(/options\.steps\[1\]/);
  expect(() => r.rollout({ ...ok, steps: [50, 101] })).toThrow(RangeError);
  expect(() => r.rollout({ ...ok, steps: [-1, 50] })).toThrow(/options\.steps\[0\]/);
  expect(() => r.rollout({ ...ok, steps: [] })).toThrow(/options\.steps/);
  expect(() => r.rollout({ ...ok, steps: '5,25' })).toThrow(TypeError);
  expect(() => r.rollout({ interval: 100 })).toThrow(/options\.steps/);
  expect(() => r.rollout({ ...ok, steps: [10, 30] })).toThrow(/nativePercent \(40\)/);
  expect(() => r.rollout({ ...ok, interval: 0 })).toThrow(RangeError);
  expect(() => r.rollout({ ...ok, interval: -5 })).toThrow(/options\.interval/);
  expect(() => r.rollout({ ...ok, checks: [() => true, 'latency'] })).toThrow(TypeError);
  expect(() => r.rollout({ ...ok, checks: [() => true, 'latency'] })).toThrow(/options\.checks\[1\]/);
  expect(() => r.rollout({ ...ok, threshold: 0 })).toThrow(/options\.threshold/);
  expect(() => r.rollout({ ...ok, rollbackTo: 'previous' })).toThrow(/options\.rollbackTo/);
  expect(() => r.rollout({ ...ok, steps: [50], intervall: 5 })).toThrow(/options\.intervall/);
  expect(() => checks.latencyP99({ maxMs: -1 })).toThrow(/latencyP99 options\.maxMs/);
  expect(r.nativePercent).toBe(40); // nothing started
  expect(gw.dispatch.stats().rollouts).toEqual([]);
});
