'use strict';
// scale: the example gateway as a cluster (WORKERS=6 behind one port, each
// worker with its own native core and Redis bridge; the primary deals the
// connections out round-robin) holding 100,000 concurrent subscribers from
// several load-generator processes and source addresses, once all native
// (100 %) and once all legacy (0 %). Per run: connections held, connect
// time, the resident memory of the whole gateway (VmRSS of the primary and
// every worker, read from /proc) and what each connection adds (after a
// full GC in every process and quietMs of quiet, idle and with N, so garbage
// the handshakes left behind is not counted; the figure right after
// connecting is kept too), then P50/P99
// latency at 10,000 events/s published through Redis (a /publish connection
// to one worker -> Redis -> every worker -> its own subscribers; each event
// reaches one subscriber), after lower rates that show where the knee is.
// Last, the control: the syscall floor holding the same subscribers with
// the same load generators (measureFloor), so a run says what this machine
// itself adds to the latency that day.
//
// Targets (docs/scaling.md): 100,000 held on native, <= 1.5 KB added RSS per
// connection, P99 <= 20 ms; the legacy figures beside them.
//
//   node bench/scenarios/scale.js [--quick] [--addon=PATH]

const path = require('node:path');
const { Gateway, FloorServer, sleep } = require('../lib/gateway');
const { Subscribers, Fleets, Publisher, runPhase } = require('../lib/loadgen');
const { readProc } = require('../lib/proc');
const { using, runStandalone } = require('../lib/scenario');
const { startRedis } = require('../../test/js/support/redis-server');
const { StreamHops, coreDelta } = require('../lib/stream-hops');
const { describeLate, lateEpisodes } = require('../lib/late-slots');

// maxSemiSpaceMb: node's --max-semi-space-size for every gateway process,
// both paths (0: V8's default, 16 MiB here). Each upgrade passes through
// Node's HTTP server, and a connection storm grows V8's young generation to
// its maximum in every worker; V8 returns it only when its memory reducer
// finds a process idle, which took from seconds to over a minute in these
// runs, so the memory figure measured V8's timing more than the
// connections. A small young generation is what docs/scaling.md recommends
// for processes that hold tens of thousands of connections.
const CONFIG = {
  // redisBatchMs: the gateway's --redis-batch-ms. Each worker wakes once per
  // Redis message; the publishing worker's turns (about one a millisecond at
  // these rates) would otherwise each be a message for all six.
  // warmupMs: before the measured phases, the target rate for this long,
  // reported as the warm-up and not measured for the target. The first
  // seconds of load on fresh workers are V8 compiling the hot path in seven
  // processes at once on two cores: P99 0.3-2 s there, 35-60 ms in the same
  // run's next phase at the same rate (bench/analysis.md).
  // hops: a reader of the stream beside the workers splits each phase's
  // latency at Redis (bench/lib/stream-hops.js); off by default, it is one
  // more process reading every event.
  // publishers: /publish connections (the primary deals them to workers
  // round-robin like any other connection, so each is ingested by another
  // worker).
  // publishVia: 'gateway' (a /publish connection, as above) or 'redis'
  // (stream servers only: a publisher that XADDs to the stream itself, as a
  // backend service may, bench/lib/redis-publisher.js).
  // nodeFlags: more node flags for every gateway process (experiments).
  // idleSubscribers: connections held beside the measured subscribers, on
  // orders nothing is published to (an experiment: what holding
  // connections costs, apart from delivering to them).
  // perProcess: subscribers per load-generator process. Each process costs
  // its own wake-ups and scheduling on the two cores the gateway uses:
  // 20 processes of 5,000 took 23.7-26 % CPU at 10,000 events/s, 8 of 12,500
  // 16.7-18.1 % (under the 20,000 descriptors a process may hold).
  full: { subscribers: 100000, workers: 6, threads: 1, connectRate: 5000, settleMs: 5000, quietMs: 30000, rates: [2000, 5000, 10000], durationMs: 10000, warmupMs: 5000, perProcess: 12500, redisBatchMs: 5, maxSemiSpaceMb: 2, servers: ['native', 'native-js-writer', 'native-js-reader', 'legacy', 'native-pubsub', 'floor'], hops: false, publishers: 1, publishVia: 'gateway', nodeFlags: [], idleSubscribers: 0 },
  quick: { subscribers: 6000, workers: 3, threads: 1, connectRate: 3000, settleMs: 2000, quietMs: 3000, rates: [2000], durationMs: 5000, warmupMs: 2000, perProcess: 5000, redisBatchMs: 5, maxSemiSpaceMb: 2, servers: ['native', 'legacy', 'native-pubsub', 'floor'], hops: false, publishers: 1, publishVia: 'gateway', nodeFlags: [], idleSubscribers: 0 },
};

