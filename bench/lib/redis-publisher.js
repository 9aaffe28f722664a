'use strict';
// A publisher that writes to the Redis Stream itself, as a backend service
// may (docs/scaling.md, "publishing from elsewhere"), instead of through a
// gateway worker's /publish: the scale scenario's --set=publishVia="redis".
// It speaks the load generator's line protocol on stdin/stdout for its pub
// mode (bench/loadgen/pub_mode.cc: ready, sample, start, done, quit) and
// sends the same events, stamped the same way, so the subscribers check
// them unchanged. Like the gateway's bridge, it sends what one batch window
// collected as one EVAL of XADDs (lib/redis-stream.js appendCommand).
//
//   node bench/lib/redis-publisher.js --redis URL --orders N [--drivers 100]
//     [--batch-ms 5] [--stream ficus:stream] [--max-len 100000] [--max-seconds S]

const { performance } = require('node:perf_hooks');
const { createInterface } = require('node:readline');
const redis = require('redis');
const { appendCommand } = require('../../lib/redis-stream');

const STATUSES = ['assigned', 'picked_up', 'out_for_delivery', 'delivered'];

function parseArgs(argv) {
  const opts = { redis: null, orders: 0, drivers: 100, batchMs: 5, stream: 'ficus:stream', maxLen: 100000, maxSeconds: 900 };
  const names = { '--redis': 'redis', '--orders': 'orders', '--drivers': 'drivers', '--batch-ms': 'batchMs', '--stream': 'stream', '--max-len': 'maxLen', '--max-seconds': 'maxSeconds' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || argv[i + 1] === undefined) throw new Error(`redis-publisher: bad argument '${argv[i]}'`);
    opts[key] = key === 'redis' || key === 'stream' ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!opts.redis || !(opts.orders > 0)) throw new Error('redis-publisher: needs --redis and --orders');
  return opts;
}

const emit = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const selfCpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const realtimeNs = () => Math.round((performance.timeOrigin + performance.now()) * 1e6);

// pub_mode.cc's event for publisher 0 (its order and driver come from seq + pub).
function eventText(opts, phase, seq) {
  return `{"order_id":"o${seq % opts.orders}","status":"${STATUSES[seq & 3]}","timestamp":"2026-11-27T10:00:00Z",` +
    `"driver_id":"d${seq % opts.drivers}","ph":${phase},"pub":0,"seq":${seq},"sent_ns":${realtimeNs()}}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const client = redis.createClient({ url: opts.redis });
  client.on('error', () => {}); // a failed command rejects its own promise
  await client.connect();
  setTimeout(() => process.exit(3), opts.maxSeconds * 1000).unref();
  emit({ type: 'ready', open: 1, failures: {} });

  let pending = [];
  let flushTimer = null;
  const inflight = new Set();
  let errors = 0;
  const flush = () => {
    flushTimer = null;
    if (pending.length === 0) return;
    const sent = client.sendCommand(appendCommand(opts.stream, opts.maxLen, pending)).catch(() => { errors += 1; });
    pending = [];
    inflight.add(sent);
    sent.finally(() => inflight.delete(sent));
  };

  async function run(phase, rate, durationMs) {
    const total = Math.round((rate * durationMs) / 1000);
    const cpu0 = selfCpuNs();
    const t0 = performance.now();
    let seq = 0;
    let lateMaxMs = 0;
    let lastGen = t0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1);
        if (due > seq) lateMaxMs = Math.max(lateMaxMs, now - (t0 + (seq * 1000) / rate));
        for (; seq < due; seq += 1) pending.push(eventText(opts, phase, seq));
        if (pending.length > 0 && flushTimer === null) flushTimer = setTimeout(flush, opts.batchMs);
        lastGen = now;
        if (seq >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    if (flushTimer !== null) clearTimeout(flushTimer);
    flush();
    await Promise.all([...inflight]);
    const elapsedMs = lastGen - t0;
    emit({
      type: 'done', phase, sent: [seq], target: total, generated: seq, unsendable: errors, elapsed_ms: elapsedMs,
      flush_ms: performance.now() - t0, achieved_rate: elapsedMs > 0 ? (seq * 1000) / elapsedMs : 0, late_max_ms: lateMaxMs,
      stalls: 0, max_backlog_bytes: 0, open: 1, self_cpu_ns: selfCpuNs() - cpu0, truncated: errors > 0,
    });
  }

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'quit') break;
    if (w[0] === 'sample') emit({ type: 'sample', self_cpu_ns: selfCpuNs() });
    else if (w[0] === 'start' && w.length >= 4) await run(Number(w[1]), Number(w[2]), Number(w[3]));
    else emit({ type: 'error', error: `unknown command '${line}'` });
  }
  await client.quit().catch(() => {});
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
