'use strict';
// capacity: idle subscribers. For each size, a fresh gateway: its RSS idle
// (before any client), with N subscribers connected (after a settle), the
// bytes each connection costs, and how long connecting took. Then a forced
// full GC (bench/lib/gc-hook.js, preloaded) tells the memory the
// connections keep from the garbage their handshakes left in V8's heap.
// At the largest size the gateway is then left quiet (up to quietMs) and its
// RSS read again: a burst of upgrades grows V8's young generation, and V8
// gives those pages back only when its memory reducer decides the process
// is idle (tens of seconds later), not on a forced GC (quietRss below). That last figure is
// what a gateway holding N idle connections costs in the steady state.
// The native core alone (native/tools/ficus_server, no Node) is measured
// beside the two gateways as a reference for the core's own cost, and the
// native gateway once more with --auth-secret ("native, granted"): every
// subscriber presents a JWT, so each connection carries a Grant (its order
// topic as the one pattern it may subscribe to) and an expiry timer.

const path = require('node:path');
const { interleaved, withGateway, runStandalone } = require('../lib/scenario');
const { Subscribers } = require('../lib/loadgen');
const { readProc } = require('../lib/proc');
const { sleep, CoreServer, ROOT } = require('../lib/gateway');
const { spreadOf } = require('../lib/stats');
const { writeTokens, removeTokens } = require('../lib/tokens');

const CONFIG = {
  full: { sizes: [5000, 10000, 19000], connectRate: 4000, settleMs: 3000, quietMs: 120000 },
  quick: { sizes: [1000, 2000], connectRate: 4000, settleMs: 1500, quietMs: 0 },
};

const GC_HOOK = path.join(ROOT, 'bench', 'lib', 'gc-hook.js');
const AUTH_SECRET = 'capacity-bench-secret';
const SERVERS = [
  { name: 'legacy', nativePercent: 0 },
  { name: 'native', nativePercent: 100 },
  { name: 'native, granted', nativePercent: 100, authSecret: AUTH_SECRET },
];

// Connects `size` idle subscribers to the server `pid` listens on `port`;
// `extra(open)` adds figures while they are still connected.
async function measure(cfg, { server, rep, size, pid, port, tokensFile = null }, extra = async () => ({})) {
  await sleep(1000);
  const idle = readProc(pid);
  const subs = new Subscribers({ port, count: size, connectRate: cfg.connectRate, serverPid: pid, tokensFile });
  try {
    const c = await subs.connected(Math.ceil(size / cfg.connectRate) * 1000 + 90000);
    await sleep(cfg.settleMs);
    const st = await subs.status();
    const withN = readProc(pid);
    const per = (bytes) => (st.open > 0 ? Math.round(bytes / st.open) : null);
    return {
      server, rep, size,
      open: st.open, failed: c.failed, failures: c.failures, attempts: c.attempts,
      rssIdle: idle.rss, rssWithN: withN.rss,
      bytesPerConnection: per(withN.rss - idle.rss),
      connectElapsedMs: Math.round(c.elapsedMs),
      connectRatePerS: Math.round(st.open / (c.elapsedMs / 1000)),
      connect: c.connect,
      serverFds: withN.fds,
      serverThreads: withN.threads,
      ...(await extra({ idle, per })),
    };
  } finally {
    await subs.stop();
  }
}

// RSS once V8's memory reducer has given the young generation back: it
// runs when it finds the process idle, some tens of seconds after the
// burst (measured 20 to 50 s at 19,000, varying from run to run, so a fixed
// wait reads it before or after by chance). Polls until RSS has fallen by
// half of what the connections added (then reads again after a settle), or
// until maxMs: the figure and when it was read.
async function quietRss(pid, idle, afterGc, maxMs) {
  const start = Date.now();
  const added = afterGc.rss - idle.rss;
  while (Date.now() - start < maxMs) {
    await sleep(2000);
    if (readProc(pid).rss - idle.rss < added / 2) {
      await sleep(4000);
      break;
    }
  }
  return { rss: readProc(pid).rss, afterMs: Date.now() - start };
}

function logRun(ctx, cfg, r) {
  ctx.log(`  capacity ${r.server} n=${r.size} rep ${r.rep + 1}: open ${r.open}/${r.size}, RSS ${(r.rssIdle / 2 ** 20).toFixed(1)} → ${(r.rssWithN / 2 ** 20).toFixed(1)} MiB ` +
    `(${r.bytesPerConnection} B/conn${r.bytesPerConnectionAfterGc !== undefined ? `; after a full GC ${r.bytesPerConnectionAfterGc} B/conn, JS heap kept ${r.jsHeapPerConnection} B/conn` : ''}` +
    `${r.bytesPerConnectionQuiet ? `; quiet ${Math.round(r.quietAfterMs / 1000)} s later ${r.bytesPerConnectionQuiet} B/conn` : ''}), ` +
    `connected in ${r.connectElapsedMs} ms (handshake P50 ${r.connect.p50} ms, P99 ${r.connect.p99} ms)` +
    `${r.failed ? `, failed ${r.failed} ${JSON.stringify(r.failures)}` : ''}`);
}

