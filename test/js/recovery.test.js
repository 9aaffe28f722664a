'use strict';
// Stream positions and recovery (docs/api.md, "Stream positions and
// recovery") through real servers and real `ws` clients, on each path: a
// client that opted in gets {"pos":…,"event":…} frames, resumes with
// since=<position> and receives exactly what it missed for its topics, in
// order, then {"type":"recovered","complete":true}, with nothing lost or
// doubled at the seam while events keep coming; a gap the history no
// longer covers is complete:false with nothing replayed; clients that did
// not opt in get exactly today's frames. Cross-path moves are in
// recovery-moves.test.js.

const { startGateway } = require('./support/gateway');
const { connect, closed, until, event } = require('./support/clients');
const { ResumingClient } = require('./support/resuming');
const { parsePosition, comparePositions } = require('../../lib/position');

// Where the clients land. "legacy (core's history)" reads the native
// core's history through the binding; "legacy (JS history)" runs without
// the addon (lib/history.js).
const SETUPS = [
  ['legacy (JS history)', { dispatcher: { native: false }, attach: { nativePercent: 0 } }],
  ['legacy (core\'s history)', { dispatcher: {}, attach: { nativePercent: 0 } }],
  ['native', { dispatcher: {}, attach: { nativePercent: 100 } }],
];

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

