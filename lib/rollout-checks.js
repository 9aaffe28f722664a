'use strict';
// The checks a rollout runs at the end of each interval (lib/rollout.js).
// Each is a function of the interval's figures (lib/rollout-sample.js)
// returning { result: 'pass' | 'fail' | 'inconclusive', figures, reason }.
// The per-path ones judge the native path against an absolute bound and
// against the legacy path over the same interval; with too little native
// traffic to judge they are inconclusive (the rollout holds), not passing.

const v = require('./validate');

const PASS = 'pass';
const FAIL = 'fail';
const INCONCLUSIVE = 'inconclusive';

const round = (x) => Math.round(x * 1000) / 1000;
const per1000 = (n, of) => (of === 0 ? 0 : (n * 1000) / of);
const nonNegative = (value, name) => {
  if (typeof value !== 'number' || Number.isNaN(value)) throw v.typeError('a number >= 0', name, value);
  if (value < 0 || value === Infinity) throw v.rangeError('a finite number >= 0', name, value);
  return value;
};
const atLeastOne = (value, name) => {
  nonNegative(value, name);
  if (value < 1) throw v.rangeError('a number >= 1', name, value);
  return value;
};
const samples = (value, name) => v.integer(value, name, { min: 0 });

function named(name, check) {
  Object.defineProperty(check, 'name', { value: name });
  return check;
}

// A per-path figure, native against `max` and against legacy × maxRatio +
// slack (legacy only when it had minSamples of its own: at 100 % it has
// none, and the absolute bound judges alone).
function comparePaths(name, { figure, samplesOf, unit }, { max, maxRatio, slack, minSamples }) {
  return named(name, (interval) => {
    const native = round(figure(interval.native, interval));
    const legacy = round(figure(interval.legacy, interval));
    const nativeSamples = samplesOf(interval.native);
    const legacySamples = samplesOf(interval.legacy);
    const figures = { native, legacy, nativeSamples, legacySamples, max, maxRatio, slack, unit };
    if (nativeSamples < minSamples || nativeSamples === 0) {
      return { result: INCONCLUSIVE, figures, reason: `${nativeSamples} native samples, fewer than ${Math.max(minSamples, 1)}` };
    }
    if (native > max) {
      return { result: FAIL, figures, reason: `native ${native} ${unit} above the bound ${max}` };
    }
    if (legacySamples >= minSamples && legacySamples > 0 && native > legacy * maxRatio + slack) {
      return { result: FAIL, figures, reason: `native ${native} ${unit} above legacy ${legacy} × ${maxRatio} + ${slack}` };
    }
    return { result: PASS, figures, reason: `native ${native} ${unit}, legacy ${legacy}` };
  });
}

function latencyP99(options) {
  const o = v.options(options, 'latencyP99 options', {
    maxMs: nonNegative, maxRatio: atLeastOne, slackMs: nonNegative, minSamples: samples,
  }, { maxMs: 250, maxRatio: 2, slackMs: 5, minSamples: 50 });
  return comparePaths('latencyP99', {
    figure: (p) => p.latency.p99Ms,
    samplesOf: (p) => p.latency.count,
    unit: 'ms',
  }, { max: o.maxMs, maxRatio: o.maxRatio, slack: o.slackMs, minSamples: o.minSamples });
}

// Drops, and (under backpressure: 'close') the connections closed 1008
// for a full send buffer, per 1,000 deliveries. `closeCodes`: which close
// codes count as backpressure closes (none by default: 1008 also means a
// refused subscribe; add it when backpressure is 'close').
function drops(options) {
  const o = v.options(options, 'drops options', {
    maxPer1000: nonNegative, maxRatio: atLeastOne, slackPer1000: nonNegative, minSamples: samples,
    closeCodes: codeList('drops options.closeCodes'),
  }, { maxPer1000: 1, maxRatio: 2, slackPer1000: 1, minSamples: 100, closeCodes: [] });
  const closed = (p) => o.closeCodes.reduce((n, code) => n + (p.closes[code] || 0), 0);
  return comparePaths('drops', {
    figure: (p) => per1000(p.drops + closed(p), p.deliveries + p.drops),
    samplesOf: (p) => p.deliveries + p.drops,
    unit: 'per 1000 deliveries',
  }, { max: o.maxPer1000, maxRatio: o.maxRatio, slack: o.slackPer1000, minSamples: o.minSamples });
}

