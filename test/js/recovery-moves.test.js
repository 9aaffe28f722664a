'use strict';
// A client moved between paths by the router resumes where it left off:
// connected at 100 % native, the router drops to 0 % (the drain closes it
// 1012), it reconnects with since=<its last position> and lands on the
// legacy path, which reads the same history the native workers wrote
// (one stream, one set of positions), and nothing is lost or doubled;
// and the reverse (a rebalance upward moves legacy clients to native).
// Under load: a few hundred clients while a few thousand events a second
// are published.

const { startGateway } = require('./support/gateway');
const { until } = require('./support/clients');
const { ResumingClient } = require('./support/resuming');
const { publishSteadily } = require('./support/steady-publisher');

const CLIENTS = 200;
const ORDERS = 20;
const EVENTS_PER_TICK = 30; // every 10 ms: 3,000 events a second

let gw;
let publisher;
afterEach(async () => {
  publisher?.stop();
  if (gw) await gw.close();
  gw = null;
});

async function move({ from, to, change }) {
  gw = await startGateway({
    attach: { nativePercent: from, drainRatePerSecond: 400, retryAfterMs: [10, 50] },
  });
  const opened = [];
  gw.router.on('connection', ({ path }) => opened.push(path));
  const clients = [];
  for (let i = 0; i < CLIENTS; i += 1) {
    const topic = `order:o${i % ORDERS}`;
    const url = (since) => gw.url(`/ws?topics=${topic}&${since ? `since=${since}` : 'recover=1'}`);
    const client = new ResumingClient(url, { headers: { 'x-client-id': `mover${i}` } });
    client.order = `o${i % ORDERS}`;
    clients.push(client);
  }
  await Promise.all(clients.map((c) => c.start()));
  expect(opened).toEqual(Array(CLIENTS).fill(from === 100 ? 'native' : 'legacy'));

  publisher = publishSteadily(gw, { orders: ORDERS, perTick: EVENTS_PER_TICK });
  await until(() => clients.every((c) => c.events.length > 0), 10_000, 'every client\'s first event');

  change();
  const target = to === 100 ? 'native' : 'legacy';
  await until(() => {
    const { paths } = gw.dispatch.stats();
    return paths[target].connections === CLIENTS && clients.every((c) => c.log.includes('recovered:true'));
  }, 20_000, `every client resumed on ${target}`);
  await new Promise((r) => setTimeout(r, 300)); // live on the new path for a while
  publisher?.stop();

  for (const c of clients) {
    c.expected = publisher.seqsFor(c.order, c.events[0].seq);
  }
  await until(() => clients.every((c) => c.events.length >= c.expected.length), 10_000, 'every event');
  for (const c of clients) {
    expect({ order: c.order, seqs: c.seqs }).toEqual({ order: c.order, seqs: c.expected });
    expect(c.closes.map((x) => x.code)).toEqual([1012]);
    expect(c.log.filter((m) => m === 'recovered:true')).toHaveLength(1);
  }
  expect(opened.slice(CLIENTS)).toEqual(Array(CLIENTS).fill(target));
  expect(gw.dispatch.stats().paths[target].recoveries).toEqual({ complete: CLIENTS, incomplete: 0, overtaken: 0 });
  for (const c of clients) c.stop();
}

test('native at 100 %, drained to 0 %: every client resumes on legacy with nothing lost or doubled', async () => {
  await move({ from: 100, to: 0, change: () => gw.router.setNativePercent(0, { drain: true }) });
});

test('legacy at 0 %, rebalanced to 100 %: every client resumes on native with nothing lost or doubled', async () => {
  await move({ from: 0, to: 100, change: () => gw.router.setNativePercent(100, { rebalance: true }) });
});
