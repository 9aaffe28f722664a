'use strict';
// router.probes(): synthetic subscribers on each path, connected to the
// router's own server, measuring end-to-end delivery and loss per path for
// a rollout's probe check, with real servers and clients and time
// compressed (a high probe rate, short intervals and loss deadlines).

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const promClient = require('prom-client');
const ficus = require('../../lib');
const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');
const { Fleet } = require('./support/fleet');
const { startRedis } = require('./support/redis-server');
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

// At test scale: 2 probes a path, 40 probe events a second, lost after 300 ms.
const PROBES = { count: 2, ratePerSecond: 40, lossAfterMs: 300 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('probes deliver on both paths and report latency, invisible to the split, the counters and the events', async () => {
  // An authenticate that refuses all but one token: probes do not go through it.
  gw = await startGateway({ attach: { authenticate: (req) => req.headers['x-token'] === 'ok' } });
  const seen = [];
  gw.router.on('connection', (e) => seen.push(e));
  gw.dispatch.on('close', (e) => seen.push(e));
  const probes = gw.router.probes(PROBES);
  await until(() => {
    const { paths } = probes.stats();
    return paths.native.delivered >= 20 && paths.legacy.delivered >= 20;
  }, 10000, 'probe events on both paths');

  const stats = gw.dispatch.stats();
  expect(stats.probes).toHaveLength(1);
  const mine = stats.probes[0];
  expect(mine).toMatchObject({ router: 0, state: 'running', count: 2, ratePerSecond: 40, topic: probes.topic });
  expect(mine.topic).toMatch(/^order:ficus:probe:[0-9a-f]{16}$/);
  for (const p of ['native', 'legacy']) {
    expect(mine.paths[p]).toMatchObject({ probes: 2, open: 2, connects: 2, connectFailures: 0, lost: 0 });
    expect(mine.paths[p].sent).toBeGreaterThanOrEqual(mine.paths[p].delivered);
    expect(mine.paths[p].latencyMs.count).toBe(mine.paths[p].delivered);
    expect(mine.paths[p].latencyMs.p99).toBeGreaterThan(0);
  }
  // Not traffic: no connections, upgrades or events for the application.
  expect(stats.paths.native.connections).toBe(0);
  expect(stats.paths.legacy.connections).toBe(0);
  expect(stats.paths.native.upgrades).toBe(0);
  expect(stats.paths.legacy.upgrades).toBe(0);
  expect(stats.rejectedUpgrades.unauthorized).toBe(0);
  expect(seen).toEqual([]);

  // A real client is counted beside them, on its own path.
  const real = await connect(gw.url('/ws?topics=order:o1'), { headers: { 'x-token': 'ok' } });
  await until(() => gw.dispatch.stats().paths.legacy.connections === 1, 2000, 'the real client counted');
  real.close();

  // Drains and rebalancing never move a probe.
  gw.router.setNativePercent(100, { rebalance: true });
  gw.router.setNativePercent(0, { drain: true });
  await sleep(300);
  const after = gw.dispatch.stats();
  expect(after.drain).toEqual({ pending: 0, closed: 0 });
  expect(after.rebalance).toEqual({ pending: 0, closed: 0 });
  expect(after.probes[0].paths.native.open).toBe(2);
  expect(after.probes[0].paths.legacy.open).toBe(2);

  const text = gw.dispatch.metrics();
  expect(text).toMatch(/^ficus_probe_connections\{router="0",path="native"\} 2$/m);
  expect(text).toMatch(/^ficus_probe_events_total\{router="0",path="legacy",result="lost"\} 0$/m);
  expect(text).toMatch(/^ficus_probe_latency_seconds_count\{router="0",path="native"\} [1-9]\d*$/m);
  expect(text).toMatch(/^ficus_connections\{path="native"\} 0$/m);
  // The same series in a prom-client registry (registered before any probe data: they appear anyway).
  const registry = new promClient.Registry();
  const unregister = gw.dispatch.registerMetrics(registry);
  const registered = await registry.metrics();
  expect(registered).toMatch(/^ficus_probe_latency_seconds_bucket\{router="0",path="legacy",le="\+Inf"\} [1-9]\d*$/m);
  expect(registered).toMatch(/^ficus_probe_connect_failures_total\{router="0",path="native"\} 0$/m);
  unregister();

  // close() stops them; the counters stay.
  const dispatch = gw.dispatch;
  await gw.close();
  gw = null;
  expect(probes.state).toBe('stopped');
  const final = probes.stats().paths.native.delivered;
  await sleep(200);
  expect(probes.stats().paths.native.delivered).toBe(final);
  expect(() => dispatch.attach(http.createServer())).toThrow(/closed/);
});

test('a healthy path: the probe check passes and the plan advances on probes alone', async () => {
  gw = await startGateway();
  // A generous loss deadline and latency bounds: on a busy shared test
  // machine the two paths' P99 differ by tens of ms without anything wrong.
  gw.router.probes({ ...PROBES, lossAfterMs: 1000 });
  const probeCheck = checks.probe({ minSamples: 10, maxP99Ms: 1000, maxRatio: 20, slackMs: 200 });
  const plan = gw.router.rollout({ steps: [1, 5], interval: 1500, checks: [probeCheck] });
  await until(() => plan.state !== 'running', 15000, 'the plan to finish');
  const status = plan.status();
  // No failed interval (the reasons say why if there was one).
  expect(status.history.map((h) => `${h.decision}: ${h.reason}`).filter((r) => /^(hold: failed|rollback)/.test(r))).toEqual([]);
  expect(status.state).toBe('completed');
  const probe = status.history[status.history.length - 1].checks[0];
  expect(probe).toMatchObject({ name: 'probe', result: 'pass' });
  expect(probe.figures.loss.native).toBeLessThanOrEqual(10);
  expect(probe.figures.loss.nativeSamples).toBeGreaterThanOrEqual(10);
  expect(probe.figures.latencyP99.native).toBeGreaterThan(0);
  // Without `checks`, a router with probes runs the probe check too.
  const next = gw.router.rollout({ steps: [5, 10], interval: 60000 });
  expect(next.status().checks).toContain('probe');
  next.abort();
});

// Real clients in buckets 10..90: all on legacy at 1 and 5 %.
const LEGACY_BUCKETS = [10, 30, 50, 70, 90];

test.each([1, 0.5])('native.delivery.drop (share %p) with no real native client: the probe check fails and the plan rolls back', async (share) => {
  gw = await startGateway({ attach: { drainRatePerSecond: 100, retryAfterMs: [10, 100] } });
  fleet = new Fleet(gw, LEGACY_BUCKETS);
  await fleet.start();
  let seq = 0;
  publisher = setInterval(() => gw.dispatch.publish(event('fleet', null, seq++)), 20);
  gw.router.probes(PROBES);
  await until(() => gw.dispatch.stats().probes[0].paths.native.open === 2, 5000, 'the native probes open');
  gw.dispatch.faults.set('native.delivery.drop', { share });

  const decisions = [];
  gw.router.on('rollout', (d) => decisions.push(d));
  const threshold = 2;
  const plan = gw.router.rollout({
    steps: [1, 5, 25],
    interval: 1000,
    threshold,
    checks: [checks.probe({ minSamples: 10 }), checks.threadHealth()],
  });
  await until(() => plan.state !== 'running', 15000, 'the plan to stop');

  expect(plan.state).toBe('rolledBack');
  expect(decisions.map((d) => d.decision)).toEqual(['start', 'hold', 'rollback']);
  const rollback = decisions[decisions.length - 1];
  expect(rollback).toMatchObject({ previous: 1, nativePercent: 0 });
  expect(rollback.reason).toMatch(/probe \(probe loss: native \d+(\.\d+)? lost per 1000 probe events above the bound 10[;)]/);
  const probe = rollback.checks.find((c) => c.name === 'probe');
  expect(probe.result).toBe('fail');
  expect(probe.figures.loss.native).toBeGreaterThanOrEqual(share === 1 ? 1000 : 200);
  expect(probe.figures.loss.nativeSamples).toBeGreaterThanOrEqual(10);
  expect(probe.figures.loss.legacy).toBe(0);
  expect(probe.figures.loss.legacySamples).toBeGreaterThanOrEqual(10);
  expect(rollback.checks.find((c) => c.name === 'threadHealth').result).toBe('pass');
  // Nobody real was native: the probes alone saw it.
  expect(fleet.count('native')).toBe(0);
  expect(fleet.count('legacy')).toBe(LEGACY_BUCKETS.length);
  expect(gw.dispatch.stats().paths.native.connections).toBe(0);
});

test('probes started before the server listens retry with backoff, counted, then deliver', async () => {
  const server = http.createServer();
  const dispatch = ficus.createDispatcher({ threads: 1 });
  const router = dispatch.attach(server);
  const probes = router.probes({ ...PROBES, count: 1 });
  gw = {
    dispatch,
    async close() {
      await dispatch.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  await until(() => probes.stats().paths.legacy.connectFailures >= 2, 3000, 'failed attempts');
  expect(probes.stats().paths.native).toMatchObject({ open: 0, lastFailure: 'not listening' });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await until(() => probes.stats().paths.native.delivered > 0 && probes.stats().paths.legacy.delivered > 0, 10000, 'delivery once listening');
});

test('probes never keep the process alive', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'probes-forgotten.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const result = await exited;
  clearTimeout(timer);
  expect({ ...result, stdout, stderr }).toEqual({ code: 0, signal: null, stdout: 'delivered', stderr: '' });
});

test('only the paths a probe can reach are probed: TLS stays legacy, a bring-your-own legacy path is not ours', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-probe-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) });
  fs.rmSync(dir, { recursive: true, force: true });
  gw = await startGateway({ server });
  const overTls = gw.router.probes({ ...PROBES, count: 1 });
  await until(() => overTls.stats().paths.legacy.delivered > 0, 5000, 'a legacy probe over wss');
  expect(overTls.stats().paths.native).toMatchObject({ probes: 0, open: 0, connectFailures: 0 });
  expect(gw.dispatch.stats().paths.native.fallbacks).toBe(0);
  await gw.close();

  let own = 0;
  gw = await startGateway({ attach: { legacy: (req, socket) => { own += 1; socket.destroy(); } } });
  const byo = gw.router.probes({ ...PROBES, count: 1 });
  await until(() => byo.stats().paths.native.delivered > 0, 5000, 'a native probe');
  expect(byo.stats().paths.legacy).toMatchObject({ probes: 0, open: 0 });
  expect(own).toBe(0); // the application's handler never saw a probe
});

