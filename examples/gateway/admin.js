'use strict';
// Admin routes: read and change the native/legacy split (the migration's
// control), ask which path a client is on, and add simulated clients.
// Unauthenticated: the gateway listens on loopback by default.

const ficus = require('../..');
const { HttpError, json, readBody, parseJsonObject } = require('./http-util');

const MAX_ADMIN_BODY = 64 * 1024;
const MAX_CLIENTS_PER_REQUEST = 1000;

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

function adminRoutes(ctx) {
  const { router, simClients, whereabouts, salt } = ctx;
  return [
    {
      method: 'GET',
      path: '/admin/routing',
      handle(req, res) {
        json(res, 200, routing(ctx));
      },
    },
    {
      method: 'PUT',
      path: '/admin/routing',
      async handle(req, res) {
        const { nativePercent, drain } = parseRoutingChange(await readBody(req, MAX_ADMIN_BODY));
        router.setNativePercent(nativePercent, { drain });
        json(res, 200, routing(ctx));
      },
    },
    {
      method: 'GET',
      path: '/admin/whereis',
      handle(req, res, params, url) {
        const clientId = url.searchParams.get('client_id');
        if (!clientId) throw new HttpError(400, 'client_id query parameter is required');
        const open = whereabouts.get(clientId);
        const bucket = ficus.bucketOf(clientId, salt);
        // Not connected: where its next connection would land now.
        const predicted = bucket < router.nativePercent && ctx.dispatch.nativeAvailable ? 'native' : 'legacy';
        json(res, 200, {
          client_id: clientId,
          connected: Boolean(open),
          path: open ? open.path : predicted,
          connections: open ? open.count : 0,
          bucket,
        });
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

module.exports = { adminRoutes, parseRoutingChange };
