'use strict';
// wildcard: what wildcard subscribers cost. `subscribers` clients follow
// their own order topic and take `rate` events/s; then `dashboards` more
// clients that receive every event join, in two ways, one after the other
// on the same gateway:
//   exact     each follows `driver:d0`, a topic every event also carries
//             (the publisher gives all events driver d0): an exact-topic
//             lookup, the control;
//   wildcard  each follows `order:*`: the worker's prefix tree.
// Both multiply the fan-out by the same 1 + dashboards, so their CPU per
// delivery differs only by what the wildcard costs (issue 18's target:
// ≤ 1.1× the control). The phase without dashboards shows the per-order
// load alone. Exact and wildcard swap order every repetition.

const { interleaved, using, runStandalone } = require('../lib/scenario');
const { Subscribers } = require('../lib/loadgen');
const { sleep } = require('../lib/gateway');
const { session, measuredPhase, summarize, logPhase, slim } = require('./load');

// The issue asks for 30,000 events/s with 100 dashboards: 3 million
// deliveries a second, beyond two cores for any server here (the syscall
// floor spends ≈ 4 µs per delivery: 12 cores). Full mode keeps its
// 10,000 + 100 subscribers at 1,000 events/s (101,000 deliveries/s).
const CONFIG = {
  full: { subscribers: 10000, dashboards: 100, rate: 1000, durationMs: 10000, connectRate: 4000, settleMs: 1500 },
  quick: { subscribers: 2000, dashboards: 20, rate: 2000, durationMs: 3000, connectRate: 4000, settleMs: 1000 },
};

// The dashboards' fleet for `kind` (its own process: the descriptor limit).
function dashboards(kind, cfg, gw) {
  const common = { port: gw.port, count: cfg.dashboards, orders: cfg.subscribers, connectRate: cfg.connectRate, serverPid: gw.pid };
  if (kind === 'wildcard') return new Subscribers({ ...common, wildcard: true });
  // Every dashboard on driver:d0 (one driver topic of `dashboards` followers).
  return new Subscribers({ ...common, fanoutEvery: 1, sizes: [cfg.dashboards], clientPrefix: 'x' });
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const runs = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` wildcard ${server.name} rep ${rep + 1}: ${cfg.subscribers} order subscribers, then + ${cfg.dashboards} dashboards (exact, wildcard)`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      const phase = async (kind, fleet) => {
        const r = await measuredPhase(ctx, gw, fleet, pub, { rate: cfg.rate, durationMs: cfg.durationMs });
        logPhase(ctx, `wildcard ${server.name} ${cfg.rate} ev/s, ${kind}`, r);
        runs.push({ server: server.name, rep, dashboards: kind, ...slim(r) });
        await sleep(cfg.settleMs);
      };
      await phase('none', subs);
      const kinds = rep % 2 === 0 ? ['exact', 'wildcard'] : ['wildcard', 'exact'];
      for (const kind of kinds) {
        const dash = dashboards(kind, cfg, gw);
        await using([dash], async () => {
          const c = await dash.connected(90000);
          if (c.open < cfg.dashboards) ctx.log(`  warning: only ${c.open} of ${cfg.dashboards} dashboards connected ${JSON.stringify(c.failures)}`);
          await sleep(cfg.settleMs);
          await phase(kind, { procs: [...subs.procs, ...dash.procs] });
        });
        await sleep(cfg.settleMs);
      }
    }, { drivers: 1 });
  });
  const summary = summarize(runs, ['server', 'dashboards']);
  // CPU per delivery with wildcard dashboards over exact ones, per server.
  const ratios = {};
  for (const server of new Set(summary.map((s) => s.server))) {
    const of = (kind) => summary.find((s) => s.server === server && s.dashboards === kind)?.serverCpuUsPerDelivery?.median;
    const exact = of('exact');
    const wildcard = of('wildcard');
    ratios[server] = exact && wildcard ? Math.round((wildcard / exact) * 100) / 100 : null;
  }
  return { config: cfg, runs, summary, perDeliveryRatio: ratios };
}

module.exports = { name: 'wildcard', title: 'Wildcard dashboards beside per-order subscribers', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
