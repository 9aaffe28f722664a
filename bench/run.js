#!/usr/bin/env node
'use strict';
// npm run bench / npm run bench:quick: builds the load generator and the
// microbenchmarks, runs the microbenchmarks and every scenario (legacy and
// native gateways interleaved; load and fanout also measure bench/floor,
// the syscall floor), writes bench/results/*.json and
// docs/benchmarks.md with its latency-vs-load plots.
//
//   node bench/run.js [--quick] [--reps=N] [--threads=N] [--only=micro,capacity,load,...]
//                     [--no-micro] [--no-docs] [--report-only]
//                     [--addon=PATH --tag=NAME]  (another ficus.node for the gateways;
//                                                 results go to bench/results/<scenario>.<NAME>.json)

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs, createContext, writeResult, RESULTS_DIR } = require('./lib/scenario');
const { checkBinary } = require('./lib/loadgen');
const { machine } = require('./lib/proc');
const { ROOT, addonEnv } = require('./lib/gateway');
const report = require('./lib/report');

const SCENARIOS = ['capacity', 'load', 'fanout', 'wildcard', 'history', 'ramp', 'split', 'gateway'];
const RELEASE_DIR = path.join(ROOT, 'build-native', 'release');
const MICRO_DIR = path.join(ROOT, 'build-native', 'bench');
const ADDON = path.join(ROOT, 'build', 'Release', 'ficus.node');

function sh(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', timeout: opts.timeout || 30 * 60 * 1000 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status ?? res.signal})`);
  return res.stdout;
}

// The load generator and the syscall-floor server are targets of the
// release flavour (CMakeLists.txt).
function buildLoadgen(ctx) {
  if (!fs.existsSync(path.join(RELEASE_DIR, 'CMakeCache.txt'))) {
    ctx.log('configuring and building the release flavour (node scripts/build-core.js release)');
    sh(process.execPath, [path.join(ROOT, 'scripts', 'build-core.js'), 'release']);
  }
  ctx.log('building ficus_loadgen and ficus_floor (build-native/release)');
  sh('cmake', ['--build', RELEASE_DIR, '--target', 'ficus_loadgen', 'ficus_floor', '-j', '2']);
  checkBinary();
}

