'use strict';
// dispatch.registerMetrics(registry): ficus's series in the application's
// own prom-client registry, in the Prometheus and the OpenMetrics formats,
// with delivery latency as a real histogram.

const client = require('prom-client');
const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');
const { LATENCY_BOUNDS_SECONDS } = require('../../lib/prometheus');

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

// [le, count] of one path's _bucket samples, in the order exposed.
function buckets(text, path) {
  const re = new RegExp(`^ficus_delivery_latency_seconds_bucket\\{path="${path}",le="([^"]+)"\\} (\\d+)$`, 'gm');
  return [...text.matchAll(re)].map((m) => [m[1], Number(m[2])]);
}

async function withDeliveries() {
  gw = await startGateway({ attach: { nativePercent: 0, overrideHeader: 'x-ficus-path' } });
  const paths = gw.dispatch.nativeAvailable ? ['native', 'legacy'] : ['legacy'];
  const clients = await Promise.all(paths.map((p) => connect(gw.url('/ws?topics=order:o1'), { headers: { 'x-ficus-path': p } })));
  for (let i = 0; i < 50; i += 1) gw.dispatch.publish(event('o1', null, i));
  await until(() => clients.every((c) => c.received.length === 50), 5000, 'the deliveries');
  clients.forEach((c) => c.close());
  return paths;
}

test('series in the user\'s registry, latency as a histogram with monotonic buckets', async () => {
  const paths = await withDeliveries();
  const registry = new client.Registry();
  new client.Counter({ name: 'app_requests_total', help: 'the app\'s own', registers: [registry] }).inc();
  const unregister = gw.dispatch.registerMetrics(registry);
  const text = await registry.metrics();
  expect(text).toMatch(/^app_requests_total 1$/m);
  expect(text).toMatch(/^# TYPE ficus_delivery_latency_seconds histogram$/m);
  expect(text).toMatch(/^ficus_upgrades_total\{path="legacy"\} 1$/m);
  for (const p of paths) {
    const b = buckets(text, p);
    expect(b.map(([le]) => le)).toEqual([...LATENCY_BOUNDS_SECONDS.map(String), '+Inf']);
    for (let i = 1; i < b.length; i += 1) expect(b[i][1]).toBeGreaterThanOrEqual(b[i - 1][1]);
    expect(b[b.length - 1][1]).toBe(50);
    expect(b[0][1]).toBeLessThanOrEqual(50);
    expect(text).toMatch(new RegExp(`^ficus_delivery_latency_seconds_count\\{path="${p}"\\} 50$`, 'm'));
    const sum = Number(new RegExp(`^ficus_delivery_latency_seconds_sum\\{path="${p}"\\} (\\S+)$`, 'm').exec(text)[1]);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(50 * 5); // 50 deliveries on loopback, well under 5 s each
  }
  unregister();
  expect(await registry.metrics()).not.toMatch(/ficus_/);
});

test('valid under the OpenMetrics content type', async () => {
  await withDeliveries();
  const registry = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE);
  gw.dispatch.registerMetrics(registry);
  const text = await registry.metrics();
  expect(text.endsWith('# EOF\n')).toBe(true);
  // Counter families are named without _total, their samples with it.
  expect(text).toMatch(/^# TYPE ficus_upgrades counter$/m);
  expect(text).toMatch(/^ficus_upgrades_total\{path="legacy"\} 1$/m);
  expect(text).not.toMatch(/_total_total/);
  expect(text).toMatch(/^ficus_delivery_latency_seconds_bucket\{path="legacy",le="\+Inf"\} 50$/m);
  // Every sample line: name, optional labels, a number.
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
    expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$/);
  }
});

test('the default registry, and a clear error for a non-registry', async () => {
  gw = await startGateway();
  const unregister = gw.dispatch.registerMetrics();
  expect(await client.register.metrics()).toMatch(/^ficus_native_available [01]$/m);
  unregister();
  expect(() => gw.dispatch.registerMetrics({})).toThrow(TypeError);
  expect(() => gw.dispatch.registerMetrics({})).toThrow(/Expected a prom-client Registry for registry/);
});
