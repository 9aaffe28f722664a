'use strict';
// The Redis bridge against a real redis-server (a child process on a free
// port, nothing mocked): two example gateways bridged through one Redis
// deliver every event exactly once to every subscriber of both, on both
// paths, whoever published it (a plain Redis client, POST /events,
// /publish); bad messages on the channel are rejected and counted; a Redis
// killed and restarted mid-run is reconnected to by itself while the
// gateways keep their connections. And the API's argument checks.

const http = require('node:http');
const { createClient } = require('redis');
const ficus = require('../..');
const { startRedis } = require('./support/redis-server');
const { startGatewayProcess } = require('./support/gateway-process');
const { connect, until, event } = require('./support/clients');

jest.setTimeout(90000);

const SALT = 'ficus'; // the example gateway's
const CHANNEL = 'ficus:events';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let redis;
let plain; // a plain redis client, as another service would publish
const gateways = [];
const sockets = [];

// Client ids whose bucket puts them native (bucket < 50) or legacy at 50 %.
function clientIds(prefix, count) {
  const native = [];
  const legacy = [];
  for (let i = 0; i < 10000 && (native.length < count || legacy.length < count); i += 1) {
    const id = `${prefix}-${i}`;
    const list = ficus.bucketOf(id, SALT) < 50 ? native : legacy;
    if (list.length < count) list.push(id);
  }
  return { native, legacy };
}

async function getJson(gw, target) {
  const res = await fetch(gw.http(target));
  return res.json();
}

async function postEvents(gw, body) {
  const res = await fetch(gw.http('/events'), { method: 'POST', body });
  return { status: res.status, body: await res.json() };
}

// `perPath` subscribers of `topic` on each path of `gw`, checked with whereis.
async function subscribers(gw, topic, prefix, perPath = 3) {
  const ids = clientIds(prefix, perPath);
  const subs = [];
  for (const [path, list] of Object.entries(ids)) {
    for (const id of list) {
      const ws = await connect(gw.ws(`/ws?topics=${topic}&client_id=${id}`));
      sockets.push(ws);
      subs.push({ ws, id, path, gw });
    }
  }
  for (const s of subs) {
    const where = await getJson(gw, `/admin/whereis?client_id=${s.id}`);
    expect({ id: s.id, connected: where.connected, path: where.path }).toEqual({ id: s.id, connected: true, path: s.path });
  }
  return subs;
}

// Every subscriber got exactly `seqs` (in any order across publishers), once.
async function expectExactlyOnce(subs, seqs, what) {
  await until(() => subs.every((s) => s.ws.received.length >= seqs.length), 10000, what);
  await sleep(300); // a duplicate would come now
  const want = [...seqs].sort((a, b) => a - b);
  for (const s of subs) {
    const got = s.ws.received.map((m) => JSON.parse(m).seq).sort((a, b) => a - b);
    expect({ id: s.id, path: s.path, port: s.gw.port, got }).toEqual({ id: s.id, path: s.path, port: s.gw.port, got: want });
  }
}

function clear(subs) {
  for (const s of subs) s.ws.received.length = 0;
}

beforeAll(async () => {
  redis = await startRedis();
  plain = createClient({ url: redis.url, socket: { reconnectStrategy: (n) => Math.min(50 * 2 ** n, 500) } });
  plain.on('error', () => {}); // the restart test kills Redis under it
  await plain.connect();
  for (let i = 0; i < 2; i += 1) {
    gateways.push(await startGatewayProcess(['--redis', redis.url, '--redis-mode', 'pubsub', '--native-percent', '50', '--threads', '2', '--feed-rate', '0']));
  }
});

afterAll(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  if (plain && plain.isOpen) plain.destroy();
  await Promise.all(gateways.map((gw) => gw.stop()));
  if (redis) await redis.stop();
});