function codeList(name) {
  return (value) => {
    if (!Array.isArray(value)) throw v.typeError('an array of close codes', name, value);
    value.forEach((code, i) => v.integer(code, `${name}[${i}]`, { min: 1000, max: 4999 }));
    return value.map(String);
  };
}

// Closes with an abnormal code per 1,000 connections the interval served.
function abnormalCloses(options) {
  const o = v.options(options, 'abnormalCloses options', {
    codes: codeList('abnormalCloses options.codes'),
    maxPer1000: nonNegative, maxRatio: atLeastOne, slackPer1000: nonNegative, minSamples: samples,
  }, { codes: ['1002', '1006', '1011'], maxPer1000: 20, maxRatio: 2, slackPer1000: 5, minSamples: 20 });
  return comparePaths('abnormalCloses', {
    figure: (p) => per1000(o.codes.reduce((n, code) => n + (p.closes[code] || 0), 0), p.connections),
    samplesOf: (p) => p.connections,
    unit: 'per 1000 connections',
  }, { max: o.maxPer1000, maxRatio: o.maxRatio, slack: o.slackPer1000, minSamples: o.minSamples });
}

// Upgrades meant for native that fell back to legacy in the interval,
// except for reasons that are expected (`ignore`, default: tls).
function fallbacks(options) {
  const o = v.options(options, 'fallbacks options', {
    max: samples,
    ignore: (value, name) => {
      if (!Array.isArray(value) || !value.every((r) => typeof r === 'string')) throw v.typeError('an array of reasons', name, value);
      return value;
    },
  }, { max: 0, ignore: ['tls'] });
  return named('fallbacks', (interval) => {
    const counted = Object.entries(interval.fallbacks).filter(([reason]) => !o.ignore.includes(reason));
    const total = counted.reduce((n, [, c]) => n + c, 0);
    const figures = { fallbacks: total, byReason: Object.fromEntries(counted), max: o.max };
    if (total > o.max) return { result: FAIL, figures, reason: `${total} fallbacks, more than ${o.max}` };
    return { result: PASS, figures, reason: `${total} fallbacks` };
  });
}

// Every native worker running, and none stalled (a loop wakeup at least
// 500 ms late) in the interval. No native core at all fails.
function threadHealth() {
  return named('threadHealth', (interval) => {
    const stalled = interval.threads.filter((t) => !t.running || t.stalls > 0);
    const figures = {
      threads: interval.threads.length,
      stalls: interval.threads.reduce((n, t) => n + t.stalls, 0),
      stalled: stalled.map((t) => t.index),
    };
    if (!interval.available) return { result: FAIL, figures, reason: 'the native core is not available' };
    if (stalled.length > 0) {
      return { result: FAIL, figures, reason: `native worker(s) ${figures.stalled.join(', ')} stalled or stopped (${figures.stalls} stalls)` };
    }
    return { result: PASS, figures, reason: `${figures.threads} workers healthy` };
  });
}

// The gateway's own event loop (perf_hooks.monitorEventLoopDelay over the
// interval): the native path should keep it low, never raise it.
function eventLoopDelay(options) {
  const o = v.options(options, 'eventLoopDelay options', { maxP99Ms: nonNegative }, { maxP99Ms: 100 });
  return named('eventLoopDelay', (interval) => {
    const { p99Ms, maxMs } = interval.eventLoopDelay;
    const figures = { p99Ms: round(p99Ms), maxMs: round(maxMs), maxP99Ms: o.maxP99Ms };
    if (p99Ms > o.maxP99Ms) return { result: FAIL, figures, reason: `event-loop delay P99 ${figures.p99Ms} ms above ${o.maxP99Ms}` };
    return { result: PASS, figures, reason: `event-loop delay P99 ${figures.p99Ms} ms` };
  });
}

