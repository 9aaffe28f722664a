'use strict';
// Hostile publishers and clients, on both paths of one gateway: every case
// ends in a defined outcome (a rejection, a close code, a counter, bounded
// memory) and the other clients are unaffected.

const { startGateway } = require('./support/gateway');
const { DEFAULTS } = require('../../lib/protocol');
const { connect, closed, until, event } = require('./support/clients');
const { RawClient, buildFrame } = require('../conformance/raw-client');

const PATHS = ['native', 'legacy'];
let gw;

beforeAll(async () => {
  gw = await startGateway({
    dispatcher: { maxMessageBytes: 4096, maxBufferedBytes: 64 * 1024, maxTopicsPerConnection: 64, maxTopicBytes: 256 },
    attach: { nativePercent: 50, overrideHeader: 'x-ficus-path' },
  });
});
afterAll(() => gw.close());

const on = (path, target = '/ws') => connect(gw.url(target), { headers: { 'x-ficus-path': path } });

async function rawOn(path, target = '/ws') {
  const client = await RawClient.connect(gw.port);
  await client.write(client.sendRequest({ target, headers: { 'x-ficus-path': path } }));
  await client.waitForResponse(3000);
  expect(client.response.status).toBe(101);
  return client;
}

describe('hostile publishers', () => {
  test('garbage, deep nesting, huge, wrong types and invalid UTF-8 are rejected; valid ones still flow', async () => {
    const subs = await Promise.all(PATHS.map((p) => on(p, '/ws?topics=order:h1')));
    const deep = `{"order_id":"h1","status":"x","timestamp":"2026-11-27T10:00:00Z","n":${'['.repeat(100000)}${']'.repeat(100000)}}`;
    const huge = JSON.stringify(event('h1', null, 0, { pad: 'x'.repeat(70 * 1024) }));
    const badUtf8 = Buffer.concat([Buffer.from('{"order_id":"h1","status":"'), Buffer.from([0xc3, 0x28]),
      Buffer.from('","timestamp":"2026-11-27T10:00:00Z"}')]);
    const inputs = [
      'not json', deep, huge, badUtf8,
      { order_id: 7, status: 'x', timestamp: '2026-11-27T10:00:00Z' },
      { order_id: 'h1', status: ['x'], timestamp: '2026-11-27T10:00:00Z' },
      { order_id: 'h1', status: 'x', timestamp: 1795860000 },
      { order_id: 'h1', status: 'x', timestamp: '2026-11-27T10:00:00Z', driver_id: 5 },
      `{"order_id":"h1","status":"x","timestamp":"2026-11-27T10:00:00Z","n":1e999999}`,
    ];
    for (const input of inputs) {
      const result = gw.dispatch.publish(input);
      expect(result.accepted).toBe(0);
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0].reason).toEqual(expect.any(String));
    }
    // Unknown fields pass through untouched.
    expect(gw.dispatch.publish(event('h1', null, 1, { extra: { nested: [1, 2] } })).accepted).toBe(1);
    await until(() => subs.every((ws) => ws.received.length === 1));
    for (const ws of subs) expect(JSON.parse(ws.received[0]).extra).toEqual({ nested: [1, 2] });
    for (const ws of subs) ws.close();
  });
});

