'use strict';
// What every scenario shares: the two servers under test, interleaved
// repetitions, cleanup of every process it starts, progress output, and
// running one scenario on its own (`node bench/scenarios/load.js --quick`).

const fs = require('node:fs');
const path = require('node:path');
const { startGateway, ROOT } = require('./gateway');
const { checkBinary } = require('./loadgen');
const { machine } = require('./proc');

// The same gateway, all upgrades on one path or the other.
const SERVERS = [
  { name: 'legacy', nativePercent: 0 },
  { name: 'native', nativePercent: 100 },
];

const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

function parseArgs(argv) {
  const opts = { quick: false, reps: null, threads: 1, only: null, micro: true, docs: true, addon: null, tag: null, set: {} };
  for (const arg of argv) {
    let m;
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--full') opts.quick = false;
    else if (arg === '--no-micro') opts.micro = false;
    else if (arg === '--no-docs') opts.docs = false;
    else if ((m = /^--reps=(\d+)$/.exec(arg))) opts.reps = Number(m[1]);
    else if ((m = /^--threads=(\d+)$/.exec(arg))) opts.threads = Number(m[1]);
    else if ((m = /^--only=([a-z,]+)$/.exec(arg))) opts.only = m[1].split(',');
    else if ((m = /^--addon=(.+)$/.exec(arg))) opts.addon = path.resolve(m[1]);
    else if ((m = /^--tag=([a-z0-9-]+)$/.exec(arg))) opts.tag = m[1];
    else if ((m = /^--set=([a-zA-Z]+)=(.+)$/.exec(arg))) opts.set[m[1]] = JSON.parse(m[2]);
    else if (arg === '--help' || arg === '-h') opts.help = true;
    else throw new Error(`unknown argument '${arg}' (try --help)`);
  }
  if (opts.reps === null) opts.reps = opts.quick ? 1 : 3;
  return opts;
}

function createContext(opts) {
  const started = Date.now();
  const stamp = () => {
    const s = Math.round((Date.now() - started) / 1000);
    return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
  };
  return {
    ...opts,
    mode: opts.quick ? 'quick' : 'full',
    // A scenario's configuration for this mode, with --set=key=JSON overrides
    // (for experiments; results record the configuration they ran with).
    config(table) {
      const base = table[this.mode];
      for (const key of Object.keys(opts.set)) {
        if (!(key in base)) throw new Error(`--set=${key}: not a setting of this scenario (${Object.keys(base).join(', ')})`);
      }
      return { ...base, ...opts.set };
    },
    log: (msg) => process.stdout.write(`${stamp()} ${msg}\n`),
    gatewayCommands: new Set(),
  };
}

// The syscall floor (bench/floor), run beside the two paths where a target
// is stated against it.
const FLOOR = { name: 'floor', floor: true };
const WITH_FLOOR = [...SERVERS, FLOOR];

// Calls fn(server, rep) for every repetition of every server, alternating
// the order so slow drift of the machine hits them alike.
async function interleaved(ctx, fn, servers = SERVERS) {
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const order = rep % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) await fn(server, rep);
  }
}

// Starts a gateway, runs fn(gateway), always stops it.
async function withGateway(ctx, server, fn, extra = {}) {
  const gw = await startGateway({ nativePercent: server.nativePercent, floor: server.floor, threads: ctx.threads, addon: ctx.addon, ...extra });
  ctx.gatewayCommands.add(gw.command);
  try {
    return await fn(gw);
  } catch (err) {
    err.message += ` (gateway log: ${gw.log.slice(-5).join(' | ')})`;
    throw err;
  } finally {
    await gw.stop();
  }
}

// Runs fn(resource) and stops every resource it created, whatever happens.
async function using(resources, fn) {
  try {
    return await fn();
  } finally {
    await Promise.all(resources.filter(Boolean).map((r) => r.stop().catch(() => {})));
  }
}

// bench/results/<name>.json, or <name>.<tag>.json for a tagged run.
function writeResult(name, result, tag = null) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}${tag ? `.${tag}` : ''}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`);
  return file;
}

const fmt = {
  ms: (x) => (x === null || x === undefined ? '–' : x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)),
  int: (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US')),
  pct: (x) => (x === null || x === undefined ? '–' : `${x.toFixed(x >= 99.995 || x === 0 ? 0 : 2)} %`),
  mib: (x) => (x === null || x === undefined ? '–' : `${(x / 2 ** 20).toFixed(1)} MiB`),
};

// Wraps a scenario module so it also runs on its own.
async function runStandalone(scenario) {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`usage: node bench/scenarios/${scenario.name}.js [--quick] [--reps=N] [--threads=N] [--addon=PATH --tag=NAME] [--set=KEY=JSON ...]\n`);
    return;
  }
  checkBinary();
  const ctx = createContext(opts);
  ctx.log(`${scenario.name} (${ctx.mode}, ${ctx.reps} repetition(s), native threads ${ctx.threads}${ctx.addon ? `, addon ${ctx.addon}` : ''})`);
  const result = await scenario.run(ctx);
  const file = writeResult(scenario.name, {
    scenario: scenario.name, mode: ctx.mode, reps: ctx.reps, threads: ctx.threads, tag: ctx.tag,
    machine: machine(ROOT, ctx.addon), finishedAt: new Date().toISOString(), gatewayCommands: [...ctx.gatewayCommands], ...result,
  }, ctx.tag);
  ctx.log(`wrote ${path.relative(process.cwd(), file)}`);
}

module.exports = { SERVERS, WITH_FLOOR, interleaved, withGateway, using, writeResult, parseArgs, createContext, runStandalone, fmt, RESULTS_DIR };
