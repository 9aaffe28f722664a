'use strict';
// --workers N: one rollout plan for the whole gateway. The primary runs
// the library's plan (lib/rollout.js) against a stand-in for a router that
// stands for every worker's: it reads the workers' counters (each answers
// 'rolloutSample' over IPC, every SAMPLE_MS while a plan runs) and adds
// them up, and it sets the percent by telling every worker (setRouting,
// as PUT /admin/routing does). So every check judges the whole gateway's
// interval, and every worker follows the same step. Workers report;
// the primary decides.
//
// The figures a check sees are at most SAMPLE_MS (plus one IPC round)
// older than the interval's boundary. A worker restarted during an
// interval starts its counters from zero: that interval's sums are short.

const { EventEmitter } = require('node:events');
const ficus = require('../..');
// Not in the public API: the plan itself, which the library otherwise only
// runs on a Router of this process.
const { Rollout } = require('../../lib/rollout');
const { RolloutControl, logDecisions } = require('./rollout-admin');
const { failures } = require('./aggregate');

const SAMPLE_MS = 250;
const NO_DELAY = { p99Ms: 0, maxMs: 0 };

// ---- a worker's side ----------------------------------------------------------

function pathCounters(p) {
  return {
    delivered: p.delivered,
    drops: p.drops,
    upgrades: p.upgrades,
    connections: p.connections,
    closedByCode: p.closedByCode || {},
    latencyHistogram: p.latencyHistogram,
  };
}

// What a worker answers: its counters as a plan samples them, and the
// delay of its event loop over the last second (observe.js).
function rolloutQueries(ctx) {
  return {
    rolloutSample() {
      const { native, legacy } = ctx.dispatch.stats().paths;
      const loop = ctx.gatewayStats.loopWindow;
      return {
        available: native.available,
        native: { ...pathCounters(native), threads: native.threads.map(({ index, running, stalls }) => ({ index, running, stalls })) },
        legacy: pathCounters(legacy),
        fallbacksByReason: ctx.router.stats().native.fallbacksByReason,
        loopDelay: { p99Ms: loop.p99, maxMs: loop.max },
      };
    },
  };
}

// ---- adding the workers up ------------------------------------------------------

function addCounts(maps) {
  const sum = {};
  for (const map of maps) for (const [key, n] of Object.entries(map)) sum[key] = (sum[key] || 0) + n;
  return sum;
}

// Every worker's histogram has the same bucket bounds (lib/histogram.js):
// counts add up bound by bound. `buckets` is [bound, count, bound, count…].
function addHistograms(histograms) {
  const counts = new Map();
  for (const { buckets } of histograms) {
    for (let i = 0; i < buckets.length; i += 2) counts.set(buckets[i], (counts.get(buckets[i]) || 0) + buckets[i + 1]);
  }
  return {
    count: histograms.reduce((n, h) => n + h.count, 0),
    sumNs: histograms.reduce((n, h) => n + h.sumNs, 0),
    buckets: [...counts].sort((a, b) => a[0] - b[0]).flat(),
  };
}

function addPaths(paths) {
  const sum = (key) => paths.reduce((n, p) => n + p[key], 0);
  return {
    delivered: sum('delivered'),
    drops: sum('drops'),
    upgrades: sum('upgrades'),
    connections: sum('connections'),
    closedByCode: addCounts(paths.map((p) => p.closedByCode)),
    latencyHistogram: addHistograms(paths.map((p) => p.latencyHistogram)),
  };
}

// Samples by worker slot -> the shape of dispatcher.stats() that a plan
// reads. Threads are named "worker/thread".
function addSamples(samples) {
  const all = [...samples.entries()];
  return {
    paths: {
      native: {
        ...addPaths(all.map(([, s]) => s.native)),
        available: all.length > 0 && all.every(([, s]) => s.available),
        threads: all.flatMap(([slot, s]) => s.native.threads.map((t) => ({ ...t, index: `${slot}/${t.index}` }))),
      },
      legacy: addPaths(all.map(([, s]) => s.legacy)),
    },
    fallbacksByReason: addCounts(all.map(([, s]) => s.fallbacksByReason)),
  };
}

// ---- the primary's side ------------------------------------------------------------

