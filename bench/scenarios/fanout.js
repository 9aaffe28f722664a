'use strict';
// fanout: 10,000 subscribers on their own order topic; every tenth also
// follows one shared driver topic (topics of 20, 40, 60, 80 and 100
// subscribers), and every event names a driver, so each event reaches its
// order's subscriber plus 20–100 driver followers (~63 on average).
// Deliveries per second, latency, server CPU per delivery.

const { interleaved, WITH_FLOOR, runStandalone } = require('../lib/scenario');
const { driverSizes } = require('../lib/loadgen');
const { sleep } = require('../lib/gateway');
const { session, measuredPhase, summarize, logPhase, slim } = require('./load');

const CONFIG = {
  full: { subscribers: 10000, fanoutEvery: 10, rates: [500, 1000, 2000], durationMs: 10000, connectRate: 4000, settleMs: 1500 },
  quick: { subscribers: 2000, fanoutEvery: 10, rates: [250, 1000], durationMs: 3000, connectRate: 4000, settleMs: 1000 },
};

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const sizes = driverSizes(Math.floor(cfg.subscribers / cfg.fanoutEvery));
  const runs = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` fanout ${server.name} rep ${rep + 1}: ${cfg.subscribers} subscribers, driver topics of ${sizes.join('/')}`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      for (const rate of cfg.rates) {
        const r = await measuredPhase(ctx, gw, subs, pub, { rate, durationMs: cfg.durationMs });
        logPhase(ctx, `fanout ${server.name} ${rate} ev/s (×${(r.expected / Math.max(1, r.sent)).toFixed(1)} = ${Math.round((r.expected - r.lost) / (cfg.durationMs / 1000))} deliveries/s)`, r);
        runs.push({ server: server.name, rep, ...slim(r) });
        await sleep(cfg.settleMs);
      }
    }, { fanoutEvery: cfg.fanoutEvery, sizes });
  }, WITH_FLOOR);
  return { config: { ...cfg, driverSizes: sizes }, runs, summary: summarize(runs, ['server', 'rate']) };
}

module.exports = { name: 'fanout', title: 'Fan-out: shared driver topics', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