describe.each(PATHS)('hostile clients on the %s path', (path) => {
  test('a flood of subscribe messages for one topic leaves it subscribed once', async () => {
    const ws = await on(path);
    // As many as the message bucket takes at once (more closes it 1008:
    // policy-closes.test.js).
    const flood = DEFAULTS.messageBurst;
    for (let i = 0; i < flood; i += 1) ws.send(JSON.stringify({ type: 'subscribe', topics: ['order:flood'] }));
    await until(async () => {
      gw.dispatch.publish(event('flood', null, 1));
      await new Promise((r) => setTimeout(r, 20));
      return ws.received.length > 0;
    });
    const before = ws.received.length;
    gw.dispatch.publish(event('flood', null, 2));
    await until(() => ws.received.length === before + 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(ws.received.length).toBe(before + 1); // once, not `flood` times
    expect(ws.readyState).toBe(ws.OPEN);
    ws.close();
  });

  test('hundreds of topics in one message close with 1008; 64 is fine', async () => {
    const ok = await on(path);
    ok.send(JSON.stringify({ type: 'subscribe', topics: Array.from({ length: 64 }, (_, i) => `order:t${i}`) }));
    const tooMany = await on(path);
    const done = closed(tooMany);
    tooMany.on('error', () => {});
    tooMany.send(JSON.stringify({ type: 'subscribe', topics: Array.from({ length: 400 }, (_, i) => `t${i}`) }));
    expect((await done).code).toBe(1008);
    gw.dispatch.publish(event('t63', null, 1));
    await until(() => ok.received.length === 1);
    ok.close();
  });

  test('topic names at the limit are accepted, past it close with 1008', async () => {
    const at = await on(path);
    at.send(JSON.stringify({ type: 'subscribe', topics: [`order:${'a'.repeat(250)}`] })); // 256 bytes
    const past = await on(path);
    const done = closed(past);
    past.on('error', () => {});
    past.send(JSON.stringify({ type: 'subscribe', topics: [`order:${'a'.repeat(251)}`] })); // 257 bytes
    expect((await done).code).toBe(1008);
    gw.dispatch.publish(event('a'.repeat(250), null, 1));
    await until(() => at.received.length === 1);
    at.close();
  });

  test('a never-ending fragmented message closes with 1009', async () => {
    const client = await rawOn(path);
    await client.write(buildFrame({ opcode: 'text', fin: false, payload: 'x'.repeat(1000) }));
    for (let i = 0; i < 10 && client.canWrite(); i += 1) {
      await client.write(buildFrame({ opcode: 'continuation', fin: false, payload: 'x'.repeat(1000) }));
    }
    await client.waitFor(() => client.closeFrame !== null, 3000);
    expect(client.report().close.code).toBe(1009);
    expect(await client.waitForTcpClose(3000)).toBe(true);
    client.destroy();
  });

  test('a client that never reads is bounded; a reader beside it gets every event', async () => {
    const slow = await on(path, '/ws?topics=order:slow');
    slow._socket.pause(); // stops reading: the kernel buffers fill, then ours
    const fast = await on(path, '/ws?topics=order:slow');
    const before = gw.dispatch.stats().paths[path];
    // ~12 MB in all: more than the kernel's socket buffers can hide.
    const pad = 'p'.repeat(4000);
    const rounds = 300;
    for (let round = 0; round < rounds; round += 1) {
      const batch = Array.from({ length: 10 }, (_, k) => event('slow', null, round * 10 + k, { pad }));
      expect(gw.dispatch.publish(batch).accepted).toBe(10);
      await until(() => fast.received.length === (round + 1) * 10, 5000, `fast reader round ${round}`);
    }
    const after = gw.dispatch.stats().paths[path];
    expect(after.drops).toBeGreaterThan(before.drops);
    // Each connection under 64 KiB queued (plus one frame on the legacy
    // path, whose check comes before the send).
    expect(after.sendBufferBytes).toBeLessThanOrEqual(2 * (64 * 1024 + 4100));
    expect(fast.received.map((m) => JSON.parse(m).seq)).toEqual(Array.from({ length: rounds * 10 }, (_, i) => i));
    slow.terminate();
    fast.close();
  });

  test('clients vanishing mid-frame and mid-handshake leave nothing behind', async () => {
    const base = gw.dispatch.stats().paths[path].connections;
    const midFrame = await rawOn(path);
    const frame = buildFrame({ opcode: 'text', payload: 'y'.repeat(500) });
    await midFrame.write(frame.subarray(0, 100));
    midFrame.destroy();
    const midHandshake = await RawClient.connect(gw.port);
    const request = midHandshake.sendRequest({ headers: { 'x-ficus-path': path } });
    await midHandshake.write(request.subarray(0, 30));
    midHandshake.destroy();
    await until(() => gw.dispatch.stats().paths[path].connections <= base, 5000,
      `connections back to ${base} (now ${gw.dispatch.stats().paths[path].connections})`);
    // And the path still serves.
    const ws = await on(path, '/ws?topics=order:alive');
    gw.dispatch.publish(event('alive', null, 1));
    await until(() => ws.received.length === 1);
    ws.close();
  });
});
