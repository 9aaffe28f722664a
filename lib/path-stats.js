'use strict';
// One stats shape for both paths, so dashboards and Prometheus compare them
// side by side.

const NS_PER_MS = 1e6;

// The hooks' counters (lib/access.js) and the expiry closes, per path.
function accessStats(access, grantsExpired) {
  return {
    authorizeCalls: access.authorizeCalls,
    authorizeRefusals: access.authorizeRefusals,
    authorizeTimeouts: access.authorizeTimeouts,
    refreshes: access.refreshes,
    refreshesFailed: access.refreshesFailed,
    grantsExpired,
  };
}
const NO_ACCESS = accessStats({ authorizeCalls: 0, authorizeRefusals: 0, authorizeTimeouts: 0, refreshes: 0, refreshesFailed: 0 }, 0);
const NO_RECOVERY = { eventsMissed: 0, recoveries: { complete: 0, incomplete: 0, overtaken: 0 }, replayedEvents: 0 };

function latencyMs(snapshot) {
  const ms = (ns) => Math.round((ns / NS_PER_MS) * 1000) / 1000;
  return {
    count: snapshot.count,
    p50: ms(snapshot.p50Ns),
    p90: ms(snapshot.p90Ns),
    p99: ms(snapshot.p99Ns),
    p999: ms(snapshot.p999Ns),
    max: ms(snapshot.maxNs),
  };
}

// What a Prometheus histogram is built from (lib/prometheus.js).
function latencyHistogram(snapshot) {
  return { count: snapshot.count, sumNs: snapshot.sumNs, buckets: snapshot.buckets };
}

function sumRouting(routing) {
  const out = {
    nativePercent: routing.length > 0 ? routing[0].nativePercent : null,
    native: { upgrades: 0, fallbacks: 0, fallbacksByReason: {} },
    legacy: { upgrades: 0 },
    rejected: {
      unauthorized: 0, error: 0, closedDuringAuth: 0, authTimeout: 0, unservedPath: 0, upgradeRate: 0, identityRate: 0, badPosition: 0,
    },
    drain: { pending: 0, closed: 0 },
    rebalance: { pending: 0, closed: 0 },
    // Each router's rollout plan, by the router's position in `routing`.
    rollouts: routing.flatMap((r, router) => (r.rollout ? [{ router, ...r.rollout }] : [])),
    // Each router's probes (lib/probes.js), likewise.
    probes: routing.flatMap((r, router) => (r.probes ? [{ router, ...r.probes }] : [])),
  };
  for (const r of routing) {
    out.native.upgrades += r.native.upgrades;
    out.native.fallbacks += r.native.fallbacks;
    for (const [reason, n] of Object.entries(r.native.fallbacksByReason)) {
      out.native.fallbacksByReason[reason] = (out.native.fallbacksByReason[reason] || 0) + n;
    }
    out.legacy.upgrades += r.legacy.upgrades;
    for (const key of Object.keys(out.rejected)) out.rejected[key] += r.rejected[key];
    out.drain.pending += r.drain.pending;
    out.drain.closed += r.drain.closed;
    out.rebalance.pending += r.rebalance.pending;
    out.rebalance.closed += r.rebalance.closed;
  }
  return out;
}

// Unhealthy when a loop has not woken for this long: its sweep timer fires
// at least every second, so several seconds means a stuck thread.
const STALL_MS = 5000;

// `s`: the native core's stats (NativePath.stats()), or null without one.
function nativePath(s, nativeError, routing) {
  const base = {
    available: s !== null,
    error: nativeError ? nativeError.message : null,
    upgrades: routing.native.upgrades,
    fallbacks: routing.native.fallbacks,
    fallbacksByReason: routing.native.fallbacksByReason,
  };
  if (!s) {
    return {
      ...base, connections: 0, delivered: 0, drops: 0, sendBufferBytes: 0, subscribesRefused: 0, rateLimited: 0, ...NO_ACCESS,
      ...NO_RECOVERY,
      latencyMs: latencyMs({ count: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, maxNs: 0 }),
      latencyHistogram: { count: 0, sumNs: 0, buckets: [] },
      closedByCode: {}, threads: [],
    };
  }
  return {
    ...base,
    connections: s.total.connections,
    delivered: s.total.deliveries,
    drops: s.total.dropsBackpressure,
    sendBufferBytes: s.total.sendBufferBytes,
    latencyMs: latencyMs(s.latency),
    latencyHistogram: latencyHistogram(s.latency),
    closedByCode: s.total.closedByCode,
    messagesIn: s.total.messagesIn,
    // Events from native ingest connections (publishers routed native).
    ingested: s.total.eventsIngested,
    ingestRejected: s.total.eventsIngestRejected,
    // Events a worker never read: the stream trimmed them first (it
    // stalled past the backlog bound).
    eventsMissed: s.total.eventsMissed,
    // The stream's history (what clients recover from) and recoveries.
    history: s.history,
    recoveries: { ...s.total.recoveries },
    replayedEvents: s.total.replayedEvents,
    handshakesRejected: s.total.handshakesRejected,
    subscribesRefused: s.total.subscribesRefused,
    rateLimited: s.total.rateLimited,
    ...accessStats(s.access, s.total.grantsExpired),
    notificationsDropped: s.total.notificationsDropped,
    commandsDropped: s.commandsDropped,
    threads: s.workers.map((w) => ({
      index: w.index,
      running: w.running,
      healthy: w.running && w.msSinceLastTick < STALL_MS,
      msSinceLastTick: w.msSinceLastTick,
      // Loop wakeups at least 500 ms late (a blocked loop), since start.
      stalls: w.stalls,
      connections: w.connections,
      topics: w.topics,
      sendBufferBytes: w.sendBufferBytes,
    })),
  };
}

function legacyPath(legacy, routing) {
  return {
    available: true,
    upgrades: routing.legacy.upgrades,
    connections: legacy.connections,
    delivered: legacy.messagesOut,
    drops: legacy.dropsBackpressure,
    sendBufferBytes: legacy.sendBufferBytes,
    latencyMs: latencyMs(legacy.latency),
    latencyHistogram: latencyHistogram(legacy.latency),
    closedByCode: legacy.closedByCode,
    messagesIn: legacy.messagesIn,
    handshakesRejected: legacy.handshakesRejected,
    subscribesRefused: legacy.subscribesRefused,
    rateLimited: legacy.rateLimited,
    ...accessStats(legacy.access, legacy.grantsExpired),
    // Events the history trimmed before the legacy path read them.
    eventsMissed: legacy.eventsMissed,
    recoveries: legacy.recoveries,
    replayedEvents: legacy.replayedEvents,
  };
}

// `history`: the stream's history ({ events, bytes, maxEvents, maxAgeMs,
// epoch }), the core's or lib/history.js's: one per process.
function pathStats({ native, nativeError, legacy, history, routing, events, closed }) {
  const r = sumRouting(routing);
  return {
    closed,
    nativePercent: r.nativePercent,
    events: { ...events },
    history: { ...history },
    rejectedUpgrades: r.rejected,
    drain: r.drain,
    rebalance: r.rebalance,
    rollouts: r.rollouts,
    probes: r.probes,
    paths: {
      native: nativePath(native, nativeError, r),
      legacy: legacyPath(legacy, r),
    },
  };
}

module.exports = { pathStats, latencyMs };