const TARGETS = { held: 100000, bytesPerConnection: 1536, p99Ms: 20 };

// Native first: it is the one with targets. Both paths on the Redis Stream
// (the bridge's default mode), then native on plain pub/sub beside them:
// what reading the stream costs against fire-and-forget, in one run.
const SERVERS = [
  { name: 'native', nativePercent: 100, redisMode: 'stream' },
  // The stream read on each worker's JS thread, as before the core read it
  // itself: what the core's reader saves, side by side (full mode only).
  { name: 'native-js-reader', nativePercent: 100, redisMode: 'stream', redisReader: 'js' },
  // /publish's events written to the stream by the publishing worker's JS
  // thread, as before the core wrote them itself (full mode only).
  { name: 'native-js-writer', nativePercent: 100, redisMode: 'stream', redisWriter: 'js' },
  { name: 'legacy', nativePercent: 0, redisMode: 'stream' },
  { name: 'native-pubsub', nativePercent: 100, redisMode: 'pubsub' },
  // The control: what the same connections, clients and rates cost this
  // machine with nothing between the publisher and the sockets but the
  // kernel (measureFloor).
  { name: 'floor', floor: true },
];

// On SIGUSR2 a full GC (workers inherit the primary's node flags).
const GC_FLAGS = ['--expose-gc', '--require', path.join(__dirname, '..', 'lib', 'gc-hook.js')];

// The bench's gateway, as a cluster on Redis.
class ClusterGateway extends Gateway {
  constructor({ workers, redisUrl, redisMode, redisReader = 'auto', redisWriter = 'auto', redisBatchMs, ...options }) {
    super({ ...options, nodeFlags: [...GC_FLAGS, ...(options.maxSemiSpaceMb ? [`--max-semi-space-size=${options.maxSemiSpaceMb}`] : []), ...(options.nodeFlags || [])] });
    this.workers = workers;
    this.redisUrl = redisUrl;
    this.redisMode = redisMode;
    this.redisReader = redisReader;
    this.redisWriter = redisWriter;
    this.redisBatchMs = redisBatchMs;
  }

  get args() {
    return [...super.args, '--workers', String(this.workers), '--redis', this.redisUrl, '--redis-mode', this.redisMode,
      '--redis-batch-ms', String(this.redisBatchMs), '--redis-reader', this.redisReader, '--redis-writer', this.redisWriter];
  }
}

// Every process of the gateway: the primary and the workers /stats names.
async function gatewayPids(gw) {
  const stats = await gw.stats(60000);
  return { stats, pids: [stats.cluster.primaryPid, ...stats.workers.map((w) => w.pid)] };
}

// A full GC in every process of the gateway, then time to return pages.
async function collect(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      // gone: sumProc() will count what is left
    }
  }
  await sleep(1500);
}

function sumProc(pids) {
  const procs = pids.map((pid) => {
    const p = readProc(pid);
    return p && { ...p, pid };
  }).filter(Boolean);
  return {
    each: procs,
    processes: procs.length,
    rss: procs.reduce((a, p) => a + p.rss, 0),
    // The issue's figure counts the workers only: pids[0] is the primary.
    workersRss: procs.filter((p) => p.pid !== pids[0]).reduce((a, p) => a + p.rss, 0),
    cpuNs: procs.reduce((a, p) => a + p.cpuNs, 0),
    maxFds: Math.max(...procs.map((p) => p.fds || 0)),
  };
}

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);

