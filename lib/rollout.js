'use strict';
// A rollout plan that flies the migration: the router's percent walks up
// `steps`, one step per passing interval; an interval whose checks are
// inconclusive holds; `threshold` failed intervals at a step roll back
// (draining native connections as setNativePercent(…, { drain }) does)
// and stop. Names follow Flagger's analysis (interval, threshold) and
// Argo Rollouts' steps where they mean the same. See
// docs/migration-guide.md, "Let a plan fly it".

const { monitorEventLoopDelay } = require('node:perf_hooks');
const v = require('./validate');
const { FicusError, codes } = require('./errors');
const { defaultChecks, PASS, FAIL, INCONCLUSIVE, RESULTS } = require('./rollout-checks');
const { snapshot, intervalBetween } = require('./rollout-sample');

const HISTORY = 100; // decisions kept in status().history
const MAX_INTERVAL_MS = 2 ** 31 - 1;

function steps(value, name) {
  if (!Array.isArray(value)) throw v.typeError('an array of percents', name, value);
  if (value.length === 0) throw v.rangeError('at least one step', name, value);
  value.forEach((step, i) => {
    v.percent(step, `${name}[${i}]`);
    if (i > 0 && step <= value[i - 1]) throw v.rangeError(`a percent above ${name}[${i - 1}] (steps rise)`, `${name}[${i}]`, step);
  });
  return [...value];
}

function checkList(value, name) {
  if (!Array.isArray(value)) throw v.typeError('an array of check functions', name, value);
  value.forEach((check, i) => v.fn(check, `${name}[${i}]`));
  return [...value];
}

const OPTIONS = {
  steps,
  interval: (value, name) => v.integer(value, name, { min: 1, max: MAX_INTERVAL_MS }),
  checks: checkList,
  threshold: (value, name) => v.integer(value, name, { min: 1, max: 1000 }),
  rollbackTo: (value, name) => v.oneOf(value, name, ['zero', 'lastGood']),
  rebalance: v.boolean,
};

const DEFAULTS = {
  steps: undefined,
  interval: 60000,
  checks: undefined,
  threshold: 2,
  rollbackTo: 'zero',
  rebalance: true,
};

// What a check returned, as { result, figures, reason }: true passes,
// false fails, anything else must be such an object.
function normalize(out) {
  if (out === true) return { result: PASS, figures: {}, reason: 'returned true' };
  if (out === false) return { result: FAIL, figures: {}, reason: 'returned false' };
  if (out !== null && typeof out === 'object' && RESULTS.includes(out.result)) {
    return { result: out.result, figures: out.figures || {}, reason: out.reason || out.result };
  }
  return { result: FAIL, figures: {}, reason: `returned ${v.describe(out)}, not a result` };
}

// Runs one check; a throw or a check slower than `timeoutMs` fails, with
// the error recorded.
async function runCheck(check, name, interval, timeoutMs) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, timeoutMs, { timedOut: true });
  });
  try {
    const out = await Promise.race([Promise.resolve().then(() => check(interval)), timeout]);
    if (out && out.timedOut === true) {
      return { name, result: FAIL, figures: {}, reason: `no answer within ${timeoutMs} ms`, error: 'timeout' };
    }
    return { name, ...normalize(out) };
  } catch (error) {
    const message = error && error.message ? error.message : String(error);
    return { name, result: FAIL, figures: {}, reason: `threw: ${message}`, error: message };
  } finally {
    clearTimeout(timer);
  }
}

function summary(results, wanted) {
  return results.filter((r) => r.result === wanted)
    .map((r) => `${r.name} (${r.reason})`).join('; ');
}

