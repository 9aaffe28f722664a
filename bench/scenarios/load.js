'use strict';
// load: 10,000 subscribers, each on its own order topic; the publisher
// sends 2,000 / 10,000 / 30,000 / 50,000 events/s for 20 s each (every
// event reaches one subscriber). Latency percentiles, delivery, server CPU
// per delivered event, peak RSS, and the load generator's own CPU.

const { interleaved, WITH_FLOOR, withGateway, using, runStandalone } = require('../lib/scenario');
const { Subscribers, Publisher, runPhase } = require('../lib/loadgen');
const { sleep } = require('../lib/gateway');
const { spreadOf } = require('../lib/stats');

const CONFIG = {
  full: { subscribers: 10000, rates: [2000, 10000, 30000, 50000], durationMs: 20000, connectRate: 4000, settleMs: 1500 },
  quick: { subscribers: 2000, rates: [2000, 10000, 30000, 50000], durationMs: 3000, connectRate: 4000, settleMs: 1000 },
};

// Counters read from the gateway's /stats around each phase: drops on
// either path, and how the events entered (the core's own publisher
// ingest, or the gateway's JS /publish handler).
function gatewayCounters(stats) {
  if (!stats) return { drops: 0, nativeIngested: 0, jsFrames: 0 }; // the floor server keeps none
  return {
    drops: stats.paths.native.drops + stats.paths.legacy.drops,
    nativeIngested: stats.paths.native.ingested || 0,
    jsFrames: stats.gateway?.publishers?.frames || 0,
  };
}

function logPhase(ctx, label, r) {
  ctx.log(`  ${label}: sent ${r.sent} (${r.achievedRate}/s), delivered ${r.deliveredPct} % ` +
    `(lost ${r.lost}, dup ${r.dup}, ooo ${r.ooo})${r.pings ? `, ${r.pings} heartbeat pings in the window` : ''}, P50 ${r.latency.p50} P99 ${r.latency.p99} P99.9 ${r.latency.p999} max ${r.latency.max} ms, ` +
    `server ${r.serverProc.cpuPct} % CPU = ${r.serverProc.cpuUsPerDelivery} µs/delivery, loadgen ${r.loadgen.cpuPct} % CPU, other processes ${r.otherCpuPct} %, peak RSS ${(r.serverProc.peakRss / 2 ** 20).toFixed(1)} MiB` +
    `${r.quiet && r.quiet.quiet === false ? ` [machine still busy (${r.quiet.busyCores} cores) after waiting ${Math.round(r.quiet.waitedMs / 1000)} s]` : ''}`);
}

// Connects `subscribers`, then runs fn(gw, subs, pub).
async function session(ctx, server, cfg, fn, { fanoutEvery = 0, sizes = [], drivers = 100, splitPercent = -1, gateway = {} } = {}) {
  return withGateway(ctx, server, async (gw) => {
    const subs = new Subscribers({ port: gw.port, count: cfg.subscribers, connectRate: cfg.connectRate, serverPid: gw.pid,
      fanoutEvery, sizes, splitPercent });
    const pub = new Publisher({ port: gw.port, orders: cfg.subscribers, drivers: sizes.length || drivers, serverPid: gw.pid });
    return using([subs, pub], async () => {
      const c = await subs.connected(Math.ceil(cfg.subscribers / cfg.connectRate) * 1000 + 90000);
      if (c.open < cfg.subscribers) ctx.log(`  warning: only ${c.open} of ${cfg.subscribers} subscribers connected ${JSON.stringify(c.failures)}`);
      await pub.ready();
      await sleep(cfg.settleMs);
      return fn(gw, subs, pub, c);
    });
  }, gateway);
}

async function measuredPhase(ctx, gw, subs, pub, opts) {
  const before = gatewayCounters(await gw.stats(30000));
  const r = await runPhase({ gateway: gw, subs, pub, ...opts });
  const after = gatewayCounters(await gw.stats(30000));
  r.serverDrops = after.drops - before.drops;
  r.ingest = { native: after.nativeIngested - before.nativeIngested, js: after.jsFrames - before.jsFrames };
  return r;
}

function summarize(runs, keys) {
  const out = [];
  const groups = new Map();
  for (const r of runs) {
    const k = keys.map((key) => r[key]).join('|');
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  for (const rs of groups.values()) {
    const first = rs[0];
    const entry = Object.fromEntries(keys.map((key) => [key, first[key]]));
    Object.assign(entry, {
      reps: rs.length,
      p50: spreadOf(rs, (r) => r.latency.p50),
      p90: spreadOf(rs, (r) => r.latency.p90),
      p99: spreadOf(rs, (r) => r.latency.p99),
      p999: spreadOf(rs, (r) => r.latency.p999),
      max: spreadOf(rs, (r) => r.latency.max),
      deliveredPct: spreadOf(rs, (r) => r.deliveredPct),
      achievedRate: spreadOf(rs, (r) => r.achievedRate),
      deliveriesPerS: spreadOf(rs, (r) => (r.expected - r.lost) / (r.durationMs / 1000)),
      fanout: spreadOf(rs, (r) => (r.sent > 0 ? r.expected / r.sent : null)),
      serverCpuPct: spreadOf(rs, (r) => r.serverProc.cpuPct),
      serverCpuUsPerDelivery: spreadOf(rs, (r) => r.serverProc.cpuUsPerDelivery),
      serverCpuUsPerEvent: spreadOf(rs, (r) => r.serverProc.cpuUsPerEvent),
      loadgenCpuPct: spreadOf(rs, (r) => r.loadgen.cpuPct),
      loadgenCpuUsPerDelivery: spreadOf(rs, (r) => r.loadgen.cpuUsPerDelivery),
      otherCpuPct: spreadOf(rs, (r) => r.otherCpuPct),
      peakRss: spreadOf(rs, (r) => r.serverProc.peakRss),
      lost: rs.reduce((a, r) => a + r.lost, 0),
      dup: rs.reduce((a, r) => a + r.dup, 0),
      ooo: rs.reduce((a, r) => a + r.ooo, 0),
      serverDrops: rs.reduce((a, r) => a + (r.serverDrops || 0), 0),
      pings: rs.reduce((a, r) => a + (r.pings || 0), 0),
      misrouted: rs.reduce((a, r) => a + (r.misrouted || 0), 0),
      ingest: { native: rs.reduce((a, r) => a + (r.ingest?.native || 0), 0), js: rs.reduce((a, r) => a + (r.ingest?.js || 0), 0) },
    });
    out.push(entry);
  }
  return out;
}

// Keeps result files small: the merged histogram stays, per-group copies go.
function slim(r) {
  const { groups, windows, ...rest } = r;
  return { ...rest, groups: groups.map(({ latencyHist, ...g }) => g), windows: windows.length ? windows : undefined };
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const runs = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` load ${server.name} rep ${rep + 1}: ${cfg.subscribers} subscribers`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      for (const rate of cfg.rates) {
        const r = await measuredPhase(ctx, gw, subs, pub, { rate, durationMs: cfg.durationMs });
        logPhase(ctx, `load ${server.name} ${rate} ev/s`, r);
        runs.push({ server: server.name, rep, ...slim(r) });
        await sleep(cfg.settleMs);
      }
    });
  }, WITH_FLOOR);
  return { config: cfg, runs, summary: summarize(runs, ['server', 'rate']) };
}

module.exports = { name: 'load', title: 'Load: one order topic per subscriber', run, CONFIG, session, measuredPhase, summarize, logPhase, slim };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