async function measure(ctx, server, redis, cfg) {
  const viaRedis = cfg.publishVia === 'redis';
  if (viaRedis && server.redisMode !== 'stream') throw new Error(`publishVia "redis" needs the stream; ${server.name} runs ${server.redisMode}`);
  const gw = new ClusterGateway({ nativePercent: server.nativePercent, threads: cfg.threads, workers: cfg.workers, maxSemiSpaceMb: cfg.maxSemiSpaceMb, nodeFlags: cfg.nodeFlags,
    redisUrl: redis.url, redisMode: server.redisMode, redisReader: server.redisReader, redisWriter: server.redisWriter, redisBatchMs: cfg.redisBatchMs, addon: ctx.addon });
  ctx.gatewayCommands.add(`WORKERS=${cfg.workers} ${gw.command.replace(/ --workers \d+ --redis \S+/, ' --redis <url>')}`);
  try {
    await gw.start();
    await sleep(2000);
    const { pids } = await gatewayPids(gw);
    // Both RSS readings are taken after a full GC and quietMs of quiet:
    // fresh workers still hold their start-up garbage, and V8 returns its
    // grown young generation only once its memory reducer finds a process
    // idle, so an early reading of either is not the steady state.
    await collect(pids);
    await sleep(cfg.quietMs);
    const idle = sumProc(pids);
    ctx.log(`  ${server.name}: ${pids.length - 1} workers up, gateway RSS ${mib(idle.rss)} MiB idle; connecting ${cfg.subscribers} subscribers`);
    const subs = new Subscribers({ port: gw.port, count: cfg.subscribers, perProcess: cfg.perProcess, connectRate: cfg.connectRate, serverPid: gw.pid, maxSeconds: 1800 });
    const pub = new Publisher({ port: gw.port, publishers: cfg.publishers, orders: cfg.subscribers, serverPid: gw.pid, maxSeconds: 1800,
      ...(viaRedis ? { redisUrl: redis.url, batchMs: cfg.redisBatchMs } : {}) });
    const hops = cfg.hops && server.redisMode === 'stream' ? new StreamHops({ url: redis.url }) : null;
    const idleSubs = cfg.idleSubscribers > 0 ? new Subscribers({ port: gw.port, count: cfg.idleSubscribers, orders: cfg.subscribers + cfg.idleSubscribers,
      firstIndex: cfg.subscribers, clientPrefix: 'i', perProcess: cfg.perProcess, connectRate: cfg.connectRate, serverPid: gw.pid, maxSeconds: 1800 }) : null;
    return await using([subs, pub, hops, idleSubs], async () => {
      if (hops) await hops.open();
      if (idleSubs) {
        const ic = await idleSubs.connected(Math.ceil(cfg.idleSubscribers / cfg.connectRate) * 1000 + 120000);
        ctx.log(`  ${server.name}: ${ic.open} idle subscribers held beside (failed ${ic.failed})`);
      }
      const c = await subs.connected(Math.ceil(cfg.subscribers / cfg.connectRate) * 1000 + 120000);
      await sleep(cfg.settleMs);
      const held = await subs.status();
      const { stats } = await gatewayPids(gw);
      const raw = sumProc(pids);
      await collect(pids);
      await sleep(cfg.quietMs);
      const withN = sumProc(pids);
      const perWorker = stats.workers.map((w) => (w.paths ? w.paths.native.connections + w.paths.legacy.connections : null));
      const perConnection = (rss, base = idle.rss) => (held.open > 0 ? Math.round((rss - base) / held.open) : null);
      // The target's definition: all workers' RSS with the connections minus
      // their RSS idle, per connection. The whole gateway (with the cluster
      // primary, which deals the connections out) is reported beside it.
      const bytesPerConnection = perConnection(withN.workersRss, idle.workersRss);
      const bytesPerConnectionWithPrimary = perConnection(withN.rss);
      ctx.log(`  ${server.name}: held ${held.open}/${cfg.subscribers} (failed ${c.failed}${c.failed ? ` ${JSON.stringify(c.failures)}` : ''}) ` +
        `in ${Math.round(c.elapsedMs)} ms, handshake P50 ${c.connect.p50} P99 ${c.connect.p99} ms; per worker ${perWorker.join(' / ')}; ` +
        `workers' RSS ${mib(idle.workersRss)} -> ${mib(withN.workersRss)} MiB = ${bytesPerConnection} B/connection quiet after GC ` +
        `(${perConnection(raw.workersRss, idle.workersRss)} right after connecting); with the primary ${mib(idle.rss)} -> ${mib(withN.rss)} MiB = ${bytesPerConnectionWithPrimary} B/connection`);

      await pub.ready();
      const target = cfg.rates[cfg.rates.length - 1];
      const load = { gw, subs, pub, pids, hops };
      const warmup = cfg.warmupMs > 0 ? await phase(ctx, server, load, target, cfg.warmupMs, 'warm-up') : null;
      const phases = [];
      for (const rate of cfg.rates) phases.push(await phase(ctx, server, load, rate, cfg.durationMs));
      const r = phases[phases.length - 1]; // the target rate
      return {
        server: server.name,
        nativePercent: server.nativePercent,
        redisMode: server.redisMode,
        workers: cfg.workers,
        subscribers: cfg.subscribers,
        held: held.open,
        failed: c.failed,
        failures: c.failures,
        connectElapsedMs: Math.round(c.elapsedMs),
        connectRatePerS: Math.round(held.open / (c.elapsedMs / 1000)),
        connect: c.connect,
        perWorkerConnections: perWorker,
        pathConnections: { native: stats.paths.native.connections, legacy: stats.paths.legacy.connections },
        gatewayProcesses: withN.processes,
        maxFdsPerProcess: withN.maxFds,
        rssIdle: idle.rss,
        rssWithN: withN.rss,
        rssWithNBeforeGc: raw.rss,
        rssIdleWorkers: idle.workersRss,
        rssWithNWorkers: withN.workersRss,
        rssByProcess: { idle: idle.each.map((p) => p.rss), withN: withN.each.map((p) => p.rss), raw: raw.each.map((p) => p.rss) },
        bytesPerConnection,
        bytesPerConnectionBeforeGc: perConnection(raw.workersRss, idle.workersRss),
        bytesPerConnectionWithPrimary,
        ...r,
        phases,
        warmup,
      };
    });
  } catch (err) {
    err.message += ` (gateway log: ${gw.log.slice(-8).join(' | ')})`;
    throw err;
  } finally {
    await gw.stop();
  }
}