// `router`: the Router (nativePercent, setNativePercent, stats, emit);
// `stats`: the dispatcher's stats().
class Rollout {
  #router;
  #stats;
  #timer = null;
  #generation = 0; // bumped by pause/abort: a check run in flight is ignored
  #baseline = null;
  #loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(router, stats, options) {
    this.options = v.options(options, 'options', OPTIONS, DEFAULTS);
    if (this.options.steps === undefined) throw v.typeError('an array of percents', 'options.steps', undefined);
    if (this.options.checks === undefined) this.options.checks = defaultChecks({ probes: router.probing });
    this.#router = router;
    this.#stats = stats;
    this.names = this.options.checks.map((c, i) => c.name || `check${i}`);
    this.state = 'running';
    this.failedChecks = 0;
    this.lastGood = -1; // index of the last step whose interval passed
    this.lastChecks = [];
    this.history = [];
    this.decisions = { start: 0, advance: 0, hold: 0, rollback: 0, complete: 0, pause: 0, resume: 0, abort: 0 };
    // The first step at or above where the router stands: a plan never
    // lowers the percent except to roll back.
    this.step = this.options.steps.findIndex((s) => s >= router.nativePercent);
    if (this.step < 0) {
      throw v.rangeError(`a last step at or above the router's nativePercent (${router.nativePercent})`,
        'options.steps', this.options.steps);
    }
  }

  get active() {
    return this.state === 'running' || this.state === 'paused';
  }

  start() {
    const previous = this.#router.nativePercent;
    this.#setPercent(this.options.steps[this.step]);
    this.#record('start', previous, `step ${this.step + 1} of ${this.options.steps.length}`);
    this.#loopDelay.enable();
    this.#beginInterval();
  }

  pause() {
    this.#expect('running', 'pause');
    this.#stopInterval();
    this.state = 'paused';
    this.#record('pause', this.#router.nativePercent, 'paused by the operator');
  }

  resume() {
    this.#expect('paused', 'resume');
    this.state = 'running';
    this.#record('resume', this.#router.nativePercent, 'resumed by the operator: a fresh interval');
    this.#loopDelay.enable();
    this.#beginInterval();
  }

  // Stops where it stands; the percent stays (setNativePercent(0, { drain:
  // true }) is the manual rollback).
  abort(reason = 'aborted by the operator') {
    if (!this.active) throw new FicusError(codes.ROLLOUT, `the rollout is ${this.state}: nothing to abort`);
    this.#finish('aborted');
    this.#record('abort', this.#router.nativePercent, reason);
  }

  status() {
    const { steps: planned, interval, threshold, rollbackTo, rebalance } = this.options;
    return {
      state: this.state,
      step: this.step,
      steps: [...planned],
      nativePercent: this.#router.nativePercent,
      interval,
      threshold,
      rollbackTo,
      rebalance,
      failedChecks: this.failedChecks,
      lastGoodStep: this.lastGood,
      checks: [...this.names],
      lastChecks: this.lastChecks.map((c) => ({ ...c })),
      history: this.history.map((h) => ({ ...h })),
    };
  }

  // What stats() and Prometheus show.
  stats() {
    return {
      state: this.state,
      step: this.step,
      stepPercent: this.options.steps[this.step],
      failedChecks: this.failedChecks,
      decisions: { ...this.decisions },
      lastChecks: this.lastChecks.map(({ name, result }) => ({ name, result })),
    };
  }

  #expect(state, action) {
    if (this.state !== state) throw new FicusError(codes.ROLLOUT, `cannot ${action} a rollout that is ${this.state}`);
  }

  #sample() {
    return snapshot(this.#stats(), this.#router.stats());
  }

  #beginInterval() {
    this.#baseline = this.#sample();
    this.#loopDelay.reset();
    const generation = this.#generation;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#endInterval(generation).catch((error) => this.#router.emit('error', error));
    }, this.options.interval);
    this.#timer.unref();
  }

  #stopInterval() {
    this.#generation += 1;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#loopDelay.disable();
  }

  async #endInterval(generation) {
    const d = this.#loopDelay;
    const loop = { p99Ms: d.count > 0 ? d.percentile(99) / 1e6 : 0, maxMs: d.count > 0 ? d.max / 1e6 : 0 };
    const interval = intervalBetween(this.#baseline, this.#sample(), loop);
    const context = { ...interval, step: this.step, nativePercent: this.#router.nativePercent };
    const results = await Promise.all(this.options.checks.map((check, i) =>
      runCheck(check, this.names[i], context, this.options.interval)));
    if (generation !== this.#generation || this.state !== 'running') return; // paused or aborted meanwhile
    this.lastChecks = results;
    this.#decide(results);
  }

  #decide(results) {
    const percent = this.#router.nativePercent;
    if (results.some((r) => r.result === FAIL)) {
      this.failedChecks += 1;
      const failed = summary(results, FAIL);
      if (this.failedChecks >= this.options.threshold) {
        this.#rollback(failed, results);
        return;
      }
      this.#record('hold', percent, `failed ${this.failedChecks} of ${this.options.threshold}: ${failed}`, results);
    } else if (results.some((r) => r.result === INCONCLUSIVE)) {
      this.#record('hold', percent, `inconclusive: ${summary(results, INCONCLUSIVE)}`, results);
    } else {
      this.lastGood = this.step;
      if (this.step === this.options.steps.length - 1) {
        this.#finish('completed');
        this.#record('complete', percent, `every check passed at the last step (${percent} %)`, results);
        return;
      }
      this.step += 1;
      this.failedChecks = 0;
      this.#setPercent(this.options.steps[this.step]);
      this.#record('advance', percent, `every check passed: step ${this.step + 1} of ${this.options.steps.length}`, results);
    }
    this.#beginInterval();
  }

  #rollback(failed, results) {
    const previous = this.#router.nativePercent;
    const target = this.options.rollbackTo === 'lastGood' && this.lastGood >= 0 ? this.options.steps[this.lastGood] : 0;
    this.#finish('rolledBack');
    this.#router.setNativePercent(target, { drain: true, rebalance: false });
    this.#record('rollback', previous, `${this.failedChecks} failed intervals (threshold ${this.options.threshold}): ${failed}`, results);
  }

  #finish(state) {
    this.#stopInterval();
    this.state = state;
  }

  #setPercent(percent) {
    if (percent !== this.#router.nativePercent) {
      this.#router.setNativePercent(percent, { drain: true, rebalance: this.options.rebalance });
    }
  }

  // A decision: kept in history and emitted as the router's 'rollout' event.
  #record(decision, previous, reason, results = []) {
    const entry = {
      at: new Date().toISOString(),
      decision,
      state: this.state,
      step: this.step,
      previous,
      nativePercent: this.#router.nativePercent,
      reason,
      checks: results.map((r) => ({ ...r })),
    };
    this.decisions[decision] += 1;
    this.history.push(entry);
    if (this.history.length > HISTORY) this.history.shift();
    this.#router.emit('rollout', entry);
  }
}

module.exports = { Rollout };