function runMicro(ctx) {
  ctx.log('building the microbenchmarks (build-native/bench, -DFICUS_BENCH=ON)');
  sh('cmake', ['-S', ROOT, '-B', MICRO_DIR, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DFICUS_BENCH=ON', '-DFICUS_TESTS=OFF'], { capture: true });
  sh('cmake', ['--build', MICRO_DIR, '-j', '2'], { capture: true });
  const binaries = fs.readdirSync(MICRO_DIR).filter((f) => f.endsWith('_bench')).sort();
  const benchmarks = [];
  for (const bin of binaries) {
    ctx.log(`  ${bin}`);
    const json = sh(path.join(MICRO_DIR, bin), ['--benchmark_format=json', `--benchmark_min_time=${ctx.quick ? 0.05 : 0.5}`], { capture: true });
    const parsed = JSON.parse(json);
    for (const b of parsed.benchmarks) {
      benchmarks.push({ binary: bin, name: b.name, cpu_time: b.cpu_time, real_time: b.real_time, time_unit: b.time_unit,
        iterations: b.iterations, items_per_second: b.items_per_second, bytes_per_second: b.bytes_per_second, label: b.label });
    }
  }
  writeResult('micro', { scenario: 'micro', mode: ctx.mode, machine: machine(ROOT), finishedAt: new Date().toISOString(), benchmarks,
    publishPath: publishPath(ctx), coreFootprint: coreFootprint(ctx) });
}

// Runs bench/micro/<script> --json against the addon under test; its JSON.
function microScript(ctx, script, args, timeoutMs) {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'micro', script), '--json', ...args],
    { cwd: ROOT, env: addonEnv(ctx.addon), encoding: 'utf8', timeout: timeoutMs });
  if (res.status !== 0) throw new Error(`${script} failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

// JS-thread cost of a publish through the addon under test (bench/micro/publish_path.js).
function publishPath(ctx) {
  ctx.log('  publish_path.js (the addon under test, from Node)');
  return { addon: machine(ROOT, ctx.addon).addon, ...microScript(ctx, 'publish_path.js', [], 120000) };
}

// RSS that loading ficus and starting its core adds to an idle gateway (bench/micro/core_footprint.js).
function coreFootprint(ctx) {
  ctx.log(`  core_footprint.js (an idle http.Server with ws, with and without a ${ctx.threads}-thread core)`);
  return microScript(ctx, 'core_footprint.js', [`--threads=${ctx.threads}`, `--pairs=${ctx.quick ? 1 : 3}`], 300000);
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes('--report-only')) {
    const { file, targets } = report.build();
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    for (const t of targets) process.stdout.write(`  ${t.met === null ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured}\n`);
    return;
  }
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 12).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    return;
  }
  const selected = opts.only ? SCENARIOS.filter((s) => opts.only.includes(s)) : SCENARIOS;
  const micro = opts.micro && !opts.tag && (!opts.only || opts.only.includes('micro'));
  if (opts.only && selected.length + (opts.only.includes('micro') ? 1 : 0) !== opts.only.length) {
    throw new Error(`unknown scenario in --only (known: micro, ${SCENARIOS.join(', ')})`);
  }
  if (opts.addon && !opts.tag) throw new Error('--addon needs --tag=NAME, so its results do not replace the main ones');
  if (opts.addon && !fs.existsSync(opts.addon)) throw new Error(`${opts.addon} does not exist`);
  const ctx = createContext(opts);
  const started = Date.now();
  ctx.log(`ficus benchmarks, ${ctx.mode} mode: ${selected.join(', ')}; ${ctx.reps} repetition(s); native worker threads ${ctx.threads}`);
  if (!opts.addon && !fs.existsSync(ADDON)) throw new Error(`${ADDON} is missing: run \`npm run build:addon\` first (the native path needs it)`);
  buildLoadgen(ctx);
  if (micro) runMicro(ctx);
  if (opts.tag) writeResult('micro', { scenario: 'micro', mode: ctx.mode, machine: machine(ROOT, opts.addon), finishedAt: new Date().toISOString(), publishPath: publishPath(ctx) }, opts.tag);
  const timings = {};
  const mach = machine(ROOT, opts.addon);
  ctx.log(`addon under test: ${mach.addon.path}, compiled with ${mach.addon.optimization}`);
  for (const name of selected) {
    const scenario = require(`./scenarios/${name}`);
    const t0 = Date.now();
    ctx.log(`== ${scenario.title}`);
    ctx.gatewayCommands = new Set();
    const result = await scenario.run(ctx);
    timings[name] = Math.round((Date.now() - t0) / 1000);
    writeResult(name, { scenario: name, mode: ctx.mode, reps: ctx.reps, threads: ctx.threads, tag: opts.tag, machine: mach,
      finishedAt: new Date().toISOString(), durationS: timings[name], gatewayCommands: [...ctx.gatewayCommands], ...result }, opts.tag);
    ctx.log(`   ${name} took ${timings[name]} s`);
  }
  const durationS = Math.round((Date.now() - started) / 1000);
  if (!opts.tag) {
    writeResult('run', { mode: ctx.mode, reps: ctx.reps, threads: ctx.threads, machine: mach, startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(), durationS, timings, scenarios: [...(micro ? ['micro'] : []), ...selected], argv });
  }
  ctx.log(`all done in ${Math.round(durationS / 60)} min; results in ${path.relative(process.cwd(), RESULTS_DIR)}/`);
  if (opts.docs && !opts.tag) {
    const { file, targets } = report.build();
    ctx.log(`wrote ${path.relative(process.cwd(), file)}`);
    for (const t of targets) ctx.log(`  ${t.met === null ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured}`);
  }
}

main().catch((err) => {
  console.error(`bench: ${process.env.BENCH_DEBUG ? err.stack : err.message}`);
  process.exitCode = 1;
});
