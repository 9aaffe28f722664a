'use strict';
// Clients of a gateway whose authenticate returns the Grant the test puts
// in a header, on the path the test picks, and the sentinel-based wait
// that tells when everything sent and published before has been handled
// (authorization.test.js, wildcards.test.js).

const { event } = require('./clients');

// The test's Grant travels in a header: the authenticate below returns it.
const as = (p, grant) => ({ headers: { 'x-ficus-path': p, 'x-grant': JSON.stringify(grant) } });
const attach = {
  nativePercent: 0,
  overrideHeader: 'x-ficus-path',
  authenticate: (req) => JSON.parse(req.headers['x-grant']),
};
const subscribe = (ws, topics) => ws.send(JSON.stringify({ type: 'subscribe', topics }));
const unsubscribe = (ws, topics) => ws.send(JSON.stringify({ type: 'unsubscribe', topics }));
const refusals = (ws) => ws.received.filter((m) => m.startsWith('{"type":"error"'));
// The order ids of the test's events (sentinels have seq >= 1000), in order.
const events = (ws) => ws.received.filter((m) => m.includes('"order_id"')).map((m) => JSON.parse(m))
  .filter((e) => e.seq < 1000).map((e) => e.order_id);

// Sentinel events (seq >= 1000) on `order`, published until `ws` receives
// one: the subscribes it sent before, and the events published before,
// have all been processed by then (one connection's messages and one
// dispatcher's publishes are each handled in order).
let sentinels = 1000;
async function sync(gw, ws, order = 'o17') {
  const first = sentinels;
  const seen = () => ws.received.some((m) => m.includes('"seq":') && JSON.parse(m).seq >= first);
  const deadline = Date.now() + 5000;
  while (!seen()) {
    if (Date.now() > deadline) throw new Error('no sentinel arrived');
    gw.dispatch.publish(event(order, null, sentinels++));
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Publishes `orders` (seq = their index; `drivers[i]` as driver_id) between
// two syncs.
async function publishAndSettle(gw, ws, orders, sentinel = 'o17', drivers = []) {
  await sync(gw, ws, sentinel);
  for (const [i, order] of orders.entries()) gw.dispatch.publish(event(order, drivers[i] ?? null, i));
  await sync(gw, ws, sentinel);
}

module.exports = { as, attach, subscribe, unsubscribe, refusals, events, sync, publishAndSettle };
