'use strict';
// Wires the gateway: one http.Server; ficus owns /ws upgrades (native or
// legacy by a sticky percentage) and /publish upgrades (a router with role
// 'publisher': the native core ingests their frames when it runs, else the
// legacy path publishes each frame); on a Redis Stream the core writes them
// to Redis itself; otherwise with --redis (pub/sub, or --redis-writer js),
// /publish is ours instead (publishers.js), whose events go through
// Redis from JavaScript (redis.js). Plain
// routes serve the API, admin, stats and the dashboard. As a cluster worker
// it also answers the primary's questions (fleet.js). With --auth-secret
// every subscriber and publisher presents a JWT (auth.js), the gateway's
// own clients included (tokens.js).

const http = require('node:http');
const ficus = require('../..');
const { apiRoutes, apiQueries } = require('./api');
const { adminRoutes, adminQueries } = require('./admin');
const { rolloutRoutes, logDecisions } = require('./rollout-admin');
const { faultRoutes, faultQueries } = require('./faults-admin');
const { rolloutQueries } = require('./cluster-rollout');
const { observeRoutes, observeQueries, GatewayStats } = require('./observe');
const { staticRoutes } = require('./static');
const { HttpError, error } = require('./http-util');
const { OrderStore } = require('./store');
const { Feed } = require('./feed');
const { Publishers } = require('./publishers');

const { SimClients } = require('./sim-clients');
const { Whereabouts } = require('./whereabouts');
const { bridgeGateway, waitForRedis } = require('./redis');
const { Fleet } = require('./fleet');
const { GatewayAuth, AuthRefusal } = require('./auth');
const { mintToken } = require('./tokens');

const SALT = 'ficus'; // the router's default; GET /admin/whereis hashes with it too

// Sticky identity: ?client_id=, else the x-client-id header, else nothing
// (ficus then picks a random identity for this one connection).
function clientKey(req) {
  const q = req.url.indexOf('?');
  if (q >= 0) {
    const fromQuery = new URLSearchParams(req.url.slice(q + 1)).get('client_id');
    if (fromQuery) return fromQuery;
  }
  const header = req.headers['x-client-id'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

// Returns the params of `route` for `pathname`, or null when it does not match.
function matchRoute(route, pathname) {
  if (typeof route.path === 'string') return route.path === pathname ? [] : null;
  const m = route.path.exec(pathname);
  return m ? m.slice(1) : null;
}

function handleRequest(routes, gatewayStats) {
  return async (req, res) => {
    let url;
    try {
      // Prefixed, not resolved: '//x' must stay a path, not become a host.
      url = new URL(`http://gateway.invalid${req.url.startsWith('/') ? '' : '/'}${req.url}`);
    } catch {
      error(res, 400, 'malformed request target');
      return;
    }
    const matches = routes
      .map((route) => ({ route, params: matchRoute(route, url.pathname) }))
      .filter((m) => m.params !== null);
    const match = matches.find(({ route }) => route.method === req.method ||
      (req.method === 'HEAD' && route.method === 'GET'));
    // Counted by route template, so the metric's label set stays bounded.
    const name = matches.length ? (matches[0].route.name || matches[0].route.path) : 'unmatched';
    res.on('finish', () => gatewayStats.countRequest(name, res.statusCode));
    try {
      if (!match) {
        if (matches.length === 0) throw new HttpError(404, `no route for ${url.pathname}`);
        const allow = [...new Set(matches.map(({ route }) => route.method))].join(', ');
        const err = new HttpError(405, `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})`);
        err.headers = { Allow: allow };
        throw err;
      }
      await match.route.handle(req, res, match.params, url);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      const headers = { ...err.headers };
      if (status === 413) headers.Connection = 'close'; // the rest of the body is not wanted
      if (status === 500) console.error(`ficus gateway: ${req.method} ${url.pathname} failed:`, err);
      error(res, status, status === 500 ? 'internal error' : err.message, headers);
    }
  };
}

// Logs a line at most once per `intervalMs`, saying how many were skipped.
function rateLimitedLog(intervalMs) {
  let last = 0;
  let skipped = 0;
  return (message) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      skipped += 1;
      return;
    }
    console.error(`ficus gateway: ${message}${skipped ? ` (and ${skipped} more since the last report)` : ''}`);
    last = now;
    skipped = 0;
  };
}