// The per-path probes (router.probes(), lib/probes.js): the share of
// probe events lost and the P99 of those received, native against
// absolute bounds and against legacy. Loss judges first: a path that
// delivers nothing has no latency to judge. Inconclusive without probes,
// or with fewer than minSamples probe events resolved on native.
function probe(options) {
  const o = v.options(options, 'probe options', {
    maxLossPer1000: nonNegative, slackLossPer1000: nonNegative, maxP99Ms: nonNegative, slackMs: nonNegative,
    maxRatio: atLeastOne, minSamples: samples,
  }, { maxLossPer1000: 10, slackLossPer1000: 5, maxP99Ms: 250, slackMs: 5, maxRatio: 2, minSamples: 20 });
  const parts = [
    comparePaths('loss', {
      figure: (p) => per1000(p.lost, p.delivered + p.lost),
      samplesOf: (p) => p.delivered + p.lost,
      unit: 'lost per 1000 probe events',
    }, { max: o.maxLossPer1000, maxRatio: o.maxRatio, slack: o.slackLossPer1000, minSamples: o.minSamples }),
    comparePaths('latencyP99', {
      figure: (p) => p.latency.p99Ms,
      samplesOf: (p) => p.latency.count,
      unit: 'ms',
    }, { max: o.maxP99Ms, maxRatio: o.maxRatio, slack: o.slackMs, minSamples: o.minSamples }),
  ];
  // Both paths losing probe events alike is the publishing side's trouble
  // (a shared stream's Redis gone mid-flight), not the native path's: the
  // absolute bound alone does not fail native then.
  const commonLoss = ({ result, figures: f }) => result === FAIL && f.legacySamples >= Math.max(o.minSamples, 1) &&
    f.legacy > o.maxLossPer1000 && f.native <= f.legacy * o.maxRatio + o.slackLossPer1000;
  return named('probe', (interval) => {
    if (!interval.probes) return { result: INCONCLUSIVE, figures: {}, reason: 'no probes running (router.probes())' };
    const results = parts.map((part) => ({ name: part.name, ...part(interval.probes) }));
    if (commonLoss(results[0])) {
      const { legacy } = results[0].figures;
      results[0] = { ...results[0], result: INCONCLUSIVE, reason: `legacy loses too (${legacy} per 1000): not the native path's doing` };
    }
    const figures = Object.fromEntries(results.map((r) => [r.name, r.figures]));
    figures.probes = { native: interval.probes.native.open, legacy: interval.probes.legacy.open };
    for (const wanted of [FAIL, INCONCLUSIVE]) {
      const hit = results.filter((r) => r.result === wanted);
      if (hit.length > 0) return { result: wanted, figures, reason: hit.map((r) => `probe ${r.name}: ${r.reason}`).join('; ') };
    }
    return { result: PASS, figures, reason: results.map((r) => `probe ${r.name}: ${r.reason}`).join('; ') };
  });
}

// The built-in checks a plan runs without `checks`; with the router's
// probes running, the probe check too.
function defaultChecks(options) {
  const { probes } = v.options(options, 'options', { probes: v.boolean }, { probes: false });
  const list = [latencyP99(), drops(), abnormalCloses(), fallbacks(), threadHealth(), eventLoopDelay()];
  return probes ? [...list, probe()] : list;
}

const checks = { latencyP99, drops, abnormalCloses, fallbacks, threadHealth, eventLoopDelay, probe, defaults: defaultChecks };

module.exports = { checks, defaultChecks, RESULTS: [PASS, FAIL, INCONCLUSIVE], PASS, FAIL, INCONCLUSIVE };