// The syscall floor as the control (bench/floor: one thread, one epoll set,
// one send(2) per delivery): one floor process per load-generator process,
// each holding that process's subscribers (a fleet of its own, orders
// 0..n-1), and one publisher process with a connection to every floor
// (publisher i feeds floor i, at rate / floors). The same load generators,
// connections and rates as the gateway's run; no Redis, no cluster, no
// JavaScript, no fan-in (a floor receives only its own share), no
// heartbeats. What is late here is the machine's: its kernel, its
// scheduler and the load generators.
async function measureFloor(ctx, server, cfg) {
  const count = Math.ceil(cfg.subscribers / cfg.perProcess);
  const share = Math.floor(cfg.subscribers / count);
  const floors = Array.from({ length: count }, () => new FloorServer());
  try {
    for (const f of floors) await f.start();
    const pids = floors.map((f) => f.pid);
    await sleep(1000);
    const idle = sumProc(pids);
    ctx.log(`  ${server.name}: ${count} floor processes up, RSS ${mib(idle.rss)} MiB idle; connecting ${share * count} subscribers (${share} each)`);
    const subs = new Fleets(floors.map((f, i) => new Subscribers({ port: f.port, count: share, orders: share, perProcess: share,
      connectRate: cfg.connectRate / count, serverPid: f.pid, maxSeconds: 1800, clientPrefix: `f${i}-`, fromPublisher: i })));
    const pub = new Publisher({ ports: floors.map((f) => f.port), orders: share, serverPid: floors[0].pid, maxSeconds: 1800 });
    return await using([subs, pub], async () => {
      const c = await subs.connected(Math.ceil(cfg.subscribers / cfg.connectRate) * 1000 + 120000);
      await sleep(cfg.settleMs);
      const { open: held } = await subs.status();
      const withN = sumProc(pids);
      const bytesPerConnection = held > 0 ? Math.round((withN.rss - idle.rss) / held) : null;
      ctx.log(`  ${server.name}: held ${held}/${share * count} (failed ${c.failed}) in ${Math.round(c.elapsedMs)} ms, handshake P50 ${c.connect.p50} P99 ${c.connect.p99} ms; ` +
        `RSS ${mib(idle.rss)} -> ${mib(withN.rss)} MiB = ${bytesPerConnection} B/connection`);
      await pub.ready();
      const load = { gw: floors[0], subs, pub, pids, hops: null, via: 'straight to the floors' };
      const target = cfg.rates[cfg.rates.length - 1];
      const warmup = cfg.warmupMs > 0 ? await phase(ctx, server, load, target, cfg.warmupMs, 'warm-up') : null;
      const phases = [];
      for (const rate of cfg.rates) phases.push(await phase(ctx, server, load, rate, cfg.durationMs));
      return {
        server: server.name,
        processes: count,
        subscribers: share * count,
        held,
        failed: c.failed,
        failures: c.failures,
        connectElapsedMs: Math.round(c.elapsedMs),
        connect: c.connect,
        perWorkerConnections: floors.map(() => share),
        rssIdle: idle.rss,
        rssWithN: withN.rss,
        bytesPerConnection,
        ...phases[phases.length - 1],
        phases,
        warmup,
      };
    });
  } finally {
    for (const f of floors) if (f.child) await f.stop();
  }
}

