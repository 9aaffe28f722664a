'use strict';
// split: one gateway routing 50 % of subscribers native (sticky by
// client_id), the rest legacy; each path's latency distribution in the same
// run. The load generator computes each subscriber's path with the
// router's own hash (lib/bucket.js) and the gateway's counts confirm it.

const path = require('node:path');
const { withGateway, using, runStandalone } = require('../lib/scenario');
const { Subscribers, Publisher } = require('../lib/loadgen');
const { measuredPhase } = require('./load');
const { sleep } = require('../lib/gateway');
const { spreadOf } = require('../lib/stats');
const hist = require('../lib/hist');
const { bucketOf } = require(path.join('..', '..', 'lib', 'bucket'));

const CONFIG = {
  full: { subscribers: 10000, percent: 50, rates: [10000, 30000], durationMs: 10000, connectRate: 4000, settleMs: 1500 },
  quick: { subscribers: 2000, percent: 50, rates: [10000, 30000], durationMs: 3000, connectRate: 4000, settleMs: 1000 },
};

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  // The loadgen's C++ copy of the bucket hash must agree with the router's.
  let expectNative = 0;
  for (let i = 0; i < cfg.subscribers; i += 1) if (bucketOf(`c${i}`, 'ficus') < cfg.percent) expectNative += 1;
  const runs = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    await withGateway(ctx, { name: `split${cfg.percent}`, nativePercent: cfg.percent }, async (gw) => {
      const subs = new Subscribers({ port: gw.port, count: cfg.subscribers, connectRate: cfg.connectRate, serverPid: gw.pid, splitPercent: cfg.percent });
      const pub = new Publisher({ port: gw.port, orders: cfg.subscribers, serverPid: gw.pid });
      await using([subs, pub], async () => {
        const c = await subs.connected(Math.ceil(cfg.subscribers / cfg.connectRate) * 1000 + 90000);
        await pub.ready();
        await sleep(cfg.settleMs);
        const stats = await gw.stats(30000);
        const check = { loadgenNative: c.groups[1], routerHash: expectNative, gatewayNative: stats.paths.native.connections, gatewayLegacy: stats.paths.legacy.connections };
        // The gateway may hand the publisher connection to the core too
        // (publisher ingest): native connections = native subscribers + it.
        const extraNative = check.gatewayNative - check.loadgenNative;
        if (check.loadgenNative !== check.routerHash || check.gatewayLegacy !== c.open - check.loadgenNative ||
            extraNative < 0 || extraNative > pub.publishers) {
          throw new Error(`path assignment mismatch: ${JSON.stringify(check)}`);
        }
        ctx.log(` split rep ${rep + 1}: ${check.loadgenNative} native + ${check.gatewayLegacy} legacy subscribers`);
        for (const rate of cfg.rates) {
          const r = await measuredPhase(ctx, gw, subs, pub, { rate, durationMs: cfg.durationMs });
          const paths = ['legacy', 'native'].map((name, g) => ({ name, ...r.groups[g], latencyHist: undefined, hist: r.groups[g].latencyHist }));
          ctx.log(`  split ${rate} ev/s: ` + paths.map((p) => `${p.name} ${p.subscribers} subs P50 ${p.latency.p50} P99 ${p.latency.p99} P99.9 ${p.latency.p999} max ${p.latency.max} ms, lost ${p.lost}`).join(' | ') +
            `; server ${r.serverProc.cpuPct} % CPU, loadgen ${r.loadgen.cpuPct} %`);
          runs.push({ rep, rate, check, achievedRate: r.achievedRate, serverProc: r.serverProc, loadgen: r.loadgen, otherCpuPct: r.otherCpuPct, ingest: r.ingest, quiet: r.quiet, paths });
          await sleep(cfg.settleMs);
        }
      });
    });
  }
  const summary = [];
  for (const rate of cfg.rates) {
    for (const name of ['legacy', 'native']) {
      const ps = runs.filter((r) => r.rate === rate).map((r) => r.paths.find((p) => p.name === name));
      summary.push({
        rate, path: name,
        subscribers: ps[0].subscribers,
        p50: spreadOf(ps, (p) => p.latency.p50), p90: spreadOf(ps, (p) => p.latency.p90),
        p99: spreadOf(ps, (p) => p.latency.p99), p999: spreadOf(ps, (p) => p.latency.p999), max: spreadOf(ps, (p) => p.latency.max),
        deliveredPct: spreadOf(ps, (p) => (p.expected ? ((p.expected - p.lost) / p.expected) * 100 : null)),
        lost: ps.reduce((a, p) => a + p.lost, 0), dup: ps.reduce((a, p) => a + p.dup, 0), ooo: ps.reduce((a, p) => a + p.ooo, 0),
        // All repetitions' histograms merged, for the distribution plot.
        hist: hist.merge(ps.map((p) => p.hist)),
      });
    }
  }
  return { config: cfg, runs: runs.map((r) => ({ ...r, paths: r.paths.map(({ hist: h, ...p }) => p) })), summary };
}

module.exports = { name: 'split', title: 'Split: 50 % native, both paths in one run', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
