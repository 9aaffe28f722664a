'use strict';
// Issue 17's load case: a rollback drain from 100 % to 0 % while 5,000
// events a second are published, with 2,000 opted-in clients that resume
// with since=<last position>: each receives every event of its order from
// its first one on, once, in publish order, across the move (native until
// its 1012, then a replay on the legacy path, then live there).
//
// The gateway runs in this process (the router, stats and publish are
// what the test drives and reads); the clients run in child processes so
// that parsing their frames does not take the gateway's event loop. Each
// event carries its order's seq (0, 1, 2, … per order), so a child can
// check a client's sequence exactly against the last seq published.
//
// What the legacy path can take on this 2-core machine decides the
// settings below (measured, see the commit message):
// - One client per order: 5,000 frames a second to the clients. With four
//   a topic (20,000 frames a second) the legacy path's writes alone kept
//   the gateway's loop busy, and replays, which send as much again, could
//   not overtake the live cursor.
// - Node accepts one connection per turn of its event loop (libuv >= 1.45),
//   and a replay turn reads replayEventsPerTick events: smaller turns let
//   the 2,000 reconnects in faster. A listen backlog of 4,096 keeps the
//   ones waiting queued instead of dropped (a dropped SYN is retried after
//   1 s, then 3 s, …).

const path = require('node:path');
const { fork } = require('node:child_process');
const { startGateway } = require('./support/gateway');
const { until, event } = require('./support/clients');
const { once } = require('./support/children');

jest.setTimeout(90000);

const CLIENTS = 2000;
const CLIENT_PROCESSES = 2;
const ORDERS = CLIENTS; // one client an order
const EVENTS_PER_SECOND = 5000;
const PUBLISH_EVERY_MS = 10;
const DRAIN_RATE_PER_SECOND = 500; // the drain closes the 2,000 in four seconds
const REPLAY_EVENTS_PER_TICK = 500;
const BACKLOG = 4096;
const LIVE_BEFORE_MS = 500; // on native under load before the drain
const LIVE_AFTER_MS = 500; // and on legacy after everyone recovered

// Publishes EVENTS_PER_SECOND on a clock: a late tick publishes what it
// owes, so the rate holds even when the loop is busy (the longest gap
// between ticks says how bursty it was). Order o<g % ORDERS> gets seq
// floor(g / ORDERS) for the g-th event.
function startPublisher(dispatch) {
  const startedAt = Date.now();
  const publisher = { published: 0, longestGapMs: 0, timer: null };
  let lastTick = startedAt;
  publisher.timer = setInterval(() => {
    const now = Date.now();
    publisher.longestGapMs = Math.max(publisher.longestGapMs, now - lastTick);
    lastTick = now;
    const due = Math.floor(((now - startedAt) * EVENTS_PER_SECOND) / 1000);
    const batch = [];
    for (let g = publisher.published; g < due; g += 1) batch.push(event(`o${g % ORDERS}`, null, Math.floor(g / ORDERS)));
    if (batch.length === 0) return;
    const { accepted } = dispatch.publish(batch);
    if (accepted !== batch.length) throw new Error(`publish accepted ${accepted} of ${batch.length}`);
    publisher.published = due;
  }, PUBLISH_EVERY_MS);
  return publisher;
}

// The last seq published for each order (index = order), or -1.
function finalSeqs(published) {
  return Array.from({ length: ORDERS }, (_, order) => (order < published ? Math.floor((published - 1 - order) / ORDERS) : -1));
}

// What the children's clients have done so far (closed, reopened,
// recovered), for a failure's message.
async function clientProgress() {
  const answers = children.map((child) => once(child, 'progress'));
  for (const child of children) child.send('progress');
  return (await Promise.all(answers)).map((m) => m.progress);
}

// Waits until every client is back, on legacy, and its recovery has ended
// (however); says where things stood if not.
async function resumedOnLegacy(timeoutMs) {
  const done = () => {
    const { native, legacy } = gw.dispatch.stats().paths;
    const { complete, incomplete, overtaken } = legacy.recoveries;
    return native.connections === 0 && legacy.connections === CLIENTS && complete + incomplete + overtaken >= CLIENTS;
  };
  try {
    await until(done, timeoutMs, `${CLIENTS} clients resumed on legacy`, 200);
  } catch (error) {
    const { native, legacy } = gw.dispatch.stats().paths;
    error.message += `: native ${native.connections}, legacy ${legacy.connections}, recoveries ` +
      `${JSON.stringify(legacy.recoveries)}, replayed ${legacy.replayedEvents}; clients ${JSON.stringify(await clientProgress())}`;
    throw error;
  }
  return gw.dispatch.stats().paths;
}

