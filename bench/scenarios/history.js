'use strict';
// history: what stream positions and recovery cost (issue 17).
//  - cost: the load scenario's 10,000 subscribers at 30,000 events/s on the
//    native path, with the history on (the default, 100,000 events) and off
//    (historyMaxEvents 0), side by side in one run: server CPU per event
//    (target: on ≤ 1.1 × off) and memory per retained event.
//  - storm: 19,500 opted-in subscribers (recover=1) at 2,000 events/s; 19,000
//    of them drop their connections for 10 s and come back within 2 s with
//    since=<last position>. Every one must get complete:true and lose
//    nothing; how long until every one is live again; and the P99 of live
//    events for the 500 that stayed connected through it (target ≤ 50 ms).

const { interleaved, using, withGateway, runStandalone } = require('../lib/scenario');
const { Subscribers, Publisher, runPhase } = require('../lib/loadgen');
const { sleep } = require('../lib/gateway');
const hist = require('../lib/hist');
const { session, measuredPhase, summarize, logPhase, slim } = require('./load');

const CONFIG = {
  full: {
    parts: ['cost', 'storm'],
    subscribers: 10000, rate: 30000, durationMs: 10000, connectRate: 4000, settleMs: 1500,
    // The publisher walks the orders in turn: by startAfterMs every
    // subscriber has received an event, so holds a position to resume from.
    storm: { subscribers: 19500, dropped: 19000, rate: 2000, durationMs: 30000, startAfterMs: 11000, awayMs: 10000, spreadMs: 2000 },
  },
  quick: {
    parts: ['cost', 'storm'],
    subscribers: 2000, rate: 5000, durationMs: 3000, connectRate: 4000, settleMs: 1000,
    storm: { subscribers: 2000, dropped: 1900, rate: 1000, durationMs: 9000, startAfterMs: 2500, awayMs: 3000, spreadMs: 1000 },
  },
};

const NATIVE_HISTORY = [
  { name: 'history-on', nativePercent: 100, historyMaxEvents: 100000 },
  { name: 'history-off', nativePercent: 100, historyMaxEvents: 0 },
];

async function cost(ctx, cfg) {
  const runs = [];
  const memory = [];
  await interleaved(ctx, async (server, rep) => {
    ctx.log(` history cost ${server.name} rep ${rep + 1}: ${cfg.subscribers} subscribers, ${cfg.rate} ev/s`);
    await session(ctx, server, cfg, async (gw, subs, pub) => {
      const r = await measuredPhase(ctx, gw, subs, pub, { rate: cfg.rate, durationMs: cfg.durationMs });
      logPhase(ctx, `history ${server.name} ${cfg.rate} ev/s`, r);
      runs.push({ server: server.name, rep, ...slim(r) });
      const h = (await gw.stats(30000))?.paths?.native?.history;
      if (h && h.events > 0) {
        memory.push({ server: server.name, rep, events: h.events, bytes: h.bytes, bytesPerEvent: Math.round(h.bytes / h.events) });
        ctx.log(`  history holds ${h.events} events in ${(h.bytes / 2 ** 20).toFixed(1)} MiB: ${Math.round(h.bytes / h.events)} B per event`);
      }
    }, { gateway: { historyMaxEvents: server.historyMaxEvents } });
  }, NATIVE_HISTORY);
  const summary = summarize(runs, ['server']);
  const of = (name) => summary.find((s) => s.server === name)?.serverCpuUsPerEvent?.median;
  const on = of('history-on');
  const off = of('history-off');
  return { runs, summary, memory, cpuPerEventRatio: on && off ? Math.round((on / off) * 100) / 100 : null };
}

async function storm(ctx, cfg) {
  const s = cfg.storm;
  const server = { name: 'native', nativePercent: 100 };
  ctx.log(` history storm: ${s.subscribers} opted-in subscribers, ${s.dropped} away ${s.awayMs} ms, back within ${s.spreadMs} ms, ${s.rate} ev/s`);
  return withGateway(ctx, server, async (gw) => {
    const subs = new Subscribers({ port: gw.port, count: s.subscribers, connectRate: cfg.connectRate, serverPid: gw.pid, recover: true,
      stormGroup: s.dropped, drainMaxMs: 120000 });
    const pub = new Publisher({ port: gw.port, orders: s.subscribers, serverPid: gw.pid });
    return using([subs, pub], async () => {
      const c = await subs.connected(Math.ceil(s.subscribers / cfg.connectRate) * 1000 + 90000);
      if (c.open < s.subscribers) ctx.log(`  warning: only ${c.open} of ${s.subscribers} subscribers connected ${JSON.stringify(c.failures)}`);
      await pub.ready();
      await sleep(cfg.settleMs);
      let timer = null;
      const r = await runPhase({
        gateway: gw, subs, pub, rate: s.rate, durationMs: s.durationMs,
        onStart: async () => {
          timer = setTimeout(() => subs.procs.forEach((p) => p.send(`storm ${s.awayMs} ${s.spreadMs}`)), s.startAfterMs);
        },
        onEnd: async () => {
          clearTimeout(timer);
          return Promise.all(subs.procs.map((p) => p.next('storm', 180000)));
        },
      });
      const reports = r.atEnd || [];
      const sum = (k) => reports.reduce((a, m) => a + m[k], 0);
      const result = {
        dropped: sum('dropped'), reconnected: sum('reconnected'), complete: sum('complete'), incomplete: sum('incomplete'), failed: sum('failed'),
        allLiveMs: Math.max(0, ...reports.map((m) => m.all_live_ms)),
        liveMs: hist.summaryMs(hist.merge(reports.map((m) => m.live_ns))),
        stayed: r.groups[0], away: r.groups[1],
        sent: r.sent, lost: r.lost, dup: r.dup, ooo: r.ooo,
        serverCpuPct: r.serverProc.cpuPct, peakRss: r.serverProc.peakRss,
      };
      ctx.log(`  storm: ${result.dropped} dropped, ${result.reconnected} back, ${result.complete} complete, ${result.incomplete} incomplete, ${result.failed} failed; ` +
        `all live again ${Math.round(result.allLiveMs)} ms after the first came back (per client P50 ${result.liveMs.p50} P99 ${result.liveMs.p99} ms); ` +
        `stayed-connected live P99 ${result.stayed.latency.p99} ms (P50 ${result.stayed.latency.p50}); lost ${result.lost}, dup ${result.dup}, ooo ${result.ooo}`);
      return result;
    });
  });
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const costResult = cfg.parts.includes('cost') ? await cost(ctx, cfg) : {};
  const stormResult = cfg.parts.includes('storm') ? await storm(ctx, cfg) : null;
  return { config: cfg, ...costResult, storm: stormResult };
}

module.exports = { name: 'history', title: 'Stream history: its cost, and a reconnect storm', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
