'use strict';
// The Redis bridge's stream mode against real redis-server and gateway
// processes (nothing mocked): positions are Redis Stream ids, the same on
// every gateway, so a client whose gateway was SIGKILLed resumes on another
// with since=<last position> and gets every event it missed, in order, once,
// then {"type":"recovered","complete":true}, then live events. A Redis
// restarted without persistence is a new epoch: old positions resume into
// complete:false, live delivery goes on. A Redis restarted from its RDB
// file is the same epoch: a client resuming on the gateway that reconnected
// to it loses nothing. Entries trimmed before a bridge read them are a gap:
// history dropped, complete:false. Entries XADDed by other services;
// malformed ones counted. In a process: publishers on both paths go through
// the stream; close() goes back to local delivery; argument checks. The
// example gateway's --redis-mode.

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { createClient } = require('redis');
const { startRedis } = require('./support/redis-server');
const { startGatewayProcess } = require('./support/gateway-process');
const { connect, until, event } = require('./support/clients');

jest.setTimeout(60000);

const STREAM = 'ficus:stream';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const GATEWAY_ARGS = ['--native-percent', '100', '--threads', '2', '--feed-rate', '0'];

const sockets = [];
const started = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const s of started.splice(0).reverse()) await s.stop();
});

async function gateway(redis) {
  const gw = await startGatewayProcess(['--redis', redis.url, ...GATEWAY_ARGS]);
  started.push(gw);
  return gw;
}

async function redisServer(options) {
  const redis = await startRedis(options);
  started.push(redis);
  return redis;
}

