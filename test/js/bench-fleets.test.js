'use strict';
// The scale scenario's control (bench/scenarios/scale.js, measureFloor):
// several floor servers that share nothing, a subscriber fleet on each and
// one publisher process with a connection to each (--ports). Each fleet
// must expect only its own publisher's events, or the control's delivery
// and latency figures count the wrong thing.

const { FloorServer } = require('../../bench/lib/gateway');
const { Subscribers, Fleets, Publisher, runPhase } = require('../../bench/lib/loadgen');

// runPhase first waits (at most 20 s) for the machine to be quiet.
jest.setTimeout(90000);

const SHARE = 40;
let floors = [];
let subs = null;
let pub = null;

beforeAll(async () => {
  floors = [new FloorServer(), new FloorServer()];
  for (const f of floors) await f.start();
  subs = new Fleets(floors.map((f, i) => new Subscribers({ port: f.port, count: SHARE, orders: SHARE, perProcess: SHARE,
    connectRate: 2000, serverPid: f.pid, maxSeconds: 120, clientPrefix: `f${i}-`, fromPublisher: i })));
  pub = new Publisher({ ports: floors.map((f) => f.port), orders: SHARE, serverPid: floors[0].pid, maxSeconds: 120 });
});

afterAll(async () => {
  if (subs) await subs.stop();
  if (pub) await pub.stop();
  for (const f of floors) if (f.child) await f.stop();
});

test('every fleet connects to its own floor and gets exactly its publisher\'s share, in order', async () => {
  const connected = await subs.connected(30000);
  expect(connected).toMatchObject({ open: 2 * SHARE, failed: 0 });
  expect(subs.procs).toHaveLength(2);
  expect((await pub.ready()).open).toBe(2);

  const r = await runPhase({ gateway: floors[0], subs, pub, rate: 800, durationMs: 500 });
  // 400 events, round-robin over the two publishers: 200 to each floor,
  // each reaching the one subscriber of its order there.
  expect(r.sent).toBe(400);
  expect(r).toMatchObject({ expected: 400, delivered: 400, lost: 0, dup: 0, ooo: 0, misrouted: 0 });
  expect(r.deliveredPct).toBe(100);
});

test('a publisher port that is not a port is refused', async () => {
  const bad = new Publisher({ ports: [floors[0].port, 70000], orders: SHARE, serverPid: floors[0].pid, maxSeconds: 30 });
  await expect(bad.ready(10000)).rejects.toThrow(/--ports: 70000 is not a port/);
  await bad.stop();
});
