// Compiled with `tsc --noEmit` by the Jest suite: the declarations in
// lib/index.d.ts must accept real usage and reject wrong usage.
import http from 'node:http';
import * as ficus from '../../lib';

const server = http.createServer();
const dispatch = ficus.createDispatcher({ threads: 2, backpressure: 'close' });
const router = dispatch.attach(server, {
  path: '/ws',
  nativePercent: Number(process.env.NATIVE_PERCENT ?? 10),
  key: (req) => req.headers['x-user-id'] as string | undefined,
  authenticate: async () => ({ topics: ['order:o17'] }),
  authenticateTimeoutMs: 5000,
});
// A dashboard: every order by pattern; an app that keeps the old behaviour.
dispatch.attach(server, { path: '/dash', authenticate: () => ({ allow: ['order:*'], identity: 'dispatch' }) });
dispatch.attach(server, { path: '/any', authenticate: () => ({ topics: ['a'], subscribe: 'any' }) });
// @ts-expect-error: patterns are strings
dispatch.attach(server, { path: '/bad', authenticate: () => ({ allow: [1] }) });
// @ts-expect-error: 'any' or 'granted'
dispatch.attach(server, { path: '/bad2', authenticate: () => ({ subscribe: 'all' }) });
const refusedSubscribes: number | undefined = dispatch.stats().paths.legacy.subscribesRefused;
// Rules in a database, and credentials that expire and are refreshed.
dispatch.attach(server, {
  path: '/db',
  authenticate: () => ({ topics: ['order:o17'], expiresAt: new Date(Date.now() + 60_000) }),
  authorize: async (identity, topic, connection) => identity === 'u1' && topic.startsWith('order:') && connection.path === 'native',
  refresh: async (token) => (token === 'ok' ? { expiresAt: Date.now() + 60_000, allow: ['order:o17'] } : null),
  authorizeTimeoutMs: 2000,
  maxPendingAuthorizations: 1000,
});
// @ts-expect-error: the hook answers a boolean
dispatch.attach(server, { path: '/bad3', authorize: () => 'yes' });
const expired: number | undefined = dispatch.stats().paths.native.grantsExpired;
const grantCap: number = ficus.limits.maxGrantPatterns;
ficus.createDispatcher({ maxRefusedSubscribes: 4 });
// Stream positions and recovery: the history's bounds, the replay's chunk, what stats() says.
ficus.createDispatcher({ historyMaxEvents: 0, historyMaxAgeMs: 60_000, replayEventsPerTick: 500 });
const history: ficus.HistoryStats = dispatch.stats().history;
const resumed: number = (dispatch.stats().paths.legacy.recoveries?.complete ?? 0) + history.events + history.bytes;
const missed: number | undefined = dispatch.stats().paths.native.eventsMissed;
const badSince: number = dispatch.stats().rejectedUpgrades.badPosition;
void [resumed, missed, badSince, history.epoch.length];
// @ts-expect-error: a count, not a string
ficus.createDispatcher({ historyMaxEvents: '100' });
const result: ficus.PublishResult = dispatch.publish({
  order_id: 'o17', status: 'picked_up', timestamp: '2026-11-27T10:00:00Z', driver_id: null,
});
const firstReason: string | undefined = result.rejected[0]?.reason;
router.setNativePercent(50, { drain: true }).on('routing', (e) => e.nativePercent.toFixed());
const stats: ficus.Stats = dispatch.stats();
const p99: number = stats.paths.native.latencyMs.p99 + stats.paths.legacy.latencyMs.p99;
const healthy: boolean = stats.paths.native.threads.every((t) => t.healthy);
const text: string = dispatch.metrics();
dispatch.on('message', (m) => (typeof m.id === 'number' ? m.path : m.data));
void dispatch.close().then(() => undefined);
void [firstReason, p99, healthy, text];

const bridge: ficus.Bridge = dispatch.bridge('redis://127.0.0.1:6379', { mode: 'pubsub', channels: ['ficus:events'], publishThrough: true });
const streamed: ficus.Bridge = dispatch.bridge('redis://127.0.0.1:6379', { stream: 'ficus:stream', streamMaxLen: 100000 });
const epochChanges: number = streamed.stats().stream?.epochChanges ?? 0;
const position: string | null = dispatch.lastPosition();
void [epochChanges, position, streamed.mode === 'stream'];
// @ts-expect-error: channels belong to mode 'pubsub'
dispatch.bridge('redis://127.0.0.1:6379', { channels: ['ficus:events'] });
// @ts-expect-error: stream mode always publishes through Redis
dispatch.bridge('redis://127.0.0.1:6379', { publishThrough: false });
bridge.on('state', (e) => e.state === 'reconnecting' && e.previous === 'ready');
bridge.on('rejected', (e) => e.count + e.reason.length);
const bridged: ficus.BridgeStats | undefined = dispatch.stats().bridge;
const gapMs: number = (bridged?.disconnectedMs ?? 0) + bridge.stats().reconnects;
void bridge.ready().then((b) => b.close());
void gapMs;
// @ts-expect-error: channels is an array of names
dispatch.bridge('redis://127.0.0.1:6379', { mode: 'pubsub', channels: 'ficus:events' });

