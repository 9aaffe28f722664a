'use strict';
// Attaches to an http.Server's 'upgrade' event and sends each WebSocket
// upgrade for its path to the native core or the legacy path, by a sticky,
// live percentage. Authentication runs in JS first; nothing reaches either
// path without it.

const { EventEmitter } = require('node:events');
const tls = require('node:tls');
const { bucketOf, isNative, randomIdentity, route, PROBE_ROUTE } = require('./bucket');
const handoff = require('./handoff');
const { Drainer } = require('./drainer');
const v = require('./validate');
const { FicusError, codes, wrap, rethrowLater } = require('./errors');
const { grantPatterns } = require('./grant');
const { UpgradeRate } = require('./upgrade-rate');
const { performance } = require('node:perf_hooks');
const { Access, expiryOf } = require('./access');
const { delayed } = require('./failpoints');
const { Rollout } = require('./rollout');
const { Probes } = require('./probes');
const { recoveryOf } = require('./recovery-query');
const { CLOSE_REASONS } = require('./protocol');

const STATUS_TEXT = { 400: 'Bad Request', 401: 'Unauthorized', 500: 'Internal Server Error', 503: 'Service Unavailable' };

function peerWentAway() {}

const AUTH_TIMED_OUT = Symbol('authenticate timed out');

// The routers attached to each server (across dispatchers), in attach
// order: two routers on one string path would both take the same upgrade,
// and an upgrade none of them serves is answered by the first.
const routersOn = new WeakMap(); // server -> Router[]

