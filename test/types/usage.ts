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

const bridge: ficus.Bridge = dispatch.bridge('redis://127.0.0.1:6379', { channels: ['ficus:events'], publishThrough: true });
bridge.on('state', (e) => e.state === 'reconnecting' && e.previous === 'ready');
bridge.on('rejected', (e) => e.count + e.reason.length);
const bridged: ficus.BridgeStats | undefined = dispatch.stats().bridge;
const gapMs: number = (bridged?.disconnectedMs ?? 0) + bridge.stats().reconnects;
void bridge.ready().then((b) => b.close());
void gapMs;
// @ts-expect-error: channels is an array of names
dispatch.bridge('redis://127.0.0.1:6379', { channels: 'ficus:events' });

// @ts-expect-error: backpressure is 'drop' | 'close'
ficus.createDispatcher({ backpressure: 'block' });
// @ts-expect-error: nativePercent is a number
dispatch.attach(server, { nativePercent: '10' });
// @ts-expect-error: publish needs an event, not a number
dispatch.publish(42);

router.on('connection', (e) => dispatch.send(e.id, `welcome ${e.identity} (${e.path})`));
// @ts-expect-error: an authenticate that can return nothing would refuse by accident
dispatch.attach(server, { authenticate: async (req) => { if (req.headers.authorization) return true; } });