// One rate for durationMs: latency, delivery, CPU of every gateway process,
// and what each worker's bridge saw (a subscriber Redis cut off for falling
// behind shows as a reconnect).
async function phase(ctx, server, { gw, subs, pub, pids, hops, via = 'through Redis' }, rate, durationMs, label = '') {
  const before = hops ? (await gatewayPids(gw)).stats : null;
  const cpuBefore = sumProc(pids);
  // The stream reader gets a moment after the last send for the last batch.
  const probe = hops ? { onStart: () => hops.start(), onEnd: () => sleep(500).then(() => hops.summary()) } : {};
  const r = await runPhase({ gateway: gw, subs, pub, rate, durationMs, ...probe });
  const cpuAfter = sumProc(pids);
  // The floor has no /stats.
  const after = server.floor ? null : (await gatewayPids(gw)).stats;
  const pct = (ns) => Math.round((ns / 1e9 / (r.windowMs / 1000)) * 1000) / 10;
  const gatewayCpuPct = pct(cpuAfter.cpuNs - cpuBefore.cpuNs);
  // [primary, worker 0, worker 1, ...]
  const cpuPctByProcess = cpuAfter.each.map((p, i) => (cpuBefore.each[i] ? pct(p.cpuNs - cpuBefore.each[i].cpuNs) : null));
  const bridge = !after ? [] : after.workers.map((w) => (w.bridge ? {
    worker: w.worker, state: w.bridge.state, received: w.bridge.received, published: w.bridge.published,
    dropped: w.bridge.dropped, reconnects: w.bridge.reconnects, disconnectedMs: w.bridge.disconnectedMs,
  } : null));
  const reconnects = bridge.reduce((a, b) => a + (b ? b.reconnects : 0), 0);
  ctx.log(`  ${server.name}${label ? ` ${label}` : ''} @ ${rate}/s: ${r.sent} events (${r.achievedRate}/s) ${via}, delivered ${r.deliveredPct} % ` +
    `(lost ${r.lost}, dup ${r.dup}), P50 ${r.latency.p50} P99 ${r.latency.p99} P99.9 ${r.latency.p999} max ${r.latency.max} ms; ` +
    `${server.floor ? `floors ${gatewayCpuPct} % CPU (${cpuPctByProcess.join(' / ')})` : `gateway ${gatewayCpuPct} % CPU (primary, workers: ${cpuPctByProcess.join(' / ')})`}, load generators ${r.loadgen.cpuPct} % CPU` +
    `${reconnects ? `; bridge reconnects so far ${reconnects}` : ''}`);
  ctx.log(`    when: ${describeLate(r.timeline, TARGETS.p99Ms)}`);
  if (r.atEnd) {
    r.atEnd.coreMs = coreDelta(before, after);
    const h = r.atEnd;
    const line = (x) => `P50 ${x.p50} P90 ${x.p90} P99 ${x.p99} max ${x.max} ms`;
    ctx.log(`    split at Redis (${h.toRedisMs.count} entries, ${h.xreadReplies} XREAD replies): sent -> XADD ${line(h.toRedisMs)}; ` +
      `sent -> a reader ${line(h.toReaderMs)}; in the native cores ${line(h.coreMs)}`);
  }
  return {
    rate,
    durationMs,
    sent: r.sent,
    achievedRate: r.achievedRate,
    expected: r.expected,
    deliveredPct: r.deliveredPct,
    lost: r.lost,
    dup: r.dup,
    ooo: r.ooo,
    latency: r.latency,
    gatewayCpuPct,
    cpuPctByProcess,
    windowMs: r.windowMs,
    loadgenCpuPct: r.loadgen.cpuPct,
    bridge,
    hops: r.atEnd || null,
    // Episodes in which an event was later than the P99 target.
    late: { startMs: r.timeline.startMs, slotMs: r.timeline.slotMs, slots: r.timeline.worstMs.length, episodes: lateEpisodes(r.timeline, TARGETS.p99Ms) },
  };
}

