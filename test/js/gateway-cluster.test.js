'use strict';
// The example gateway with --workers 2 (Node cluster, one native core per
// worker) on a real redis-server: a routing change through the admin API
// reaches every worker, /stats and /metrics cover every worker and list
// each, a client_id lands on the same path whichever worker accepts it, a
// worker that dies is replaced with the current split, and SIGTERM stops
// them all.

const ficus = require('../..');
const { startRedis } = require('./support/redis-server');
const { startGatewayProcess, runGatewayToExit } = require('./support/gateway-process');
const { connect, closed, until, event } = require('./support/clients');

jest.setTimeout(90000);

const SALT = 'ficus';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let redis;
let gw;
const workerPids = new Set(); // every worker seen, killed in afterAll if still there
const sockets = [];

async function getJson(target) {
  const res = await fetch(gw.http(target));
  return { status: res.status, body: await res.json() };
}

async function stats() {
  const { body } = await getJson('/stats');
  for (const w of body.workers) if (w.pid) workerPids.add(w.pid);
  return body;
}

async function setPercent(nativePercent, drain = false) {
  const res = await fetch(gw.http('/admin/routing'), {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ nativePercent, drain }),
  });
  return { status: res.status, body: await res.json() };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  redis = await startRedis();
  gw = await startGatewayProcess(['--workers', '2', '--redis', redis.url, '--native-percent', '50', '--threads', '1', '--feed-rate', '0']);
  await stats();
});

afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});

afterAll(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  if (gw) await gw.stop();
  for (const pid of workerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (redis) await redis.stop();
});

test('the start line names the workers; /stats lists both, serving and bridged', async () => {
  expect(gw.startLine).toMatch(/^ficus gateway on http:\/\/127\.0\.0\.1:\d+\/ — 50% native \(2 workers, native core: 1 threads each\) — feed off — redis redis:\/\/127\.0\.0\.1:\d+ ready$/);
  const s = await stats();
  expect(s.cluster).toMatchObject({ workers: 2, answering: 2, primaryPid: gw.pid });
  expect(s.workers.map((w) => w.worker)).toEqual([0, 1]);
  expect(new Set(s.workers.map((w) => w.pid)).size).toBe(2);
  expect(s.workers.map((w) => w.pid)).not.toContain(gw.pid);
  for (const w of s.workers) {
    expect(w).toMatchObject({ nativePercent: 50, bridge: { state: 'ready' }, paths: { native: { available: true } } });
  }
  expect(s.bridge.state).toBe('ready');
  expect(s.paths.native.threads).toHaveLength(2); // one per worker
  expect(s.cluster.rssBytes).toBeGreaterThan(s.gateway.rssBytes); // the primary's too
});

test('a routing change through the admin API applies to every worker, whichever receives it', async () => {
  for (const percent of [30, 100, 0, 75, 50]) {
    const res = await setPercent(percent);
    expect(res.status).toBe(200);
    expect(res.body.nativePercent).toBe(percent);
    expect(res.body.workers.map((w) => w.nativePercent)).toEqual([percent, percent]);
    // Asked again (another connection, likely another worker): the same everywhere.
    for (let i = 0; i < 3; i += 1) {
      const s = await stats();
      expect(s.workers.map((w) => w.nativePercent)).toEqual([percent, percent]);
      expect(s.nativePercent).toBe(percent);
    }
    expect((await getJson('/admin/routing')).body.workers.map((w) => w.nativePercent)).toEqual([percent, percent]);
  }
  expect((await setPercent(101)).status).toBe(400);
  expect((await stats()).nativePercent).toBe(50);
});

test('/stats adds connections up across workers and /metrics labels each worker', async () => {
  const base = await stats();
  const open = (s) => s.paths.native.connections + s.paths.legacy.connections;
  for (let i = 0; i < 12; i += 1) {
    sockets.push(await connect(gw.ws(`/ws?topics=order:agg1&client_id=agg-${i}`)));
  }
  await until(async () => open(await stats()) === open(base) + 12, 5000, '12 more connections');
  const s = await stats();
  const perWorker = s.workers.map(open);
  expect(perWorker.reduce((a, b) => a + b, 0)).toBe(open(s));
  // Dealt out round-robin: both workers hold some.
  for (const n of perWorker) expect(n).toBeGreaterThan(0);
  expect(s.paths.native.connections).toBe(s.workers.reduce((a, w) => a + w.paths.native.connections, 0));

  // An event POSTed to whichever worker reaches all twelve once (through Redis).
  const res = await fetch(gw.http('/events'), { method: 'POST', body: JSON.stringify(event('agg1', null, 1)) });
  expect(res.status).toBe(200);
  await until(() => sockets.every((ws) => ws.received.length === 1), 5000, 'the event on every worker');
  await sleep(200);
  for (const ws of sockets) expect(ws.received.map((m) => JSON.parse(m).seq)).toEqual([1]);

  const text = await (await fetch(gw.http('/metrics'))).text();
  const typed = new Set();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const name = line.split(' ')[2];
      expect(typed.has(name)).toBe(false); // declared once
      typed.add(name);
    } else if (!line.startsWith('# HELP ')) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$/);
    }
  }
  for (const w of [0, 1]) {
    expect(text).toMatch(new RegExp(`^ficus_connections\\{worker="${w}",path="native"\\} ${s.workers[w].paths.native.connections}$`, 'm'));
    expect(text).toMatch(new RegExp(`^ficus_bridge_up\\{worker="${w}"\\} 1$`, 'm'));
  }
  expect(text).toMatch(/^ficus_gateway_workers\{state="answering"\} 2$/m);
});

