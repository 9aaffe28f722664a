'use strict';
// lib/legacy-path.js with a real http.Server and real `ws` clients, nothing
// mocked: what a client sees must match the native path (topics from the
// handshake, subscribe/unsubscribe messages, once-per-connection delivery,
// backpressure, 1008/1009/1007 closes, heartbeats, shutdown with 1001).

const http = require('node:http');
const WebSocket = require('ws');

const { LegacyPath } = require('../../lib/legacy-path');
const { nowNs } = require('../../lib/histogram');
const { connect, closed, until } = require('./support/clients');

const running = [];

// An HTTP server whose upgrades all go to one LegacyPath; `?topics=a,b` and
// an x-client-id header give the topics and identity, as a router would.
async function startLegacy(options = {}) {
  const path = new LegacyPath(options);
  const seen = { open: [], close: [], message: [] };
  for (const name of Object.keys(seen)) path.on(name, (e) => seen[name].push(e));
  const server = http.createServer((req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const query = new URL(req.url, 'http://localhost').searchParams.get('topics');
    const topics = query ? query.split(',').filter((t) => t !== '') : [];
    path.open(req, socket, head, { identity: req.headers['x-client-id'] || 'anonymous', topics });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const legacy = {
    path,
    seen,
    url: (target = '/ws') => `ws://127.0.0.1:${port}${target}`,
    async stop() {
      await path.shutdown(500);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  running.push(legacy);
  return legacy;
}

afterEach(async () => {
  while (running.length > 0) await running.pop().stop();
});

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// The HTTP response to an upgrade the server refuses.
function refusal(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
  });
}

function event(order, driver, seq) {
  return JSON.stringify({
    order_id: order, status: 's', timestamp: '2026-11-27T10:00:00Z', driver_id: driver, seq,
  });
}

describe('connections and delivery', () => {
  test('topics from the handshake; every subscriber gets its events once, in order', async () => {
    const legacy = await startLegacy();
    const a = await connect(legacy.url('/ws?topics=order:o1'), { headers: { 'x-client-id': 'alice' } });
    const b = await connect(legacy.url('/ws?topics=order:o2,driver:d1'));
    const none = await connect(legacy.url('/ws'));
    expect(legacy.seen.open).toEqual([
      { id: 'l1', identity: 'alice' },
      { id: 'l2', identity: 'anonymous' },
      { id: 'l3', identity: 'anonymous' },
    ]);

    const sent = [];
    let counted = 0;
    for (let i = 0; i < 300; i += 1) {
      const order = i % 2 ? 'o1' : 'o2';
      const driver = i % 3 ? null : 'd1';
      sent.push({ order, driver, text: event(order, driver, i) });
      counted += legacy.path.deliver(`order:${order}`, driver && `driver:${driver}`, sent[i].text, nowNs());
    }
    const forA = sent.filter((e) => e.order === 'o1').map((e) => e.text);
    const forB = sent.filter((e) => e.order === 'o2' || e.driver === 'd1').map((e) => e.text);
    expect(counted).toBe(forA.length + forB.length);
    await until(() => a.received.length >= forA.length && b.received.length >= forB.length, 5000, 'deliveries');
    expect(a.received).toEqual(forA);
    expect(b.received).toEqual(forB); // an event matching both topics came once
    expect(none.received).toEqual([]);

    const stats = legacy.path.stats();
    expect(stats).toMatchObject({
      connections: 3,
      connectionsOpened: 3,
      messagesOut: counted,
      deliveries: counted,
      dropsBackpressure: 0,
      topics: 3,
    });
    const frameBytes = (t) => Buffer.byteLength(t) + (Buffer.byteLength(t) < 126 ? 2 : 4);
    expect(stats.bytesOut).toBe([...forA, ...forB].reduce((sum, t) => sum + frameBytes(t), 0));
    expect(stats.latency.count).toBe(counted);
    expect(stats.latency.maxNs).toBeGreaterThan(0);
    expect(stats.latency.p50Ns).toBeLessThanOrEqual(stats.latency.p99Ns);
  });

  test('events arrive as text frames, from strings and from Buffers', async () => {
    const legacy = await startLegacy();
    const ws = await connect(legacy.url('/ws?topics=t'));
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push(isBinary));
    legacy.path.publishRaw('t', 'from a string');
    legacy.path.publishRaw('t', Buffer.from('from a buffer'));
    legacy.path.deliver('t', null, Buffer.from('é'.repeat(100)));
    await until(() => ws.received.length === 3, 5000, 'three frames');
    expect(ws.received).toEqual(['from a string', 'from a buffer', 'é'.repeat(100)]);
    expect(frames).toEqual([false, false, false]);
    expect(legacy.path.deliver('nobody', 'nobody either', 'x')).toBe(0);
  });

  test('subscribe and unsubscribe messages', async () => {
    const legacy = await startLegacy();
    const ws = await connect(legacy.url('/ws'));
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['order:s1', 'driver:s2'] }));
    await until(() => legacy.path.stats().topics === 2, 5000, 'subscriptions');
    expect(legacy.path.deliver('order:s1', 'driver:s2', 'one')).toBe(1);
    ws.send(JSON.stringify({ type: 'unsubscribe', topics: ['order:s1', 'never:subscribed'] }));
    await until(() => legacy.path.stats().topics === 1, 5000, 'unsubscription');
    expect(legacy.path.deliver('order:s1', null, 'two')).toBe(0);
    expect(legacy.path.deliver('order:x', 'driver:s2', 'three')).toBe(1);
    await until(() => ws.received.length === 2, 5000, 'deliveries');
    expect(ws.received).toEqual(['one', 'three']);
    expect(legacy.seen.message).toEqual([]); // control messages are not passed on
    expect(legacy.path.stats().messagesIn).toBe(2);
  });

  test('other messages go to the embedder, text as strings and binary as Buffers', async () => {
    const legacy = await startLegacy();
    const ws = await connect(legacy.url('/ws'));
    ws.send('hello');
    ws.send(JSON.stringify({ type: 'chat', topics: 5 }));
    ws.send(Buffer.from([1, 2, 3]));
    await until(() => legacy.seen.message.length === 3, 5000, 'messages');
    expect(legacy.seen.message).toEqual([
      { id: 'l1', data: 'hello', binary: false },
      { id: 'l1', data: '{"type":"chat","topics":5}', binary: false },
      { id: 'l1', data: Buffer.from([1, 2, 3]), binary: true },
    ]);
  });

  test('send, subscribe, unsubscribe and close by id; unknown ids give false', async () => {
    const legacy = await startLegacy({ maxTopicsPerConnection: 2 });
    const ws = await connect(legacy.url('/ws'));
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push([isBinary, data.toString()]));
    expect(legacy.path.send('l1', 'text')).toBe(true);
    expect(legacy.path.send('l1', Buffer.from('bin'), true)).toBe(true);
    expect(legacy.path.subscribe('l1', ['a', 'b'])).toBe(true);
    expect(legacy.path.deliver('a', 'b', 'ab')).toBe(1);
    expect(legacy.path.unsubscribe('l1', ['a'])).toBe(true);
    expect(legacy.path.deliver('a', null, 'lost')).toBe(0);
    await until(() => frames.length === 3, 5000, 'frames');
    expect(frames).toEqual([[false, 'text'], [true, 'bin'], [false, 'ab']]);

    for (const call of [
      () => legacy.path.send('l99', 'x'),
      () => legacy.path.subscribe('l99', ['a']),
      () => legacy.path.unsubscribe('l99', ['a']),
      () => legacy.path.closeConnection('l99', 1000, ''),
      () => legacy.path.send(1, 'x'),
    ]) {
      expect(call()).toBe(false);
    }

    const done = closed(ws);
    expect(legacy.path.closeConnection('l1', 4000, 'bye')).toBe(true);
    expect(await done).toEqual({ code: 4000, reason: 'bye' });
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close).toEqual([{ id: 'l1', code: 4000, identity: 'anonymous' }]);
    expect(legacy.path.stats().closedByCode).toEqual({ other: 1 });
  });

  test('subscribing by id past the limit closes with 1008 and the limit\'s reason, as the core does', async () => {
    const legacy = await startLegacy({ maxTopicsPerConnection: 2 });
    const ws = await connect(legacy.url('/ws?topics=a'));
    const done = closed(ws);
    legacy.path.subscribe('l1', ['b', 'c']);
    expect(await done).toEqual({ code: 1008, reason: 'too many topics' });
  });

  test('a client closing normally is recorded with its code', async () => {
    const legacy = await startLegacy();
    const ws = await connect(legacy.url('/ws?topics=a'));
    ws.close(1000, 'done');
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close[0]).toEqual({ id: 'l1', code: 1000, identity: 'anonymous' });
    expect(legacy.path.stats()).toMatchObject({ connections: 0, topics: 0, closedByCode: { 1000: 1 } });
  });
});

