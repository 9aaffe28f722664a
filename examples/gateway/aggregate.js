'use strict';
// With --workers > 1, one answer per worker becomes one answer for the
// gateway: /stats and /admin/* add the workers' figures up (and list each),
// /metrics labels every worker's series with worker="N".

// Not in the public API: the library's ficus_rollout_* series, for the plan
// the primary runs (cluster-rollout.js).
const { rolloutMetrics } = require('../../lib/prometheus');

// Latencies and delays cannot be added: the worst worker's is reported.
const MAX_KEYS = new Set(['p50', 'p90', 'p99', 'p999', 'max', 'msSinceLastTick', 'uptimeSeconds']);
// The same on every worker, or null when they disagree.
const SAME_KEYS = new Set(['nativePercent']);
const SKIP_KEYS = new Set(['pid']);
const STATE_ORDER = ['ready', 'connecting', 'reconnecting', 'closed']; // best to worst

// Adds numbers up, ANDs flags (ORs `closed`), keeps strings that agree (else
// the first), concatenates `threads`, recurses into objects.
function combine(values, key) {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length === 0) return null;
  const first = present[0];
  if (typeof first === 'number') {
    if (SAME_KEYS.has(key)) return present.every((v) => v === first) ? first : null;
    if (MAX_KEYS.has(key)) return Math.max(...present);
    return present.reduce((a, b) => a + b, 0);
  }
  if (typeof first === 'boolean') return key === 'closed' ? present.some(Boolean) : present.every(Boolean);
  if (typeof first === 'string') {
    if (key === 'state') return present.reduce((a, b) => (STATE_ORDER.indexOf(b) > STATE_ORDER.indexOf(a) ? b : a));
    return first;
  }
  if (Array.isArray(first)) {
    const same = present.every((v) => JSON.stringify(v) === JSON.stringify(first));
    return same && key !== 'threads' ? first : present.flat();
  }
  const out = {};
  for (const k of new Set(present.flatMap((v) => Object.keys(v)))) {
    if (!SKIP_KEYS.has(k)) out[k] = combine(present.map((v) => v[k]), k);
  }
  return out;
}

// The plan runs in the primary (cluster-rollout.js), on the /ws router of
// every worker: router 0, as in a single gateway.
function primaryRollouts(reply) {
  return reply.primary.rollout ? [{ router: 0, ...reply.primary.rollout }] : [];
}

function answered(reply) {
  return reply.answers.filter((a) => a.error === undefined);
}

// { answers: [{ worker, pid, value | error }], primary: { pid, rssBytes, rollout? } }
// -> the sum, a `cluster` summary and every worker's own figures.
function clusterStats(reply) {
  const ok = answered(reply);
  const sum = combine(ok.map((a) => a.value)) || {};
  const workersRss = ok.reduce((a, w) => a + (w.value.gateway ? w.value.gateway.rssBytes : 0), 0);
  return {
    ...sum,
    rollouts: primaryRollouts(reply),
    cluster: {
      workers: reply.answers.length,
      answering: ok.length,
      primaryPid: reply.primary.pid,
      // Primary and workers: the whole gateway's resident memory.
      rssBytes: reply.primary.rssBytes + workersRss,
    },
    workers: reply.answers.map((a) => (a.error === undefined
      ? { worker: a.worker, pid: a.pid, ...a.value }
      : { worker: a.worker, pid: a.pid, error: a.error })),
  };
}

// The workers' Prometheus texts ({ text, rssBytes } each) as one: each family declared once, each
// sample labelled with its worker, plus the cluster's own gauges.
function clusterMetrics(reply) {
  const families = new Map(); // name -> { help, type, samples }
  const family = (name) => {
    if (!families.has(name)) families.set(name, { help: '', type: 'untyped', samples: [] });
    return families.get(name);
  };
  const ok = answered(reply);
  for (const { worker, value } of ok) {
    for (const line of value.text.split('\n')) {
      const declared = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (declared) {
        family(declared[2])[declared[1].toLowerCase()] = declared[3];
        continue;
      }
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!sample) continue;
      const labels = sample[2] ? `worker="${worker}",${sample[2]}` : `worker="${worker}"`;
      family(sample[1]).samples.push(`${sample[1]}{${labels}} ${sample[3]}`);
    }
  }
  const rssBytes = reply.primary.rssBytes + ok.reduce((a, w) => a + w.value.rssBytes, 0);
  const lines = [
    '# HELP ficus_gateway_workers Gateway worker processes, configured and answering.',
    '# TYPE ficus_gateway_workers gauge',
    `ficus_gateway_workers{state="configured"} ${reply.answers.length}`,
    `ficus_gateway_workers{state="answering"} ${ok.length}`,
    '# HELP ficus_gateway_cluster_resident_memory_bytes Resident set size of the primary and every worker.',
    '# TYPE ficus_gateway_cluster_resident_memory_bytes gauge',
    `ficus_gateway_cluster_resident_memory_bytes ${rssBytes}`,
  ];
  for (const [name, f] of families) lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.samples);
  // The plan runs in the primary: its series once, without a worker label.
  return `${lines.join('\n')}\n${rolloutMetrics(primaryRollouts(reply))}`;
}

// Every failed answer, in one sentence, or null.
function failures(reply) {
  const failed = reply.answers.filter((a) => a.error !== undefined);
  return failed.length ? failed.map((a) => `worker ${a.worker}: ${a.error}`).join('; ') : null;
}

module.exports = { combine, clusterStats, clusterMetrics, failures };