describe('two gateways bridged through one Redis', () => {
  test('the start line says Redis is ready', () => {
    for (const gw of gateways) expect(gw.startLine).toMatch(/ — redis redis:\/\/127\.0\.0\.1:\d+ ready$/);
  });

  test('events from a plain Redis client, POST /events and /publish on either gateway reach every subscriber of both, on both paths, exactly once', async () => {
    const [a, b] = gateways;
    const subs = [...await subscribers(a, 'order:x1', 'eo-a'), ...await subscribers(b, 'order:x1', 'eo-b')];
    const before = await Promise.all(gateways.map((gw) => getJson(gw, '/stats')));

    // From another service: one event, then two in one newline-delimited message.
    expect(await plain.publish(CHANNEL, JSON.stringify(event('x1', null, 1)))).toBe(2);
    await plain.publish(CHANNEL, `${JSON.stringify(event('x1', 'd1', 2))}\n${JSON.stringify(event('x1', null, 3))}`);
    // From each gateway's HTTP API.
    expect(await postEvents(a, JSON.stringify(event('x1', null, 4)))).toEqual({ status: 200, body: { accepted: 1, rejected: [] } });
    const mixed = await postEvents(b, [JSON.stringify(event('x1', null, 5)), '{"order_id":"x1"'].join('\n'));
    expect(mixed.status).toBe(200);
    expect(mixed.body.accepted).toBe(1);
    expect(mixed.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/not valid JSON/) }]);
    // From a /publish connection to each.
    for (const [gw, seq] of [[a, 6], [b, 7]]) {
      const publisher = await connect(gw.ws('/publish'));
      sockets.push(publisher);
      publisher.send(JSON.stringify(event('x1', null, seq)));
    }
    await expectExactlyOnce(subs, [1, 2, 3, 4, 5, 6, 7], 'seven events on both gateways');

    const after = await Promise.all(gateways.map((gw) => getJson(gw, '/stats')));
    for (const [i, s] of after.entries()) {
      expect(s.bridge).toMatchObject({ state: 'ready', channels: [CHANNEL], publishThrough: true, rejected: 0, dropped: 0 });
      // Each gateway delivered each of the seven once, whoever published it.
      expect(s.bridge.received - before[i].bridge.received).toBe(7);
      expect(s.events.accepted - before[i].events.accepted).toBe(7);
      expect(s.paths.native.delivered - before[i].paths.native.delivered).toBe(3 * 7);
      expect(s.paths.legacy.delivered - before[i].paths.legacy.delivered).toBe(3 * 7);
    }
    // What a gateway sent through: a's POST and /publish, b's POST and /publish.
    expect(after[0].bridge.published - before[0].bridge.published).toBe(2);
    expect(after[1].bridge.published - before[1].bridge.published).toBe(2);
    // The one invalid POSTed line was rejected where it was posted, never sent.
    expect(after[1].events.rejected - before[1].events.rejected).toBe(1);
    // Every instance's order API knows every event.
    for (const gw of gateways) {
      const order = await getJson(gw, '/api/orders/x1');
      expect(order.history.length).toBe(7);
    }
    for (const s of subs) s.ws.terminate();
  });

  test('bad messages on the channel are rejected, counted and reach nobody', async () => {
    const [a, b] = gateways;
    const subs = [...await subscribers(a, 'order:bad1', 'bad-a', 1), ...await subscribers(b, 'order:bad1', 'bad-b', 1)];
    const before = await Promise.all(gateways.map((gw) => getJson(gw, '/stats')));
    const bad = [
      'not json',
      '{"order_id":"bad1","status":"x"', // cut short
      JSON.stringify({ order_id: 'bad1', status: 'x', timestamp: 'yesterday' }),
      JSON.stringify({ order_id: '', status: 'x', timestamp: '2026-11-27T10:00:00Z' }),
      '[{"order_id":"bad1"}]',
    ];
    for (const message of bad) await plain.publish(CHANNEL, message);
    await plain.publish(CHANNEL, JSON.stringify(event('bad1', null, 99)));
    await expectExactlyOnce(subs, [99], 'the one valid event');
    const after = await Promise.all(gateways.map((gw) => getJson(gw, '/stats')));
    for (const [i, s] of after.entries()) {
      expect(s.bridge.rejected - before[i].bridge.rejected).toBe(bad.length);
      expect(s.events.rejected - before[i].events.rejected).toBe(bad.length);
      expect(s.bridge.received - before[i].bridge.received).toBe(bad.length + 1);
    }
    const metrics = await (await fetch(b.http('/metrics'))).text();
    expect(metrics).toMatch(new RegExp(`^ficus_bridge_rejected_events_total ${after[1].bridge.rejected}$`, 'm'));
    expect(metrics).toMatch(/^ficus_bridge_up 1$/m);
    expect(metrics).toMatch(/^ficus_bridge_state\{state="ready"\} 1$/m);
    for (const s of subs) s.ws.terminate();
  });

  test('Redis killed and restarted mid-run: the bridges reconnect by themselves, connections stay, later events arrive, the gap shows in stats', async () => {
    const [a, b] = gateways;
    const subs = [...await subscribers(a, 'order:rs1', 'rs-a', 2), ...await subscribers(b, 'order:rs1', 'rs-b', 2)];
    const closes = [];
    for (const s of subs) s.ws.on('close', (code) => closes.push({ id: s.id, code }));
    await plain.publish(CHANNEL, JSON.stringify(event('rs1', null, 1)));
    await expectExactlyOnce(subs, [1], 'the event before the restart');
    clear(subs);
    const before = await Promise.all(gateways.map((gw) => getJson(gw, '/stats')));

    const killedAt = Date.now();
    await redis.kill(); // SIGKILL: a crash, no goodbye
    for (const gw of gateways) {
      await until(async () => (await getJson(gw, '/stats')).bridge.state === 'reconnecting', 5000, 'state reconnecting');
      expect(await (await fetch(gw.http('/metrics'))).text()).toMatch(/^ficus_bridge_up 0$/m);
      expect((await fetch(gw.http('/healthz'))).status).toBe(200);
    }
    // Still serving WebSockets: a new subscriber connects while Redis is away.
    const late = await subscribers(a, 'order:rs1', 'rs-late', 1);
    await sleep(1000);
    const restartedAt = Date.now();
    redis = await startRedis({ port: redis.port });

    for (const gw of gateways) {
      await until(async () => (await getJson(gw, '/stats')).bridge.state === 'ready', 15000, 'the bridge ready again');
    }
    const after = await Promise.all(gateways.map((gw) => getJson(gw, '/stats')));
    for (const [i, s] of after.entries()) {
      expect(s.bridge.reconnects - before[i].bridge.reconnects).toBeGreaterThanOrEqual(1);
      // Without Redis at least from the kill to the restart.
      expect(s.bridge.disconnectedMs - before[i].bridge.disconnectedMs).toBeGreaterThanOrEqual(restartedAt - killedAt - 100);
      expect(s.bridge.lastError).toEqual(expect.any(String));
    }
    // Every connection is still open, and events published now arrive.
    expect(closes).toEqual([]);
    for (const s of subs) expect(s.ws.readyState).toBe(s.ws.OPEN);
    await until(() => plain.isReady, 10000, 'the plain client back');
    await plain.publish(CHANNEL, JSON.stringify(event('rs1', null, 2)));
    expect((await postEvents(a, JSON.stringify(event('rs1', null, 3)))).status).toBe(200);
    expect((await postEvents(b, JSON.stringify(event('rs1', null, 4)))).status).toBe(200);
    await expectExactlyOnce([...subs, ...late], [2, 3, 4], 'events after the restart');
    for (const s of [...subs, ...late]) s.ws.terminate();
  });
});