// A new connection for every request (agent: false): a kept-alive socket
// the gateway closes as it idles out would fail a request now and then.
function request(gw, target, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(gw.http(target), { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function getJson(gw, target) {
  return JSON.parse((await request(gw, target)).text);
}

async function postEvents(gw, events) {
  const res = await request(gw, '/events', { method: 'POST', body: events.map((e) => JSON.stringify(e)).join('\n') });
  expect(res.status).toBe(200);
  return JSON.parse(res.text);
}

// A frame as { pos, seq, order } (an event with its position) or
// { recovered: complete }.
function frame(text) {
  const msg = JSON.parse(text);
  if (msg.type === 'recovered') return { recovered: msg.complete };
  if (typeof msg.pos !== 'string' || !msg.event) throw new Error(`not a positioned frame: ${text}`);
  return { pos: msg.pos, seq: msg.event.seq, order: msg.event.order_id };
}

async function subscriber(gw, topic, id, query) {
  const ws = await connect(gw.ws(`/ws?topics=order:${topic}&client_id=${id}&${query}`));
  sockets.push(ws);
  ws.topic = topic;
  return ws;
}

// Publishes through `gw` until stop(): batches of one event per topic, each
// POST awaited, so Redis holds them in seq order. Remembers each topic's seqs.
function publisher(gw, topics) {
  const published = new Map(topics.map((t) => [t, []]));
  let seq = 0;
  const state = { stopped: false };
  const done = (async () => {
    while (!state.stopped) {
      const batch = topics.map((t) => {
        seq += 1;
        published.get(t).push(seq);
        return event(t, null, seq);
      });
      await postEvents(gw, batch);
      await sleep(5);
    }
  })();
  return {
    published,
    get seq() {
      return seq;
    },
    async stop() {
      state.stopped = true;
      await done;
    },
  };
}

// fn(0 .. count - 1), 50 at a time, results in order.
async function inBatches(count, fn) {
  const out = [];
  for (let i = 0; i < count; i += 50) {
    out.push(...await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => fn(i + k))));
  }
  return out;
}

const lastPos = (ws) => ws.received.map(frame).filter((f) => f.pos).at(-1).pos;

test('a gateway SIGKILLed mid-stream: its clients resume on another gateway with since= and miss nothing, in order, once', async () => {
  const redis = await redisServer();
  const a = await gateway(redis);
  const b = await gateway(redis);
  const topics = Array.from({ length: 20 }, (_, i) => `k${i}`);
  const CLIENTS = 300;
  const clients = await inBatches(CLIENTS, (i) => subscriber(a, topics[i % topics.length], `c${i}`, 'recover=1'));
  await until(async () => (await getJson(a, '/stats')).paths.native.connections === CLIENTS, 10000, 'every client native on A');

  const pub = publisher(b, topics);
  await until(() => clients.every((ws) => ws.received.length >= 5), 15000, 'events with positions on A');
  const positions = clients[0].received.map(frame).map((f) => f.pos);
  expect(positions[0]).toMatch(/^[0-9a-f]{16}-\d+-\d+$/);

  a.child.kill('SIGKILL');
  await a.exited;
  await until(() => clients.every((ws) => ws.readyState === ws.CLOSED), 5000, 'A\'s clients cut off');
  await sleep(300); // events go on meanwhile
  const before = new Map(clients.map((ws) => [ws, ws.received.map(frame)]));

  const back = await inBatches(CLIENTS, (i) => subscriber(b, clients[i].topic, `c${i}`, `recover=1&since=${lastPos(clients[i])}`));
  await sleep(300); // and live events after the resume
  await pub.stop();
  const last = pub.seq;
  await until(() => back.every((ws) => {
    const f = ws.received.map(frame).filter((x) => x.seq !== undefined);
    return f.length > 0 && f.at(-1).seq === pub.published.get(ws.topic).at(-1);
  }), 15000, 'every resumed client up to the last event');

  const epoch = positions[0].slice(0, 16);
  for (const [i, ws] of clients.entries()) {
    const first = before.get(ws);
    const after = back[i].received.map(frame);
    // Exactly one recovered, complete, before any live event past the gap.
    const marks = after.map((f, at) => (f.recovered !== undefined ? at : -1)).filter((at) => at >= 0);
    expect({ i, marks: marks.length, complete: after[marks[0]].recovered }).toEqual({ i, marks: 1, complete: true });
    // Something was missed while A was gone, and it came before the mark.
    expect(marks[0]).toBeGreaterThan(0);
    const seqs = [...first, ...after].filter((f) => f.seq !== undefined).map((f) => f.seq);
    const want = pub.published.get(ws.topic).filter((s) => s >= seqs[0]);
    expect({ i, seqs }).toEqual({ i, seqs: want });
    // Positions: one epoch, strictly increasing across both gateways.
    const pos = [...first, ...after].filter((f) => f.pos).map((f) => f.pos);
    for (const p of pos) expect(p.slice(0, 16)).toBe(epoch);
    const ids = pos.map((p) => p.slice(17).split('-').map(BigInt));
    for (let k = 1; k < ids.length; k += 1) {
      const [pm, pn] = ids[k - 1];
      const [m, n] = ids[k];
      expect(m > pm || (m === pm && n > pn)).toBe(true);
    }
  }
  const stats = await getJson(b, '/stats');
  expect(stats.bridge).toMatchObject({ mode: 'stream', state: 'ready', rejected: 0, dropped: 0 });
  expect(stats.bridge.stream).toMatchObject({ key: STREAM, epoch, epochChanges: 0, gaps: 0, duplicates: 0 });
  expect(stats.bridge.stream.read).toBe(last);
  const metrics = (await request(b, '/metrics')).text;
  expect(metrics).toMatch(new RegExp(`^ficus_bridge_stream_read_events_total ${last}$`, 'm'));
  expect(metrics).toMatch(/^ficus_bridge_stream_native_reader 1$/m);
});

test('events XADDed by another service in the entry format reach subscribers with positions; malformed entries and invalid events are counted', async () => {
  const redis = await redisServer();
  const gw = await gateway(redis);
  const plain = createClient({ url: redis.url });
  await plain.connect();
  try {
    const ws = await subscriber(gw, 'x1', 'x', 'recover=1');
    await until(async () => (await getJson(gw, '/stats')).paths.native.connections === 1, 5000, 'the subscriber');
    await plain.sendCommand(['XADD', STREAM, 'MAXLEN', '~', '100000', '*', 'data', JSON.stringify(event('x1', null, 1))]);
    await plain.sendCommand(['XADD', STREAM, '*', 'other', 'x']);
    await plain.sendCommand(['XADD', STREAM, '*', 'data', `${JSON.stringify(event('x1', null, 2))}\n${JSON.stringify(event('x1', null, 3))}`]);
    // Invalid UTF-8 reaches the decoder as bytes, and is rejected there.
    const badUtf8 = Buffer.concat([Buffer.from('{"order_id":"x1","status":"'), Buffer.from([0xff]), Buffer.from('","timestamp":"2026-11-27T10:00:00Z"}')]);
    await plain.sendCommand(['XADD', STREAM, '*', 'data', badUtf8]);
    await plain.sendCommand(['XADD', STREAM, '*', 'data', JSON.stringify(event('x1', null, 4))]);
    // An id no position can hold (n past 2^32 - 1) is skipped, not retried forever.
    const [ms] = String(await plain.sendCommand(['XADD', STREAM, '*', 'data', JSON.stringify(event('x1', null, 5))])).split('-');
    await plain.sendCommand(['XADD', STREAM, `${ms}-4294967296`, 'data', JSON.stringify(event('x1', null, 6))]);
    await plain.sendCommand(['XADD', STREAM, `${Number(ms) + 1}-0`, 'data', JSON.stringify(event('x1', null, 7))]);
    await until(() => ws.received.length >= 4, 5000, 'the four well-formed events');
    const got = ws.received.map(frame);
    expect(got.map((f) => f.seq)).toEqual([1, 4, 5, 7]);
    const ids = (await plain.sendCommand(['XRANGE', STREAM, '-', '+'])).map((e) => String(e[0]));
    expect(got.map((f) => f.pos.slice(17))).toEqual([ids[0], ids[4], ids[5], ids[7]]);
    const { bridge } = await getJson(gw, '/stats');
    expect(bridge.stream).toMatchObject({ read: 8, invalid: 3 });
    expect(bridge.rejected).toBe(4);
    expect(bridge.state).toBe('ready');
  } finally {
    plain.destroy();
  }
});

test('Redis restarted without persistence: a new epoch; old positions resume into complete:false; live delivery goes on', async () => {
  const redis = await redisServer();
  const gw = await gateway(redis);
  const live = await subscriber(gw, 'e1', 'live', 'recover=1');
  await until(async () => (await getJson(gw, '/stats')).paths.native.connections === 1, 5000, 'the subscriber');
  await postEvents(gw, [event('e1', null, 1), event('e1', null, 2)]);
  await until(() => live.received.length === 2, 5000, 'two events');
  const oldPos = lastPos(live);
  const oldEpoch = (await getJson(gw, '/stats')).bridge.stream.epoch;
  expect(oldPos.slice(0, 16)).toBe(oldEpoch);

  await redis.kill();
  await redisServer({ port: redis.port }); // empty: no RDB, no AOF
  await until(async () => {
    const { bridge } = await getJson(gw, '/stats');
    return bridge.state === 'ready' && bridge.stream.epochChanges === 1;
  }, 15000, 'the bridge on the new epoch');
  const { bridge } = await getJson(gw, '/stats');
  expect(bridge.stream.epoch).not.toBe(oldEpoch);
  expect(bridge.reconnects).toBeGreaterThanOrEqual(1);

  // The connected client stays and gets what is published now, in the new epoch.
  await postEvents(gw, [event('e1', null, 3)]);
  await until(() => live.received.length === 3, 5000, 'the live event after the restart');
  expect(frame(live.received[2])).toMatchObject({ seq: 3, pos: expect.stringMatching(new RegExp(`^${bridge.stream.epoch}-`)) });

  // A client resuming from the old epoch: complete:false, nothing replayed, then live.
  const late = await subscriber(gw, 'e1', 'late', `recover=1&since=${oldPos}`);
  await until(() => late.received.length >= 1, 5000, 'the recovered answer');
  expect(late.received.map(frame)).toEqual([{ recovered: false }]);
  await postEvents(gw, [event('e1', null, 4)]);
  await until(() => late.received.length === 2 && live.received.length === 4, 5000, 'live after complete:false');
  expect(frame(late.received[1]).seq).toBe(4);
  expect(frame(live.received[3]).seq).toBe(4);
  // A position of the new epoch resumes completely.
  const newPos = frame(live.received[2]).pos;
  const fresh = await subscriber(gw, 'e1', 'fresh', `since=${newPos}`);
  await until(() => fresh.received.length >= 2, 5000, 'the replay');
  expect(fresh.received.map(frame).map((f) => f.seq ?? f.recovered)).toEqual([4, true]);
});

test('Redis restarted from its RDB file: the same epoch; a client resuming on the reconnected gateway loses nothing', async () => {
  const dbfilename = `ficus-stream-test-${process.pid}.rdb`;
  const args = ['--dbfilename', dbfilename];
  let redis = await redisServer({ args });
  try {
    const gw = await gateway(redis);
    const plain = createClient({ url: redis.url, socket: { reconnectStrategy: (n) => Math.min(50 * 2 ** n, 500) } });
    plain.on('error', () => {});
    await plain.connect();
    const ws = await subscriber(gw, 'p1', 'p', 'recover=1');
    await until(async () => (await getJson(gw, '/stats')).paths.native.connections === 1, 5000, 'the subscriber');
    await postEvents(gw, [event('p1', null, 1), event('other', null, 2)]);
    await until(() => ws.received.length === 1, 5000, 'the first event');
    const pos = lastPos(ws);
    ws.terminate();
    await postEvents(gw, [event('p1', null, 3), event('other', null, 4), event('p1', null, 5)]);
    await until(async () => (await getJson(gw, '/stats')).bridge.stream.read === 5, 5000, 'read back');
    const { epoch } = (await getJson(gw, '/stats')).bridge.stream;
    expect(await plain.sendCommand(['SAVE'])).toBe('OK');
    plain.destroy();

    await redis.kill();
    // Published while Redis is away: held by the gateway, sent when it is back.
    await postEvents(gw, [event('p1', null, 6)]);
    redis = await redisServer({ port: redis.port, args });
    await until(async () => {
      const { bridge } = await getJson(gw, '/stats');
      return bridge.state === 'ready' && bridge.stream.read === 6;
    }, 15000, 'the bridge back, reading where it was');
    const { bridge } = await getJson(gw, '/stats');
    expect(bridge.stream).toMatchObject({ epoch, epochChanges: 0, gaps: 0 });
    expect(bridge.reconnects).toBeGreaterThanOrEqual(1);
    await postEvents(gw, [event('p1', null, 7)]);
    await until(async () => (await getJson(gw, '/stats')).bridge.stream.read === 7, 5000, 'the event after the restart');

    const back = await subscriber(gw, 'p1', 'p', `recover=1&since=${pos}`);
    await until(() => back.received.map(frame).some((f) => f.recovered !== undefined), 5000, 'the replay');
    expect(back.received.map(frame).map((f) => f.seq ?? f.recovered)).toEqual([3, 5, 6, 7, true]);
  } finally {
    fs.rmSync(path.join(os.tmpdir(), dbfilename), { force: true });
  }
});

describe('stream mode in a process', () => {
  const ficus = require('../..');
  const { startGateway } = require('./support/gateway');
  let gw;
  afterEach(async () => {
    if (gw) await gw.close();
    gw = null;
  });

  test('publishers on both paths go through Redis and reach subscribers on both paths once; close() goes back to local delivery on an epoch of its own', async () => {
    const redis = await redisServer();
    gw = await startGateway({ attach: { nativePercent: 50, overrideHeader: 'x-ficus-path' } });
    gw.dispatch.attach(gw.server, { path: '/publish', role: 'publisher', overrideHeader: 'x-ficus-path' });
    const bridge = gw.dispatch.bridge(redis.url, { stream: 'test:s1' });
    await bridge.ready();
    const { epoch } = bridge.stats().stream;
    const native = await connect(gw.url('/ws?topics=order:g1&recover=1'), { headers: { 'x-ficus-path': 'native' } });
    const legacy = await connect(gw.url('/ws?topics=order:g1'), { headers: { 'x-ficus-path': 'legacy' } });
    sockets.push(native, legacy);
    const publishers = [];
    for (const p of ['native', 'legacy']) {
      publishers.push(await connect(gw.url('/publish'), { headers: { 'x-ficus-path': p } }));
    }
    sockets.push(...publishers);
    for (let seq = 0; seq < 100; seq += 1) publishers[seq % 2].send(JSON.stringify(event('g1', null, seq)));
    gw.dispatch.publish(event('g1', null, 100));
    await until(() => native.received.length === 101 && legacy.received.length === 101, 10000, 'every event on both paths');
    await sleep(100); // a duplicate would come now
    const seqs = (ws) => ws.received.map((m) => JSON.parse(m)).map((m) => (m.event ? m.event.seq : m.seq));
    expect(seqs(native).sort((x, y) => x - y)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    // Both paths in the stream's one order.
    expect(seqs(legacy)).toEqual(seqs(native));
    const positions = native.received.map((m) => JSON.parse(m).pos);
    expect(new Set(positions.map((p) => p.slice(0, 16)))).toEqual(new Set([epoch]));
    // Everything went through Redis: 101 entries, one per event.
    const plain = createClient({ url: redis.url });
    await plain.connect();
    expect(await plain.sendCommand(['XLEN', 'test:s1'])).toBe(101);
    plain.destroy();
    const stats = gw.dispatch.stats();
    expect(stats.bridge).toMatchObject({ published: 101, received: 101, dropped: 0, stream: { read: 101, duplicates: 0 } });
    expect(stats.paths.native.ingested).toBe(50);
    expect(gw.dispatch.lastPosition()).toBe(positions.at(-1));

    await bridge.close();
    // Local again, on an epoch of this process's own: the old positions are foreign.
    gw.dispatch.publish(event('g1', null, 101));
    await until(() => native.received.length === 102, 5000, 'the local event');
    const local = JSON.parse(native.received.at(-1));
    expect(local.event.seq).toBe(101);
    expect(local.pos.slice(0, 16)).not.toBe(epoch);
    // Publishers on both paths too, in order, with positions of that epoch.
    publishers[0].send(JSON.stringify(event('g1', null, 102)));
    publishers[1].send(JSON.stringify(event('g1', null, 103)));
    await until(() => native.received.length === 104 && legacy.received.length === 104, 5000, "the publishers' events after close");
    expect(native.received.slice(-2).map((m) => JSON.parse(m).event.seq).sort()).toEqual([102, 103]);
    expect(JSON.parse(native.received.at(-1)).pos.slice(0, 16)).toBe(local.pos.slice(0, 16));
    const resumed = await connect(gw.url(`/ws?topics=order:g1&since=${positions[50]}`), { headers: { 'x-ficus-path': 'native' } });
    sockets.push(resumed);
    await until(() => resumed.received.length >= 1, 5000, 'the recovered answer');
    expect(JSON.parse(resumed.received[0])).toEqual({ type: 'recovered', complete: false });
  });

  test("the core reads the stream itself (reader 'native', the default): its connection cut, it re-syncs and reads on from its last entry; reader 'js' delivers the same", async () => {
    const redis = await redisServer();
    gw = await startGateway({ attach: { nativePercent: 50, overrideHeader: 'x-ficus-path' } });
    const bridge = gw.dispatch.bridge(redis.url, { stream: 'test:tail' });
    await bridge.ready();
    expect(bridge.stats().stream.reader).toBe('native');
    const native = await connect(gw.url('/ws?topics=order:t1&recover=1'), { headers: { 'x-ficus-path': 'native' } });
    const legacy = await connect(gw.url('/ws?topics=order:t1'), { headers: { 'x-ficus-path': 'legacy' } });
    sockets.push(native, legacy);
    const events = [];
    bridge.on('events', (e) => events.push(e));
    for (let seq = 0; seq < 50; seq += 1) gw.dispatch.publish(event('t1', null, seq));
    await until(() => native.received.length === 50 && legacy.received.length === 50, 10000, 'the first 50');

    const plain = createClient({ url: redis.url });
    await plain.connect();
    try {
      // Every connection of the bridge cut, and 20 entries added meanwhile.
      const multi = plain.multi().addCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      for (let seq = 50; seq < 70; seq += 1) {
        multi.addCommand(['XADD', 'test:tail', '*', 'data', JSON.stringify(event('t1', null, seq))]);
      }
      await multi.exec();
    } finally {
      plain.destroy();
    }
    await until(() => native.received.length === 70 && legacy.received.length === 70, 10000, 'the 20 added while cut');
    await sleep(100); // a duplicate would come now
    const seqs = (ws) => ws.received.map((m) => JSON.parse(m)).map((m) => (m.event ? m.event.seq : m.seq));
    expect(seqs(native)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(seqs(legacy)).toEqual(seqs(native));
    expect(bridge.stats().stream).toMatchObject({ reader: 'native', read: 70, duplicates: 0 });
    expect(events.reduce((n, e) => n + e.accepted, 0)).toBe(70);
    expect(Buffer.isBuffer(events[0].data)).toBe(true);
    await bridge.close();

    const js = gw.dispatch.bridge(redis.url, { stream: 'test:tail', reader: 'js' });
    await js.ready();
    gw.dispatch.publish(event('t1', null, 70));
    await until(() => native.received.length === 71, 5000, 'the event read in JavaScript');
    expect(js.stats().stream.reader).toBe('js');
    await js.close();
    expect(() => gw.dispatch.bridge('rediss://127.0.0.1:1', { reader: 'native' })).toThrow(
      new RangeError("Expected 'js' with a rediss:// URL (the core's reader does not speak TLS) for options.reader but received the string \"native\""));
    expect(() => gw.dispatch.bridge(redis.url, { mode: 'pubsub', reader: 'js' })).toThrow(/options.reader is for mode 'stream'/);
  });

  test("the core writes its publishers' events itself (writer 'native', the default): a publisher sending from before the bridge is ready keeps its order across the switch; its connection cut, the writer rejoins by itself; writer 'js' delivers the same", async () => {
    const redis = await redisServer();
    gw = await startGateway({ attach: { nativePercent: 100 } });
    gw.dispatch.attach(gw.server, { path: '/publish', role: 'publisher', nativePercent: 100 });
    const sub = await connect(gw.url('/ws?topics=order:w1&recover=1'));
    const pub = await connect(gw.url('/publish'));
    sockets.push(sub, pub);
    const bridge = gw.dispatch.bridge(redis.url, { stream: 'test:writer', backoffMinMs: 20, backoffMaxMs: 50 });
    // From before the first sync (held in JS) to well after the core's
    // writers were released: the seams between the writers are crossed.
    let seq = 0;
    const send = async (done) => {
      while (!done() && seq < 20000) {
        for (let i = 0; i < 5; i += 1) pub.send(JSON.stringify(event('w1', null, seq++)));
        await sleep(2);
      }
    };
    const nativeWrites = () => gw.dispatch.sharedStreamAppends().appended;
    const sending = send(() => nativeWrites() >= 100);
    await bridge.ready();
    await sending;
    const total = seq;
    const seqs = () => sub.received.map((m) => JSON.parse(m).event.seq);
    await until(() => sub.received.length === total, 10000, 'every event');
    expect(seqs()).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(bridge.stats().stream.writer).toBe('native');
    await until(() => bridge.stats().published === total, 5000, 'every write answered');
    expect(bridge.stats()).toMatchObject({ published: total, dropped: 0 });
    expect(nativeWrites()).toBeLessThan(total); // some were written from JavaScript first

    const plain = createClient({ url: redis.url });
    await plain.connect();
    let lostAtCut = 0;
    try {
      expect(await plain.sendCommand(['XLEN', 'test:writer'])).toBe(total);
      // Every connection cut while nothing is in flight: the core's
      // writers find out at their next write and connect again.
      await plain.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      await sleep(100);
      await send(() => seq >= total + 100);
      await until(() => sub.received.length >= total + 50, 10000, 'events after the cut');
      await sleep(300);
      // What a writer sent on the cut connection may be lost (counted),
      // never reordered or doubled.
      const after = seqs().slice(total);
      expect(after).toEqual([...after].sort((a, b) => a - b));
      expect(new Set(after).size).toBe(after.length);
      lostAtCut = bridge.stats().dropped;
      expect(after.length + lostAtCut).toBe(100);
      expect(await plain.sendCommand(['XLEN', 'test:writer'])).toBe(total + after.length);
    } finally {
      plain.destroy();
    }
    await bridge.close();

    // Bridged again: new writers, counted from zero; the old ones' late
    // reports are not theirs.
    const again = gw.dispatch.bridge(redis.url, { stream: 'test:writer' });
    await again.ready();
    const from = seq;
    const coreBefore = gw.dispatch.sharedStreamAppends().appended;
    await until(() => {
      pub.send(JSON.stringify(event('w1', null, seq++)));
      return gw.dispatch.sharedStreamAppends().appended > coreBefore;
    }, 5000, 'the new writers released');
    await until(() => sub.received.length === seq - lostAtCut, 10000, 'every event of the new bridge');
    expect(seqs().slice(-(seq - from))).toEqual(Array.from({ length: seq - from }, (_, i) => from + i));
    expect(again.stats().stream.writer).toBe('native');
    await until(() => again.stats().published === seq - from, 5000, 'the new bridge counting its own writes');
    expect(again.stats().dropped).toBe(0);
    await again.close();

    const js = gw.dispatch.bridge(redis.url, { stream: 'test:writer', writer: 'js' });
    await js.ready();
    const before = sub.received.length;
    pub.send(JSON.stringify(event('w1', null, seq)));
    await until(() => sub.received.length === before + 1, 5000, 'the event written from JavaScript');
    expect(js.stats().stream.writer).toBe('js');
    await js.close();
    expect(() => gw.dispatch.bridge('rediss://127.0.0.1:1', { writer: 'native' })).toThrow(
      new RangeError("Expected 'js' with a rediss:// URL (the core's writer does not speak TLS) for options.writer but received the string \"native\""));
  });

  test("an error reply (the key is not a stream for a while) is retried natively; a reply the core's reader cannot read (an entry over its bound) moves reading to JavaScript, which reads on", async () => {
    const redis = await redisServer();
    gw = await startGateway({ attach: { nativePercent: 100 } });
    const bridge = gw.dispatch.bridge(redis.url, {
      stream: 'test:wrong', readCount: 1, readBlockMs: 100, backoffMinMs: 20, backoffMaxMs: 100,
    });
    const errors = [];
    bridge.on('error', (error) => errors.push(error.message));
    await bridge.ready();
    const ws = await connect(gw.url('/ws?topics=order:w1'));
    sockets.push(ws);
    gw.dispatch.publish(event('w1', null, 1));
    await until(() => ws.received.length === 1, 5000, 'the first event');
    expect(bridge.stats().stream.reader).toBe('native');

    const plain = createClient({ url: redis.url });
    await plain.connect();
    try {
      await plain.sendCommand(['DEL', 'test:wrong']);
      await plain.sendCommand(['SET', 'test:wrong', 'not a stream']);
      await until(() => errors.some((m) => /the core's reader lost Redis \(WRONGTYPE/.test(m)), 5000, 'the error reply');
      await plain.sendCommand(['DEL', 'test:wrong']);
      await plain.sendCommand(['XADD', 'test:wrong', '*', 'data', JSON.stringify(event('w1', null, 2))]);
      await until(() => ws.received.length === 2, 5000, 'the event after the error, read natively');
      expect(bridge.stats().stream.reader).toBe('native');

      // One entry larger than a 1-entry reply may be: the core stops reading.
      await plain.sendCommand(['XADD', 'test:wrong', '*', 'data', 'x'.repeat(200 * 1024)]);
      await until(() => bridge.stats().stream.reader === 'js', 5000, 'the move to JavaScript');
      expect(errors).toContainEqual(expect.stringMatching(/the core's reader stopped \(a reply over \d+ bytes\); reading in JavaScript from now on/));
      await plain.sendCommand(['XADD', 'test:wrong', '*', 'data', JSON.stringify(event('w1', null, 3))]);
    } finally {
      plain.destroy();
    }
    await until(() => ws.received.length === 3, 5000, 'the event read in JavaScript');
    expect(ws.received.map((m) => JSON.parse(m).seq)).toEqual([1, 2, 3]);
    expect(bridge.stats().rejected).toBe(1); // the large entry, read in JavaScript
  });

  test('needs the native core; pub/sub does not; publishLocal and useSharedStream check their arguments', async () => {
    const redis = await redisServer();
    const legacyOnly = ficus.createDispatcher({ native: false });
    try {
      expect(() => legacyOnly.bridge(redis.url)).toThrow(expect.objectContaining({
        code: 'ERR_FICUS_NATIVE_UNAVAILABLE',
        message: expect.stringMatching(/^mode 'stream' needs the native core.*native core disabled by options\.native = false.*use \{ mode: 'pubsub' \}$/),
      }));
      await legacyOnly.bridge(redis.url, { mode: 'pubsub' }).ready();
      expect(() => legacyOnly.publishLocal('{}', { ids: ['1-0'] })).toThrow(/needs the native core/);
    } finally {
      await legacyOnly.close();
    }
    gw = await startGateway();
    const d = gw.dispatch;
    expect(() => d.publishLocal('{}', { ids: 'x' })).toThrow(
      new TypeError('Expected an array of stream ids "<ms>-<n>" for options.ids but received the string "x"'));
    expect(() => d.publishLocal('{}', { ids: ['1-0', '2'] })).toThrow(
      new TypeError('Expected a stream id "<ms>-<n>" for options.ids[1] but received the string "2"'));
    expect(() => d.publishLocal('{}', { idz: [] })).toThrow(/Unknown option options.idz/);
    expect(() => d.useSharedStream('ABC', () => {})).toThrow(
      new TypeError('Expected 16 lowercase hex digits for epoch but received the string "ABC"'));
    expect(() => d.useSharedStream('0123456789abcdef')).toThrow(
      new TypeError('Expected a function for onIngest but received undefined undefined'));
    expect(d.lastPosition()).toBeNull();
    // Ids given: duplicates are skipped and counted.
    d.useSharedStream('0123456789abcdef', () => {});
    const line = JSON.stringify(event('d1', null, 1));
    expect(d.publishLocal(`${line}\n${line}`, { ids: ['5-0', '5-1'] })).toEqual({ accepted: 2, rejected: [], duplicates: 0 });
    expect(d.publishLocal(`${line}\n${line}`, { ids: ['5-1', '6-0'] })).toEqual({ accepted: 1, rejected: [], duplicates: 1 });
    expect(d.lastPosition()).toBe('0123456789abcdef-6-0');
  });
});

test('entries trimmed before a reconnecting bridge read them: history dropped, the gap counted, old positions resume into complete:false', async () => {
  const ficus = require('../..');
  const { startGateway } = require('./support/gateway');
  const redis = await redisServer();
  const gw = await startGateway({ attach: { nativePercent: 100 } });
  started.push({ stop: () => gw.close() });
  const bridge = gw.dispatch.bridge(redis.url, { stream: 'test:gap' });
  const errors = [];
  bridge.on('error', (error) => errors.push(error));
  await bridge.ready();
  const ws = await connect(gw.url('/ws?topics=order:g1&recover=1'), { headers: { 'x-client-id': 'g' } });
  sockets.push(ws);
  gw.dispatch.publish(event('g1', null, 1));
  await until(() => ws.received.length === 1, 5000, 'the first event');
  const pos = JSON.parse(ws.received[0]).pos;

  const plain = createClient({ url: redis.url });
  await plain.connect();
  try {
    // One transaction: the bridge's connections are cut, then 300 entries
    // are appended and all but 10 trimmed before it can read any of them.
    const multi = plain.multi().addCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    for (let seq = 100; seq < 400; seq += 1) {
      multi.addCommand(['XADD', 'test:gap', 'MAXLEN', '10', '*', 'data', JSON.stringify(event('g1', null, seq))]);
    }
    await multi.exec();
  } finally {
    plain.destroy();
  }
  await until(() => bridge.stats().stream.gaps === 1 && bridge.state === 'ready', 10000, 'the gap seen');
  expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/were trimmed before this gateway read them/));
  expect(errors.every((e) => e instanceof ficus.FicusError && e.code === 'ERR_FICUS_REDIS')).toBe(true);
  // What is left of the stream arrives; what was trimmed cannot.
  await until(() => ws.received.length === 11, 5000, 'the ten entries left');
  expect(ws.received.slice(1).map((m) => JSON.parse(m).event.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 390 + i));
  // Resuming from before the hole: complete:false, nothing replayed.
  const resumed = await connect(gw.url(`/ws?topics=order:g1&since=${pos}`), { headers: { 'x-client-id': 'g2' } });
  sockets.push(resumed);
  await until(() => resumed.received.length >= 1, 5000, 'the recovered answer');
  expect(JSON.parse(resumed.received[0])).toEqual({ type: 'recovered', complete: false });
  expect(bridge.stats().stream).toMatchObject({ epochChanges: 0, gaps: 1 });
});

test('the example gateway: --redis-mode takes stream or pubsub, and says so', async () => {
  const { runGatewayToExit } = require('./support/gateway-process');
  const bad = await runGatewayToExit(['--redis', 'redis://127.0.0.1:1', '--redis-mode', 'streams']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--redis-mode must be one of stream, pubsub, got 'streams'");
  // Without the native core, stream mode cannot start: the gateway says which flag to use.
  const legacyOnly = await runGatewayToExit(['--port', '0', '--redis', 'redis://127.0.0.1:1', '--feed-rate', '0'],
    { env: { FICUS_ADDON_PATH: path.join(os.tmpdir(), 'no-such-ficus-addon.node') } });
  expect(legacyOnly.code).toBe(1);
  expect(legacyOnly.stderr).toMatch(/--redis-mode stream needs the native core \(.*\); start with --redis-mode pubsub/);
  const help = await runGatewayToExit(['--help']);
  expect(help.stdout).toMatch(/--redis-mode <stream\|pubsub>/);
  const redis = await redisServer();
  const pubsub = await startGatewayProcess(['--redis', redis.url, '--redis-mode', 'pubsub', ...GATEWAY_ARGS]);
  started.push(pubsub);
  expect((await getJson(pubsub, '/stats')).bridge).toMatchObject({ mode: 'pubsub', channels: ['ficus:events'], publishThrough: true });
});