test('a client_id lands on the same path across reconnects, whichever worker accepts it', async () => {
  expect((await setPercent(50)).status).toBe(200);
  const ids = { native: null, legacy: null };
  for (let i = 0; i < 1000 && (!ids.native || !ids.legacy); i += 1) {
    const id = `sticky-${i}`;
    const path = ficus.bucketOf(id, SALT) < 50 ? 'native' : 'legacy';
    if (!ids[path]) ids[path] = id;
  }
  for (const [expected, id] of Object.entries(ids)) {
    const seen = [];
    for (let round = 0; round < 10; round += 1) {
      const ws = await connect(gw.ws(`/ws?topics=order:st1&client_id=${id}`));
      let where;
      await until(async () => {
        where = (await getJson(`/admin/whereis?client_id=${id}`)).body;
        return where.connected && where.connections === 1;
      }, 5000, `${id} connected`);
      seen.push({ path: where.path, worker: where.workers[0].worker });
      const gone = closed(ws);
      ws.close();
      await gone;
      await until(async () => !(await getJson(`/admin/whereis?client_id=${id}`)).body.connected, 5000, `${id} gone`);
    }
    expect(seen.map((s) => s.path)).toEqual(new Array(10).fill(expected));
    // Round-robin: the reconnects were accepted by both workers.
    expect(new Set(seen.map((s) => s.worker)).size).toBe(2);
  }
});

test('each order is kept by one worker, and any worker answers for it', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `cluster-order-${i}`);
  const body = ids.map((id) => JSON.stringify({ order_id: id, status: 'picked_up', timestamp: '2026-11-27T15:00:00Z' })).join('\n');
  const before = (await getJson('/api/orders')).body.orders; // earlier tests' orders
  const res = await fetch(gw.http('/events'), { method: 'POST', body });
  expect(res.status).toBe(200);
  // Redis brings the events back to both workers; each keeps its share.
  await until(async () => (await getJson('/api/orders')).body.orders >= before + ids.length, 10000);
  const perWorker = (await stats()).workers.map((w) => w.gateway.orders);
  expect(perWorker.reduce((a, b) => a + b, 0)).toBe(before + ids.length);
  expect(perWorker.every((n) => n < before + ids.length)).toBe(true); // shared out, not copied
  // New connections (no keep-alive) land on either worker.
  for (let round = 0; round < 3; round += 1) {
    for (const id of ids) {
      const order = await getJson(`/api/orders/${id}`);
      expect(order.status).toBe(200);
      expect(order.body).toMatchObject({ order_id: id, status: 'picked_up' });
    }
  }
  expect((await getJson('/api/orders/cluster-never-seen')).status).toBe(404);
});

test('a worker that dies is replaced, with the split in force', async () => {
  expect((await setPercent(70)).status).toBe(200);
  const before = await stats();
  const victim = before.workers[1].pid;
  process.kill(victim, 'SIGKILL');
  await until(async () => {
    try {
      const s = await stats();
      return s.cluster.answering === 2 && s.workers[1].pid !== victim;
    } catch {
      return false; // a kept-alive connection to the dead worker is reset
    }
  }, 15000, 'a replacement worker');
  const s = await stats();
  expect(s.workers.map((w) => w.nativePercent)).toEqual([70, 70]);
  expect(s.workers[1].bridge.state).toBe('ready');
  expect(gw.output.join('\n')).toMatch(/worker 1 \(pid \d+\) exited \(SIGKILL\); restarting it/);
});

test('SIGTERM stops every worker and the primary, exit 0', async () => {
  const s = await stats();
  const ws = await connect(gw.ws('/ws?topics=order:bye&client_id=bye-1'));
  const bye = closed(ws);
  const result = await gw.stop(8000);
  expect(result).toMatchObject({ code: 0, signal: null, late: false });
  expect((await bye).code).toBe(1001);
  for (const w of s.workers) expect(alive(w.pid)).toBe(false);
});

test('--workers above 1 without --redis exits 2 naming the flag', async () => {
  const result = await runGatewayToExit(['--workers', '2']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('--workers above 1 needs --redis');
  const bad = await runGatewayToExit(['--workers', '0', '--redis', 'redis://127.0.0.1:1']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--workers must be an integer from 1 to 64');
});