function verdict(native) {
  if (!native) return null;
  return {
    held: { target: TARGETS.held, measured: native.held, met: native.held >= TARGETS.held },
    bytesPerConnection: { target: TARGETS.bytesPerConnection, measured: native.bytesPerConnection, met: native.bytesPerConnection !== null && native.bytesPerConnection > 0 && native.bytesPerConnection <= TARGETS.bytesPerConnection },
    p99Ms: { target: TARGETS.p99Ms, measured: native.latency.p99, met: native.latency.p99 !== null && native.latency.p99 <= TARGETS.p99Ms },
  };
}

async function run(ctx) {
  const cfg = ctx.config(CONFIG);
  const redis = await startRedis();
  ctx.log(`  redis-server pid ${redis.pid} on ${redis.url}`);
  const runs = [];
  try {
    for (const server of SERVERS.filter((s) => cfg.servers.includes(s.name))) {
      try {
        runs.push(await (server.floor ? measureFloor(ctx, server, cfg) : measure(ctx, server, redis, cfg)));
      } catch (err) {
        // Reported, not hidden: the other path still runs.
        ctx.log(`  ${server.name}: FAILED: ${err.message}`);
        runs.push({ server: server.name, error: err.message });
      }
    }
  } finally {
    await redis.stop();
  }
  const targets = verdict(runs.find((r) => r.server === 'native' && !r.error));
  if (targets) {
    for (const [name, t] of Object.entries(targets)) ctx.log(`  ${t.met ? 'met   ' : 'MISSED'} ${name}: ${t.measured} (target ${t.target})`);
  }
  return { config: cfg, targets, runs };
}

module.exports = { name: 'scale', title: 'Scale: a cluster on Redis, 100,000 subscribers', run, CONFIG, TARGETS };

if (require.main === module) runStandalone(module.exports).catch((err) => { console.error(err); process.exitCode = 1; });