let gw = null;
let publisher = null;
const children = [];
afterEach(async () => {
  if (publisher) clearInterval(publisher.timer);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.length = 0;
  if (gw) await gw.close();
  gw = null;
});

test(`drain 100 % -> 0 % at ${EVENTS_PER_SECOND} events/s: ${CLIENTS} resuming clients miss nothing and get nothing twice`, async () => {
  gw = await startGateway({
    backlog: BACKLOG,
    dispatcher: { replayEventsPerTick: REPLAY_EVENTS_PER_TICK },
    attach: { nativePercent: 100, drainRatePerSecond: DRAIN_RATE_PER_SECOND, retryAfterMs: [10, 50] },
  });
  const opened = { native: 0, legacy: 0 };
  gw.router.on('connection', ({ path: p }) => { opened[p] += 1; });

  const perProcess = CLIENTS / CLIENT_PROCESSES;
  for (let p = 0; p < CLIENT_PROCESSES; p += 1) {
    const args = [gw.port, p * perProcess, perProcess, ORDERS].map(String);
    children.push(fork(path.join(__dirname, 'fixtures', 'resuming-clients.js'), args, { stdio: 'inherit' }));
  }
  const flowing = children.map((child) => once(child, 'flowing'));
  await Promise.all(children.map((child) => once(child, 'opened')));
  expect(opened).toEqual({ native: CLIENTS, legacy: 0 });

  publisher = startPublisher(gw.dispatch);
  await Promise.all(flowing);
  await new Promise((r) => setTimeout(r, LIVE_BEFORE_MS));

  const drainAt = Date.now();
  const publishedAtDrain = publisher.published;
  gw.router.setNativePercent(0, { drain: true });
  const { legacy: moved } = await resumedOnLegacy(40000);
  const movedMs = Date.now() - drainAt;
  const publishedDuringMove = publisher.published - publishedAtDrain;
  await new Promise((r) => setTimeout(r, LIVE_AFTER_MS));
  clearInterval(publisher.timer);

  const finals = finalSeqs(publisher.published);
  const reported = children.map((child) => once(child, 'results'));
  for (const child of children) child.send({ finals, waitMs: 20000 });
  const results = (await Promise.all(reported)).flatMap((r) => r.results);

  const { legacy } = gw.dispatch.stats().paths;
  console.log(`drain under load: ${publisher.published} events published (${publishedDuringMove} in the ` +
    `${movedMs} ms move, longest publish gap ${publisher.longestGapMs} ms); legacy replayed ` +
    `${legacy.replayedEvents} events; first seqs up to ${Math.max(...results.map((r) => r.first))}`);

  // Every client, compared with what it should have seen; the failing ones
  // (at most a few shown) say what went wrong.
  const ideal = (r) => ({
    ...r,
    received: r.expected,
    missing: 0,
    firstMissing: [],
    duplicates: 0,
    reordered: 0,
    positionsBackwards: 0,
    foreign: 0,
    closes: [1012],
    recovered: ['recovered:true'],
  });
  const failing = results.filter((r) => r.first === null || JSON.stringify(r) !== JSON.stringify(ideal(r)));
  expect({ failing: failing.length, some: failing.slice(0, 3) }).toEqual({ failing: 0, some: [] });
  expect(results).toHaveLength(CLIENTS);
  expect(opened).toEqual({ native: CLIENTS, legacy: CLIENTS });
  expect(moved.recoveries).toEqual({ complete: CLIENTS, incomplete: 0, overtaken: 0 });
  // The rate held through the move (it publishes by the clock).
  expect(publishedDuringMove).toBeGreaterThanOrEqual(Math.floor((movedMs - 2 * publisher.longestGapMs) * EVENTS_PER_SECOND / 1000));

  for (const child of children) child.send('close');
  await Promise.all(children.map((child) => new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()))));
});
