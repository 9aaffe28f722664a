'use strict';
// Prometheus text exposition (format 0.0.4) of Dispatcher#stats(), every
// per-path series labelled path="native" | path="legacy", and the Redis
// bridge's series when there is one.

function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(obj) {
  const parts = Object.entries(obj).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Exposition {
  constructor() {
    this.lines = [];
  }

  metric(name, type, help, samples) {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labelSet, value] of samples) {
      this.lines.push(`${name}${labels(labelSet)} ${Number.isFinite(value) ? value : 0}`);
    }
  }

  toString() {
    return `${this.lines.join('\n')}\n`;
  }
}

function perPath(stats, pick) {
  return Object.entries(stats.paths).map(([path, p]) => [{ path }, pick(p)]);
}

function toPrometheus(stats) {
  const e = new Exposition();
  e.metric('ficus_native_percent', 'gauge', 'Share of new WebSocket upgrades routed to the native core.',
    [[{}, stats.nativePercent ?? 0]]);
  e.metric('ficus_native_available', 'gauge', '1 when the native core is running.',
    [[{}, stats.paths.native.available ? 1 : 0]]);
  e.metric('ficus_connections', 'gauge', 'Open WebSocket connections.', perPath(stats, (p) => p.connections));
  e.metric('ficus_upgrades_total', 'counter', 'WebSocket upgrades routed to each path.', perPath(stats, (p) => p.upgrades));
  e.metric('ficus_fallbacks_total', 'counter', 'Upgrades meant for native that stayed on legacy, by reason.',
    Object.entries(stats.paths.native.fallbacksByReason).map(([reason, n]) => [{ reason }, n]));
  e.metric('ficus_upgrades_rejected_total', 'counter', 'Upgrades refused before routing (authentication).',
    Object.entries(stats.rejectedUpgrades).map(([reason, n]) => [{ reason }, n]));
  e.metric('ficus_events_total', 'counter', 'Published events by validation result.',
    [[{ result: 'accepted' }, stats.events.accepted], [{ result: 'rejected' }, stats.events.rejected]]);
  e.metric('ficus_deliveries_total', 'counter', 'Event messages handed to the kernel, one per subscriber.',
    perPath(stats, (p) => p.delivered));
  e.metric('ficus_drops_total', 'counter', 'Messages skipped because a send buffer was full.',
    perPath(stats, (p) => p.drops));
  e.metric('ficus_send_buffer_bytes', 'gauge', 'Bytes queued for the kernel across connections.',
    perPath(stats, (p) => p.sendBufferBytes));
  const quantiles = [];
  for (const [path, p] of Object.entries(stats.paths)) {
    for (const [q, key] of [['0.5', 'p50'], ['0.9', 'p90'], ['0.99', 'p99'], ['0.999', 'p999']]) {
      quantiles.push([{ path, quantile: q }, p.latencyMs[key] / 1000]);
    }
  }
  e.metric('ficus_delivery_latency_seconds', 'gauge',
    'Publish call to bytes handed to the kernel, quantiles since start.', quantiles);
  const closed = [];
  for (const [path, p] of Object.entries(stats.paths)) {
    for (const [code, n] of Object.entries(p.closedByCode || {})) closed.push([{ path, code }, n]);
  }
  e.metric('ficus_connections_closed_total', 'counter', 'Connections ended, by close code.', closed);
  e.metric('ficus_drain_pending', 'gauge', 'Native connections waiting to be drained.', [[{}, stats.drain.pending]]);
  e.metric('ficus_native_thread_healthy', 'gauge', '1 when the native worker loop woke recently.',
    stats.paths.native.threads.map((t) => [{ thread: t.index }, t.healthy ? 1 : 0]));
  if (stats.bridge) bridgeMetrics(e, stats.bridge);
  return e.toString();
}

const BRIDGE_STATES = ['connecting', 'ready', 'reconnecting', 'closed'];

function bridgeMetrics(e, b) {
  e.metric('ficus_bridge_up', 'gauge', '1 when the Redis bridge is connected and subscribed.', [[{}, b.state === 'ready' ? 1 : 0]]);
  e.metric('ficus_bridge_state', 'gauge', 'Redis bridge state: 1 for the current one.',
    BRIDGE_STATES.map((state) => [{ state }, b.state === state ? 1 : 0]));
  e.metric('ficus_bridge_channels', 'gauge', 'Redis channels subscribed.', [[{}, b.channels.length]]);
  e.metric('ficus_bridge_received_events_total', 'counter', 'Events received from Redis (valid or not).', [[{}, b.received]]);
  e.metric('ficus_bridge_rejected_events_total', 'counter', 'Invalid events received from Redis.', [[{}, b.rejected]]);
  e.metric('ficus_bridge_published_events_total', 'counter', 'Events published to Redis (publish-through).', [[{}, b.published]]);
  e.metric('ficus_bridge_dropped_events_total', 'counter', 'Publish-through events Redis never took.', [[{}, b.dropped]]);
  e.metric('ficus_bridge_reconnects_total', 'counter', 'Times the bridge got Redis back.', [[{}, b.reconnects]]);
  e.metric('ficus_bridge_disconnected_seconds_total', 'counter', 'Time spent without Redis.', [[{}, b.disconnectedMs / 1000]]);
}

module.exports = { toPrometheus };
