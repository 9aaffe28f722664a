'use strict';
// The example gateway's rollout and failpoint admin API (examples/gateway,
// rollout-admin.js and faults-admin.js) as a user drives it: a child
// process spoken to over HTTP. Bad bodies are 400s that say what is wrong,
// a second plan is a 409, a plan walks and rolls back with the figures of
// each decision in its status, and a fault set is all or nothing.

const { startGatewayProcess } = require('./support/gateway-process');
const { jsonClient } = require('./support/http-json');
const { until } = require('./support/clients');

jest.setTimeout(60000);

let gw;
let getJson;
let sendJson;

const rollout = (body) => sendJson('POST', '/admin/rollout', body);
const putFaults = (faults) => sendJson('PUT', '/admin/faults', { faults });
const start = (plan) => rollout({ action: 'start', plan });

async function planState() {
  const { body } = await getJson('/admin/rollout');
  return body.plan && body.plan.state;
}

// Leaves no plan running and the split at 0 for the next test.
async function reset() {
  if (['running', 'paused'].includes(await planState())) await rollout({ action: 'abort' });
  expect((await putFaults([])).status).toBe(200);
  expect((await sendJson('PUT', '/admin/routing', { nativePercent: 0, drain: true })).status).toBe(200);
}

beforeAll(async () => {
  gw = await startGatewayProcess(['--feed-rate', '0', '--native-percent', '0', '--threads', '1']);
  ({ getJson, sendJson } = jsonClient(gw.http));
});

afterEach(() => reset());

afterAll(async () => {
  if (gw) await gw.stop();
});

test('GET /admin/rollout before any plan: no plan, the split and the connections', async () => {
  const { status, body } = await getJson('/admin/rollout');
  expect(status).toBe(200);
  expect(body).toEqual({ plan: null, nativePercent: 0, connections: { native: 0, legacy: 0 } });
});

test.each([
  ['not JSON', '{steps', /not valid JSON/],
  ['no action', {}, /action must be one of start, pause, resume, abort/],
  ['an unknown action', { action: 'fly' }, /action must be one of/],
  ['start without a plan', { action: 'start' }, /start needs a plan object/],
  ['a field pause does not take', { action: 'pause', plan: {} }, /unknown field 'plan' for action pause/],
  ['non-monotonic steps', { action: 'start', plan: { steps: [5, 25, 10] } }, /steps\[2\]/],
  ['a step above 100', { action: 'start', plan: { steps: [5, 150] } }, /steps\[1\]/],
  ['a negative step', { action: 'start', plan: { steps: [-1, 5] } }, /steps\[0\]/],
  ['steps that are not an array', { action: 'start', plan: { steps: '1,5' } }, /steps/],
  ['a zero interval', { action: 'start', plan: { steps: [5], interval: 0 } }, /interval/],
  ['a negative interval', { action: 'start', plan: { steps: [5], interval: -1000 } }, /interval/],
  ['a zero threshold', { action: 'start', plan: { steps: [5], threshold: 0 } }, /threshold/],
  ['an unknown rollbackTo', { action: 'start', plan: { steps: [5], rollbackTo: 'nowhere' } }, /rollbackTo/],
  ['an unknown plan field', { action: 'start', plan: { steps: [5], speed: 'fast' } }, /speed/],
  ['an unknown check', { action: 'start', plan: { steps: [5], checks: { vibes: true } } }, /unknown check 'vibes'/],
  ['no check at all', { action: 'start', plan: { steps: [5], checks: {} } }, /names no check/],
  ['a bad check option', { action: 'start', plan: { steps: [5], checks: { latencyP99: { maxMs: -1 } } } }, /maxMs/],
  ['an unknown check option', { action: 'start', plan: { steps: [5], checks: { drops: { per: 3 } } } }, /per/],
])('POST /admin/rollout with %s is a 400 naming the problem', async (what, body, message) => {
  const { status, body: answer } = await rollout(body);
  expect(status).toBe(400);
  expect(answer.error).toMatch(message);
  expect(await planState()).toBe(null); // nothing started
});

test('pause, resume or abort without a plan is a 409', async () => {
  for (const action of ['pause', 'resume', 'abort']) {
    const { status, body } = await rollout({ action });
    expect(status).toBe(409);
    expect(body.error).toMatch(`no rollout to ${action}`);
  }
});

test('a second plan is refused while one runs, also when both arrive at once; pause, resume, abort', async () => {
  const plan = { steps: [10, 50, 100], interval: 60000 };
  const both = await Promise.all([start(plan), start(plan)]);
  expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
  const refused = both.find((r) => r.status === 409).body;
  expect(refused.error).toMatch(/already has a rollout \(running\)/);
  const started = both.find((r) => r.status === 200).body;
  expect(started.plan).toMatchObject({ state: 'running', step: 0, steps: [10, 50, 100], nativePercent: 10, interval: 60000, threshold: 2 });
  expect(started.nativePercent).toBe(10);
  expect((await sendJson('GET', '/admin/routing')).body.nativePercent).toBe(10);

  expect((await rollout({ action: 'resume' })).status).toBe(409); // running: nothing to resume
  expect((await rollout({ action: 'pause' })).body.plan.state).toBe('paused');
  expect((await start(plan)).status).toBe(409); // paused still counts
  expect((await rollout({ action: 'resume' })).body.plan.state).toBe('running');
  const aborted = (await rollout({ action: 'abort' })).body;
  expect(aborted.plan.state).toBe('aborted');
  expect(aborted.nativePercent).toBe(10); // abort leaves the percent
  expect(aborted.plan.history.map((h) => h.decision)).toEqual(['start', 'pause', 'resume', 'abort']);
  expect((await rollout({ action: 'abort' })).status).toBe(409);
});