// One path's probe figures over an interval, as lib/rollout-sample.js makes them.
const figures = (delivered, lost, p99Ms = 2) => ({ probes: 2, open: 2, sent: delivered + lost, delivered, lost, latency: { count: delivered, p99Ms } });

test('checks.probe(): loss first, then P99; inconclusive without probes, with few samples, or when both paths lose alike', () => {
  const check = checks.probe({ minSamples: 20 });
  const judge = (native, legacy) => check({ probes: native === undefined ? null : { native, legacy } });
  expect(judge()).toMatchObject({ result: 'inconclusive', reason: 'no probes running (router.probes())' });
  expect(judge(figures(100, 0), figures(100, 0))).toMatchObject({ result: 'pass' });
  expect(judge(figures(10, 0), figures(100, 0))).toMatchObject({ result: 'inconclusive', reason: expect.stringMatching(/^probe loss: 10 native samples/) });
  const dropped = judge(figures(0, 100), figures(100, 0));
  expect(dropped).toMatchObject({ result: 'fail', reason: expect.stringMatching(/^probe loss: native 1000 lost per 1000 probe events above the bound 10/) });
  expect(dropped.figures).toMatchObject({ loss: { native: 1000, legacy: 0, nativeSamples: 100 }, probes: { native: 2, legacy: 2 } });
  expect(judge(figures(98, 2), figures(100, 0))).toMatchObject({ result: 'fail' }); // 20 per 1000 above 10
  expect(judge(figures(100, 0), figures(100, 0, 10)).result).toBe('pass');
  expect(judge(figures(100, 0, 300), figures(100, 0))).toMatchObject({ result: 'fail', reason: expect.stringMatching(/^probe latencyP99: native 300 ms above the bound 250/) });
  expect(judge(figures(100, 0, 40), figures(100, 0, 10))).toMatchObject({ result: 'fail', reason: expect.stringMatching(/above legacy 10 × 2 \+ 5/) });
  // Redis gone mid-flight under a shared stream: both paths lose alike.
  expect(judge(figures(50, 50), figures(55, 45))).toMatchObject({ result: 'inconclusive', reason: expect.stringMatching(/legacy loses too/) });
  // ... but not when native loses far more than legacy.
  expect(judge(figures(0, 100), figures(80, 20))).toMatchObject({ result: 'fail' });
});

