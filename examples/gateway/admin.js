'use strict';
// Admin routes: read and change the native/legacy split (the migration's
// control), ask which path a client is on, and add simulated clients.
// Unauthenticated: the gateway listens on loopback by default. In a cluster
// (ctx.fleet) the split, its change and whereis concern every worker: the
// worker asks all of them through the primary and adds the answers up.
// With --auth-secret the dashboard's page gets its token here (a browser
// cannot hold the secret), from loopback only.

const ficus = require('../..');
const { HttpError, json, readBody, parseJsonObject } = require('./http-util');
const { combine, failures } = require('./aggregate');
const { mintToken, roles } = require('./tokens');

const MAX_ADMIN_BODY = 64 * 1024;
const MAX_CLIENTS_PER_REQUEST = 1000;
const MAX_CLIENT_ID = 128;

function routing({ dispatch, router, salt }) {
  const stats = dispatch.stats();
  return {
    nativePercent: router.nativePercent,
    nativeAvailable: dispatch.nativeAvailable,
    nativeError: dispatch.nativeError ? dispatch.nativeError.message : null,
    threads: stats.paths.native.threads.length,
    connections: { native: stats.paths.native.connections, legacy: stats.paths.legacy.connections },
    drain: stats.drain,
    salt,
  };
}

// { nativePercent: 0-100, drain?: boolean }; anything else is a 400 that
// says what was wrong.
function parseRoutingChange(body) {
  const change = parseJsonObject(body);
  for (const key of Object.keys(change)) {
    if (key !== 'nativePercent' && key !== 'drain') {
      throw new HttpError(400, `unknown field '${key}' (expected nativePercent and optionally drain)`);
    }
  }
  const { nativePercent, drain = false } = change;
  if (typeof nativePercent !== 'number' || !Number.isFinite(nativePercent) || nativePercent < 0 || nativePercent > 100) {
    throw new HttpError(400, `nativePercent must be a number from 0 to 100, got ${JSON.stringify(nativePercent) ?? 'nothing'}`);
  }
  if (typeof drain !== 'boolean') {
    throw new HttpError(400, `drain must be true or false, got ${JSON.stringify(drain)}`);
  }
  return { nativePercent, drain };
}

// What one worker (or the only process) answers; the routes below combine
// them in a cluster.
function adminQueries(ctx) {
  return {
    routing: () => routing(ctx),
    // `rebalance` only from the primary's rollout plan (PUT /admin/routing
    // leaves it to the router's default).
    setRouting({ nativePercent, drain, rebalance }) {
      ctx.router.setNativePercent(nativePercent, { drain, rebalance });
      return routing(ctx);
    },
    whereis: (clientId) => ctx.whereabouts.get(clientId) || null,
  };
}

// Every worker's routing summed, each listed; a worker that did not answer
// fails the request (502) rather than hide a split that may differ.
async function clusterRouting(fleet, type, payload) {
  const reply = await fleet.all(type, payload);
  const failed = failures(reply);
  if (failed) {
    throw new HttpError(502, `not every worker answered${type === 'setRouting' ? ' (the change may be partial)' : ''}: ${failed}`);
  }
  const values = reply.answers.map((a) => a.value);
  return {
    ...combine(values),
    workers: reply.answers.map((a) => ({ worker: a.worker, pid: a.pid, nativePercent: a.value.nativePercent, connections: a.value.connections })),
  };
}

// 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses.
function isLoopback(address) {
  return /^(::ffff:)?127\./.test(address || '') || address === '::1';
}

function adminRoutes(ctx) {
  const { router, simClients, salt, fleet } = ctx;
  const queries = adminQueries(ctx);
  return [
    {
      method: 'GET',
      path: '/admin/routing',
      async handle(req, res) {
        json(res, 200, fleet ? await clusterRouting(fleet, 'routing') : queries.routing());
      },
    },
    {
      method: 'PUT',
      path: '/admin/routing',
      async handle(req, res) {
        const change = parseRoutingChange(await readBody(req, MAX_ADMIN_BODY));
        json(res, 200, fleet ? await clusterRouting(fleet, 'setRouting', change) : queries.setRouting(change));
      },
    },
    {
      method: 'GET',
      path: '/admin/whereis',
      async handle(req, res, params, url) {
        const clientId = url.searchParams.get('client_id');
        if (!clientId) throw new HttpError(400, 'client_id query parameter is required');
        let open = queries.whereis(clientId);
        let workers;
        if (fleet) {
          const answers = (await fleet.all('whereis', clientId)).answers.filter((a) => a.value);
          open = combine(answers.map((a) => a.value));
          workers = answers.map((a) => ({ worker: a.worker, path: a.value.path, connections: a.value.count }));
        }
        const bucket = ficus.bucketOf(clientId, salt);
        // Not connected: where its next connection would land now.
        const predicted = bucket < router.nativePercent && ctx.dispatch.nativeAvailable ? 'native' : 'legacy';
        json(res, 200, {
          client_id: clientId,
          connected: Boolean(open),
          path: open ? open.path : predicted,
          connections: open ? open.count : 0,
          bucket,
          ...(workers ? { workers } : {}),
        });
      },
    },
    {
      // The order tracker's token: a dashboard's, for every order. Minting
      // is handing out access, so unlike the rest of the (unauthenticated)
      // admin API it stays loopback-only even with --host 0.0.0.0.
      method: 'GET',
      path: '/admin/dashboard-token',
      async handle(req, res, params, url) {
        if (!ctx.auth) {
          json(res, 200, { auth: false });
          return;
        }
        if (!isLoopback(req.socket.remoteAddress)) throw new HttpError(403, 'dashboard tokens are minted for loopback clients only');
        // The page's client id becomes the token's sub: /admin/whereis finds it.
        const sub = url.searchParams.get('client_id');
        if (!sub || sub.length > MAX_CLIENT_ID) throw new HttpError(400, `client_id: 1 to ${MAX_CLIENT_ID} characters`);
        json(res, 200, { auth: true, token: await mintToken(ctx.config.authSecret, roles.dashboard(sub)) });
      },
    },
    {
      method: 'GET',
      path: '/admin/clients',
      handle(req, res) {
        json(res, 200, simClients.stats());
      },
    },
    {
      method: 'POST',
      path: '/admin/clients',
      async handle(req, res) {
        const { count } = parseJsonObject(await readBody(req, MAX_ADMIN_BODY));
        if (!Number.isInteger(count) || count < 1 || count > MAX_CLIENTS_PER_REQUEST) {
          throw new HttpError(400, `count must be an integer from 1 to ${MAX_CLIENTS_PER_REQUEST}, got ${JSON.stringify(count) ?? 'nothing'}`);
        }
        const added = simClients.add(count);
        json(res, 200, { added, ...simClients.stats(), max: simClients.maxClients });
      },
    },
  ];
}

module.exports = { adminRoutes, adminQueries, parseRoutingChange };
