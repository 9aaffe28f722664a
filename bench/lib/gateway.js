'use strict';
// Starts and stops the example gateway (examples/gateway/index.js) as the
// server under test, and talks to its HTTP routes.

const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { track } = require('./children');

const ROOT = path.resolve(__dirname, '..', '..');
const GATEWAY = path.join(ROOT, 'examples', 'gateway', 'index.js');
const LOOP_PROBE = path.join(__dirname, 'loop-probe.js');
const START_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 15000;

function request(port, method, urlPath, body, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false,
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function getJson(port, urlPath, timeoutMs) {
  const res = await request(port, 'GET', urlPath, undefined, timeoutMs);
  if (res.status !== 200) throw new Error(`GET ${urlPath}: HTTP ${res.status}`);
  return JSON.parse(res.body);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves with the port in the first stdout match of `pattern` (its
// group 1); rejects if `child` exits first or START_TIMEOUT_MS passes.
function portFromOutput(child, exited, pattern, name, log = []) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error(`${name} printed no port within ${START_TIMEOUT_MS} ms: ${log.join(' | ')}`)), START_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      if (found) return;
      buffered += chunk.toString();
      const m = pattern.exec(buffered);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening: ${log.join(' | ')}`));
    });
  });
}

// Asks a running child to stop (ask()); SIGKILL if it has not exited
// STOP_TIMEOUT_MS later.
async function stopChild(child, exited, ask) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  ask();
  let timer;
  const timeout = new Promise((r) => { timer = setTimeout(r, STOP_TIMEOUT_MS, 'timeout'); });
  try {
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  } finally {
    clearTimeout(timer);
  }
}

// The environment of a child process that loads `addon` (a ficus.node), or
// build/Release's when null, whatever FICUS_ADDON_PATH the bench itself got.
function addonEnv(addon) {
  const env = { ...process.env };
  if (addon) env.FICUS_ADDON_PATH = addon;
  else delete env.FICUS_ADDON_PATH;
  return env;
}

class Gateway {
  // nodeFlags: extra flags for node itself (e.g. --expose-gc), before the script.
  // addon: a ficus.node to load instead of build/Release's (FICUS_ADDON_PATH).
  // loopProbe: preload bench/lib/loop-probe.js, for loopMark().
  // historyMaxEvents: the stream's history (null: the gateway's default).
  // authSecret: --auth-secret (subscribers then need bench/lib/tokens.js).
  constructor({ nativePercent, threads, nodeFlags = [], addon = null, loopProbe = false, historyMaxEvents = null, authSecret = null }) {
    this.nativePercent = nativePercent;
    this.historyMaxEvents = historyMaxEvents;
    this.authSecret = authSecret;
    this.threads = threads;
    this.nodeFlags = loopProbe ? [...nodeFlags, '--require', LOOP_PROBE] : nodeFlags;
    this.loopProbe = loopProbe;
    this.addon = addon;
    this.log = [];
    this.child = null;
    this.port = null;
    this.exited = null;
  }

  get pid() {
    return this.child ? this.child.pid : null;
  }

  get args() {
    return [...this.nodeFlags, GATEWAY, '--port', '0', '--native-percent', String(this.nativePercent),
      '--feed-rate', '0', '--threads', String(this.threads),
      ...(this.historyMaxEvents === null ? [] : ['--history-max-events', String(this.historyMaxEvents)]),
      ...(this.authSecret === null ? [] : ['--auth-secret', this.authSecret])];
  }

  get command() {
    return `${this.addon ? `FICUS_ADDON_PATH=${this.addon} ` : ''}node ${this.args.map((a) => (a.startsWith(ROOT) ? path.relative(ROOT, a) : a)).join(' ')}`;
  }

  async start() {
    const stdin = this.loopProbe ? 'pipe' : 'ignore';
    this.child = track(spawn(process.execPath, this.args, { cwd: ROOT, env: addonEnv(this.addon), stdio: [stdin, 'pipe', 'pipe'] }));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    const remember = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        this.log.push(line);
        if (this.log.length > 200) this.log.shift();
      }
    };
    this.child.stderr.on('data', remember);
    this.child.stdout.on('data', remember);
    // "ficus gateway on http://127.0.0.1:PORT/ — ..."
    this.port = await portFromOutput(this.child, this.exited, /http:\/\/[^\s/]*:(\d+)\//, 'gateway', this.log);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let i = 0; Date.now() < deadline && i < 300; i += 1) {
      try {
        const res = await request(this.port, 'GET', '/healthz', undefined, 2000);
        if (res.status === 200) return this;
      } catch {
        // not yet
      }
      await sleep(100);
    }
    throw new Error('gateway never answered /healthz');
  }

  stats(timeoutMs = 10000) {
    return getJson(this.port, '/stats', timeoutMs);
  }

  // Asks a preloaded hook for a report (ask() signals it) and returns the
  // JSON of the line it prints starting with `prefix`.
  async hookReport(prefix, ask, hook, timeoutMs) {
    this.log = this.log.filter((l) => !l.startsWith(prefix));
    ask();
    for (let waited = 0; waited < timeoutMs; waited += 20) {
      await sleep(20);
      const line = this.log.find((l) => l.startsWith(prefix));
      if (line) {
        this.log = this.log.filter((l) => l !== line);
        return JSON.parse(line.slice(prefix.length));
      }
    }
    throw new Error(`no ${prefix.trim()} from the gateway within ${timeoutMs} ms (is ${hook} preloaded?)`);
  }

  // With bench/lib/gc-hook.js preloaded: a full GC, then the heap figures.
  gcReport(timeoutMs = 10000) {
    return this.hookReport('GCREPORT ', () => this.child.kill('SIGUSR2'), 'bench/lib/gc-hook.js', timeoutMs);
  }

  // With loopProbe: the event loop's delay and busy share since the
  // previous mark (or the start), and a new span from now.
  loopMark(timeoutMs = 30000) {
    if (!this.loopProbe) throw new Error('loopMark() needs a gateway started with loopProbe: true');
    return this.hookReport('LOOPREPORT ', () => this.child.stdin.write('mark\n'), 'bench/lib/loop-probe.js', timeoutMs);
  }

  post(urlPath, body) {
    return request(this.port, 'POST', urlPath, body, 30000);
  }

  // SIGTERM (graceful: closes both paths), SIGKILL after STOP_TIMEOUT_MS.
  async stop() {
    await stopChild(this.child, this.exited, () => this.child.kill('SIGTERM'));
  }
}

// The native core alone, without Node: native/tools/ficus_server (its own
// listener, /ws?topics=...). A reference for what the core itself costs.
class CoreServer {
  constructor({ threads }) {
    this.threads = threads;
    this.binary = path.join(ROOT, 'build-native', 'release', 'ficus_server');
    this.child = null;
    this.port = null;
  }

  get pid() {
    return this.child ? this.child.pid : null;
  }

  get command() {
    return `${path.relative(ROOT, this.binary)} --port 0 --threads ${this.threads}`;
  }

  async start() {
    this.child = track(spawn(this.binary, ['--port', '0', '--threads', String(this.threads)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.stderr.resume();
    this.port = await portFromOutput(this.child, this.exited, /listening (\d+)/, 'ficus_server');
    return this;
  }

  // EOF on stdin stops it (1001 to every client); SIGKILL if it hangs.
  async stop() {
    await stopChild(this.child, this.exited, () => this.child.stdin.end());
  }
}

// The syscall floor: bench/floor's one-thread epoll server, which does
// nothing for a delivery but one send(2). Measured beside the two paths so
// a page says how far the core is from the kernel's cost that day. It has no
// /stats: stats() answers null.
class FloorServer {
  constructor() {
    this.binary = path.join(ROOT, 'build-native', 'release', 'ficus_floor');
    this.child = null;
    this.port = null;
    this.log = [];
  }

  get pid() {
    return this.child ? this.child.pid : null;
  }

  get command() {
    return `${path.relative(ROOT, this.binary)} --port 0`;
  }

  async start() {
    this.child = track(spawn(this.binary, ['--port', '0', '--max-seconds', '7200'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.stderr.on('data', (chunk) => this.log.push(...chunk.toString().split('\n').filter(Boolean)));
    this.port = await portFromOutput(this.child, this.exited, /http:\/\/[^\s/]*:(\d+)\//, 'ficus_floor', this.log);
    return this;
  }

  async stats() {
    return null;
  }

  async stop() {
    await stopChild(this.child, this.exited, () => this.child.kill('SIGTERM'));
  }
}

async function startGateway(options) {
  const gw = options.floor ? new FloorServer() : new Gateway(options);
  try {
    await gw.start();
  } catch (err) {
    await gw.stop();
    throw err;
  }
  return gw;
}

module.exports = { startGateway, Gateway, CoreServer, FloorServer, request, getJson, sleep, addonEnv, ROOT };
