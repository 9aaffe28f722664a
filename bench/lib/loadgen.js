'use strict';
// Drives ficus_loadgen processes (bench/loadgen/main.cc) over pipes:
// commands on their stdin, one JSON report per line on their stdout.
// Subscribers are spread over several processes so each stays far below
// the 20,000-descriptor ceiling; every process gets a hard --max-seconds.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const hist = require('./hist');
const { mergeSlots } = require('./late-slots');
const { readProc, readSystemCpu } = require('./proc');
const { ROOT } = require('./gateway');
const { track } = require('./children');

const LOADGEN = path.join(ROOT, 'build-native', 'release', 'ficus_loadgen');
const REDIS_PUBLISHER = path.join(__dirname, 'redis-publisher.js');
const PER_PROCESS = 5000; // subscribers per load-generator process
const SOURCE_IPS = 8; // 127.0.0.2 .. 127.0.0.9

class LoadgenProcess {
  // command: the load generator, or node for a script that speaks its
  // protocol (bench/lib/redis-publisher.js).
  constructor(name, args, maxSeconds, command = LOADGEN) {
    this.name = name;
    // A subscriber process fed by one publisher of several (Subscribers'
    // fromPublisher): expects that publisher's events only. null: all.
    this.fromPublisher = null;
    this.args = [...args, '--max-seconds', String(maxSeconds)];
    this.child = track(spawn(command, this.args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    this.pid = this.child.pid;
    this.queue = []; // messages not yet taken
    this.waiters = [];
    this.stderr = [];
    this.exitInfo = null;
    let buffered = '';
    this.child.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          msg = { type: 'garbled', line };
        }
        this.queue.push(msg);
        this.wake();
      }
    });
    this.child.stderr.on('data', (chunk) => {
      this.stderr.push(chunk.toString());
      if (this.stderr.length > 50) this.stderr.shift();
    });
    this.child.stdin.on('error', () => {}); // a dead child is reported by next()
    this.child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      this.wake();
    });
    this.child.on('error', (err) => {
      this.exitInfo = { error: err.message };
      this.wake();
    });
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(line) {
    if (this.exitInfo) throw new Error(`${this.name} has exited (${JSON.stringify(this.exitInfo)}): ${this.stderr.join('').slice(-500)}`);
    this.child.stdin.write(`${line}\n`);
  }

  // The next message of `type` (others of different types stay queued).
  async next(type, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const [msg] = this.queue.splice(i, 1);
        if (msg.type === 'error') throw new Error(`${this.name}: ${msg.error}`);
        return msg;
      }
      if (this.exitInfo) {
        throw new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) while waiting for '${type}': ${this.stderr.join('').slice(-500)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async request(command, type, timeoutMs = 10000) {
    this.send(command);
    return this.next(type, timeoutMs);
  }

  // Asks politely, then SIGKILL if it does not exit.
  async stop() {
    if (this.exitInfo) return;
    try {
      this.child.stdin.end('quit\n');
    } catch {
      // already closed
    }
    const exited = new Promise((r) => this.child.once('exit', r));
    let timer;
    const t = await Promise.race([exited.then(() => 'ok'), new Promise((r) => { timer = setTimeout(() => r('timeout'), 5000); })]);
    clearTimeout(timer);
    if (t === 'timeout' && !this.exitInfo) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

function checkBinary() {
  if (!fs.existsSync(LOADGEN)) {
    throw new Error(`${LOADGEN} is missing: build it with \`node scripts/build-core.js release\``);
  }
}

// Cyclic driver-topic sizes (20, 40, ..., 100 subscribers) adding up to
// `total` fan-out subscribers.
function driverSizes(total, cycle = [20, 40, 60, 80, 100]) {
  const sizes = [];
  let left = total;
  for (let i = 0; left > 0 && i < 10000; i += 1) {
    const s = Math.min(cycle[i % cycle.length], left);
    sizes.push(s);
    left -= s;
  }
  return sizes;
}

// Subscriber processes, however they were started: what a phase needs.
class SubscriberProcs {
  constructor(procs = []) {
    this.procs = procs;
  }

  get pids() {
    return this.procs.map((p) => p.pid);
  }

  // Waits until every process has tried every connection.
  async connected(timeoutMs) {
    const started = Date.now();
    const msgs = await Promise.all(this.procs.map((p) => p.next('connected', timeoutMs)));
    const failures = {};
    for (const m of msgs) {
      for (const [k, v] of Object.entries(m.failures)) failures[k] = (failures[k] || 0) + v;
    }
    return {
      open: msgs.reduce((a, m) => a + m.open, 0),
      failed: msgs.reduce((a, m) => a + m.failed, 0),
      attempts: msgs.reduce((a, m) => a + m.attempts, 0),
      elapsedMs: Math.max(...msgs.map((m) => m.elapsed_ms)),
      waitedMs: Date.now() - started,
      failures,
      connect: hist.summaryMs(hist.merge(msgs.map((m) => m.connect_ns))),
      groups: [0, 1].map((g) => msgs.reduce((a, m) => a + m.groups[g], 0)),
    };
  }

  async status() {
    const msgs = await Promise.all(this.procs.map((p) => p.request('status', 'status')));
    return {
      open: msgs.reduce((a, m) => a + m.open, 0),
      closed: msgs.reduce((a, m) => a + m.closed, 0),
    };
  }

  async stop() {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

// A fleet of subscriber processes: subscriber i follows order:o<i mod orders>
// (and a driver topic when fanoutEvery divides i).
class Subscribers extends SubscriberProcs {
  constructor({ port, count, orders = count, connectRate, serverPid, fanoutEvery = 0, sizes = [],
    splitPercent = -1, maxSeconds = 900, idleMs = 2000, drainMaxMs = 20000, perProcess = PER_PROCESS, wildcard = false, recover = false,
    stormGroup = 0, tokensFile = null, clientPrefix = wildcard ? 'w' : 'c', fromPublisher = null, firstIndex = 0 }) {
    super();
    this.count = count;
    this.orders = orders;
    this.drivers = sizes.length;
    const nproc = Math.ceil(count / perProcess);
    for (let p = 0; p < nproc; p += 1) {
      const n = Math.min(perProcess, count - p * perProcess);
      // Global indices from firstIndex: a second fleet can follow other orders.
      const first = firstIndex + p * perProcess;
      const args = ['--mode', 'sub', '--port', String(port), '--first', String(first), '--count', String(n),
        '--orders', String(orders), '--src-ips', String(SOURCE_IPS),
        '--connect-rate', String(connectRate / nproc), '--server-pid', String(serverPid),
        '--idle-ms', String(idleMs), '--drain-max-ms', String(drainMaxMs)];
      if (fanoutEvery > 0 && sizes.length > 0) {
        args.push('--fanout-every', String(fanoutEvery), '--driver-sizes', sizes.join(','));
      }
      if (splitPercent >= 0) args.push('--split-percent', String(splitPercent), '--split-salt', 'ficus');
      // Every subscriber follows order:* and expects every event (group 1).
      if (wildcard) args.push('--wildcard', '1');
      // client_id = <prefix><i>: a second fleet beside the first takes its
      // own identities.
      args.push('--client-prefix', clientPrefix);
      // Positions (recover=1), for the storm command (bench/scenarios/history.js).
      if (recover) args.push('--recover', '1');
      // Line i: subscriber i's token (bench/lib/tokens.js), for a gateway
      // started with --auth-secret.
      if (tokensFile) args.push('--tokens-file', tokensFile);
      // The first stormGroup subscribers (spread over the processes) are
      // the ones a `storm` command drops: latency group 1.
      if (stormGroup > 0) args.push('--storm-group', String(Math.round((stormGroup * n) / count)));
      const proc = new LoadgenProcess(`subscribers[${p}]`, args, maxSeconds);
      // Publisher i of a Publisher with `ports` reaches only the server on
      // port i: its fleet expects that publisher's events and no others.
      proc.fromPublisher = fromPublisher;
      this.procs.push(proc);
    }
  }
}

// Several fleets as one (the floor control: a fleet per server process,
// each fed by its own publisher of a Publisher with `ports`).
class Fleets extends SubscriberProcs {
  constructor(fleets) {
    super(fleets.flatMap((f) => f.procs));
  }
}

class Publisher {
  // Through the gateway's /publish, or with redisUrl straight into its
  // Redis Stream, one batch window of events per EVAL as the gateway's
  // bridge sends them (one publisher; bench/lib/redis-publisher.js).
  // ports: one publisher to each (servers that share nothing); the event
  // key of publisher i starts at i, so with `orders` equal to each fleet's
  // size every fleet gets its share in order.
  constructor({ port, ports = null, publishers = 1, orders, drivers = 100, serverPid, maxSeconds = 900, redisUrl = null, batchMs = 5 }) {
    this.publishers = redisUrl ? 1 : ports ? ports.length : publishers;
    this.proc = redisUrl
      ? new LoadgenProcess('redis publisher', [REDIS_PUBLISHER, '--redis', redisUrl, '--orders', String(orders),
        '--drivers', String(drivers), '--batch-ms', String(batchMs)], maxSeconds, process.execPath)
      : new LoadgenProcess('publisher', ['--mode', 'pub', '--port', String(ports ? ports[0] : port),
        ...(ports ? ['--ports', ports.join(',')] : ['--publishers', String(publishers)]), '--orders', String(orders), '--drivers', String(drivers),
        '--server-pid', String(serverPid)], maxSeconds);
  }

  async ready(timeoutMs = 20000) {
    const m = await this.proc.next('ready', timeoutMs);
    if (m.open !== this.publishers) throw new Error(`only ${m.open} of ${this.publishers} publishers connected: ${JSON.stringify(m.failures)}`);
    return m;
  }

  stop() {
    return this.proc.stop();
  }
}

class HttpClient {
  constructor({ port, conns = 32, ids = 1000, serverPid, maxSeconds = 900 }) {
    this.proc = new LoadgenProcess('http', ['--mode', 'http', '--port', String(port), '--conns', String(conns),
      '--ids', String(ids), '--path-prefix', '/api/orders/o', '--server-pid', String(serverPid)], maxSeconds);
  }

  async ready(timeoutMs = 20000) {
    const m = await this.proc.next('ready', timeoutMs);
    if (m.failed > 0) throw new Error(`HTTP client: ${m.failed} connections failed: ${JSON.stringify(m.failures)}`);
    return m;
  }

  stop() {
    return this.proc.stop();
  }
}

// Figures over a window, from two rounds of `sample` to every process.
async function sampleAll(procs) {
  const samples = await Promise.all(procs.map((p) => p.request('sample', 'sample')));
  return samples;
}

let phaseCounter = 0;

const QUIET_MAX_WAIT_MS = 20000;
const QUIET_BUSY_CORES = 0.5;

// Other people's jobs share this machine: before a measured phase, wait
// (at most QUIET_MAX_WAIT_MS) until the whole machine uses less than
// QUIET_BUSY_CORES cores while our own processes idle. Returns what it saw.
async function waitForQuiet() {
  const cores = os.availableParallelism();
  const started = Date.now();
  for (;;) {
    const a = readSystemCpu();
    await new Promise((r) => setTimeout(r, 500));
    const b = readSystemCpu();
    if (!a || !b) return { waitedMs: 0, busyCores: null, quiet: null };
    const busyCores = Math.round(((b.busyNs - a.busyNs) / (b.totalNs - a.totalNs)) * cores * 100) / 100;
    const waitedMs = Date.now() - started;
    if (busyCores <= QUIET_BUSY_CORES) return { waitedMs, busyCores, quiet: true };
    if (waitedMs >= QUIET_MAX_WAIT_MS) return { waitedMs, busyCores, quiet: false };
  }
}

// One measured run: `rate` events/s for `durationMs` from the publisher to
// the subscribers, optionally with HTTP load at the same time. Returns the
// delivery, latency and CPU figures of the window from the first event to
// the last delivery.
// onWindow() is polled each second during the phase (its results are
// `windows`); onStart() is awaited just before the load starts and onEnd()
// as soon as it has stopped (its result is `atEnd`).
async function runPhase({ gateway, subs, pub, rate, durationMs, http, httpRate, onWindow, onStart, onEnd }) {
  phaseCounter += 1;
  const phase = phaseCounter;
  const all = [...subs.procs, pub.proc, ...(http ? [http.proc] : [])];
  const quiet = await waitForQuiet();
  await Promise.all(subs.procs.map((p) => p.request(`phase ${phase} ${pub.publishers}`, 'phase')));
  const serverBefore = readProc(gateway.pid);
  const systemBefore = readSystemCpu();
  const before = await sampleAll(all);
  if (onStart) await onStart();
  const t0 = Date.now();
  if (http) http.proc.send(`start ${httpRate} ${durationMs}`);
  pub.proc.send(`start ${phase} ${rate} ${durationMs}`);
  const windows = [];
  let polling = true;
  const poller = onWindow ? (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- the finally block below clears `polling` while this loop awaits
    while (polling) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!polling) break;
      try {
        windows.push(await onWindow());
      } catch (err) {
        windows.push({ error: err.message });
      }
    }
  })() : null;
  let done;
  let httpDone = null;
  let atEnd = null;
  try {
    done = await pub.proc.next('done', durationMs + 30000);
    if (http) httpDone = await http.proc.next('done', 30000);
    if (onEnd) atEnd = await onEnd();
  } finally {
    polling = false;
    if (poller) await poller;
  }
  const sendMs = Date.now() - t0;
  const sentTo = (p) => (p.fromPublisher === null ? done.sent : done.sent.map((n, i) => (i === p.fromPublisher ? n : 0)));
  subs.procs.forEach((p) => p.send(`expect ${phase} ${sentTo(p).join(' ')}`));
  const reports = await Promise.all(subs.procs.map((p) => p.next('report', 60000)));
  const after = await sampleAll(all);
  const serverAfter = readProc(gateway.pid);
  const systemAfter = readSystemCpu();
  const windowMs = Date.now() - t0;

  const groups = [0, 1].map((g) => {
    const rs = reports.map((r) => r.groups[g]);
    const sum = (k) => rs.reduce((a, x) => a + x[k], 0);
    const latency = hist.merge(rs.map((x) => x.latency));
    return {
      subscribers: sum('subscribers'), expected: sum('expected'), delivered: sum('delivered'),
      lost: sum('lost'), dup: sum('dup'), ooo: sum('ooo'), latencyHist: latency, latency: hist.summaryMs(latency),
    };
  });
  const total = {
    expected: groups[0].expected + groups[1].expected,
    delivered: groups[0].delivered + groups[1].delivered,
    lost: groups[0].lost + groups[1].lost,
    dup: groups[0].dup + groups[1].dup,
    ooo: groups[0].ooo + groups[1].ooo,
  };
  const latencyHist = hist.merge(groups.map((g) => g.latencyHist));
  const distinct = total.expected - total.lost;
  const serverCpuNs = after[0].server_cpu_ns - before[0].server_cpu_ns;
  const selfCpu = (i) => after[i].self_cpu_ns - before[i].self_cpu_ns;
  const subCpuNs = subs.procs.reduce((a, _, i) => a + selfCpu(i), 0);
  const pubCpuNs = selfCpu(subs.procs.length);
  const httpCpuNs = http ? selfCpu(subs.procs.length + 1) : 0;
  const windowS = windowMs / 1000;
  return {
    phase,
    rate,
    durationMs,
    sent: done.sent.reduce((a, b) => a + b, 0),
    achievedRate: Math.round(done.achieved_rate),
    publisher: { lateMaxMs: done.late_max_ms, stalls: done.stalls, maxBacklogBytes: done.max_backlog_bytes, truncated: done.truncated, flushMs: done.flush_ms },
    ...total,
    deliveredPct: total.expected > 0 ? Math.round((distinct / total.expected) * 1e6) / 1e4 : null,
    latency: hist.summaryMs(latencyHist),
    latencyHist,
    // The worst latency per 50 ms of send time (bench/lib/late-slots.js).
    timeline: mergeSlots(reports),
    groups: groups.map(({ latencyHist: h, ...g }) => ({ ...g, latencyHist: h })),
    drainMs: Math.max(...reports.map((r) => r.drain_ms)),
    drainEnded: [...new Set(reports.map((r) => r.ended))],
    subscribersOpen: reports.reduce((a, r) => a + r.open, 0),
    closedInPhase: reports.reduce((a, r) => a + r.closed_in_phase, 0),
    closeCodes: reports.reduce((acc, r) => {
      for (const [k, v] of Object.entries(r.close_codes)) acc[k] = (acc[k] || 0) + v;
      return acc;
    }, {}),
    stale: reports.reduce((a, r) => a + r.stale, 0),
    // Heartbeat pings the server sent the subscribers during the window.
    pings: reports.reduce((a, r) => a + (r.pings || 0), 0),
    misrouted: reports.reduce((a, r) => a + r.misrouted, 0),
    windowMs,
    sendMs,
    serverProc: {
      cpuNs: serverCpuNs,
      cpuPct: Math.round((serverCpuNs / 1e9 / windowS) * 1000) / 10,
      cpuUsPerDelivery: distinct > 0 ? Math.round((serverCpuNs / 1e3 / distinct) * 100) / 100 : null,
      cpuUsPerEvent: done.sent.length && distinct > 0 ? Math.round((serverCpuNs / 1e3 / Math.max(1, done.sent.reduce((a, b) => a + b, 0))) * 100) / 100 : null,
      peakRss: after[0].server_peak_rss,
      rssAfter: after[0].server_rss,
      threads: serverAfter ? serverAfter.threads : null,
      cpuNsHarness: serverBefore && serverAfter ? serverAfter.cpuNs - serverBefore.cpuNs : null,
    },
    loadgen: {
      subscribersCpuNs: subCpuNs,
      publisherCpuNs: pubCpuNs,
      httpCpuNs,
      cpuPct: Math.round(((subCpuNs + pubCpuNs + httpCpuNs) / 1e9 / windowS) * 1000) / 10,
      cpuUsPerDelivery: distinct > 0 ? Math.round(((subCpuNs + pubCpuNs) / 1e3 / distinct) * 100) / 100 : null,
    },
    http: httpDone ? {
      rate: httpRate,
      ok: httpDone.ok,
      non2xx: httpDone.non2xx,
      errors: httpDone.errors,
      dropped: httpDone.dropped,
      achievedRate: Math.round(httpDone.achieved_rate),
      latency: hist.summaryMs(httpDone.latency),
    } : null,
    // CPU the rest of the machine used in the window (other people's jobs):
    // all busy CPU time minus the gateway's and the load generator's.
    quiet,
    otherCpuPct: systemBefore && systemAfter
      ? Math.max(0, Math.round(((systemAfter.busyNs - systemBefore.busyNs - serverCpuNs - subCpuNs - pubCpuNs - httpCpuNs) / 1e9 / windowS) * 1000) / 10)
      : null,
    windows,
    ...(onEnd ? { atEnd } : {}),
  };
}

module.exports = { LoadgenProcess, Subscribers, Fleets, Publisher, HttpClient, runPhase, checkBinary, driverSizes, LOADGEN, PER_PROCESS, SOURCE_IPS };
