'use strict';
// ramp: the load scenario's subscribers, the event rate raised step by
// step until P99 > 100 ms or delivery < 99 % (or the publisher cannot get
// its events in at the rate: the server stops reading it). The highest
// passing rate is the maximum sustained rate.

const { interleaved, runStandalone } = require('../lib/scenario');
const { sleep } = require('../lib/gateway');
const { spread } = require('../lib/stats');
const { session, measuredPhase, logPhase, slim } = require('./load');

const CONFIG = {
  full: { subscribers: 10000, rates: [5000, 10000, 20000, 30000, 40000, 50000, 60000, 70000, 80000, 100000, 120000, 150000, 200000, 250000, 300000],
    durationMs: 5000, connectRate: 4000, settleMs: 1500 },
  quick: { subscribers: 2000, rates: [5000, 10000, 20000, 30000, 40000, 50000, 60000, 70000, 80000, 100000, 120000, 150000, 200000, 250000, 300000],
    durationMs: 2500, connectRate: 4000, settleMs: 1000 },
};

const P99_LIMIT_MS = 100;
const DELIVERY_LIMIT_PCT = 99;
const ACHIEVED_LIMIT = 0.95;
const BUSY_RETRY_PCT = 50; // other processes' CPU in a failed step that earns it one retry

function verdict(r) {
  const reasons = [];
  if (r.latency.p99 === null || r.latency.p99 > P99_LIMIT_MS) reasons.push(`P99 ${r.latency.p99} ms > ${P99_LIMIT_MS} ms`);
  if (r.deliveredPct === null || r.deliveredPct < DELIVERY_LIMIT_PCT) reasons.push(`delivered ${r.deliveredPct} % < ${DELIVERY_LIMIT_PCT} %`);
  if (r.achievedRate < ACHIEVED_LIMIT * r.rate) reasons.push(`publisher reached only ${r.achievedRate}/s`);
  return { pass: reasons.length === 0, reasons };
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const runs = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` ramp ${server.name} rep ${rep + 1}: ${cfg.subscribers} subscribers, ${cfg.durationMs / 1000} s steps`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      const steps = [];
      let maxPassing = 0;
      let failedAt = null;
      for (const rate of cfg.rates) {
        let r = await measuredPhase(ctx, gw, subs, pub, { rate, durationMs: cfg.durationMs });
        let v = verdict(r);
        let retriedAfter = null;
        // One disturbed step would end the ramp: a step that fails while other
        // processes took more than half a core is run once more.
        if (!v.pass && r.otherCpuPct > BUSY_RETRY_PCT) {
          logPhase(ctx, `ramp ${server.name} ${rate} ev/s FAIL (${v.reasons.join('; ')}) while other processes used ${r.otherCpuPct} %: once more`, r);
          retriedAfter = { otherCpuPct: r.otherCpuPct, reasons: v.reasons, p99: r.latency.p99 };
          await sleep(cfg.settleMs);
          r = await measuredPhase(ctx, gw, subs, pub, { rate, durationMs: cfg.durationMs });
          v = verdict(r);
        }
        logPhase(ctx, `ramp ${server.name} ${rate} ev/s ${v.pass ? 'pass' : `FAIL (${v.reasons.join('; ')})`}`, r);
        steps.push({ ...slim(r), pass: v.pass, reasons: v.reasons, retriedAfter });
        if (!v.pass) {
          failedAt = { rate, reasons: v.reasons };
          break;
        }
        maxPassing = rate;
        await sleep(cfg.settleMs);
      }
      runs.push({ server: server.name, rep, maxPassing, failedAt, steps });
    });
  });
  const summary = ['legacy', 'native'].map((server) => {
    const rs = runs.filter((r) => r.server === server);
    // Latency against load: the median over repetitions at each step.
    const curve = cfg.rates.map((rate) => {
      const at = rs.map((r) => r.steps.find((s) => s.rate === rate)).filter(Boolean);
      if (at.length === 0) return null;
      return {
        rate, n: at.length,
        p50: spread(at.map((s) => s.latency.p50)), p90: spread(at.map((s) => s.latency.p90)),
        p99: spread(at.map((s) => s.latency.p99)), p999: spread(at.map((s) => s.latency.p999)),
        deliveredPct: spread(at.map((s) => s.deliveredPct)),
        serverCpuUsPerDelivery: spread(at.map((s) => s.serverProc.cpuUsPerDelivery)),
        otherCpuPct: spread(at.map((s) => s.otherCpuPct)),
        pass: at.every((s) => s.pass),
      };
    }).filter(Boolean);
    return { server, maxPassing: spread(rs.map((r) => r.maxPassing)), failures: rs.map((r) => r.failedAt), curve };
  });
  return { config: { ...cfg, p99LimitMs: P99_LIMIT_MS, deliveryLimitPct: DELIVERY_LIMIT_PCT }, runs, summary };
}

module.exports = { name: 'ramp', title: 'Ramp: highest sustained event rate', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
