'use strict';
// What a rollout's checks judge: the difference between two snapshots of
// the dispatcher's counters, taken at the start and the end of an
// interval, per path. Counters only grow, so an interval's figures are
// end minus start; the latency histograms likewise (their buckets are the
// same on both paths, lib/histogram.js), so the P99 is that of this
// interval's deliveries, not of everything since start.

const NS_PER_MS = 1e6;

// What one snapshot keeps of a path.
function pathCounters(p) {
  return {
    deliveries: p.delivered,
    drops: p.drops,
    upgrades: p.upgrades,
    connections: p.connections,
    closedByCode: { ...(p.closedByCode || {}) },
    latency: p.latencyHistogram,
  };
}

// What one snapshot keeps of a path's probes (lib/probes.js).
function probeCounters(p) {
  return { probes: p.probes, open: p.open, sent: p.sent, delivered: p.delivered, lost: p.lost, latency: p.latencyHistogram };
}

// `stats`: Dispatcher#stats(); `routing`: this router's Router#stats().
function snapshot(stats, routing) {
  const { probes } = routing;
  const native = stats.paths.native;
  return {
    at: Date.now(),
    available: native.available,
    native: pathCounters(native),
    legacy: pathCounters(stats.paths.legacy),
    fallbacksByReason: { ...routing.native.fallbacksByReason },
    threads: native.threads.map((t) => ({ index: t.index, running: t.running, stalls: t.stalls })),
    // The router's probes while they run (a run is named by its topic).
    probes: probes && probes.state === 'running'
      ? { topic: probes.topic, native: probeCounters(probes.paths.native), legacy: probeCounters(probes.paths.legacy) }
      : null,
  };
}

function countsOf(buckets) {
  const counts = new Map();
  for (let i = 0; i < buckets.length; i += 2) counts.set(buckets[i], buckets[i + 1]);
  return counts;
}

// The deliveries between two histogram snapshots, as [upperBoundNs, count]
// pairs in bucket order, and how many there are.
function intervalBuckets(start, end) {
  const before = countsOf(start.buckets);
  const buckets = [];
  let count = 0;
  for (let i = 0; i < end.buckets.length; i += 2) {
    const n = end.buckets[i + 1] - (before.get(end.buckets[i]) || 0);
    if (n > 0) {
      buckets.push([end.buckets[i], n]);
      count += n;
    }
  }
  buckets.sort((a, b) => a[0] - b[0]);
  return { count, buckets };
}

// The q-quantile (ms) of an interval with deliveries, by the rule of
// HistogramSnapshot::percentile: the upper bound of the bucket holding the
// value of rank floor(q * count), at least 1.
function quantileMs({ count, buckets }, q) {
  const rank = Math.max(1, Math.floor(q * count));
  let seen = 0;
  for (const [bound, n] of buckets) {
    seen += n;
    if (seen >= rank) return bound / NS_PER_MS;
  }
  return buckets[buckets.length - 1][0] / NS_PER_MS;
}

// The P99 (ms) of the deliveries between two histogram snapshots.
function intervalLatency(start, end) {
  const interval = intervalBuckets(start, end);
  return { count: interval.count, p99Ms: interval.count === 0 ? 0 : quantileMs(interval, 0.99) };
}

// What each key of a counter map gained between two snapshots (only gains).
function increases(start, end) {
  const closes = {};
  for (const [code, n] of Object.entries(end)) {
    const d = n - (start[code] || 0);
    if (d > 0) closes[code] = d;
  }
  return closes;
}

// A probe path's interval: events resolved (received or lost) in it, and
// the latency of those received.
function probeInterval(a, b) {
  return {
    probes: b.probes,
    open: b.open,
    sent: b.sent - a.sent,
    delivered: b.delivered - a.delivered,
    lost: b.lost - a.lost,
    latency: intervalLatency(a.latency, b.latency),
  };
}

const NO_PROBES = { probes: 0, open: 0, sent: 0, delivered: 0, lost: 0, latency: { count: 0, sumNs: 0, buckets: [] } };

// The probes' figures over the interval, or null when they did not run
// at its end; probes started during it count from their start.
function probesInterval(start, end) {
  if (end === null) return null;
  const same = start !== null && start.topic === end.topic;
  return {
    native: probeInterval(same ? start.native : NO_PROBES, end.native),
    legacy: probeInterval(same ? start.legacy : NO_PROBES, end.legacy),
  };
}

function pathInterval(a, b) {
  return {
    deliveries: b.deliveries - a.deliveries,
    drops: b.drops - a.drops,
    upgrades: b.upgrades - a.upgrades,
    // Connections this interval served: those open at its start and those
    // opened during it.
    connections: a.connections + (b.upgrades - a.upgrades),
    closes: increases(a.closedByCode, b.closedByCode),
    latency: intervalLatency(a.latency, b.latency),
  };
}

// The figures of one interval; `eventLoopDelay` as measured by the
// rollout over it ({ p99Ms, maxMs }).
function intervalBetween(start, end, eventLoopDelay) {
  const before = new Map(start.threads.map((t) => [t.index, t]));
  return {
    ms: end.at - start.at,
    available: end.available,
    native: pathInterval(start.native, end.native),
    legacy: pathInterval(start.legacy, end.legacy),
    fallbacks: increases(start.fallbacksByReason, end.fallbacksByReason),
    threads: end.threads.map((t) => ({
      index: t.index,
      running: t.running,
      stalls: t.stalls - (before.has(t.index) ? before.get(t.index).stalls : 0),
    })),
    eventLoopDelay,
    probes: probesInterval(start.probes, end.probes),
  };
}

module.exports = { snapshot, intervalBetween, intervalLatency, intervalBuckets, quantileMs };