// `slot`: this worker's index when run by cluster.js, else null.
function createGateway(config, { slot = null } = {}) {
  const dispatch = ficus.createDispatcher({ threads: config.threads, historyMaxEvents: config.historyMaxEvents });
  const server = http.createServer();
  // Off (no secret): every upgrade is accepted and may subscribe to
  // anything, as before. On: the token's `sub` is the identity (so the
  // sticky key: a client cannot pick its bucket) and its `topics` the Grant.
  const auth = config.authSecret ? new GatewayAuth(config.authSecret) : null;
  const router = dispatch.attach(server, {
    path: '/ws', nativePercent: config.nativePercent, key: clientKey, salt: SALT,
    ...(auth ? { authenticate: (req) => auth.subscriber(req) } : {}),
  });
  const store = new OrderStore({ shard: slot === null ? null : { index: slot, count: config.workers } });
  const gatewayStats = new GatewayStats();
  let stopping = false; // set when stop() begins
  let closed = false; // set when the dispatcher starts closing
  const label = slot === null ? 'ficus gateway' : `ficus gateway worker ${slot}`;

  // An unhandled 'error' would throw: log what the library reports instead,
  // at most once a second (a saturated core reports every publish).
  const logError = rateLimitedLog(1000);
  dispatch.on('error', (err) => logError(`dispatcher: ${err.message}`));
  router.on('error', (err) => logError(`router: ${err.message}`));

  const bridge = config.redis ? bridgeGateway({ config, dispatch, store, log: logError, label }) : null;

  // Every event enters here: feed, POST /events and /publish frames.
  function publish(items) {
    if (closed) throw new HttpError(503, 'the gateway is shutting down');
    const result = dispatch.publish(items);
    // Bridged, the store learns events when Redis brings them back.
    if (!bridge) store.applyAccepted(items, result);
    return result;
  }

  // For timer and socket callbacks, which must not throw.
  const publishQuietly = (source) => (items) => {
    if (closed) return;
    try {
      publish(items);
    } catch (err) {
      logError(`${source}: ${err.message}`);
    }
  };

  const feed = new Feed({ rate: config.feedRate, publish: publishQuietly('feed') });
  const publishers = new Publishers({ publish: publishQuietly('publisher') });
  // Publisher connections go native when the core runs (role 'publisher':
  // the core validates and fans out their events on its own threads, so
  // they never touch this event loop; on a Redis Stream they reach Redis
  // from the core too, or, with a rediss:// URL, through the bridge's
  // client) — unless bridged otherwise: then their events go through
  // Redis from the JS path below.
  const coreWrites = bridge && bridge.stats().stream && config.redisWriter !== 'js';
  const ingest = bridge && !coreWrites ? null
    : dispatch.attach(server, {
      path: '/publish', role: 'publisher', nativePercent: dispatch.nativeAvailable ? 100 : 0,
      ...(auth ? { authenticate: (req) => auth.publisher(req) } : {}),
    });
  const whereabouts = new Whereabouts().track(router, dispatch);
  const simClients = new SimClients({
    baseUrl: '', // set once listening
    topics: () => [`order:${feed.randomOrderId()}`, `driver:${feed.randomDriverId()}`],
    // A customer's token: exactly the order and driver it follows.
    headers: auth && (async (id, topics) => ({
      Authorization: `Bearer ${await mintToken(config.authSecret, { sub: id, role: 'customer', topics })}`,
    })),
  });

  router.on('routing', ({ nativePercent, previous, drain }) => {
    console.log(`${label}: routing ${previous}% -> ${nativePercent}% native${drain ? ' (draining native connections above it)' : ''}`);
  });
  logDecisions(router, label);

  const ctx = { config, dispatch, router, bridge, store, feed, publishers, simClients, whereabouts, gatewayStats, auth, salt: SALT, publish, fleet: null };
  if (slot !== null) ctx.fleet = new Fleet({ index: slot, handlers: { ...apiQueries(ctx), ...adminQueries(ctx), ...faultQueries(ctx), ...rolloutQueries(ctx), ...observeQueries(ctx) } });
  const routes = [...apiRoutes(ctx), ...adminRoutes(ctx), ...rolloutRoutes(ctx), ...faultRoutes(ctx), ...observeRoutes(ctx), ...staticRoutes()];
  server.on('request', handleRequest(routes, gatewayStats));

  // ficus's routers answer /ws and, unbridged, /publish; bridged, /publish
  // is ours; anything else gets a 404 rather than a socket left hanging.
  server.on('upgrade', (req, socket, head) => {
    const pathname = req.url.split('?')[0];
    const routed = pathname === '/ws' || (pathname === '/publish' && ingest);
    if (routed && !closed) return; // until the dispatcher closes and detaches them
    const refuse = (status) => {
      // Node's own 'error' listener is gone once a request upgrades: a client
      // that resets now must not become an uncaught exception.
      socket.on('error', () => {});
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroySoon();
    };
    if (pathname !== '/ws' && pathname !== '/publish') refuse(404);
    else if (routed || stopping) refuse(503);
    else if (!auth) publishers.handleUpgrade(req, socket, head);
    else {
      // 401 whatever the reason, as ficus's router answers an unbridged
      // /publish; the reason is in the counters.
      socket.on('error', () => {});
      auth.verify(req, 'publish', { publisher: true }).then(() => {
        if (!socket.destroyed) publishers.handleUpgrade(req, socket, head);
      }, (err) => {
        if (!(err instanceof AuthRefusal)) logError(`publisher auth: ${err.message}`);
        refuse(401);
      });
    }
  });

  async function start() {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      // A reconnect storm (a deploy, a rollback drain) fills Node's default
      // accept queue of 511; past it the kernel falls back to SYN cookies
      // and resets a client now and then. The kernel caps this at
      // net.core.somaxconn (4096 on current Linux).
      server.listen({ port: config.port, host: config.host, backlog: ficus.limits.listenBacklog }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Serving at once; events flow once Redis answers (bounded wait).
    if (bridge) await waitForRedis(bridge);
    const { port } = server.address();
    const dialHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    simClients.baseUrl = `ws://${dialHost.includes(':') ? `[${dialHost}]` : dialHost}:${port}`;
    gatewayStats.start();
    feed.start();
    simClients.add(config.clients);
    return port;
  }

  // Stops accepting, stops our own traffic, then lets ficus close both
  // paths (1001 to every subscriber).
  async function stop() {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeIdleConnections();
    feed.stop();
    await Promise.all([simClients.stop(), publishers.close()]);
    closed = true;
    await dispatch.close(); // and the bridge
    if (ctx.fleet) ctx.fleet.stop();
    gatewayStats.stop();
    server.closeAllConnections();
  }

  return { server, dispatch, router, bridge, ctx, start, stop };
}

module.exports = { createGateway, clientKey };
