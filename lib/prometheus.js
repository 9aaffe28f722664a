'use strict';
// Dispatcher#stats() as Prometheus metric families, every per-path series
// labelled path="native" | path="legacy", and the Redis bridge's series
// when there is one. toPrometheus() renders them as text (format 0.0.4);
// lib/prom-client.js registers the same families in a prom-client
// registry.

// Delivery latency histogram bounds, in seconds: 50 µs to 10 s. The paths
// record into log-linear buckets (lib/histogram.js, latency_histogram.cc);
// a value counts under `le` when its whole bucket lies at or below it, so
// a cumulative count may lag by at most one bucket (12.5 % of the value).
const LATENCY_BOUNDS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

// A family: { name, type, help, samples: [{ labels, value, suffix? }] }.
function family(name, type, help, samples) {
  return { name, type, help, samples: samples.map(([labels, value, suffix]) => ({ labels, value, suffix })) };
}

function perPath(stats, pick) {
  return Object.entries(stats.paths).map(([path, p]) => [{ path }, pick(p)]);
}

// A latency snapshot ({ count, sumNs, buckets: [upperBoundNs, count, ...] })
// as histogram samples: cumulative _bucket{le}, _sum (s) and _count.
function histogramSamples(labels, h) {
  const samples = [];
  let i = 0;
  let below = 0;
  for (const le of LATENCY_BOUNDS_SECONDS) {
    const ns = le * 1e9;
    while (i < h.buckets.length && h.buckets[i] <= ns) {
      below += h.buckets[i + 1];
      i += 2;
    }
    samples.push([{ ...labels, le: String(le) }, below, '_bucket']);
  }
  samples.push([{ ...labels, le: '+Inf' }, h.count, '_bucket'], [labels, h.sumNs / 1e9, '_sum'], [labels, h.count, '_count']);
  return samples;
}

function families(stats) {
  const out = [
    family('ficus_native_percent', 'gauge', 'Share of new WebSocket upgrades routed to the native core.',
      [[{}, stats.nativePercent ?? 0]]),
    family('ficus_native_available', 'gauge', '1 when the native core is running.',
      [[{}, stats.paths.native.available ? 1 : 0]]),
    family('ficus_connections', 'gauge', 'Open WebSocket connections.', perPath(stats, (p) => p.connections)),
    family('ficus_upgrades_total', 'counter', 'WebSocket upgrades routed to each path.', perPath(stats, (p) => p.upgrades)),
    family('ficus_fallbacks_total', 'counter', 'Upgrades meant for native that stayed on legacy, by reason.',
      Object.entries(stats.paths.native.fallbacksByReason).map(([reason, n]) => [{ reason }, n])),
    family('ficus_upgrades_rejected_total', 'counter', 'Upgrades refused before routing (authentication, unserved path, upgrade rate).',
      Object.entries(stats.rejectedUpgrades).map(([reason, n]) => [{ reason }, n])),
    family('ficus_events_total', 'counter', 'Published events by validation result.',
      [[{ result: 'accepted' }, stats.events.accepted], [{ result: 'rejected' }, stats.events.rejected]]),
    family('ficus_deliveries_total', 'counter', 'Event messages handed to the kernel, one per subscriber.',
      perPath(stats, (p) => p.delivered)),
    family('ficus_drops_total', 'counter', 'Messages skipped because a send buffer was full.', perPath(stats, (p) => p.drops)),
    family('ficus_subscribes_refused_total', 'counter', 'Subscribes refused because the connection\'s grant does not allow the topic.',
      perPath(stats, (p) => p.subscribesRefused)),
    family('ficus_rate_limited_total', 'counter', 'Connections closed for sending messages faster than maxMessagesPerSecond allows.',
      perPath(stats, (p) => p.rateLimited)),
    family('ficus_authorize_calls_total', 'counter', 'Calls of the authorize hook (topics outside a grant\'s patterns).',
      perPath(stats, (p) => p.authorizeCalls)),
    family('ficus_authorize_refusals_total', 'counter', 'Authorize calls that refused: false, a throw, a timeout or too many pending.',
      perPath(stats, (p) => p.authorizeRefusals)),
    family('ficus_authorize_timeouts_total', 'counter', 'Authorize calls that did not answer within authorizeTimeoutMs.',
      perPath(stats, (p) => p.authorizeTimeouts)),
    family('ficus_refreshes_total', 'counter', 'Refresh messages, by result.',
      Object.entries(stats.paths).flatMap(([path, p]) =>
        [[{ path, result: 'ok' }, p.refreshes], [{ path, result: 'failed' }, p.refreshesFailed]])),
    family('ficus_grants_expired_total', 'counter', 'Connections closed because their credentials expired (3005).',
      perPath(stats, (p) => p.grantsExpired)),
    family('ficus_send_buffer_bytes', 'gauge', 'Bytes queued for the kernel across connections.',
      perPath(stats, (p) => p.sendBufferBytes)),
    family('ficus_delivery_latency_seconds', 'histogram', 'Publish call to bytes handed to the kernel, since start.',
      Object.entries(stats.paths).flatMap(([path, p]) => histogramSamples({ path }, p.latencyHistogram))),
    family('ficus_connections_closed_total', 'counter', 'Connections ended, by close code.',
      Object.entries(stats.paths).flatMap(([path, p]) =>
        Object.entries(p.closedByCode || {}).map(([code, n]) => [{ path, code }, n]))),
    family('ficus_drain_pending', 'gauge', 'Native connections waiting to be drained.', [[{}, stats.drain.pending]]),
    family('ficus_rebalance_pending', 'gauge', 'Legacy connections waiting to be moved to native (rebalance upward).',
      [[{}, stats.rebalance.pending]]),
    family('ficus_history_events', 'gauge', 'Events held in the stream\'s history (what clients can resume from).',
      [[{}, stats.history.events]]),
    family('ficus_history_bytes', 'gauge', 'Bytes the stream\'s history holds (the core: frames, topics, per-topic index; the JS history: payloads).',
      [[{}, stats.history.bytes]]),
    family('ficus_recoveries_total', 'counter', 'Resumes from a position: complete, incomplete (gap not covered) or overtaken (closed 1013).',
      Object.entries(stats.paths).flatMap(([path, p]) =>
        ['complete', 'incomplete', 'overtaken'].map((result) => [{ path, result }, p.recoveries[result]]))),
    family('ficus_replayed_events_total', 'counter', 'Events sent to resuming clients by replays.',
      perPath(stats, (p) => p.replayedEvents)),
    family('ficus_events_missed_total', 'counter', 'Events a path never delivered: the stream trimmed them before it read them.',
      perPath(stats, (p) => p.eventsMissed)),
    family('ficus_native_thread_healthy', 'gauge', '1 when the native worker loop woke recently.',
      stats.paths.native.threads.map((t) => [{ thread: t.index }, t.healthy ? 1 : 0])),
  ];
  if (stats.rollouts.length > 0) out.push(...rolloutFamilies(stats.rollouts));
  if (stats.probes.length > 0) out.push(...probeFamilies(stats.probes));
  if (stats.bridge) out.push(...bridgeFamilies(stats.bridge));
  return out;
}

