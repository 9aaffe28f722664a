'use strict';
// Per-path probes (docs/operations.md, "Probes"): a few synthetic
// subscribers on each path, connected to the router's own server, and a
// small event published at a low rate to a topic only they subscribe to.
// Each probe measures what a real client would see: publish to receipt
// (through the path, the kernel and back), and the events it never
// received within lossAfterMs. So a rollout's checks judge each path end
// to end even when almost nobody is native, or nobody is connected.
//
// The probes' upgrades carry a secret header (random per run) that the
// router recognizes: it forces the path, skips authenticate and the
// upgrade brakes, grants the probe topic only, and places the connection
// outside every bucket, so drains and rebalancing never move it and the
// router's split, counters and 'connection' events never see it.

const crypto = require('node:crypto');
const v = require('./validate');
const { LatencyHistogram, nowNs } = require('./histogram');
const { latencyMs } = require('./path-stats');
const { ProbeClient } = require('./probe-client');

const HEADER = 'x-ficus-probe';
const { RESERVED_TOPIC_PREFIX: TOPIC_PREFIX } = require('./wildcard');
const PATHS = ['native', 'legacy'];
const NS_PER_MS = 1e6;

const OPTIONS = {
  count: (value, name) => v.integer(value, name, { min: 1, max: 100 }),
  ratePerSecond: (value, name) => v.number(value, name, { min: 0.01, max: 100 }),
  lossAfterMs: (value, name) => v.integer(value, name, { min: 10, max: 600000 }),
  pathname: (value, name) => {
    if (!v.string(value, name).startsWith('/')) throw v.rangeError('a path starting with "/"', name, value);
    return value;
  },
  host: (value, name) => v.string(value, name, { nonEmpty: true }),
};

const DEFAULTS = {
  count: 2,
  ratePerSecond: 1,
  lossAfterMs: 2000,
  pathname: undefined,
  host: undefined,
};

function pathCounters(probes) {
  return {
    probes, connects: 0, connectFailures: 0, lastFailure: null, sent: 0, delivered: 0, lost: 0, late: 0,
    latency: new LatencyHistogram(),
  };
}

// `router`: the Router (server, options.path, matches()); `publish`: how
// the dispatcher publishes probe events (locally; through Redis only
// under a shared stream: lib/dispatcher.js);
// `paths`: which paths to probe ({ native, legacy } as booleans);
// `maxTopicBytes`: the dispatcher's (the probe topic must fit).
class Probes {
  #timer = null;
  #secret = crypto.randomBytes(24);
  #clients = [];
  #counters;
  #publishEvent; // (event) => { accepted }

