'use strict';
// The example gateway (examples/gateway) as a user runs it: a child process
// on a free port, spoken to over HTTP and WebSocket only. Covers the bench
// protocol on both paths, POST /events, the admin routing API, /stats,
// /metrics, flag validation and graceful stop.

const { startGatewayProcess, runGatewayToExit } = require('./support/gateway-process');
const { connect, closed, until, event } = require('./support/clients');

jest.setTimeout(60000);

let gw;
const sockets = [];

async function subscribe(topics, clientId, { viaHeader = false } = {}) {
  const query = new URLSearchParams();
  if (topics) query.set('topics', topics);
  if (clientId && !viaHeader) query.set('client_id', clientId);
  const headers = clientId && viaHeader ? { 'x-client-id': clientId } : {};
  const ws = await connect(gw.ws(`/ws?${query}`), { headers });
  sockets.push(ws);
  return ws;
}

async function getJson(target) {
  const res = await fetch(gw.http(target));
  return { status: res.status, body: await res.json() };
}

async function sendJson(method, target, body) {
  const res = await fetch(gw.http(target), {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function postEvents(body) {
  const res = await fetch(gw.http('/events'), { method: 'POST', body });
  return { status: res.status, body: await res.json() };
}

async function whereis(clientId) {
  return (await getJson(`/admin/whereis?client_id=${encodeURIComponent(clientId)}`)).body;
}

function closeSockets() {
  for (const ws of sockets.splice(0)) ws.terminate();
}

beforeAll(async () => {
  gw = await startGatewayProcess(['--feed-rate', '0', '--native-percent', '50', '--threads', '2']);
});

afterEach(() => closeSockets());

afterAll(async () => {
  closeSockets();
  if (gw) await gw.stop();
});

describe('bench protocol', () => {
  test('the start line names the port, the split and the native threads', () => {
    expect(gw.startLine).toMatch(/^ficus gateway on http:\/\/127\.0\.0\.1:\d+\/ — 50% native \(native core: 2 threads\) — feed off$/);
  });

  test('GET /healthz answers 200 ok', async () => {
    const res = await fetch(gw.http('/healthz'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  test('publisher frames reach every subscriber on both paths, exactly once and in order', async () => {
    const subscribers = [];
    for (let i = 0; i < 24; i += 1) {
      const order = `bp-o${i % 4}`;
      const driver = i % 3 === 0 ? `bp-d${i % 2}` : null;
      const topics = driver ? `order:${order},driver:${driver}` : `order:${order}`;
      const id = `bench-client-${i}`;
      // Identity from the query for some, from x-client-id for others; the
      // query is URL-encoded (':' and ',' as %3A and %2C).
      const ws = await subscribe(topics, id, { viaHeader: i % 2 === 1 });
      subscribers.push({ ws, id, order, driver });
    }
    const paths = new Map();
    for (const s of subscribers) {
      const where = await whereis(s.id);
      expect(where.connected).toBe(true);
      paths.set(s.id, where.path);
    }
    const onNative = [...paths.values()].filter((p) => p === 'native').length;
    expect(onNative).toBeGreaterThan(0);
    expect(onNative).toBeLessThan(subscribers.length);

    // Publisher events are counted where they are validated: by the core
    // for a native (ingest) publisher, by publish() for a legacy one.
    const counts = async () => {
      const { events, paths } = (await getJson('/stats')).body;
      return {
        accepted: events.accepted + (paths.native.ingested || 0),
        rejected: events.rejected + (paths.native.ingestRejected || 0),
      };
    };
    const before = await counts();
    const publisher = await connect(gw.ws('/publish'));
    sockets.push(publisher);
    const events = [];
    let invalid = 0;
    for (let seq = 0; seq < 200; seq += 1) {
      const e = event(`bp-o${seq % 4}`, seq % 2 ? `bp-d${seq % 3}` : null, seq, { sent_ns: Date.now() * 1e6 });
      events.push(e);
      // One pretty-printed frame: still one event.
      publisher.send(seq === 7 ? JSON.stringify(e, null, 2) : JSON.stringify(e));
      if (seq % 50 === 25) {
        publisher.send('{"order_id":"bp-o1","status":"lost"'); // not JSON
        publisher.send(JSON.stringify({ order_id: 'bp-o1', status: 'x', timestamp: 'yesterday' }));
        invalid += 2;
      }
    }
    for (const s of subscribers) {
      s.expected = events
        .filter((e) => e.order_id === s.order || (s.driver !== null && e.driver_id === s.driver))
        .map((e) => e.seq);
    }
    await until(() => subscribers.every((s) => s.ws.received.length >= s.expected.length), 10000, 'all deliveries');
    await new Promise((r) => setTimeout(r, 200)); // nothing more may follow
    for (const s of subscribers) {
      const got = s.ws.received.map((m) => JSON.parse(m).seq);
      expect({ id: s.id, path: paths.get(s.id), got }).toEqual({ id: s.id, path: paths.get(s.id), got: s.expected });
    }
    const after = await counts();
    expect(after.accepted - before.accepted).toBe(200);
    expect(after.rejected - before.rejected).toBe(invalid);
  });

  test('a subscriber without topics connects and receives nothing', async () => {
    const ws = await subscribe('', 'no-topics');
    await postEvents(JSON.stringify(event('nt-o1', 'nt-d1', 1)));
    await new Promise((r) => setTimeout(r, 200));
    expect(ws.received).toEqual([]);
  });

  test('upgrades on other paths are refused with 404', async () => {
    await expect(connect(gw.ws('/nope'))).rejects.toThrow(/404/);
  });

  test('clients that reset while being refused, or mid-body, do not take the gateway down', async () => {
    const net = require('node:net');
    const resetAfter = async (request) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(request);
      await new Promise((r) => setTimeout(r, 10));
      socket.resetAndDestroy();
    };
    for (let i = 0; i < 30; i += 1) {
      await resetAfter('GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      await resetAfter('POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"order_id":');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(gw.http('/healthz'))).status).toBe(200);
    expect(gw.alive).toBe(true);
    expect(gw.output.join('\n')).not.toMatch(/failed|ECONNRESET|aborted/);
  });
});

describe('POST /events', () => {
  test('one valid event: 200, delivered, and the order API shows it', async () => {
    const ws = await subscribe('order:pe-1', 'pe-sub');
    const e = event('pe-1', 'pe-d1', 1);
    const res = await postEvents(JSON.stringify(e, null, 2));
    expect(res).toEqual({ status: 200, body: { accepted: 1, rejected: [] } });
    await until(() => ws.received.length === 1, 5000, 'delivery');
    expect(JSON.parse(ws.received[0])).toEqual(e);

    const order = await getJson('/api/orders/pe-1');
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({ order_id: 'pe-1', status: 'picked_up', driver_id: 'pe-d1' });
    expect((await getJson('/api/orders/never-seen')).status).toBe(404);
  });

  test('one invalid event: 400 with the reason', async () => {
    const res = await postEvents(JSON.stringify({ order_id: '', status: 'x', timestamp: '2026-11-27T10:00:00Z' }));
    expect(res.status).toBe(400);
    expect(res.body.accepted).toBe(0);
    expect(res.body.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/order_id/) }]);
  });

  test('newline-delimited mixed events: 200 with the invalid ones by line', async () => {
    const ws = await subscribe('order:mix-1', 'mix-sub');
    const body = [
      JSON.stringify(event('mix-1', null, 1)),
      '',
      '{"order_id":"mix-1",',
      JSON.stringify({ order_id: 'mix-1', status: 'x', timestamp: 'yesterday' }),
      JSON.stringify(event('mix-1', 'd9', 2)),
    ].join('\r\n');
    const res = await postEvents(body);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r) => r.index)).toEqual([1, 2]);
    expect(res.body.rejected[1].reason).toMatch(/timestamp/);
    await until(() => ws.received.length === 2, 5000, 'deliveries');
    expect(ws.received.map((m) => JSON.parse(m).seq)).toEqual([1, 2]);
  });

  test('empty and blank bodies: 400', async () => {
    for (const body of ['', '  \n\t\n']) {
      const res = await postEvents(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/empty body/);
    }
  });

  test('a body over 1 MiB: 413', async () => {
    const line = JSON.stringify(event('big-1', null, 1));
    const lines = [];
    for (let size = 0; size <= 1024 * 1024; size += line.length + 1) lines.push(line);
    const res = await postEvents(lines.join('\n'));
    expect(res.status).toBe(413);
    // The gateway is still fine.
    expect((await fetch(gw.http('/healthz'))).status).toBe(200);
  });
});

describe('admin routing', () => {
  afterAll(async () => {
    await sendJson('PUT', '/admin/routing', { nativePercent: 50 });
  });

  test('GET /admin/routing reports the split and the native core', async () => {
    const { status, body } = await getJson('/admin/routing');
    expect(status).toBe(200);
    expect(body).toMatchObject({ nativePercent: 50, nativeAvailable: true, threads: 2 });
  });

  test('PUT changes the split, /stats shows it, new connections land by it', async () => {
    let res = await sendJson('PUT', '/admin/routing', { nativePercent: 100 });
    expect(res).toMatchObject({ status: 200, body: { nativePercent: 100 } });
    expect((await getJson('/stats')).body.nativePercent).toBe(100);
    // Upgrade counters only grow, unlike connection counts that earlier
    // tests' closing sockets may still be lowering.
    const upgrades = async () => {
      const { paths } = (await getJson('/stats')).body;
      return { native: paths.native.upgrades, legacy: paths.legacy.upgrades };
    };
    let before = await upgrades();
    for (let i = 0; i < 5; i += 1) await subscribe('order:r1', `to-native-${i}`);
    for (let i = 0; i < 5; i += 1) expect((await whereis(`to-native-${i}`)).path).toBe('native');
    expect(await upgrades()).toEqual({ native: before.native + 5, legacy: before.legacy });
    expect((await getJson('/stats')).body.paths.native.connections).toBeGreaterThanOrEqual(5);

    res = await sendJson('PUT', '/admin/routing', { nativePercent: 0 });
    expect(res.body.nativePercent).toBe(0);
    expect((await getJson('/admin/routing')).body.nativePercent).toBe(0);
    before = await upgrades();
    for (let i = 0; i < 5; i += 1) await subscribe('order:r1', `to-legacy-${i}`);
    for (let i = 0; i < 5; i += 1) expect((await whereis(`to-legacy-${i}`)).path).toBe('legacy');
    expect(await upgrades()).toEqual({ native: before.native, legacy: before.legacy + 5 });
  });

  test('rollback with drain closes native connections with 1012', async () => {
    await sendJson('PUT', '/admin/routing', { nativePercent: 100 });
    const natives = [];
    for (let i = 0; i < 3; i += 1) natives.push(await subscribe('order:rb', `drain-${i}`));
    const closes = natives.map((ws) => closed(ws));
    const res = await sendJson('PUT', '/admin/routing', { nativePercent: 0, drain: true });
    expect(res.body.nativePercent).toBe(0);
    for (const c of await Promise.all(closes)) expect(c.code).toBe(1012);
    // Reconnecting with the same id lands on legacy now.
    await subscribe('order:rb', 'drain-0');
    expect((await whereis('drain-0')).path).toBe('legacy');
  });

  test('invalid bodies: 400 with a message', async () => {
    const cases = [
      [{ nativePercent: 101 }, /nativePercent must be a number from 0 to 100, got 101/],
      [{ nativePercent: '50' }, /nativePercent must be a number/],
      [{}, /nativePercent must be a number/],
      [{ nativePercent: 10, drain: 'yes' }, /drain must be true or false/],
      [{ nativePercent: 10, extra: 1 }, /unknown field 'extra'/],
      ['{"nativePercent": ', /not valid JSON/],
      ['[10]', /expected a JSON object/],
      ['', /empty body/],
    ];
    for (const [body, message] of cases) {
      const res = await sendJson('PUT', '/admin/routing', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error).toMatch(message);
    }
    expect((await getJson('/admin/routing')).body.nativePercent).toBe(0); // unchanged
  });

  test('whereis needs a client_id; unknown methods get 405', async () => {
    expect((await getJson('/admin/whereis')).status).toBe(400);
    const res = await fetch(gw.http('/admin/routing'), { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PUT');
  });
});

describe('observability', () => {
  test('/stats has both paths and the gateway figures', async () => {
    const { status, body } = await getJson('/stats');
    expect(status).toBe(200);
    for (const path of ['native', 'legacy']) {
      expect(body.paths[path]).toEqual(expect.objectContaining({
        connections: expect.any(Number), delivered: expect.any(Number), latencyMs: expect.any(Object),
      }));
    }
    expect(body.paths.native.threads).toHaveLength(2);
    expect(body.gateway).toEqual(expect.objectContaining({
      uptimeSeconds: expect.any(Number),
      eventLoopDelayMs: { p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) },
      eventLoopUtilization: expect.any(Number),
      http: { requests: expect.any(Number) },
      feed: { rate: 0, published: 0 },
    }));
    expect(body.gateway.http.requests).toBeGreaterThan(0);
    expect(body.gateway.eventLoopUtilization).toBeGreaterThanOrEqual(0);
    expect(body.gateway.eventLoopUtilization).toBeLessThanOrEqual(1);
  });

  test('/metrics is valid Prometheus text with ficus and gateway series', async () => {
    const res = await fetch(gw.http('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const label = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
    const sample = new RegExp(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{${label}(,${label})*\\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$`);
    const typed = new Map(); // name -> type
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [, , name, type] = line.split(' ');
        expect(['counter', 'gauge', 'summary', 'histogram', 'untyped']).toContain(type);
        expect(typed.has(name)).toBe(false); // declared once
        typed.set(name, type);
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      const match = sample.exec(line);
      expect({ line, valid: Boolean(match) }).toEqual({ line, valid: true });
      // A histogram's samples are its name with _bucket, _sum or _count.
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(match[1]);
      const declared = typed.has(match[1]) || (histogram !== null && typed.get(histogram[1]) === 'histogram');
      expect({ line, declared }).toEqual({ line, declared: true });
    }
    expect(text).toMatch(/^ficus_connections\{path="native"\} \d+$/m);
    expect(text).toMatch(/^ficus_connections\{path="legacy"\} \d+$/m);
    expect(text).toMatch(/^ficus_gateway_event_loop_delay_seconds\{quantile="0.99"\} /m);
    expect(text).toMatch(/^ficus_gateway_http_requests_total\{route="\/stats",status="200"\} \d+$/m);
  });
});

describe('process', () => {
  test('invalid flags exit 2 naming the flag', async () => {
    const cases = [
      [['--native-percent', 'abc'], {}, "--native-percent must be a number from 0 to 100, got 'abc'"],
      [['--port', '70000'], {}, '--port must be an integer from 0 to 65535'],
      [['--feed-rate=-1'], {}, '--feed-rate must be a number'],
      [['--clients', '2.5'], {}, '--clients must be an integer'],
      [['--threads', 'many'], {}, '--threads must be an integer'],
      [['--nope'], {}, "unknown argument '--nope'"],
      [[], { NATIVE_PERCENT: 'half' }, 'NATIVE_PERCENT must be a number'],
    ];
    for (const [args, env, message] of cases) {
      const result = await runGatewayToExit(args, { env });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
    }
  });

  test('--help prints usage and exits 0', async () => {
    const result = await runGatewayToExit(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--native-percent/);
  });

  test('SIGTERM closes subscribers on both paths and publishers with 1001 and exits 0 within 5 s', async () => {
    const own = await startGatewayProcess(['--feed-rate', '50', '--native-percent', '50', '--threads', '2', '--clients', '10']);
    try {
      const clients = [];
      for (let i = 0; i < 10; i += 1) {
        clients.push(await connect(own.ws(`/ws?topics=order:o1&client_id=stop-${i}`)));
      }
      const stats = await (await fetch(own.http('/stats'))).json();
      expect(stats.paths.native.connections).toBeGreaterThan(0);
      expect(stats.paths.legacy.connections).toBeGreaterThan(0);
      clients.push(await connect(own.ws('/publish')));
      const closes = clients.map((ws) => closed(ws));
      const result = await own.stop(5000);
      expect(result).toMatchObject({ code: 0, signal: null, late: false });
      expect(result.ms).toBeLessThan(5000);
      for (const c of await Promise.all(closes)) expect(c.code).toBe(1001);
    } finally {
      if (own.alive) process.kill(own.pid, 'SIGKILL');
    }
  });
});