// `body`: the response's text (ASCII), the status text by default.
function refuse(socket, status, headers = '', body = undefined) {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = STATUS_TEXT[status] || 'Error';
  const content = body === undefined ? text : body;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n${headers}` +
    `Content-Length: ${content.length + 1}\r\n\r\n${content}\n`);
  socket.destroySoon();
}

function splitUrl(url) {
  const q = url.indexOf('?');
  return q < 0 ? { pathname: url, query: '' } : { pathname: url.slice(0, q), query: url.slice(q + 1) };
}

function topicsFromQuery(query) {
  if (!query) return [];
  const raw = new URLSearchParams(query).get('topics');
  if (!raw) return [];
  return raw.split(',').map((t) => t.trim()).filter(Boolean);
}

const ROUTER_OPTIONS = {
  role: (value, name) => v.oneOf(value, name, ['subscriber', 'publisher']),
  path: (value, name) => {
    if (typeof value === 'function') return value;
    if (!v.string(value, name).startsWith('/')) throw v.rangeError('a path starting with "/" (or a function)', name, value);
    return value;
  },
  nativePercent: v.percent,
  key: v.fn,
  authenticate: v.fn,
  legacy: v.fn,
  authenticateTimeoutMs: (value, name) => v.integer(value, name, { min: 0, max: 2 ** 31 - 1 }),
  authorize: v.fn,
  refresh: v.fn,
  authorizeTimeoutMs: (value, name) => v.integer(value, name, { min: 1, max: 2 ** 31 - 1 }),
  maxPendingAuthorizations: (value, name) => v.integer(value, name, { min: 1, max: 1e6 }),
  salt: (value, name) => v.string(value, name),
  topicsFromQuery: v.boolean,
  overrideHeader: (value, name) => v.string(value, name, { nonEmpty: true }).toLowerCase(),
  drainRatePerSecond: (value, name) => v.integer(value, name, { min: 1, max: 100000 }),
  rebalance: v.boolean,
  retryAfterMs: (value, name) => {
    const expected = '[minMs, maxMs] with 0 <= minMs <= maxMs';
    if (!Array.isArray(value) || value.length !== 2 || !value.every(Number.isInteger)) throw v.typeError(expected, name, value);
    if (value[0] < 0 || value[0] > value[1]) throw v.rangeError(expected, name, value);
    return value;
  },
  maxUpgradesPerSecond: (value, name) => v.number(value, name, { min: 0, max: 1e6 }),
  upgradeBurst: (value, name) => v.integer(value, name, { min: 1, max: 1e6 }),
  maxIdentityUpgradesPerSecond: (value, name) => v.number(value, name, { min: 0, max: 1e6 }),
  identityUpgradeBurst: (value, name) => v.integer(value, name, { min: 1, max: 1e6 }),
};

const ROUTER_DEFAULTS = {
  role: 'subscriber',
  path: '/ws',
  nativePercent: 0,
  key: undefined,
  authenticate: undefined,
  legacy: undefined,
  authenticateTimeoutMs: 10000,
  authorize: undefined,
  refresh: undefined,
  authorizeTimeoutMs: 5000,
  maxPendingAuthorizations: 10000,
  salt: 'ficus',
  topicsFromQuery: true,
  overrideHeader: undefined,
  drainRatePerSecond: 200,
  rebalance: false,
  retryAfterMs: [1000, 10000],
  // The reconnect-storm brake (lib/upgrade-rate.js): far above what one
  // gateway process admits in a normal second, and above the benchmarks'
  // 4,000 connects a second; an identity may open 20 connections at once
  // (tabs, devices) and 2 a second after that. 0 turns either off.
  maxUpgradesPerSecond: 5000,
  upgradeBurst: 10000,
  maxIdentityUpgradesPerSecond: 2,
  identityUpgradeBurst: 20,
};

// A router sees its dispatcher through a narrow interface:
//   native  the NativePath, or null when the native core is unavailable
//   legacy  the LegacyPath
//   slot    this router's number among the dispatcher's (connection routes)
//   maxTopicBytes  the dispatcher's option (a Grant's patterns are checked)
//   faults   the dispatcher's Faults (router.authenticate.slow)
//   stats()  the dispatcher's stats (what a rollout's checks compare)
//   publishProbe(event)  what the probes publish with
//   probeOpened(path, id)  a probe connection opened (the dispatcher
//            leaves it out of its connection counts and close events)
//   detached()  tells the dispatcher this router is gone
class Router extends EventEmitter {
  constructor(host, server, options) {
    super();
    this.options = v.options(options, 'options', ROUTER_OPTIONS, ROUTER_DEFAULTS);
    const { path } = this.options;
    const routers = routersOn.get(server) || [];
    if (typeof path === 'string' && routers.some((r) => r.options.path === path)) {
      throw new FicusError(codes.PATH_TAKEN, `another router already serves ${path} on this server: detach it first`);
    }
    routers.push(this);
    routersOn.set(server, routers);
    this.detached = false;
    this.host = host;
    this.plan = null; // the latest Rollout, if any
    this.probe = null; // the latest Probes, if any
    this.server = server;
    this.percent = this.options.nativePercent;
    this.counters = {
      native: { upgrades: 0, fallbacks: {} },
      legacy: { upgrades: 0 },
      rejected: {
        unauthorized: 0, error: 0, closedDuringAuth: 0, authTimeout: 0, unservedPath: 0, upgradeRate: 0, identityRate: 0,
        badPosition: 0,
      },
    };
    this.upgradeRate = new UpgradeRate(this.options, performance.now());
    // Down (rollback) drains native connections; up (rebalance) moves
    // legacy ones, with the same rate and retry hints.
    this.drainer = new Drainer(host.native, this, this.options, 'down');
    this.rebalancer = new Drainer(host.legacy, this, this.options, 'up');
    this.access = new Access(this.options, host.maxTopicBytes);
    // A throwing `path`, `key` or `authenticate` refuses that one upgrade;
    // it must never become an unhandled rejection that ends the gateway.
    this.listener = (req, socket, head) => {
      this.onUpgrade(req, socket, head).catch((error) => this.upgradeFailed(socket, error, 500));
    };
    // Listeners of 'connection' run inside the hand-off: one that throws is
    // rethrown on its own tick (like a 'message' listener, see the
    // native path's notifications) rather than caught by the upgrade handler,
    // which would write an HTTP error into an open WebSocket.
    this.opened = (event) => {
      try {
        this.emit('connection', event);
      } catch (error) {
        rethrowLater(error);
      }
    };
    server.on('upgrade', this.listener);
  }

  get nativePercent() {
    return this.percent;
  }

  // Applies to upgrades from now on. With { drain: true }, a decrease
  // closes native connections whose bucket is no longer native with 1012
  // at a bounded rate, so their clients reconnect (onto legacy) without a
  // storm; with { rebalance: true } (default: the router's option), an
  // increase moves legacy connections whose bucket is now native the same
  // way.
  setNativePercent(percent, options = {}) {
    if (this.detached) throw new FicusError(codes.CLOSED, 'this router was detached (or its dispatcher closed)');
    v.percent(percent, 'percent');
    const { drain, rebalance } = v.options(options, 'options', { drain: v.boolean, rebalance: v.boolean },
      { drain: false, rebalance: this.options.rebalance });
    const previous = this.percent;
    this.percent = percent;
    if (drain && percent < previous) this.drainer.drain(percent);
    if (rebalance && percent > previous) this.rebalancer.drain(percent);
    this.emit('routing', { nativePercent: percent, previous, drain, rebalance });
    return this;
  }

  // Starts a rollout plan (lib/rollout.js); one at a time per router.
  rollout(options) {
    if (this.detached) throw new FicusError(codes.CLOSED, 'this router was detached (or its dispatcher closed)');
    if (this.plan && this.plan.active) {
      throw new FicusError(codes.ROLLOUT, `this router already has a rollout (${this.plan.state}): abort it first`);
    }
    const plan = new Rollout(this, this.host.stats, options);
    this.plan = plan;
    plan.start();
    return plan;
  }

  // Starts per-path probes (lib/probes.js); one set at a time per router.
  // The native path is probed when the native core runs and can take this
  // server's sockets (never TLS ones: they fall back); the legacy path
  // unless the application brings its own (`legacy`), whose protocol the
  // probes do not speak.
  probes(options) {
    if (this.detached) throw new FicusError(codes.CLOSED, 'this router was detached (or its dispatcher closed)');
    if (this.probing) throw new FicusError(codes.PROBES, 'this router already runs probes: stop them first');
    const paths = {
      native: this.host.native !== null && !(this.server instanceof tls.Server),
      legacy: this.options.legacy === undefined,
    };
    const probes = new Probes(this, this.host.publishProbe, paths, this.host.maxTopicBytes, options);
    this.probe = probes;
    return probes.start();
  }

  get probing() {
    return this.probe !== null && this.probe.running;
  }

  detach() {
    if (this.detached) return;
    if (this.plan && this.plan.active) this.plan.abort('the router was detached');
    if (this.probe) this.probe.stop();
    this.detached = true;
    const routers = routersOn.get(this.server);
    routers.splice(routers.indexOf(this), 1);
    this.server.off('upgrade', this.listener);
    this.drainer.stop();
    this.rebalancer.stop();
    this.upgradeRate.stop();
    this.host.detached();
  }

  matches(pathname) {
    const { path } = this.options;
    return typeof path === 'function' ? path(pathname) : pathname === path;
  }

  // An upgrade for a path no router serves would leave its socket open
  // forever when nothing else listens: the first router answers 400, as
  // `ws` does. With any other 'upgrade' listener, the upgrade is its.
  answerUnserved(pathname, socket) {
    const routers = routersOn.get(this.server);
    if (routers[0] !== this) return;
    const ours = new Set(routers.map((r) => r.listener));
    if (this.server.listeners('upgrade').some((l) => !ours.has(l))) return;
    if (routers.some((r) => r !== this && r.matches(pathname))) return;
    this.counters.rejected.unservedPath += 1;
    socket.on('error', peerWentAway);
    refuse(socket, 400);
  }

  choosePath(req, bucket) {
    const { overrideHeader } = this.options;
    if (overrideHeader) {
      const wanted = req.headers[overrideHeader];
      if (wanted === 'native' || wanted === 'legacy') return wanted;
    }
    return isNative(bucket, this.percent) ? 'native' : 'legacy';
  }

  // key(req) as a string, or undefined without a key or an answer.
  keyOf(req) {
    const key = this.options.key ? this.options.key(req) : undefined;
    return key === undefined || key === null || key === '' ? undefined : String(key);
  }

  // A brake (lib/upgrade-rate.js) said no: 503 with its Retry-After.
  braked(socket, reason, retryAfterSeconds) {
    this.counters.rejected[reason] += 1;
    refuse(socket, 503, `Retry-After: ${retryAfterSeconds}\r\n`);
  }

  async onUpgrade(req, socket, head) {
    const { pathname, query } = splitUrl(req.url || '/');
    if (!this.matches(pathname)) {
      this.answerUnserved(pathname, socket);
      return;
    }
    const probePath = this.probe === null ? null : this.probe.recognize(req);
    if (probePath !== null) {
      this.openProbe(req, socket, head, pathname, probePath);
      return;
    }
    // Bring-your-own legacy path: an upgrade that stays legacy goes to the
    // application's own handler before ficus touches anything, so at 0 %
    // nothing in the gateway changes. The bucket comes from `key` alone.
    let byoBucket;
    let key; // key(req) is asked once: without an answer the identity is random
    let keyIdentity;
    if (this.options.legacy) {
      key = this.keyOf(req);
      keyIdentity = key ?? randomIdentity();
      byoBucket = bucketOf(keyIdentity, this.options.salt);
      if (this.choosePath(req, byoBucket) === 'legacy') {
        this.toOwnLegacy(req, socket, head);
        return;
      }
    }
    // Node drops its own 'error' listener once a socket is upgraded: a peer
    // that resets while we judge or refuse it would otherwise be an
    // uncaught exception. Its upgrade is counted as refused or as
    // closedDuringAuth; ws and the core handle the socket after hand-off.
    socket.on('error', peerWentAway);
    // A `since` that is not a position is refused here, before routing, so
    // both paths answer it alike (the core would answer the same 400).
    const recovery = recoveryOf(query);
    if (recovery === null) {
      this.counters.rejected.badPosition += 1;
      refuse(socket, 400, '', CLOSE_REASONS.invalidSince);
      return;
    }
    // Before authenticate: a storm of upgrades costs the auth service nothing.
    const gatewayWait = this.upgradeRate.admitUpgrade(performance.now());
    if (gatewayWait !== null) {
      this.braked(socket, 'upgradeRate', gatewayWait);
      return;
    }
    const { handle, reason } = handoff.handoffHandle(socket);
    if (handle) handoff.pauseReads(handle);

    let auth;
    try {
      auth = this.options.authenticate ? await this.authenticate(req) : true;
    } catch (error) {
      this.upgradeFailed(socket, error, 401);
      return;
    }
    if (auth === AUTH_TIMED_OUT) {
      // The socket waited with its reads paused; a hung auth service must
      // not hold sockets (and file descriptors) without end.
      this.counters.rejected.authTimeout += 1;
      refuse(socket, 503);
      return;
    }
    // Only a Grant or true lets a connection in: an authenticate that
    // forgets to return (undefined) refuses rather than admits.
    if (auth !== true && (auth === null || typeof auth !== 'object')) {
      this.counters.rejected.unauthorized += 1;
      refuse(socket, 401);
      return;
    }
    if (socket.destroyed) {
      this.counters.rejected.closedDuringAuth += 1;
      return;
    }
    const grant = typeof auth === 'object' ? auth : {};
    if (grant.topics !== undefined && !Array.isArray(grant.topics)) {
      this.upgradeFailed(socket, v.typeError('an array of topic names', 'grant.topics', grant.topics), 500);
      return;
    }
    if (grant.identity === undefined && keyIdentity === undefined) {
      key = this.keyOf(req);
      keyIdentity = key ?? randomIdentity();
    }
    const identity = grant.identity !== undefined ? String(grant.identity) : keyIdentity;
    // Only an identity authenticate stood behind (its Grant's, or the key
    // it accepted) is braked; a random one names nobody.
    if (grant.identity !== undefined || key !== undefined) {
      const identityWait = this.upgradeRate.admitIdentity(identity, performance.now());
      if (identityWait !== null) {
        this.braked(socket, 'identityRate', identityWait);
        return;
      }
    }
    const topics = grant.topics !== undefined ? grant.topics.map(String)
      : (this.options.topicsFromQuery ? topicsFromQuery(query) : []);
    // What the client may subscribe to by message or query: null for
    // anything (no authenticate, `true`, or `subscribe: 'any'`), else the
    // patterns both paths enforce (docs/security.md, "Authorization").
    let allow;
    try {
      allow = grantPatterns(auth === true ? true : grant, topics, this.host.maxTopicBytes);
    } catch (error) {
      this.upgradeFailed(socket, error, 500);
      return;
    }
    const permissions = allow === null ? null : { allow };
    // Credentials that expire (docs/security.md, "Expiring credentials"):
    // already expired is not authenticated.
    let expiresAt = null;
    try {
      if (auth !== true) expiresAt = expiryOf(grant);
    } catch (error) {
      this.upgradeFailed(socket, error, 500);
      return;
    }
    if (expiresAt !== null && expiresAt <= Date.now()) {
      this.counters.rejected.unauthorized += 1;
      refuse(socket, 401);
      return;
    }
    const publisher = this.options.role === 'publisher';
    const access = publisher ? null : this.access.record(req, auth, identity, allow !== null);
    const bucket = byoBucket !== undefined ? byoBucket : bucketOf(identity, this.options.salt);
    const path = byoBucket !== undefined ? 'native' : this.choosePath(req, bucket);

    // What both paths open a connection with; onOpen(id) once it is open
    // (the native path: at once; the legacy path: after its handshake).
    const connection = {
      pathname, query, identity, topics, publisher, grant: permissions,
      route: this.routeOf(bucket), handle, expiresAt: publisher ? null : expiresAt, access,
      // The legacy path's; the core reads recover and since from `query`.
      recover: recovery.recover, since: recovery.since,
    };
    let legacyHead = head;
    if (path === 'native') {
      const native = this.host.native;
      const onOpen = (id) => {
        this.counters.native.upgrades += 1;
        this.opened({ path: 'native', id, identity });
      };
      const opened = !native ? { reason: 'native-unavailable' }
        : !handle ? { reason }
          : native.open(req, socket, head, { ...connection, onOpen });
      if (opened.reason === undefined) return;
      this.countFallback(opened.reason);
      if (opened.head) legacyHead = opened.head;
    }
    if (handle) handoff.resumeReads(socket, handle);
    if (this.options.legacy) {
      this.toOwnLegacy(req, socket, legacyHead);
      return;
    }
    this.host.legacy.open(req, socket, legacyHead, {
      ...connection,
      // Once the handshake succeeded: one the legacy path refused (and
      // counted in its handshakesRejected) never opened.
      onOpen: (id) => {
        this.counters.legacy.upgrades += 1;
        this.opened({ path: 'legacy', id, identity });
      },
    });
  }

  // One of our own probes (lib/probes.js), on the path it asked for: no
  // authenticate, no brakes, only the probe topic, outside every bucket
  // (PROBE_ROUTE: drains and rebalancing never select it), not counted as
  // an upgrade and not announced. A native probe that cannot be adopted is
  // refused, not moved to legacy: it must measure the path it names.
  openProbe(req, socket, head, pathname, path) {
    socket.on('error', peerWentAway);
    socket.unref(); // the server's end of a probe never keeps the process alive either
    const probes = this.probe;
    const { handle, reason } = handoff.handoffHandle(socket);
    const connection = {
      pathname, query: '', identity: probes.identity(path), topics: [probes.topic], publisher: false,
      grant: { allow: [probes.topic] }, route: PROBE_ROUTE, handle, expiresAt: null, access: null, recover: false,
      onOpen: (id) => this.host.probeOpened(path, id),
    };
    if (path === 'native') {
      if (!handle) {
        refuse(socket, 503, '', `probe: ${reason}`);
        return;
      }
      handoff.pauseReads(handle);
      const opened = this.host.native.open(req, socket, head, connection);
      if (opened.reason !== undefined) refuse(socket, 503, '', `probe: ${opened.reason}`);
      return;
    }
    this.host.legacy.open(req, socket, head, connection);
  }

  // The application's own upgrade handler takes the socket as it is; its
  // connections are counted as legacy upgrades and nothing more (see
  // docs/migration-guide.md, "Bring your own legacy path").
  toOwnLegacy(req, socket, head) {
    this.counters.legacy.upgrades += 1;
    try {
      this.options.legacy(req, socket, head);
    } catch (error) {
      rethrowLater(error); // the application's bug, reported as its own
    }
  }

  // authenticate(req), or AUTH_TIMED_OUT once authenticateTimeoutMs passed
  // (0: no limit). A late answer is ignored. router.authenticate.slow's
  // delay counts against the timeout, as a slow auth service's would.
  authenticate(req) {
    const pending = delayed(this.host.faults).then(() => this.options.authenticate(req));
    const ms = this.options.authenticateTimeoutMs;
    if (ms === 0) return pending;
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, ms, AUTH_TIMED_OUT);
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }

  // A refused upgrade: counted, answered, and reported to 'error'
  // listeners only (as the dispatcher does), so an app without one is not
  // thrown at from inside the server's 'upgrade' event.
  upgradeFailed(socket, error, status) {
    this.counters.rejected.error += 1;
    refuse(socket, status);
    if (this.listenerCount('error') > 0) this.emit('error', wrap(codes.UPGRADE_REFUSED, error));
  }

  // Where a connection came from, as both paths keep it (what a drain
  // selects by).
  routeOf(bucket) {
    return route(this.host.slot, bucket);
  }

  countFallback(reason) {
    const f = this.counters.native.fallbacks;
    f[reason] = (f[reason] || 0) + 1;
    this.emit('fallback', { reason });
  }

  stats() {
    const fallbacks = Object.values(this.counters.native.fallbacks).reduce((a, b) => a + b, 0);
    return {
      nativePercent: this.percent,
      native: { upgrades: this.counters.native.upgrades, fallbacks, fallbacksByReason: { ...this.counters.native.fallbacks } },
      legacy: { upgrades: this.counters.legacy.upgrades },
      rejected: { ...this.counters.rejected },
      drain: this.drainer.stats(),
      rebalance: this.rebalancer.stats(),
      rollout: this.plan ? this.plan.stats() : null,
      probes: this.probe ? this.probe.stats() : null,
    };
  }
}

module.exports = { Router, topicsFromQuery };