describe('limits', () => {
  test('too many topics in the handshake: 400, like the native handshake', async () => {
    const legacy = await startLegacy({ maxTopicsPerConnection: 3 });
    const response = await refusal(legacy.url('/ws?topics=a,b,c,d'));
    expect(response.status).toBe(400);
    expect(response.body).toBe('too many topics\n');
    expect(response.headers['content-type']).toBe('text/plain');
    const tooLong = await refusal(legacy.url(`/ws?topics=a,${'x'.repeat(257)}`));
    expect(tooLong).toMatchObject({ status: 400, body: 'topic name empty or too long\n' });
    expect(legacy.path.stats()).toMatchObject({ connections: 0, connectionsOpened: 0, handshakesRejected: 2 });
    // At the limit is fine.
    await connect(legacy.url('/ws?topics=a,b,c'));
    expect(legacy.path.stats().topics).toBe(3);
  });

  test('an invalid subscribe message closes with 1008 and the decoder\'s reason', async () => {
    const legacy = await startLegacy();
    const ws = await connect(legacy.url('/ws?topics=a'));
    const done = closed(ws);
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['ok', ''] }));
    expect(await done).toEqual({ code: 1008, reason: 'topics[1]: expected a non-empty string' });
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close[0].code).toBe(1008);
    expect(legacy.path.stats()).toMatchObject({ closedByCode: { 1008: 1 }, topics: 0 });
  });

  test('subscribing past maxTopicsPerConnection closes with 1008 "too many topics"', async () => {
    const legacy = await startLegacy({ maxTopicsPerConnection: 3 });
    const ws = await connect(legacy.url('/ws?topics=a,b'));
    const done = closed(ws);
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['b', 'c', 'd'] }));
    expect(await done).toEqual({ code: 1008, reason: 'too many topics' });
  });

  test('a topic longer than maxTopicBytes in a message closes with 1008', async () => {
    const legacy = await startLegacy({ maxTopicBytes: 8 });
    const ws = await connect(legacy.url('/ws'));
    const done = closed(ws);
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['123456789'] }));
    expect(await done).toEqual({ code: 1008, reason: 'topics[0]: longer than 8 bytes' });
  });

  test('a message over maxMessageBytes closes with 1009', async () => {
    const legacy = await startLegacy({ maxMessageBytes: 1024 });
    const ws = await connect(legacy.url('/ws'));
    const done = closed(ws);
    ws.send('x'.repeat(1024)); // at the limit: fine
    ws.send('x'.repeat(1025));
    expect((await done).code).toBe(1009);
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close[0].code).toBe(1009);
    expect(legacy.seen.message).toHaveLength(1);
  });

  test('invalid UTF-8 in a text message closes with 1007', async () => {
    const legacy = await startLegacy();
    const ws = await connect(legacy.url('/ws'));
    const done = closed(ws);
    ws.send(Buffer.from([0x68, 0xc3, 0x28]), { binary: false });
    expect((await done).code).toBe(1007);
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close[0].code).toBe(1007);
  });
});

