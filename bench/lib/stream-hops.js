'use strict';
// A reader of the gateway's Redis Stream beside its workers (the scale
// scenario's --set=hops=true): where the latency of an event goes, split at
// Redis. For every entry a phase publishes:
// - toRedis: from the load generator's sent_ns to the entry's id, which is
//   Redis's clock when the XADD ran: the publisher's send, the publishing
//   worker's batch window (--redis-batch-ms) and its EVAL;
// - toReader: from sent_ns to this process holding the entry: toRedis, plus
//   Redis answering a blocked XREAD and one light process waking for it.
// The subscribers' end-to-end latency minus toReader is what happens after
// Redis: the six workers reading the stream, their cores, the sockets and
// the load generators. Of that, coreDelta() takes the part inside the
// native cores (publishEvents called -> bytes handed to the kernel) from
// the workers' latency histograms in /stats, before and after a phase.
// Clocks: sent_ns is CLOCK_REALTIME, an id's ms is Redis's gettimeofday,
// this reader's is performance.timeOrigin + now(): one machine; ids have
// millisecond resolution.

const { performance } = require('node:perf_hooks');
const redis = require('redis');
const { intervalBuckets, quantileMs } = require('../../lib/rollout-sample');
const { addHistograms } = require('../../examples/gateway/cluster-rollout');

const SENT_NS = /"sent_ns":(\d+)/;

function summary(values) {
  if (values.length === 0) return { count: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 100) / 100;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
}

class StreamHops {
  #client;
  #key;
  #lastId = '$';
  #stopped = false;
  #loop = null;
  #sinceMs = Infinity; // entries sent before this are not the phase's
  #toRedis = [];
  #toReader = [];
  #replies = 0;
  #error = null;

  constructor({ url, key = 'ficus:stream' }) {
    this.#client = redis.createClient({ url });
    this.#client.on('error', () => {}); // a failed XREAD ends the loop, reported by summary()
    this.#key = key;
  }

  async open() {
    await this.#client.connect();
    this.#loop = this.#read().catch((error) => {
      this.#error = error.message;
    });
  }

  async #read() {
    while (!this.#stopped) {
      const reply = await this.#client.sendCommand(['XREAD', 'BLOCK', '500', 'COUNT', '10000', 'STREAMS', this.#key, this.#lastId]);
      const now = performance.timeOrigin + performance.now();
      if (!reply) continue;
      this.#replies += 1;
      for (const [id, fields] of reply[0][1]) {
        this.#lastId = id;
        const m = SENT_NS.exec(fields[1]);
        if (!m) continue;
        const sentMs = Number(m[1]) / 1e6;
        if (sentMs < this.#sinceMs) continue;
        this.#toRedis.push(Number(id.slice(0, id.indexOf('-'))) - sentMs);
        this.#toReader.push(now - sentMs);
      }
    }
  }

  // From now on, until summary().
  start() {
    this.#sinceMs = Date.now();
    this.#toRedis = [];
    this.#toReader = [];
    this.#replies = 0;
  }

  summary() {
    const out = { toRedisMs: summary(this.#toRedis), toReaderMs: summary(this.#toReader), xreadReplies: this.#replies, error: this.#error };
    this.#sinceMs = Infinity;
    return out;
  }

  async stop() {
    this.#stopped = true;
    if (!this.#loop) return;
    await this.#loop;
    await this.#client.quit().catch(() => {});
  }
}

// The native cores' delivery latency over one phase, in ms: every worker's
// histogram (since start) added up before and after, the difference's
// percentiles as the rollout checks take them (bucket upper bounds, 12.5 %
// resolution).
function coreDelta(before, after) {
  const native = (stats) => addHistograms(stats.workers.filter((w) => w.paths).map((w) => w.paths.native.latencyHistogram));
  const interval = intervalBuckets(native(before), native(after));
  if (interval.count === 0) return { count: 0 };
  const at = (q) => Math.round(quantileMs(interval, q) * 100) / 100;
  return { count: interval.count, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
}

module.exports = { StreamHops, coreDelta };
