'use strict';
// The public HTTP routes: health, event ingest and the order API.

const { HttpError, json, text, readBody } = require('./http-util');

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

function apiRoutes({ publish, store }) {
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
      handle(req, res) {
        json(res, 200, { orders: store.size, recent: store.recentIds(10) });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/orders\/([^/]+)$/,
      name: '/api/orders/:id',
      handle(req, res, [rawId]) {
        let id;
        try {
          id = decodeURIComponent(rawId);
        } catch {
          throw new HttpError(400, 'order id: invalid percent-encoding');
        }
        if (id.length > MAX_ORDER_ID) throw new HttpError(400, `order id: longer than ${MAX_ORDER_ID} characters`);
        const order = store.get(id);
        if (!order) throw new HttpError(404, `unknown order '${id}'`);
        json(res, 200, order);
      },
    },
  ];
}

module.exports = { apiRoutes, eventItems, MAX_EVENTS_BODY };
