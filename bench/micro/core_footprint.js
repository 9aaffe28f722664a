#!/usr/bin/env node
'use strict';
// What loading and starting the native core adds to an idle gateway's
// memory (issue #7: ≤ 10 MB). Two fresh Node processes each run the
// gateway ficus is added to: an http.Server whose WebSocket upgrades a
// `ws` WebSocketServer handles (requiring `ws` alone costs ≈ 6 MB, mostly
// Node's crypto and zlib, which that gateway already pays). One of them
// also requires ficus, creates a dispatcher with N worker threads and
// attaches it to the server (the README's "ten lines"). Each settles, runs
// a full GC and reports its RSS; the figure is the difference of medians
// over a few pairs of processes.
//
//   node bench/micro/core_footprint.js [--json] [--threads=N] [--pairs=N]

const path = require('node:path');
const { spawnSync } = require('node:child_process');

const SETTLE_MS = 3000;

function option(name, def) {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : def;
}

function rssBytes() {
  const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

// One measured process: `threads` 0 = no ficus at all.
async function child(threads) {
  const http = require('node:http');
  const { WebSocketServer } = require('ws');
  const server = http.createServer((req, res) => res.end('ok'));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.close()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  let dispatch = null;
  if (threads > 0) {
    const ficus = require(path.join(__dirname, '..', '..'));
    dispatch = ficus.createDispatcher({ threads });
    if (!dispatch.nativeAvailable) throw dispatch.nativeError;
    dispatch.attach(server, { path: '/ws', nativePercent: 100 });
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  global.gc();
  const rss = rssBytes();
  process.stdout.write(JSON.stringify({ rss }));
  if (dispatch) await dispatch.close();
  server.close();
}

function measureOnce(threads) {
  const res = spawnSync(process.execPath, ['--expose-gc', __filename, `--child=${threads}`],
    { encoding: 'utf8', timeout: 60000 });
  if (res.status !== 0) throw new Error(`core_footprint child (threads ${threads}) failed: ${res.stderr}`);
  return JSON.parse(res.stdout).rss;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

function main() {
  const threads = option('threads', 1);
  const pairs = option('pairs', 3);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError('--threads must be a positive integer');
  if (!Number.isInteger(pairs) || pairs < 1) throw new RangeError('--pairs must be a positive integer');
  const plain = [];
  const withCore = [];
  for (let i = 0; i < pairs; i += 1) {
    plain.push(measureOnce(0));
    withCore.push(measureOnce(threads));
  }
  const result = {
    threads,
    pairs,
    plainRssBytes: median(plain),
    withCoreRssBytes: median(withCore),
    addedBytes: median(withCore) - median(plain),
  };
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MB`;
    process.stdout.write(`idle http.Server with ws: ${mb(result.plainRssBytes)}; with ficus loaded and a ${threads}-thread core ` +
      `attached: ${mb(result.withCoreRssBytes)}; added ${mb(result.addedBytes)} (medians of ${pairs})\n`);
  }
}

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg) {
  child(Number(childArg.slice('--child='.length))).catch((err) => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(1);
  });
} else {
  main();
}