  constructor(router, publish, paths, maxTopicBytes, options) {
    this.options = v.options(options, 'options', OPTIONS, DEFAULTS);
    const routerPath = router.options.path;
    if (this.options.pathname === undefined) {
      if (typeof routerPath !== 'string') {
        throw v.typeError("a path to connect to (the router's path is a function)", 'options.pathname', undefined);
      }
      this.options.pathname = routerPath;
    } else if (!router.matches(this.options.pathname)) {
      throw v.rangeError("a path the router serves", 'options.pathname', this.options.pathname);
    }
    this.server = router.server;
    this.host = this.options.host;
    this.pathname = this.options.pathname;
    this.run = crypto.randomBytes(8).toString('hex');
    this.orderId = `ficus:probe:${this.run}`;
    this.topic = `${TOPIC_PREFIX}${this.run}`;
    if (this.topic.length > maxTopicBytes) {
      throw new RangeError(`The probe topic takes ${this.topic.length} bytes: the dispatcher's maxTopicBytes (${maxTopicBytes}) must allow it`);
    }
    this.state = 'running';
    this.published = 0;
    this.publishFailures = 0;
    this.#publishEvent = publish;
    this.#counters = Object.fromEntries(PATHS.map((p) => [p, pathCounters(paths[p] ? this.options.count : 0)]));
    for (const path of PATHS) {
      for (let i = 0; i < this.#counters[path].probes; i += 1) this.#clients.push(new ProbeClient(this, path, i));
    }
  }

  get running() {
    return this.state === 'running';
  }

  start() {
    for (const client of this.#clients) client.connect();
    this.#timer = setInterval(() => this.#tick(), 1000 / this.options.ratePerSecond);
    this.#timer.unref();
    return this;
  }

  // Stops every probe; their counters stay as they were. Idempotent.
  stop() {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearInterval(this.#timer);
    this.#timer = null;
    for (const client of this.#clients) client.stop();
  }

  // The path a probe upgrade asks for (its header names our secret), or
  // null for any other upgrade.
  recognize(req) {
    const value = req.headers[HEADER];
    if (typeof value !== 'string' || this.state !== 'running') return null;
    const [secret, path] = value.split(' ');
    const given = Buffer.from(secret || '', 'base64url');
    if (given.length !== this.#secret.length || !crypto.timingSafeEqual(given, this.#secret)) return null;
    return this.#counters[path] && this.#counters[path].probes > 0 ? path : null;
  }

  // The identity a probe connection has on its path (what the path's own
  // records of it show).
  identity(path) {
    return `${this.orderId}:${path}`;
  }

  // ------------------------------------------------- what clients report

  header(path) {
    return { [HEADER]: `${this.#secret.toString('base64url')} ${path}` };
  }

  onOpen(client) {
    this.#counters[client.path].connects += 1;
  }

  onFailure(client, reason) {
    const c = this.#counters[client.path];
    c.connectFailures += 1;
    c.lastFailure = reason;
  }

  // A probe connection ended: what it was still waiting for is lost.
  onClose(client) {
    if (this.state !== 'running') return;
    this.#counters[client.path].lost += client.pending.size;
    client.pending.clear();
  }

  onMessage(client, data) {
    const at = nowNs();
    let event;
    try {
      event = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (event === null || event.order_id !== this.orderId) return;
    const c = this.#counters[client.path];
    const sent = client.pending.get(event.seq);
    if (sent === undefined) {
      c.late += 1; // after it was counted lost (or twice)
      return;
    }
    client.pending.delete(event.seq);
    c.delivered += 1;
    c.latency.record(at - sent);
  }

  // ------------------------------------------------------------ the beat

  #tick() {
    const now = nowNs();
    this.#expire(now);
    const seq = this.published + this.publishFailures;
    const receivers = this.#clients.filter((client) => client.open);
    for (const client of receivers) client.pending.set(seq, now);
    if (!this.#publish(seq)) {
      this.publishFailures += 1;
      for (const client of receivers) client.pending.delete(seq);
      return;
    }
    this.published += 1;
    for (const client of receivers) this.#counters[client.path].sent += 1;
  }

  // Whether the dispatcher took probe event `seq`.
  #publish(seq) {
    try {
      const { accepted } = this.#publishEvent({
        order_id: this.orderId, status: 'ficus:probe', timestamp: new Date().toISOString(), driver_id: null, seq,
      });
      return accepted === 1;
    } catch {
      return false; // the dispatcher closing under us: stop() follows
    }
  }

  // What was not received within lossAfterMs is lost (a late arrival is
  // counted as late, not delivered).
  #expire(now) {
    const limit = this.options.lossAfterMs * NS_PER_MS;
    for (const client of this.#clients) {
      for (const [seq, sent] of client.pending) {
        if (now - sent < limit) break; // in publish order
        client.pending.delete(seq);
        this.#counters[client.path].lost += 1;
      }
    }
  }

  stats() {
    const paths = {};
    for (const path of PATHS) {
      const c = this.#counters[path];
      const mine = this.#clients.filter((client) => client.path === path);
      const snapshot = c.latency.snapshot();
      paths[path] = {
        probes: c.probes,
        open: mine.filter((client) => client.open).length,
        connects: c.connects,
        connectFailures: c.connectFailures,
        lastFailure: c.lastFailure,
        sent: c.sent,
        delivered: c.delivered,
        lost: c.lost,
        late: c.late,
        pending: mine.reduce((n, client) => n + client.pending.size, 0),
        latencyMs: latencyMs(snapshot),
        latencyHistogram: { count: snapshot.count, sumNs: snapshot.sumNs, buckets: snapshot.buckets },
      };
    }
    const { count, ratePerSecond, lossAfterMs } = this.options;
    return {
      state: this.state, topic: this.topic, count, ratePerSecond, lossAfterMs,
      published: this.published, publishFailures: this.publishFailures, paths,
    };
  }
}

module.exports = { Probes, PROBE_HEADER: HEADER, PROBE_TOPIC_PREFIX: TOPIC_PREFIX };
