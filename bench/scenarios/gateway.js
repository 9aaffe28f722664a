'use strict';
// gateway: the HTTP API under a steady request rate (GET /api/orders/:id,
// fixed-rate open loop from the native load generator, latency counted
// from each request's scheduled time) while 10,000 subscribers receive 0
// (baseline), 30,000 and 50,000 events/s. HTTP P50/P99, achieved request
// rate, and Node's event-loop delay (monitorEventLoopDelay) and busy share
// over each whole phase, from bench/lib/loop-probe.js preloaded into the
// gateway. The gateway's own /stats (last second) is polled each second too,
// as a dashboard would, and its windows are kept in the results.

const { interleaved, using, runStandalone } = require('../lib/scenario');
const { HttpClient } = require('../lib/loadgen');
const { sleep } = require('../lib/gateway');
const { spreadOf, median, mean } = require('../lib/stats');
const { session, logPhase, slim } = require('./load');
const { measuredPhase } = require('./load');

const CONFIG = {
  full: { subscribers: 10000, eventRates: [0, 30000, 50000], httpRate: 2000, httpConns: 32, orders: 1000, durationMs: 10000, connectRate: 4000, settleMs: 2000 },
  quick: { subscribers: 2000, eventRates: [0, 30000, 50000], httpRate: 2000, httpConns: 32, orders: 1000, durationMs: 4000, connectRate: 4000, settleMs: 1500 },
};

// Puts orders o0..o<n-1> in the gateway's store so every GET finds one.
async function seedOrders(gw, n) {
  const lines = [];
  for (let i = 0; i < n; i += 1) {
    lines.push(JSON.stringify({ order_id: `o${i}`, status: 'assigned', timestamp: '2026-11-27T10:00:00Z', driver_id: `d${i % 100}` }));
  }
  const res = await gw.post('/events', lines.join('\n'));
  const body = JSON.parse(res.body);
  if (res.status !== 200 || body.accepted !== n) throw new Error(`seeding orders failed: HTTP ${res.status} ${res.body.slice(0, 200)}`);
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const runs = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` gateway ${server.name} rep ${rep + 1}: ${cfg.subscribers} subscribers, HTTP ${cfg.httpRate} req/s`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      await seedOrders(gw, cfg.orders);
      const http = new HttpClient({ port: gw.port, conns: cfg.httpConns, ids: cfg.orders, serverPid: gw.pid });
      await using([http], async () => {
        await http.ready();
        for (const rate of cfg.eventRates) {
          const r = await measuredPhase(ctx, gw, subs, pub, {
            rate, durationMs: cfg.durationMs, http, httpRate: cfg.httpRate,
            onWindow: async () => {
              const { gateway } = await gw.stats(5000);
              return { ...gateway.eventLoopDelayMs, utilization: gateway.eventLoopUtilization };
            },
            onStart: () => gw.loopMark(),
            onEnd: () => gw.loopMark(),
          });
          const w = r.windows.filter((x) => !x.error);
          const phaseLoop = r.atEnd;
          delete r.atEnd;
          r.eventLoop = {
            ...phaseLoop, // samples, p50, p99, max, utilization, spanMs of the whole phase
            windows: w.length,
            windowP99Median: median(w.map((x) => x.p99)),
            windowUtilizationMean: mean(w.map((x) => x.utilization)),
            statsErrors: r.windows.length - w.length,
          };
          ctx.log(`  gateway ${server.name} ${rate} ev/s: HTTP ${r.http.achievedRate}/${cfg.httpRate} req/s, P50 ${r.http.latency.p50} P99 ${r.http.latency.p99} ms` +
            ` (errors ${r.http.errors + r.http.non2xx}), event-loop delay P50 ${r.eventLoop.p50} P99 ${r.eventLoop.p99} max ${r.eventLoop.max} ms,` +
            ` loop busy ${r.eventLoop.utilization === null ? '–' : `${(r.eventLoop.utilization * 100).toFixed(1)} %`}`);
          if (rate > 0) logPhase(ctx, `gateway ${server.name} ${rate} ev/s events`, r);
          runs.push({ server: server.name, rep, eventRate: rate, ...slim(r) });
          await sleep(cfg.settleMs);
        }
      });
    }, { gateway: { loopProbe: true } });
  });
  const summary = [];
  for (const server of ['legacy', 'native']) {
    for (const eventRate of cfg.eventRates) {
      const rs = runs.filter((r) => r.server === server && r.eventRate === eventRate);
      summary.push({
        server, eventRate, reps: rs.length,
        httpP50: spreadOf(rs, (r) => r.http.latency.p50),
        httpP99: spreadOf(rs, (r) => r.http.latency.p99),
        httpMax: spreadOf(rs, (r) => r.http.latency.max),
        httpRate: spreadOf(rs, (r) => r.http.achievedRate),
        httpErrors: rs.reduce((a, r) => a + r.http.errors + r.http.non2xx + r.http.dropped, 0),
        loopP50: spreadOf(rs, (r) => r.eventLoop.p50),
        loopP99: spreadOf(rs, (r) => r.eventLoop.p99),
        loopMax: spreadOf(rs, (r) => r.eventLoop.max),
        loopBusyPct: spreadOf(rs, (r) => (typeof r.eventLoop.utilization === 'number' ? r.eventLoop.utilization * 100 : null)),
        loopP99WindowMedian: spreadOf(rs, (r) => r.eventLoop.windowP99Median),
        eventP99: spreadOf(rs, (r) => (eventRate > 0 ? r.latency.p99 : null)),
        deliveredPct: spreadOf(rs, (r) => (eventRate > 0 ? r.deliveredPct : null)),
        serverCpuPct: spreadOf(rs, (r) => r.serverProc.cpuPct),
        loadgenCpuPct: spreadOf(rs, (r) => r.loadgen.cpuPct),
        otherCpuPct: spreadOf(rs, (r) => r.otherCpuPct),
      });
    }
  }
  return { config: cfg, runs, summary };
}

module.exports = { name: 'gateway', title: 'Gateway: HTTP API beside event traffic', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