describe('backpressure', () => {
  const chunk = 'x'.repeat(16 * 1024);

  // Publishes until the first drop (the client's socket is paused, so the
  // kernel's buffers fill and then the server's).
  function publishUntilDrop(path, topic) {
    let published = 0;
    while (path.stats().dropsBackpressure === 0) {
      path.publishRaw(topic, `${published} ${chunk}`);
      published += 1;
      if (published > 20000) throw new Error('no drop after 320 MB');
    }
    return published;
  }

  test('policy "drop": messages past maxBufferedBytes are skipped and counted, the rest arrive in order', async () => {
    const legacy = await startLegacy({ maxBufferedBytes: 64 * 1024 });
    const slow = await connect(legacy.url('/ws?topics=t'));
    slow._socket.pause();
    const published = publishUntilDrop(legacy.path, 't');
    for (let i = 0; i < 10; i += 1) legacy.path.publishRaw('t', `${published + i} ${chunk}`);
    const stats = legacy.path.stats();
    expect(stats.dropsBackpressure).toBe(11);
    expect(stats.messagesOut).toBe(published - 1);
    expect(stats.sendBufferBytes).toBeGreaterThan(0);
    expect(stats.sendBufferBytes).toBeLessThanOrEqual(64 * 1024);

    slow._socket.resume();
    await until(() => slow.received.length >= published - 1, 10000, 'the queued messages');
    const sequence = slow.received.map((m) => Number(m.split(' ')[0]));
    expect(sequence).toEqual(Array.from({ length: published - 1 }, (_, i) => i));
    expect(slow.readyState).toBe(WebSocket.OPEN);
    // Room again: delivery resumes.
    expect(legacy.path.publishRaw('t', 'after')).toBe(1);
    await until(() => slow.received.at(-1) === 'after', 5000, 'the next message');
  });

  test('an event queued behind a slow reader is a copy, not a view that keeps its whole batch alive', async () => {
    const legacy = await startLegacy({ maxBufferedBytes: 256 * 1024 });
    const slow = await connect(legacy.url('/ws?topics=t,u'));
    const fast = await connect(legacy.url('/ws?topics=u'));
    slow._socket.pause();
    publishUntilDrop(legacy.path, 't');
    const batch = Buffer.alloc(1024 * 1024, 0x20);
    const event = batch.subarray(1000, 1100);
    event.write('{"the":"event"}');
    const handed = new Map();
    for (const conn of legacy.path._connections.values()) {
      const send = conn.ws.send.bind(conn.ws);
      conn.ws.send = (data, options) => {
        handed.set(conn.ws.bufferedAmount > 0 ? 'slow' : 'fast', data);
        return send(data, options);
      };
    }
    expect(legacy.path.publishRaw('u', event)).toBe(2);
    // The reader that writes at once gets the view itself (no copy)...
    expect(handed.get('fast').buffer).toBe(batch.buffer);
    // ...the backed-up one an equal copy of its own.
    expect(handed.get('slow').buffer).not.toBe(batch.buffer);
    expect(handed.get('slow').equals(event)).toBe(true);
    await until(() => fast.received.includes(event.toString()), 5000, 'the fast reader\'s copy');
  });

  test('policy "close": the connection is closed with 1008 "send buffer full"', async () => {
    const legacy = await startLegacy({ maxBufferedBytes: 64 * 1024, backpressure: 'close' });
    const slow = await connect(legacy.url('/ws?topics=t'));
    const done = closed(slow);
    slow._socket.pause();
    publishUntilDrop(legacy.path, 't');
    expect(legacy.path.publishRaw('t', 'while closing')).toBe(0);
    expect(legacy.path.stats().dropsClosing).toBe(1);
    slow._socket.resume();
    expect(await done).toEqual({ code: 1008, reason: 'send buffer full' });
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close[0].code).toBe(1008);
  });
});