async function start([, setup], dispatcher = {}) {
  gw = await startGateway({ dispatcher: { ...setup.dispatcher, ...dispatcher }, attach: setup.attach });
  return gw;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function expectIncreasingPositions(positions) {
  for (let i = 1; i < positions.length; i += 1) {
    const [a, b] = [parsePosition(positions[i - 1]), parsePosition(positions[i])];
    expect(a.epoch).toBe(b.epoch);
    expect(comparePositions(a, b)).toBeLessThan(0);
  }
}

// Events 0..n-1 from `from`: order r<seq % 2>, driver d1 every fifth.
function events(from, n) {
  return Array.from({ length: n }, (_, i) => event(`r${(from + i) % 2}`, (from + i) % 5 === 0 ? 'd1' : 'd2', from + i));
}
const forR0D1 = (e) => e.order_id === 'r0' || e.driver_id === 'd1';

describe.each(SETUPS)('%s', (name, setup) => {
  test('a client that missed 1,200 events gets exactly them, in order, then complete:true; nothing lost or doubled at the seam', async () => {
    await start([name, setup], { replayEventsPerTick: 50 });
    const url = (since) => gw.url(`/ws?topics=order:r0,driver:d1&${since ? `since=${since}` : 'recover=1'}`);
    const first = new ResumingClient(url, { reconnect: false });
    await first.start();
    const published = [];
    const publish = (batch) => {
      expect(gw.dispatch.publish(batch).accepted).toBe(batch.length);
      published.push(...batch);
    };
    publish(events(0, 10));
    await until(() => first.events.length === published.filter(forR0D1).length, 5000, 'the first events');
    const down = closed(first.ws);
    first.stop();
    await down;

    publish(events(10, 2000)); // 1,200 of them for its topics
    const second = new ResumingClient(url, { reconnect: false });
    second.last = first.last;
    await second.start();
    // Events keep coming while it replays (about 25 turns of 50 events).
    let next = 2010;
    while (!second.log.includes('recovered:true') || next < 2410) {
      publish(events(next, 10));
      next += 10;
      await new Promise((r) => setImmediate(r));
      if (next > 50_000) throw new Error('the replay never completed');
    }
    const expected = published.filter(forR0D1).map((e) => e.seq).filter((s) => s >= 10);
    await until(() => second.events.length >= expected.length, 10_000, 'every event');
    await sleep(100); // nothing more may follow
    expect(second.seqs).toEqual(expected);
    expect(second.log.filter((m) => m === 'recovered:true')).toHaveLength(1);
    // Every missed event came before complete:true.
    expect(second.log.indexOf('recovered:true')).toBeGreaterThanOrEqual(expected.filter((s) => s < 2010).length);
    expectIncreasingPositions([first.last, ...second.positions]);
    const stats = gw.dispatch.stats();
    const path = setup.attach.nativePercent === 100 ? 'native' : 'legacy';
    expect(stats.paths[path].recoveries).toEqual({ complete: 1, incomplete: 0, overtaken: 0 });
    expect(stats.paths[path].replayedEvents).toBeGreaterThanOrEqual(expected.filter((s) => s < 2010).length);
    expect(stats.history.events).toBe(published.length);
    second.stop();
  });

  test('positions increase along the stream and the frames are exactly {"pos":…,"event":<bytes as published>}', async () => {
    await start([name, setup]);
    const opted = await connect(gw.url('/ws?topics=order:f1&recover=1'));
    const plain = await connect(gw.url('/ws?topics=order:f1'));
    const texts = [
      JSON.stringify(event('f1', null, 1)),
      '{ "order_id" : "f1",  "status":"picked_up","timestamp":"2026-11-27T10:00:00Z", "n": [1, 2 ,3] }',
      JSON.stringify(event('f1', 'd9', 3, { note: 'é ✓ \u2028' })),
    ];
    for (const text of texts) expect(gw.dispatch.publish(text).accepted).toBe(1);
    await until(() => opted.received.length === 3 && plain.received.length === 3);
    // Not opted in: today's frames, byte for byte.
    expect(plain.received).toEqual(texts);
    const positions = opted.received.map((m) => JSON.parse(m).pos);
    expect(opted.received).toEqual(texts.map((t, i) => `{"pos":"${positions[i]}","event":${t}}`));
    for (const p of positions) expect(p).toMatch(/^[0-9a-f]{16}-\d+-\d+$/);
    expectIncreasingPositions(positions);
    expect(parsePosition(positions[0]).epoch).toBe(gw.dispatch.stats().history.epoch);
  });

  test('trimmed history, a foreign epoch or a future position: complete:false, nothing replayed, then live', async () => {
    await start([name, setup], { historyMaxEvents: 20 });
    const url = (since) => gw.url(`/ws?topics=order:r0&${since ? `since=${since}` : 'recover=1'}`);
    const first = new ResumingClient(url, { reconnect: false });
    await first.start();
    gw.dispatch.publish(events(0, 2));
    await until(() => first.events.length === 1);
    first.stop();
    // The history covers the last 20 (the core may hold more, in whole
    // publish batches, but promises no more than its bounds).
    for (let i = 2; i < 102; i += 10) gw.dispatch.publish(events(i, 10));
    const { epoch, ms } = parsePosition(first.last);
    for (const since of [first.last, `0123456789abcdef-${ms}-0`, `${epoch}-${ms + 3_600_000}-0`]) {
      const again = new ResumingClient(url, { reconnect: false });
      again.last = since;
      await again.start();
      await until(() => again.log.length === 1, 5000, 'the answer');
      gw.dispatch.publish(events(200, 2));
      await until(() => again.log.length === 2, 5000, 'a live event');
      expect(again.log).toEqual(['recovered:false', 200]);
      again.stop();
    }
    const path = setup.attach.nativePercent === 100 ? 'native' : 'legacy';
    expect(gw.dispatch.stats().paths[path].recoveries).toEqual({ complete: 0, incomplete: 3, overtaken: 0 });
  });

  test('by message: a subscribe with "since" replays for its topics and turns positions on; a bad since is complete:false', async () => {
    await start([name, setup]);
    const watcher = await connect(gw.url('/ws?topics=order:m1&recover=1'));
    gw.dispatch.publish([event('m1', null, 1), event('m2', null, 2), event('m2', null, 3)]);
    await until(() => watcher.received.length === 1);
    const since = JSON.parse(watcher.received[0]).pos;

    const late = await connect(gw.url('/ws?topics=order:other'));
    late.send(JSON.stringify({ type: 'subscribe', topics: ['order:m2'], since }));
    await until(() => late.received.length === 3, 5000, 'the replay');
    expect(late.received.slice(0, 2).map((m) => JSON.parse(m).event.seq)).toEqual([2, 3]);
    expect(late.received[2]).toBe('{"type":"recovered","complete":true}');
    gw.dispatch.publish(event('m2', null, 4));
    await until(() => late.received.length === 4);
    expect(JSON.parse(late.received[3])).toEqual({ pos: expect.any(String), event: event('m2', null, 4) });

    const wrong = await connect(gw.url('/ws?topics=order:other'));
    wrong.send(JSON.stringify({ type: 'subscribe', topics: ['order:m2'], since: 'yesterday' }));
    await until(() => wrong.received.length === 1);
    expect(wrong.received[0]).toBe('{"type":"recovered","complete":false}');
    gw.dispatch.publish(event('m2', null, 5));
    await until(() => wrong.received.length === 2);
    expect(JSON.parse(wrong.received[1]).event.seq).toBe(5);
    expect(wrong.readyState).toBe(wrong.OPEN);
  });

  // Another gateway sharing the stream (lib/redis-stream.js) read further
  // than this one: the client waits (held) for this one's mirror instead of
  // getting complete:false or, worse, again what it has; a position the
  // mirror never reaches ends complete:false after limits.mirrorWaitMs.
  const sharedTest = setup.dispatcher.native === false ? test.skip : test;
  sharedTest('a since this gateway has not mirrored yet waits for its mirror, then replays only what came after it', async () => {
    await start([name, setup]);
    const epoch = '0123456789abcdef';
    gw.dispatch.useSharedStream(epoch, () => {});
    const ms = Date.now();
    const mirror = (seqs) => gw.dispatch.publishLocal(seqs.map((n) => event('w1', null, n)), { ids: seqs.map((n) => `${ms}-${n}`) });
    mirror([0]);
    const url = (since) => gw.url(`/ws?topics=order:w1&since=${since}`);
    const ahead = new ResumingClient(url, { reconnect: false });
    await ahead.start(`${epoch}-${ms}-2`);
    await sleep(200);
    expect(ahead.log).toEqual([]); // waiting
    mirror([1, 2]); // the client has these already
    await until(() => ahead.log.length === 1, 5000, 'the recovery');
    expect(ahead.log).toEqual(['recovered:true']);
    mirror([3]);
    await until(() => ahead.log.length === 2, 5000, 'a live event');
    expect(ahead.log).toEqual(['recovered:true', 3]);

    const started = Date.now();
    const never = new ResumingClient(url, { reconnect: false });
    await never.start(`${epoch}-${ms + 60_000}-0`);
    await until(() => never.log.length === 1, 10_000, 'the answer');
    expect(never.log).toEqual(['recovered:false']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(require('../../lib/protocol').LIMITS.mirrorWaitMs - 50);
    mirror([4]);
    await until(() => never.log.length === 2 && ahead.log.length === 3, 5000, 'live again');
    expect(never.log[1]).toBe(4);
    ahead.stop();
    never.stop();
  });

  test('historyMaxEvents 0: live delivery and positions go on; only the newest position resumes (complete, nothing to replay)', async () => {
    await start([name, setup], { historyMaxEvents: 0 });
    const opted = await connect(gw.url('/ws?topics=order:z1&recover=1'));
    const plain = await connect(gw.url('/ws?topics=order:z1'));
    gw.dispatch.publish([event('z1', null, 1), event('z1', null, 2)]);
    await until(() => opted.received.length === 2 && plain.received.length === 2);
    const [older, newest] = opted.received.map((m) => JSON.parse(m).pos);
    const resumed = await connect(gw.url(`/ws?topics=order:z1&since=${newest}`));
    const late = await connect(gw.url(`/ws?topics=order:z1&since=${older}`));
    await until(() => resumed.received.length === 1 && late.received.length === 1);
    expect(resumed.received).toEqual(['{"type":"recovered","complete":true}']);
    expect(late.received).toEqual(['{"type":"recovered","complete":false}']);
    expect(opted.readyState).toBe(opted.OPEN);
    const stats = gw.dispatch.stats();
    expect(stats.history).toEqual(expect.objectContaining({ events: 0, maxEvents: 0, maxAgeMs: 300_000 }));
    const path = setup.attach.nativePercent === 100 ? 'native' : 'legacy';
    const text = gw.dispatch.metrics();
    expect(text).toContain('ficus_history_events 0');
    expect(text).toContain(`ficus_recoveries_total{path="${path}",result="complete"} 1`);
    expect(text).toContain(`ficus_recoveries_total{path="${path}",result="incomplete"} 1`);
    expect(text).toMatch(/ficus_events_missed_total\{path="legacy"\} 0/);
  });

  test('a since that is not a position is refused with 400 before routing', async () => {
    await start([name, setup]);
    for (const since of ['abc', '3F2A9C0D1E4B5A69-1-0', '3f2a9c0d1e4b5a69-1', '']) {
      await expect(connect(gw.url(`/ws?topics=order:x&since=${encodeURIComponent(since)}`)))
        .rejects.toThrow(/Unexpected server response: 400/);
    }
    expect(gw.dispatch.stats().rejectedUpgrades.badPosition).toBe(4);
    const stats = gw.dispatch.stats();
    expect(stats.paths.native.upgrades + stats.paths.legacy.upgrades).toBe(0);
  });

  test('an opted-in client whose send buffer would overflow is closed 1008, not skipped (backpressure "drop")', async () => {
    await start([name, setup], { maxBufferedBytes: 64 * 1024 });
    const slow = await connect(gw.url('/ws?topics=order:s1&recover=1'));
    const plain = await connect(gw.url('/ws?topics=order:s1'));
    const done = closed(slow);
    slow._socket.pause();
    plain._socket.pause();
    const note = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 400; i += 1) gw.dispatch.publish(event('s1', null, i, { note }));
    slow._socket.resume();
    expect(await done).toEqual({ code: 1008, reason: 'send buffer full' });
    plain._socket.resume();
    await sleep(200);
    expect(plain.readyState).toBe(plain.OPEN); // policy "drop": the others skip
  });
});

test('legacy: a replay that falls behind the history\'s trimming is closed 1013 "recovery overtaken"', async () => {
  await start(SETUPS[0], { historyMaxEvents: 200, replayEventsPerTick: 1 });
  const url = (since) => gw.url(`/ws?topics=order:r0&${since ? `since=${since}` : 'recover=1'}`);
  const first = new ResumingClient(url, { reconnect: false });
  await first.start();
  gw.dispatch.publish(events(0, 2));
  await until(() => first.events.length === 1);
  first.stop();
  gw.dispatch.publish(events(2, 150));
  const second = new ResumingClient(url, { reconnect: false });
  second.last = first.last;
  await second.start();
  const done = closed(second.ws);
  // One event per turn: the history's trimming passes it.
  for (let i = 0; i < 5; i += 1) {
    gw.dispatch.publish(events(1000 + i * 100, 100));
    await new Promise((r) => setImmediate(r));
  }
  expect(await done).toEqual({ code: 1013, reason: 'recovery overtaken' });
  expect(second.log).not.toContain('recovered:true');
  // What it did get is in order, from where it left off.
  expect(second.seqs).toEqual([...second.seqs].sort((a, b) => a - b));
  expect(gw.dispatch.stats().paths.legacy.recoveries.overtaken).toBe(1);
});