describe('dispatch.bridge() in a process', () => {
  let dispatch;
  afterEach(async () => {
    if (dispatch) await dispatch.close();
    dispatch = null;
  });

  test('checks its arguments', () => {
    dispatch = ficus.createDispatcher({ threads: 1 });
    expect(() => dispatch.bridge(42)).toThrow(new TypeError('Expected a string for redisUrl but received the number 42'));
    expect(() => dispatch.bridge('http://u:secret@host:6379')).toThrow(
      new RangeError('Expected a redis:// or rediss:// URL for redisUrl but received the string "http://***@host:6379"'));
    expect(() => dispatch.bridge(redis.url, { channels: 'ficus:events' })).toThrow(
      new TypeError('Expected an array of 1 to 64 channel names for options.channels but received the string "ficus:events"'));
    expect(() => dispatch.bridge(redis.url, { channels: [] })).toThrow(RangeError);
    expect(() => dispatch.bridge(redis.url, { channels: Array.from({ length: 65 }, (_, i) => `c${i}`) })).toThrow(RangeError);
    expect(() => dispatch.bridge(redis.url, { channels: ['ok', ''] })).toThrow(
      new RangeError('Expected a non-empty string for options.channels[1] but received the string ""'));
    expect(() => dispatch.bridge(redis.url, { publishThrough: 'yes' })).toThrow(
      new TypeError('Expected a boolean for options.publishThrough but received the string "yes"'));
    expect(() => dispatch.bridge(redis.url, { backoffMinMs: 500, backoffMaxMs: 100 })).toThrow(RangeError);
    expect(() => dispatch.bridge(redis.url, { channel: 'x' })).toThrow(/Unknown option options.channel \(known: mode, channels, publishThrough/);
    expect(() => dispatch.bridge(redis.url, { mode: 'streams' })).toThrow(
      new RangeError('Expected one of "stream", "pubsub" for options.mode but received the string "streams"'));
    // Options of the other mode are refused, not ignored.
    expect(() => dispatch.bridge(redis.url, { channels: ['c'] })).toThrow(
      new RangeError("options.channels is for mode 'pubsub' (this bridge's mode is 'stream')"));
    expect(() => dispatch.bridge(redis.url, { mode: 'pubsub', stream: 's' })).toThrow(
      new RangeError("options.stream is for mode 'stream' (this bridge's mode is 'pubsub')"));
    expect(() => dispatch.bridge(redis.url, { publishThrough: false })).toThrow(/mode 'stream' publishes through Redis/);
    expect(() => dispatch.bridge(redis.url, { stream: '' })).toThrow(
      new RangeError('Expected a non-empty string for options.stream but received the string ""'));
    expect(() => dispatch.bridge(redis.url, { streamMaxLen: 0 })).toThrow(RangeError);
    expect(() => dispatch.bridge(redis.url, { readBlockMs: 'x' })).toThrow(TypeError);
    expect(dispatch.stats().bridge).toBeUndefined();
  });

  test('publish-through delivers once on both paths, one open bridge at a time, close() goes back to local delivery', async () => {
    dispatch = ficus.createDispatcher({ threads: 1 });
    const server = http.createServer();
    dispatch.attach(server, { nativePercent: 50, key: (req) => new URL(req.url, 'http://x').searchParams.get('client_id') });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const channel = `ficus:test:${process.pid}`;
    try {
      const bridge = dispatch.bridge(redis.url, { mode: 'pubsub', channels: [channel], publishThrough: true });
      expect(() => dispatch.bridge(redis.url)).toThrow(/already has an open bridge/);
      expect(() => dispatch.bridge(redis.url)).toThrow(expect.objectContaining({ code: 'ERR_FICUS_BRIDGED' }));
      expect(['connecting', 'ready']).toContain(bridge.state);
      await bridge.ready();
      const ids = clientIds('inproc', 1);
      const { port } = server.address();
      const subs = [];
      for (const id of [...ids.native, ...ids.legacy]) {
        const ws = await connect(`ws://127.0.0.1:${port}/ws?topics=order:ip1&client_id=${id}`);
        sockets.push(ws);
        subs.push({ ws, id, gw: { port } });
      }
      expect(dispatch.stats().paths.native.connections).toBe(1);
      expect(dispatch.stats().paths.legacy.connections).toBe(1);
      const result = dispatch.publish([event('ip1', null, 1), { order_id: 'ip1' }]);
      expect(result).toEqual({ accepted: 1, rejected: [{ index: 1, reason: expect.stringMatching(/status/) }] });
      // Not delivered yet: it goes to Redis first.
      expect(dispatch.stats().events.accepted).toBe(0);
      await expectExactlyOnce(subs, [1], 'the published event');
      expect(dispatch.stats().bridge).toMatchObject({ published: 1, received: 1, rejected: 0 });
      expect(dispatch.stats().events).toMatchObject({ published: 2, accepted: 1, rejected: 1 });

      // Published event by event in one turn: one message to Redis, nothing dropped.
      const messages = [];
      const listener = createClient({ url: redis.url });
      await listener.connect();
      await listener.subscribe(channel, (m) => messages.push(m));
      clear(subs);
      for (let seq = 10; seq < 2010; seq += 1) dispatch.publish(event('ip1', null, seq));
      await expectExactlyOnce(subs, Array.from({ length: 2000 }, (_, i) => 10 + i), '2000 events');
      expect(messages.length).toBe(1);
      expect(messages[0].split('\n')).toHaveLength(2000);
      expect(dispatch.stats().bridge).toMatchObject({ published: 2001, received: 2001, dropped: 0 });
      listener.destroy();

      await bridge.close();
      expect(dispatch.stats().bridge.state).toBe('closed');
      clear(subs);
      dispatch.publish(event('ip1', null, 2)); // local again, at once
      await expectExactlyOnce(subs, [2], 'the local event');
      const again = dispatch.bridge(redis.url, { mode: 'pubsub', channels: [channel] });
      await again.ready();
    } finally {
      await dispatch.close();
      server.close();
    }
    expect(dispatch.stats().bridge.state).toBe('closed');
  });

  test('batchWindowMs: events published over several turns go as one message', async () => {
    dispatch = ficus.createDispatcher({ threads: 1 });
    const channel = `ficus:window:${process.pid}`;
    const bridge = dispatch.bridge(redis.url, { mode: 'pubsub', channels: [channel], publishThrough: true, batchWindowMs: 100 });
    await bridge.ready();
    const messages = [];
    const listener = createClient({ url: redis.url });
    await listener.connect();
    try {
      await listener.subscribe(channel, (m) => messages.push(m));
      for (let seq = 1; seq <= 3; seq += 1) {
        dispatch.publish(event('w1', null, seq));
        await new Promise((r) => setImmediate(r));
      }
      await until(() => bridge.stats().received === 3, 5000, 'the three events back');
      expect(messages.map((m) => m.split('\n').map((line) => JSON.parse(line).seq))).toEqual([[1, 2, 3]]);
    } finally {
      listener.destroy();
    }
  });

  test('publish-through while Redis is away holds at most maxQueuedPublishBytes; the rest is dropped and counted', async () => {
    const { freePort } = require('./support/redis-server');
    const port = await freePort();
    dispatch = ficus.createDispatcher({ threads: 1, maxEventBytes: 1024 * 1024 });
    const bridge = dispatch.bridge(`redis://127.0.0.1:${port}`, { mode: 'pubsub', publishThrough: true, maxQueuedPublishBytes: 1024 * 1024 });
    bridge.on('error', () => {});
    const big = (seq) => event('q1', null, seq, { pad: 'x'.repeat(300 * 1024) });
    for (let seq = 1; seq <= 10; seq += 1) {
      expect(dispatch.publish(big(seq)).accepted).toBe(1);
      await new Promise((r) => setImmediate(r)); // one message per turn
    }
    // Three messages of ~300 KB fit in 1 MiB; the other seven are dropped.
    expect(bridge.stats()).toMatchObject({ state: 'connecting', dropped: 7, published: 0 });
    expect(bridge.stats().lastError).toMatch(/more than 1048576 bytes waiting for Redis/);
  });

  test('a Redis that is not there yet: connecting, then ready without counting a reconnect', async () => {
    const { freePort } = require('./support/redis-server');
    const port = await freePort();
    dispatch = ficus.createDispatcher({ threads: 1 });
    const bridge = dispatch.bridge(`redis://127.0.0.1:${port}`, { mode: 'pubsub', backoffMaxMs: 200 });
    const states = [];
    bridge.on('state', ({ state }) => states.push(state));
    await until(() => bridge.stats().lastError !== null, 5000, 'a connection error');
    expect(bridge.stats()).toMatchObject({ state: 'connecting', lastError: expect.stringMatching(/ECONNREFUSED/) });
    const late = await startRedis({ port });
    try {
      await bridge.ready();
      expect(bridge.stats()).toMatchObject({ state: 'ready', reconnects: 0 });
      expect(bridge.stats().disconnectedMs).toBeGreaterThan(0);
      expect(states).toEqual(['ready']);
      await dispatch.close();
      expect(states).toEqual(['ready', 'closed']);
      await expect(bridge.ready()).rejects.toThrow(/closed/);
    } finally {
      await late.stop();
    }
  });
});