// `tokensFile`: subscribers' JWTs, for a server with an authSecret.
function measureGateway(ctx, cfg, server, rep, size, tokensFile) {
  return withGateway(ctx, server, async (gw) => {
    const gc0 = await gw.gcReport();
    return measure(cfg, { server: server.name, rep, size, pid: gw.pid, port: gw.port, tokensFile: server.authSecret ? tokensFile : null }, async ({ idle, per }) => {
      const stats = await gw.stats(30000);
      const gc1 = await gw.gcReport();
      await sleep(1000);
      const afterGc = readProc(gw.pid);
      const quiet = cfg.quietMs > 0 && size === Math.max(...cfg.sizes) ? await quietRss(gw.pid, idle, afterGc, cfg.quietMs) : null;
      return {
        rssAfterGc: afterGc.rss,
        bytesPerConnectionAfterGc: per(afterGc.rss - idle.rss),
        rssQuiet: quiet ? quiet.rss : null,
        quietAfterMs: quiet ? quiet.afterMs : null,
        bytesPerConnectionQuiet: quiet ? per(quiet.rss - idle.rss) : null,
        jsHeapPerConnection: per(gc1.after.heapUsed - gc0.after.heapUsed),
        heapTotalWithN: gc1.before.heapTotal,
        pathConnections: { native: stats.paths.native.connections, legacy: stats.paths.legacy.connections },
      };
    });
  }, { nodeFlags: ['--expose-gc', '--require', GC_HOOK], authSecret: server.authSecret ?? null });
}

async function measureCore(ctx, cfg, rep, size) {
  const core = new CoreServer({ threads: ctx.threads });
  await core.start();
  ctx.gatewayCommands.add(core.command);
  try {
    return await measure(cfg, { server: 'core alone', rep, size, pid: core.pid, port: core.port });
  } finally {
    await core.stop();
  }
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const runs = [];
  const record = (r) => {
    logRun(ctx, cfg, r);
    runs.push(r);
  };
  // Minted once, for the largest size (line i is subscriber i's, whatever
  // the size): every granted gateway of the run uses the same file.
  const tokensFile = await writeTokens({ secret: AUTH_SECRET, count: Math.max(...cfg.sizes) });
  try {
    await interleaved(ctx, async (server, rep) => {
      for (const size of cfg.sizes) record(await measureGateway(ctx, cfg, server, rep, size, tokensFile));
      // The core alone, once per repetition, right after the native gateway.
      if (server.name === 'native') for (const size of cfg.sizes) record(await measureCore(ctx, cfg, rep, size));
    }, SERVERS);
  } finally {
    removeTokens(tokensFile);
  }
  const summary = [];
  for (const server of [...SERVERS.map((s) => s.name), 'core alone']) {
    for (const size of cfg.sizes) {
      const rs = runs.filter((r) => r.server === server && r.size === size);
      if (rs.length === 0) continue;
      summary.push({
        server, size,
        open: spreadOf(rs, (r) => r.open),
        rssIdle: spreadOf(rs, (r) => r.rssIdle),
        rssWithN: spreadOf(rs, (r) => r.rssWithN),
        rssAfterGc: spreadOf(rs, (r) => r.rssAfterGc),
        bytesPerConnection: spreadOf(rs, (r) => r.bytesPerConnection),
        bytesPerConnectionAfterGc: spreadOf(rs, (r) => r.bytesPerConnectionAfterGc),
        bytesPerConnectionQuiet: spreadOf(rs, (r) => r.bytesPerConnectionQuiet),
        quietAfterMs: spreadOf(rs, (r) => r.quietAfterMs),
        jsHeapPerConnection: spreadOf(rs, (r) => r.jsHeapPerConnection),
        connectElapsedMs: spreadOf(rs, (r) => r.connectElapsedMs),
        connectP50: spreadOf(rs, (r) => r.connect.p50),
        connectP99: spreadOf(rs, (r) => r.connect.p99),
        failed: rs.reduce((a, r) => a + r.failed, 0),
      });
    }
  }
  return { config: cfg, runs, summary };
}

module.exports = { name: 'capacity', title: 'Capacity: idle subscribers', run, CONFIG };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