test('a plan walks to 100 with the figures of each decision in its status', async () => {
  const plan = { steps: [20, 100], interval: 300, checks: { fallbacks: true, threadHealth: true } };
  expect((await start(plan)).status).toBe(200);
  await until(async () => (await planState()) === 'completed', 15000, 'the plan to complete');
  const { body } = await getJson('/admin/rollout');
  expect(body.nativePercent).toBe(100);
  const decisions = body.plan.history.map((h) => h.decision);
  expect(decisions[0]).toBe('start');
  expect(decisions.slice(-2)).toEqual(['advance', 'complete']);
  const threadHealth = body.plan.lastChecks.find((c) => c.name === 'threadHealth');
  expect(threadHealth).toMatchObject({ result: 'pass', figures: { threads: 1, stalls: 0 } });
});

test('the worker-stall failpoint makes a plan roll back, naming the failed check', async () => {
  // A stall every 800 ms: every interval of 1 s counts one.
  const plan = { steps: [50, 100], interval: 1000, threshold: 2, checks: { threadHealth: true } };
  expect((await start(plan)).status).toBe(200);
  expect((await putFaults([{ name: 'native.worker.stall', ms: 600, everyMs: 200 }])).status).toBe(200);
  await until(async () => (await planState()) === 'rolledBack', 20000, 'the plan to roll back');
  const { body } = await getJson('/admin/rollout');
  expect(body.nativePercent).toBe(0);
  const rollback = body.plan.history.find((h) => h.decision === 'rollback');
  expect(rollback.reason).toMatch(/threadHealth/);
  expect(rollback.checks.find((c) => c.name === 'threadHealth')).toMatchObject({ result: 'fail' });
  expect(rollback.checks[0].figures.stalls).toBeGreaterThan(0);
});

test('GET /admin/faults lists the faults on and what the dashboard offers', async () => {
  const { status, body } = await getJson('/admin/faults');
  expect(status).toBe(200);
  expect(body.faults).toEqual([]);
  expect(body.nativeAvailable).toBe(true);
  expect(body.presets.map((p) => p.name)).toEqual(['native.worker.stall', 'native.delivery.drop', 'native.adopt.refuse', 'router.authenticate.slow']);
});

test('PUT /admin/faults sets exactly the list it is given', async () => {
  let res = await putFaults([{ name: 'native.delivery.drop', share: 0.5 }, { name: 'router.authenticate.slow', ms: 50 }]);
  expect(res.status).toBe(200);
  expect(res.body.faults).toEqual([{ name: 'native.delivery.drop', share: 0.5 }, { name: 'router.authenticate.slow', ms: 50 }]);
  res = await putFaults([{ name: 'native.adopt.refuse' }]);
  expect(res.body.faults).toEqual([{ name: 'native.adopt.refuse' }]);
  expect((await getJson('/admin/faults')).body.faults).toEqual([{ name: 'native.adopt.refuse' }]);
  res = await putFaults([]);
  expect(res.body.faults).toEqual([]);
});

test.each([
  ['not JSON', 'nope', /not valid JSON/],
  ['no faults field', {}, /faults must be an array/],
  ['an extra field', { faults: [], on: true }, /unknown field 'on'/],
  ['an entry without a name', { faults: [{ ms: 5 }] }, /faults\[0\] must be an object with a name/],
  ['an unknown failpoint', { faults: [{ name: 'native.everything.explode' }] }, /name/],
  ['a missing parameter', { faults: [{ name: 'native.worker.stall', ms: 600 }] }, /params\.everyMs/],
  ['an out-of-range parameter', { faults: [{ name: 'native.delivery.drop', share: 2 }] }, /params\.share/],
  ['an unknown parameter', { faults: [{ name: 'native.adopt.refuse', ms: 3 }] }, /ms/],
  ['a good entry, then a bad one', { faults: [{ name: 'native.delivery.drop', share: 0.1 }, { name: 'nope' }] }, /name/],
])('PUT /admin/faults with %s is a 400 and changes nothing', async (what, body, message) => {
  expect((await putFaults([{ name: 'router.authenticate.slow', ms: 20 }])).status).toBe(200);
  const { status, body: answer } = await sendJson('PUT', '/admin/faults', body);
  expect(status).toBe(400);
  expect(answer.error).toMatch(message);
  expect((await getJson('/admin/faults')).body.faults).toEqual([{ name: 'router.authenticate.slow', ms: 20 }]);
});
