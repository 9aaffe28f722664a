#!/usr/bin/env node
'use strict';
// Profiles the gateway under one steady load phase with `perf record`
// (system-wide call graphs of the gateway process only, JS frames named
// through Node's --perf-basic-prof map), then prints where its CPU time
// goes: per thread, per library, and the top symbols.
//
//   node bench/profile.js [--native-percent=100] [--rate=50000] [--subscribers=10000]
//                         [--seconds=8] [--threads=1] [--fanout] [--out=/tmp/ficus-perf]
//
// Needs `perf` (Debian: apt-get install -y linux-perf) and root or
// kernel.perf_event_paranoid <= 1.

const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { Subscribers, Publisher, runPhase, checkBinary, driverSizes } = require('./lib/loadgen');
const { Gateway, sleep } = require('./lib/gateway');
const { track } = require('./lib/children');

function option(name, def) {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!arg) return def;
  const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : 'true';
  return typeof def === 'number' ? Number(v) : v;
}

// The example gateway with Node's perf map (JS function names for perf).
class ProfiledGateway extends Gateway {
  get args() {
    return ['--perf-basic-prof', '--interpreted-frames-native-stack', ...super.args];
  }
}

function perfReport(data, extra) {
  const res = spawnSync('perf', ['report', '-i', data, '--stdio', '--no-children', '--percent-limit', '0.7', ...extra],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (res.stdout || '').split('\n').filter((l) => l && !l.startsWith('#')).join('\n');
}

async function main() {
  checkBinary();
  const nativePercent = option('native-percent', 100);
  const rate = option('rate', 50000);
  const count = option('subscribers', 10000);
  const seconds = option('seconds', 8);
  const threads = option('threads', 1);
  const fanout = option('fanout', 'false') === 'true';
  const out = option('out', '/tmp/ficus-perf');
  fs.mkdirSync(out, { recursive: true });
  const data = path.join(out, `perf-${nativePercent}-${rate}.data`);
  const gw = new ProfiledGateway({ nativePercent, threads });
  await gw.start();
  const sizes = fanout ? driverSizes(Math.floor(count / 10)) : [];
  const subs = new Subscribers({ port: gw.port, count, connectRate: 4000, serverPid: gw.pid, fanoutEvery: fanout ? 10 : 0, sizes });
  const pub = new Publisher({ port: gw.port, orders: count, drivers: sizes.length || 100, serverPid: gw.pid });
  let perf = null;
  try {
    await subs.connected(120000);
    await pub.ready();
    await sleep(1000);
    // Warm-up phase so the JIT has settled, then the profiled one.
    await runPhase({ gateway: gw, subs, pub, rate, durationMs: 3000 });
    const phase = runPhase({ gateway: gw, subs, pub, rate, durationMs: (seconds + 2) * 1000 });
    await sleep(1000);
    perf = track(spawn('perf', ['record', '-F', '1999', '-g', '-p', String(gw.pid), '-o', data, '--', 'sleep', String(seconds)],
      { stdio: ['ignore', 'ignore', 'pipe'] }));
    const perfDone = new Promise((r) => perf.once('exit', r));
    const r = await phase;
    await perfDone;
    process.stdout.write(`${nativePercent}% native, ${rate} ev/s, ${count} subscribers: P50 ${r.latency.p50} P99 ${r.latency.p99} ms, ` +
      `server ${r.serverProc.cpuPct} % CPU = ${r.serverProc.cpuUsPerDelivery} µs/delivery, loadgen ${r.loadgen.cpuPct} %\n\n`);
  } finally {
    if (perf && perf.exitCode === null) perf.kill('SIGINT');
    await subs.stop();
    await pub.stop();
    await gw.stop();
  }
  process.stdout.write('== CPU samples by thread\n');
  process.stdout.write(`${perfReport(data, ['--sort', 'comm', '-g', 'none'])}\n\n`);
  process.stdout.write('== by thread and library\n');
  process.stdout.write(`${perfReport(data, ['--sort', 'comm,dso', '-g', 'none'])}\n\n`);
  process.stdout.write('== top symbols\n');
  process.stdout.write(`${perfReport(data, ['--sort', 'comm,sym', '-g', 'none'])}\n`);
  process.stdout.write(`\nperf data: ${data} (perf report -i ${data})\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