const ROLLOUT_STATES = ['running', 'paused', 'completed', 'rolledBack', 'aborted'];

// One series set per router with a rollout plan (label router: its
// position among the dispatcher's routers).
function rolloutFamilies(rollouts) {
  const each = (pick) => rollouts.flatMap((r) => pick(r).map(([labels, value]) => [{ router: r.router, ...labels }, value]));
  return [
    family('ficus_rollout_state', 'gauge', 'Rollout plan state: 1 for the current one.',
      each((r) => ROLLOUT_STATES.map((state) => [{ state }, r.state === state ? 1 : 0]))),
    family('ficus_rollout_step', 'gauge', 'Index of the rollout plan\'s current step (0 = first).', each((r) => [[{}, r.step]])),
    family('ficus_rollout_step_percent', 'gauge', 'Native percent of the rollout plan\'s current step.',
      each((r) => [[{}, r.stepPercent]])),
    family('ficus_rollout_failed_checks', 'gauge', 'Failed intervals at the current step (rolls back at the threshold).',
      each((r) => [[{}, r.failedChecks]])),
    family('ficus_rollout_decisions_total', 'counter', 'Rollout plan decisions, by kind.',
      each((r) => Object.entries(r.decisions).map(([decision, n]) => [{ decision }, n]))),
    family('ficus_rollout_check_result', 'gauge', 'Last result of each rollout check: 1 for the current one.',
      each((r) => r.lastChecks.flatMap((c) => ['pass', 'fail', 'inconclusive'].map((result) =>
        [{ check: c.name, result }, c.result === result ? 1 : 0])))),
  ];
}