describe('heartbeat', () => {
  test('an idle client is pinged and stays while it answers', async () => {
    const legacy = await startLegacy({ pingIntervalMs: 40, pongTimeoutMs: 40 });
    const ws = await connect(legacy.url('/ws'));
    let pings = 0;
    ws.on('ping', () => { pings += 1; });
    await sleep(400);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(legacy.path.stats().connections).toBe(1);
  });

  test('a client that never answers a ping is dropped (1006)', async () => {
    const legacy = await startLegacy({ pingIntervalMs: 40, pongTimeoutMs: 60 });
    const ws = await connect(legacy.url('/ws'), { autoPong: false });
    let pings = 0;
    ws.on('ping', () => { pings += 1; });
    const started = Date.now();
    const done = closed(ws);
    expect((await done).code).toBe(1006); // no close frame: the TCP connection just ends
    expect(pings).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(legacy.seen.close[0].code).toBe(1006);
    expect(legacy.path.stats().closedByCode).toEqual({ 1006: 1 });
  });

  test('a client that keeps talking is not pinged', async () => {
    const legacy = await startLegacy({ pingIntervalMs: 80, pongTimeoutMs: 80 });
    const ws = await connect(legacy.url('/ws'));
    let pings = 0;
    ws.on('ping', () => { pings += 1; });
    for (let i = 0; i < 20; i += 1) {
      ws.send('still here');
      await sleep(15);
    }
    expect(pings).toBe(0);
  });
});

describe('close()', () => {
  test('sends 1001 to every client, resolves once they are gone, and is idempotent', async () => {
    const legacy = await startLegacy();
    const clients = await Promise.all([1, 2, 3].map(() => connect(legacy.url('/ws?topics=t'))));
    const codes = Promise.all(clients.map(closed));
    const first = legacy.path.shutdown();
    const second = legacy.path.shutdown();
    expect(second).toBe(first);
    await first;
    expect(await codes).toEqual(clients.map(() => ({ code: 1001, reason: 'server shutting down' })));
    expect(legacy.path.stats()).toMatchObject({ connections: 0, topics: 0, closedByCode: { 1001: 3 } });
    expect(legacy.seen.close.map((e) => e.code)).toEqual([1001, 1001, 1001]);
    // Upgrades after close() are refused.
    expect(await refusal(legacy.url('/ws'))).toMatchObject({ status: 503 });
  });

  test('terminates clients that do not answer within the timeout', async () => {
    const legacy = await startLegacy();
    const deaf = await connect(legacy.url('/ws'));
    deaf._socket.pause(); // never reads our close frame, never answers
    const started = Date.now();
    await legacy.path.shutdown(150);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
    expect(legacy.path.stats()).toMatchObject({ connections: 0, closedByCode: { 1001: 1 } });
  });

  test('resolves at once with no connections', async () => {
    const legacy = await startLegacy();
    await legacy.path.shutdown();
    expect(legacy.path.stats().connections).toBe(0);
  });

  test('a closing connection that never answers is dropped after closeTimeoutMs', async () => {
    const legacy = await startLegacy({ closeTimeoutMs: 100 });
    const deaf = await connect(legacy.url('/ws'));
    deaf._socket.pause();
    const started = Date.now();
    legacy.path.closeConnection('l1', 1000, 'bye');
    await until(() => legacy.seen.close.length === 1, 5000, 'close event');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(legacy.seen.close[0].code).toBe(1000); // the code we sent
  });
});
