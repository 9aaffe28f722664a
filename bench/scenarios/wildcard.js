'use strict';
// wildcard: what wildcard subscribers cost the rest. 10,000 subscribers on
// their own order topic take `rate` events/s; then 100 dispatch dashboards
// subscribed to `order:*` join the same gateway and the same load runs
// again, side by side in one run. Server CPU per delivery (and per event)
// without and with them: the per-event index walk must not make each
// delivery dearer (issue 18's target: ≤ 1.1×).

const { interleaved, using, runStandalone } = require('../lib/scenario');
const { Subscribers } = require('../lib/loadgen');
const { sleep } = require('../lib/gateway');
const { session, measuredPhase, summarize, logPhase, slim } = require('./load');

const CONFIG = {
  full: { subscribers: 10000, dashboards: 100, rate: 30000, durationMs: 10000, connectRate: 4000, settleMs: 1500 },
  quick: { subscribers: 2000, dashboards: 20, rate: 2000, durationMs: 3000, connectRate: 4000, settleMs: 1000 },
};

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const runs = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` wildcard ${server.name} rep ${rep + 1}: ${cfg.subscribers} order subscribers, then + ${cfg.dashboards} on order:*`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      const phase = async (dashboards, fleet) => {
        const r = await measuredPhase(ctx, gw, fleet, pub, { rate: cfg.rate, durationMs: cfg.durationMs });
        logPhase(ctx, `wildcard ${server.name} ${cfg.rate} ev/s, ${dashboards} dashboards`, r);
        runs.push({ server: server.name, rep, dashboards, ...slim(r) });
        await sleep(cfg.settleMs);
      };
      await phase(0, subs);
      // A second fleet (its own process: the descriptor limit), joined to
      // the first for the phase.
      const dash = new Subscribers({ port: gw.port, count: cfg.dashboards, orders: cfg.subscribers, connectRate: cfg.connectRate,
        serverPid: gw.pid, wildcard: true });
      await using([dash], async () => {
        const c = await dash.connected(90000);
        if (c.open < cfg.dashboards) ctx.log(`  warning: only ${c.open} of ${cfg.dashboards} dashboards connected ${JSON.stringify(c.failures)}`);
        await sleep(cfg.settleMs);
        await phase(cfg.dashboards, { procs: [...subs.procs, ...dash.procs] });
      });
    });
  });
  const summary = summarize(runs, ['server', 'dashboards']);
  // CPU per delivery with the dashboards over without, per server.
  const ratios = {};
  for (const server of new Set(summary.map((s) => s.server))) {
    const of = (d) => summary.find((s) => s.server === server && s.dashboards === d)?.serverCpuUsPerDelivery?.median;
    const without = of(0);
    const withThem = of(cfg.dashboards);
    ratios[server] = without && withThem ? Math.round((withThem / without) * 100) / 100 : null;
  }
  return { config: cfg, runs, summary, perDeliveryRatio: ratios };
}

module.exports = { name: 'wildcard', title: 'Wildcard dashboards beside per-order subscribers', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