// What lib/rollout.js drives: nativePercent, setNativePercent(), stats()
// and events, for every worker at once; rollout() and plan as a Router's.
class ClusterTarget extends EventEmitter {
  constructor(primary) {
    super();
    this.primary = primary;
    this.plan = null;
    this.samples = new Map(); // worker slot -> its last rolloutSample
    this.timer = null;
    this.refreshing = null;
    // The worst worker's loop delay since the plan last sampled (at an
    // interval's boundary), and over the interval that just ended.
    this.loopSince = { ...NO_DELAY };
    this.loopOfInterval = { ...NO_DELAY };
  }

  get nativePercent() {
    return this.primary.nativePercent;
  }

  setNativePercent(percent, { drain = false, rebalance } = {}) {
    this.primary.nativePercent = percent; // a worker started later begins there
    this.primary.query('setRouting', { nativePercent: percent, drain, rebalance }).then((reply) => {
      const failed = failures(reply);
      if (failed) this.emit('error', new Error(`routing ${percent}% reached not every worker: ${failed}`));
    });
    return this;
  }

  // The plan's two reads at each interval boundary: the workers' counters
  // added up, then the fallbacks (lib/rollout-sample.js snapshot()).
  dispatcherStats() {
    this.loopOfInterval = this.loopSince;
    this.loopSince = { ...NO_DELAY };
    return addSamples(this.samples);
  }

  stats() {
    return { native: { fallbacksByReason: addSamples(this.samples).fallbacksByReason } };
  }

  connections() {
    const { native, legacy } = addSamples(this.samples).paths;
    return { native: native.connections, legacy: legacy.connections };
  }

  // Each check sees the workers' event-loop delay, not the primary's (the
  // plan measures its own process, which serves no client).
  withWorkersLoopDelay(check) {
    const wrapped = (interval) => check({ ...interval, eventLoopDelay: this.loopOfInterval });
    Object.defineProperty(wrapped, 'name', { value: check.name });
    return wrapped;
  }

  rollout(options) {
    if (this.plan && this.plan.active) {
      throw new ficus.FicusError(ficus.errorCodes.ROLLOUT, `this gateway already has a rollout (${this.plan.state}): abort it first`);
    }
    const checks = Array.isArray(options.checks) ? options.checks : ficus.checks.defaults();
    const plan = new Rollout(this, () => this.dispatcherStats(), { ...options, checks: checks.map((c) => this.withWorkersLoopDelay(c)) });
    this.plan = plan;
    plan.start();
    this.sampleWhileActive();
    return plan;
  }

  sampleWhileActive() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.plan || !this.plan.active) {
        clearInterval(this.timer);
        this.timer = null;
        return;
      }
      this.refresh();
    }, SAMPLE_MS);
  }

  // Asks every worker for its sample (one round at a time); a worker that
  // does not answer keeps its last one.
  refresh() {
    if (!this.refreshing) {
      this.refreshing = this.primary.query('rolloutSample').then((reply) => {
        this.refreshing = null;
        for (const a of reply.answers) {
          if (a.error !== undefined) continue;
          this.samples.set(a.worker, a.value);
          this.loopSince = {
            p99Ms: Math.max(this.loopSince.p99Ms, a.value.loopDelay.p99Ms),
            maxMs: Math.max(this.loopSince.maxMs, a.value.loopDelay.maxMs),
          };
        }
      });
    }
    return this.refreshing;
  }
}

// The primary's answer to POST/GET /admin/rollout (a worker forwards the
// body, null for GET): fresh figures first, then the same command as a
// single gateway's.
function clusterRolloutHandler(primary) {
  const target = new ClusterTarget(primary);
  const control = new RolloutControl({ target, connections: () => target.connections() });
  logDecisions(target, 'ficus gateway primary');
  target.on('error', (err) => console.error(`ficus gateway primary: rollout: ${err.message}`));
  // /stats shows the plan as a single gateway's does (its `rollouts`).
  primary.report = () => ({ rollout: target.plan ? target.plan.stats() : null });
  return async (body) => {
    await target.refresh();
    return body === null ? control.view() : control.command(body);
  };
}

module.exports = { clusterRolloutHandler, rolloutQueries, addSamples, addHistograms };
