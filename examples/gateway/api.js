'use strict';
// The public HTTP routes: health, event ingest and the order API.

const { HttpError, json, text, readBody } = require('./http-util');
const { AuthRefusal } = require('./auth');

const MAX_EVENTS_BODY = 1024 * 1024; // POST /events: 1 MiB, else 413
const MAX_ORDER_ID = 256;

// Splits a POST /events body into the items given to publish(), so that a
// rejection's index is the position of the event in what the client sent:
// a JSON object is one event, a JSON array its items, anything else is
// newline-delimited JSON whose blank lines do not count. Items that are
// strings keep the client's bytes; publish() validates every item.
function eventItems(body) {
  try {
    const value = JSON.parse(body);
    if (Array.isArray(value)) return value;
    // One object, possibly pretty-printed: its own text, so ficus judges
    // exactly what was sent (newlines outside strings are JSON whitespace).
    if (value !== null && typeof value === 'object') return [body.replace(/[\r\n]/g, ' ')];
  } catch {
    // Not one JSON document: NDJSON (or garbage, which publish() rejects).
  }
  // Blank means spaces and tabs only, as ficus's own NDJSON reader counts.
  return body.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => !/^[ \t]*$/.test(line));
}

// Answers for other workers: a cluster worker keeps only its share of the
// orders (store.js), so the one asked forwards to all and takes the owner's.
function apiQueries({ store }) {
  return {
    order: (id) => store.get(id) || null,
    orders: () => ({ orders: store.size, recent: store.recentIds(10) }),
  };
}

async function clusterOrder(fleet, id) {
  const { answers } = await fleet.all('order', id);
  const found = answers.find((a) => a.value);
  if (found) return found.value;
  const failed = answers.filter((a) => a.error !== undefined);
  if (failed.length > 0) throw new HttpError(502, `not every worker answered: ${failed.map((a) => `worker ${a.worker}: ${a.error}`).join('; ')}`);
  return null;
}

async function clusterOrders(fleet) {
  const { answers } = await fleet.all('orders');
  const values = answers.map((a) => a.value).filter(Boolean);
  // Each worker's newest first: interleaved, so the newest of all lead.
  const recent = [];
  for (let i = 0; recent.length < 10 && values.some((v) => i < v.recent.length); i += 1) {
    for (const v of values) if (i < v.recent.length && recent.length < 10) recent.push(v.recent[i]);
  }
  return { orders: values.reduce((sum, v) => sum + v.orders, 0), recent };
}

// With --auth-secret, POST /events needs a publisher's token: 401 without a
// valid one, 403 for a valid one without role 'publisher' (RFC 6750's
// invalid_token and insufficient_scope). Checked before the body is read.
async function requirePublisher(auth, req) {
  try {
    await auth.verify(req, 'events', { publisher: true });
  } catch (err) {
    if (!(err instanceof AuthRefusal)) throw err;
    const forbidden = err.reason === 'role';
    const challenge = err.reason === 'missing' ? 'Bearer realm="ficus"'
      : `Bearer realm="ficus", error="${forbidden ? 'insufficient_scope' : 'invalid_token'}"`;
    const refusal = new HttpError(forbidden ? 403 : 401, err.message);
    // The unread body is not wanted.
    refusal.headers = { 'WWW-Authenticate': challenge, Connection: 'close' };
    throw refusal;
  }
}

function apiRoutes({ publish, store, fleet, auth }) {
  const local = apiQueries({ store });
  return [
    {
      method: 'GET',
      path: '/healthz',
      handle(req, res) {
        text(res, 200, 'ok');
      },
    },
    {
      method: 'POST',
      path: '/events',
      async handle(req, res) {
        if (auth) await requirePublisher(auth, req);
        const body = await readBody(req, MAX_EVENTS_BODY);
        const items = eventItems(body);
        if (items.length === 0) throw new HttpError(400, 'empty body: send one JSON event or newline-delimited events');
        const result = publish(items);
        json(res, result.accepted > 0 ? 200 : 400, result);
      },
    },
    {
      method: 'GET',
      path: '/api/orders',
      async handle(req, res) {
        json(res, 200, fleet ? await clusterOrders(fleet) : local.orders());
      },
    },
    {
      method: 'GET',
      path: /^\/api\/orders\/([^/]+)$/,
      name: '/api/orders/:id',
      async handle(req, res, [rawId]) {
        let id;
        try {
          id = decodeURIComponent(rawId);
        } catch {
          throw new HttpError(400, 'order id: invalid percent-encoding');
        }
        if (id.length > MAX_ORDER_ID) throw new HttpError(400, `order id: longer than ${MAX_ORDER_ID} characters`);
        const order = !fleet || store.owns(id) ? store.get(id) : await clusterOrder(fleet, id);
        if (!order) throw new HttpError(404, `unknown order '${id}'`);
        json(res, 200, order);
      },
    },
  ];
}

module.exports = { apiRoutes, apiQueries, eventItems, MAX_EVENTS_BODY };