test('under a Redis shared stream, probe events go through Redis and come back on both paths', async () => {
  const redis = await startRedis();
  try {
    gw = await startGateway();
    const bridge = gw.dispatch.bridge(redis.url);
    await until(() => bridge.state === 'ready', 10000, 'the bridge ready');
    const probes = gw.router.probes({ ...PROBES, count: 1, lossAfterMs: 1000 });
    await until(() => probes.stats().paths.native.delivered >= 5 && probes.stats().paths.legacy.delivered >= 5, 10000, 'probe events back from Redis');
    expect(gw.dispatch.stats().bridge.stream.read).toBeGreaterThanOrEqual(5);
    await gw.close();
    gw = null;
  } finally {
    await redis.stop();
  }
});

test('bad options are refused, naming the argument', async () => {
  gw = await startGateway();
  const r = gw.router;
  expect(() => r.probes({ count: 0 })).toThrow(RangeError);
  expect(() => r.probes({ count: 0 })).toThrow(/options\.count/);
  expect(() => r.probes({ count: '2' })).toThrow(TypeError);
  expect(() => r.probes({ count: 1.5 })).toThrow(/options\.count/);
  expect(() => r.probes({ ratePerSecond: 0 })).toThrow(RangeError);
  expect(() => r.probes({ ratePerSecond: 0 })).toThrow(/options\.ratePerSecond/);
  expect(() => r.probes({ lossAfterMs: -1 })).toThrow(/options\.lossAfterMs/);
  expect(() => r.probes({ pathname: 'ws' })).toThrow(RangeError);
  expect(() => r.probes({ pathname: '/other' })).toThrow(/options\.pathname/);
  expect(() => r.probes({ host: '' })).toThrow(/options\.host/);
  expect(() => r.probes({ rate: 1 })).toThrow(/options\.rate/);
  expect(() => r.probes('fast')).toThrow(TypeError);
  expect(() => checks.probe({ maxLossPer1000: -1 })).toThrow(/probe options\.maxLossPer1000/);
  expect(() => checks.probe({ maxRatio: 0.5 })).toThrow(RangeError);
  expect(() => checks.defaults({ probes: 'yes' })).toThrow(/options\.probes/);
  expect(gw.dispatch.stats().probes).toEqual([]);
  // One set at a time; another once they stopped.
  const first = r.probes({ count: 1 });
  expect(() => r.probes({ count: 1 })).toThrow(expect.objectContaining({ code: 'ERR_FICUS_PROBES' }));
  first.stop();
  first.stop(); // idempotent
  const second = r.probes({ count: 1 });
  expect(second.topic).not.toBe(first.topic);
  // The probe topic must fit the dispatcher's maxTopicBytes.
  const tight = ficus.createDispatcher({ threads: 1, maxTopicBytes: 16 });
  expect(() => tight.attach(http.createServer()).probes()).toThrow(/maxTopicBytes \(16\)/);
  await tight.close();
  // A path given by a function: probes need a pathname it serves.
  const other = http.createServer();
  const fnRouter = gw.dispatch.attach(other, { path: (p) => p.startsWith('/live/') });
  expect(() => fnRouter.probes()).toThrow(/options\.pathname/);
  expect(fnRouter.probes({ pathname: '/live/probe' }).pathname).toBe('/live/probe');
});

test('a probe header that does not carry the secret is an ordinary upgrade', async () => {
  gw = await startGateway({ attach: { authenticate: () => false } });
  gw.router.probes({ count: 1 });
  await expect(connect(gw.url('/ws'), { headers: { 'x-ficus-probe': 'AAAA native' } })).rejects.toThrow(/401/);
  expect(gw.dispatch.stats().rejectedUpgrades.unauthorized).toBe(1);
});