// @ts-expect-error: backpressure is 'drop' | 'close'
ficus.createDispatcher({ backpressure: 'block' });
// @ts-expect-error: nativePercent is a number
dispatch.attach(server, { nativePercent: '10' });
// @ts-expect-error: publish needs an event, not a number
dispatch.publish(42);

router.on('connection', (e) => dispatch.send(e.id, `welcome ${e.identity} (${e.path})`));
// @ts-expect-error: an authenticate that can return nothing would refuse by accident
dispatch.attach(server, { authenticate: async (req) => { if (req.headers.authorization) return true; } });

// Every emitter method is typed like `on`.
const onFallback = (e: { reason: string }) => e.reason.length;
router.once('fallback', onFallback).off('fallback', onFallback);
dispatch.once('close', (e) => e.code + e.identity.length);
// 'error' listeners receive FicusError, with a code to branch on.
router.on('error', (error) => (error.code === 'ERR_FICUS_UPGRADE_REFUSED' ? error.cause : error.message));
dispatch.on('error', (error: ficus.FicusError) => error.code);
bridge.once('error', (error) => error.code === ficus.errorCodes.REDIS);
// @ts-expect-error: no such event
router.once('connected', () => undefined);
// @ts-expect-error: a 'close' event is not a string
dispatch.off('close', (e: string) => e);
// errorCodes has literal keys and values.
const closedCode: 'ERR_FICUS_CLOSED' = ficus.errorCodes.CLOSED;
// @ts-expect-error: no such code
void ficus.errorCodes.NOPE;
void closedCode;
// A header read straight from the request (string | string[] | undefined) is a valid key.
dispatch.attach(server, { path: '/raw', key: (req) => req.headers['x-user-id'] });
// Bring your own legacy path: the server's own 'upgrade' handler signature.
dispatch.attach(server, { path: '/byo', legacy: (req, socket, head) => socket.end(head) });

// Failpoints.
dispatch.faults.set('native.worker.stall', { ms: 200, everyMs: 1000 }).set('native.adopt.refuse');
dispatch.faults.set('native.delivery.drop', { share: 0.1 });
dispatch.faults.clear('native.worker.stall').clear();
const activeFaults: ficus.ActiveFault[] = dispatch.faults.list();
void activeFaults;
// @ts-expect-error the stall needs everyMs
dispatch.faults.set('native.worker.stall', { ms: 200 });
// @ts-expect-error no such fault
dispatch.faults.set('native.worker.nap');

// Rollout plans.
const plan = router.rollout({
  steps: [1, 5, 25, 50, 100],
  interval: 60_000,
  checks: [
    ...ficus.checks.defaults(),
    ficus.checks.latencyP99({ maxMs: 100, minSamples: 200 }),
    async (interval) => ({ result: interval.native.drops === 0 ? 'pass' : 'fail', figures: { drops: interval.native.drops } }),
    (interval) => interval.eventLoopDelay.p99Ms < 50,
  ],
  threshold: 3,
  rollbackTo: 'lastGood',
  rebalance: true,
});
router.on('rollout', (d) => {
  const failed: string[] = d.checks.filter((c) => c.result === 'fail').map((c) => `${c.name}: ${c.reason}`);
  void failed;
});
const rolloutState: ficus.RolloutState = plan.status().state;
void rolloutState;
plan.pause();
plan.resume();
plan.abort();
router.setNativePercent(50, { rebalance: true });
// @ts-expect-error rollbackTo is 'zero' or 'lastGood'
router.rollout({ steps: [10], rollbackTo: 'previous' });
// @ts-expect-error a check is a function
router.rollout({ steps: [10], checks: ['latencyP99'] });

// Per-path probes.
const probes = router.probes({ count: 2, ratePerSecond: 1, lossAfterMs: 2000 });
const probeTopic: string = probes.topic;
void probeTopic;
const probeLost: number = probes.stats().paths.native.lost + dispatch.stats().probes[0].paths.legacy.lost;
void probeLost;
router.rollout({
  steps: [1, 5],
  checks: [...ficus.checks.defaults({ probes: true }), ficus.checks.probe({ maxLossPer1000: 5, minSamples: 30 })],
});
const probeCheck: ficus.RolloutCheck = (interval) => interval.probes !== null && interval.probes.native.lost === 0;
void probeCheck;
probes.stop();
// @ts-expect-error count is a number
router.probes({ count: '2' });
