'use strict';
// dispatch.registerMetrics(registry): ficus's metric families (the ones
// metrics() renders, lib/prometheus.js) in a prom-client registry, so they
// come out of the application's own /metrics, in either content type, and
// aggregate across cluster workers (AggregatorRegistry): counters and the
// latency histogram add up, routing gauges take the largest value.

const { families } = require('./prometheus');
const { FicusError, codes } = require('./errors');
const v = require('./validate');

const MAX_AGGREGATED = new Set(['ficus_native_percent', 'ficus_native_available', 'ficus_bridge_up',
  'ficus_bridge_stream_lag_seconds']);

function defaultRegistry() {
  try {
    return require('prom-client').register;
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
    throw new FicusError(codes.MISSING_PEER,
      'registerMetrics() without a registry needs prom-client: npm install prom-client (or pass your registry)');
  }
}

// Returns a function that unregisters them again.
function registerMetrics(dispatch, registry = defaultRegistry()) {
  if (!registry || typeof registry.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw v.typeError('a prom-client Registry', 'registry', registry);
  }
  // One stats() per scrape: the registry asks every metric in one go.
  let current = null;
  const snapshot = () => {
    if (current === null) {
      current = new Map(families(dispatch.stats()).map((f) => [f.name, f]));
      queueMicrotask(() => {
        current = null;
      });
    }
    return current;
  };
  // Every family there can be (a rollout's and the bridge's too), so that
  // one appearing later is exposed without registering again.
  const rollout = { router: 0, state: 'running', step: 0, stepPercent: 0, failedChecks: 0, decisions: {}, lastChecks: [] };
  const stream = { read: 0, invalid: 0, duplicates: 0, epochChanges: 0, gaps: 0, lagMs: 0 };
  const probePath = { probes: 1, open: 0, connectFailures: 0, delivered: 0, lost: 0, late: 0, latencyHistogram: { count: 0, sumNs: 0, buckets: [] } };
  const probes = { router: 0, paths: { native: probePath } };
  const all = families({
    ...dispatch.stats(), rollouts: [rollout], probes: [probes], bridge: { state: 'closed', channels: [], stream },
  });
  for (const { name, type, help } of all) {
    registry.registerMetric({
      name,
      help,
      type,
      aggregator: MAX_AGGREGATED.has(name) ? 'max' : 'sum',
      get() {
        // `this.name` as the registry may have rewritten it (OpenMetrics
        // counters lose their _total suffix and get it per sample).
        const f = snapshot().get(name);
        const values = f ? f.samples.map((s) => ({
          labels: s.labels,
          value: s.value,
          ...(s.suffix ? { metricName: `${this.name}${s.suffix}` } : {}),
        })) : [];
        return { name: this.name, help, type, aggregator: this.aggregator, values };
      },
    });
  }
  return () => {
    for (const { name } of all) registry.removeSingleMetric(name);
  };
}

module.exports = { registerMetrics };