// One series set per router with probes (label router, as for rollouts),
// per path; a path not probed has no series.
function probeFamilies(probes) {
  const each = (pick) => probes.flatMap((r) => Object.entries(r.paths).filter(([, p]) => p.probes > 0)
    .flatMap(([path, p]) => pick(p).map(([labels, value, suffix]) => [{ router: r.router, path, ...labels }, value, suffix])));
  return [
    family('ficus_probe_connections', 'gauge', 'Probe connections open on each path (not counted in ficus_connections).',
      each((p) => [[{}, p.open]])),
    family('ficus_probe_connect_failures_total', 'counter', 'Probe connection attempts that failed (each retried with backoff).',
      each((p) => [[{}, p.connectFailures]])),
    family('ficus_probe_events_total', 'counter', 'Probe events each path was expected to deliver, by outcome so far.',
      each((p) => [[{ result: 'delivered' }, p.delivered], [{ result: 'lost' }, p.lost], [{ result: 'late' }, p.late]])),
    family('ficus_probe_latency_seconds', 'histogram', 'Probe event publish to receipt by the probe client, since the probes started.',
      each((p) => histogramSamples({}, p.latencyHistogram))),
  ];
}

const BRIDGE_STATES = ['connecting', 'ready', 'reconnecting', 'closed'];

function bridgeFamilies(b) {
  return [
    family('ficus_bridge_up', 'gauge', '1 when the Redis bridge is connected and subscribed.', [[{}, b.state === 'ready' ? 1 : 0]]),
    family('ficus_bridge_state', 'gauge', 'Redis bridge state: 1 for the current one.',
      BRIDGE_STATES.map((state) => [{ state }, b.state === state ? 1 : 0])),
    family('ficus_bridge_channels', 'gauge', 'Redis channels subscribed.', [[{}, b.channels.length]]),
    family('ficus_bridge_received_events_total', 'counter', 'Events received from Redis (valid or not).', [[{}, b.received]]),
    family('ficus_bridge_rejected_events_total', 'counter', 'Invalid events received from Redis.', [[{}, b.rejected]]),
    family('ficus_bridge_published_events_total', 'counter', 'Events published to Redis (publish-through).', [[{}, b.published]]),
    family('ficus_bridge_dropped_events_total', 'counter', 'Publish-through events Redis never took.', [[{}, b.dropped]]),
    family('ficus_bridge_reconnects_total', 'counter', 'Times the bridge got Redis back.', [[{}, b.reconnects]]),
    family('ficus_bridge_disconnected_seconds_total', 'counter', 'Time spent without Redis.', [[{}, b.disconnectedMs / 1000]]),
    ...(b.stream ? streamFamilies(b.stream) : []),
  ];
}

// Stream mode (lib/redis-stream.js).
function streamFamilies(s) {
  return [
    family('ficus_bridge_stream_native_reader', 'gauge', '1 while the native core reads the stream, 0 while JavaScript does.',
      [[{}, s.reader === 'native' ? 1 : 0]]),
    family('ficus_bridge_stream_native_writer', 'gauge', "1 while the native core writes its publisher connections' events to the stream.",
      [[{}, s.writer === 'native' ? 1 : 0]]),
    family('ficus_bridge_stream_read_events_total', 'counter', 'Redis Stream entries read (valid or not).', [[{}, s.read]]),
    family('ficus_bridge_stream_invalid_entries_total', 'counter', 'Stream entries that are not one event in a data field.', [[{}, s.invalid]]),
    family('ficus_bridge_stream_duplicate_events_total', 'counter', 'Entries read again at or before the newest appended (skipped).', [[{}, s.duplicates]]),
    family('ficus_bridge_stream_epoch_changes_total', 'counter', 'Times the stream had a new epoch (Redis lost it): history dropped.', [[{}, s.epochChanges]]),
    family('ficus_bridge_stream_gaps_total', 'counter', 'Times unread entries had been trimmed (MAXLEN): history dropped.', [[{}, s.gaps]]),
    family('ficus_bridge_stream_lag_seconds', 'gauge', 'Age of the newest entry read, when it was read (Redis clock vs ours).', [[{}, s.lagMs / 1000]]),
  ];
}

function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels) {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function render(list) {
  const lines = [];
  for (const f of list) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      lines.push(`${f.name}${s.suffix || ''}${labelText(s.labels)} ${Number.isFinite(s.value) ? s.value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function toPrometheus(stats) {
  return render(families(stats));
}

// The ficus_rollout_* series alone, for a plan run outside a dispatcher
// (the example gateway's --workers primary): `rollouts` as in stats().
function rolloutMetrics(rollouts) {
  return rollouts.length > 0 ? render(rolloutFamilies(rollouts)) : '';
}

module.exports = { toPrometheus, rolloutMetrics, families, LATENCY_BOUNDS_SECONDS };
