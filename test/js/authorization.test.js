'use strict';
// Grants are permissions (docs/security.md, "Authorization"): on both
// paths a client may subscribe, by message or by query, only to what its
// Grant allows; each refused topic is answered with the same message, is
// counted, and past maxRefusedSubscribes the connection is closed with the
// same code and reason.

const WebSocket = require('ws');
const { startGateway } = require('./support/gateway');
const { connect, closed, until } = require('./support/clients');
const grants = require('./support/grants');
const { as, attach, subscribe, refusals, events } = grants;
const { CLOSE, CLOSE_REASONS } = require('../../lib/protocol');
const { refusalMessage, grantPatterns, GrantMatcher } = require('../../lib/grant');

const PATHS = ['native', 'legacy'];

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

async function start(p, dispatcher = {}) {
  gw = await startGateway({ dispatcher, attach });
  return p === 'legacy' || gw.dispatch.nativeAvailable;
}

const sync = (ws, order) => grants.sync(gw, ws, order);
const publishAndSettle = (ws, orders, sentinel) => grants.publishAndSettle(gw, ws, orders, sentinel);

describe.each(PATHS)('%s path', (p) => {
  test('a customer granted order:o17 gets no other order by message, pattern trick, look-alike or long topic', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }));
    const tricks = ['order:o18', 'order:o17*', 'order:*', '*', 'оrder:o17', 'order:ｏ17', `order:o17${'x'.repeat(240)}`];
    subscribe(ws, [...tricks, 'order:o17']);
    await until(() => refusals(ws).length === tricks.length, 5000, 'the refusals');
    expect(refusals(ws)).toEqual(tricks.map(refusalMessage));
    expect(JSON.parse(refusals(ws)[0])).toEqual({ type: 'error', topic: 'order:o18', reason: 'forbidden' });
    await publishAndSettle(ws, ['o18', 'o17*', '*', 'o19']);
    expect(events(ws)).toEqual([]);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(gw.dispatch.stats().paths[p].subscribesRefused).toBe(tricks.length);
    expect(gw.dispatch.metrics()).toContain(`ficus_subscribes_refused_total{path="${p}"} ${tricks.length}`);
  });

  test('a topic over maxTopicBytes closes 1008 as before, and nothing leaks', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }));
    const done = closed(ws);
    subscribe(ws, [`order:o18${'x'.repeat(300)}`]);
    expect((await done).code).toBe(CLOSE.POLICY_VIOLATION);
    expect(events(ws)).toEqual([]);
  });

  test('the query string cannot name a topic the grant does not allow', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws?topics=order:o18,order:o17'), as(p, { allow: ['order:o17'] }));
    await until(() => refusals(ws).length === 1, 5000, 'the refusal');
    expect(refusals(ws)).toEqual([refusalMessage('order:o18')]);
    await publishAndSettle(ws, ['o18', 'o17']);
    expect(events(ws)).toEqual(['o17']);
  });

  test('a dashboard granted order:* receives every order event once', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { allow: ['order:*'] }));
    subscribe(ws, ['order:o1', 'order:o2', 'order:o3', 'order:o17']);
    await publishAndSettle(ws, ['o1', 'o2', 'o3', 'o4', 'o1', 'o17']);
    expect(events(ws)).toEqual(['o1', 'o2', 'o3', 'o1', 'o17']);
    expect(refusals(ws)).toEqual([]);
  });

  test('past maxRefusedSubscribes the connection closes 1008 with the shared reason', async () => {
    if (!(await start(p, { maxRefusedSubscribes: 2 }))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }));
    const done = closed(ws);
    subscribe(ws, ['order:o1', 'order:o2', 'order:o3', 'order:o4']);
    expect(await done).toEqual({ code: CLOSE.POLICY_VIOLATION, reason: CLOSE_REASONS.tooManyRefusedSubscribes });
    expect(refusals(ws)).toEqual([refusalMessage('order:o1'), refusalMessage('order:o2')]);
    expect(gw.dispatch.stats().paths[p].subscribesRefused).toBe(3);
  });

  test('10,000 forbidden topics in one message close the connection', async () => {
    if (!(await start(p, { maxMessageBytes: 1 << 20 }))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }));
    const done = closed(ws);
    subscribe(ws, Array.from({ length: 10000 }, (_, i) => `order:x${i}`));
    expect((await done).code).toBe(CLOSE.POLICY_VIOLATION);
    expect(refusals(ws)).toEqual([]); // the decoder's cap stops it first
  });

  test("`true` and subscribe: 'any' leave subscribes unrestricted (explicit opt-outs)", async () => {
    if (!(await start(p))) return;
    const a = await connect(gw.url('/ws'), as(p, true));
    const b = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'], subscribe: 'any' }));
    subscribe(a, ['order:o17']);
    subscribe(b, ['order:o18']);
    await sync(a);
    await publishAndSettle(b, ['o18']);
    expect(events(b)).toEqual(['o18']);
    expect(refusals(a).concat(refusals(b))).toEqual([]);
  });

  test('an impossible Grant is refused with 500, on either path', async () => {
    if (!(await start(p))) return;
    const errors = [];
    gw.router.on('error', (e) => errors.push(e.cause));
    for (const grant of [{ allow: 'order:*' }, { allow: [''] }, { allow: Array.from({ length: 65 }, (_, i) => `t${i}`) },
      { allow: ['a'], subscribe: 'any' }, { subscribe: 'all' }]) {
      await expect(connect(gw.url('/ws'), as(p, grant))).rejects.toThrow(/500/);
    }
    expect(errors.map((e) => e.name)).toEqual(['TypeError', 'RangeError', 'RangeError', 'TypeError', 'RangeError']);
    expect(errors[0].message).toMatch(/grant\.allow/);
  });
});

test('no authenticate: anything, as before (the app opted out of auth)', async () => {
  gw = await startGateway({ attach: { nativePercent: 0, overrideHeader: 'x-ficus-path' } });
  const ws = await connect(gw.url('/ws'), { headers: { 'x-ficus-path': 'legacy' } });
  subscribe(ws, ['order:o18']);
  await sync(ws, 'o18');
  expect(refusals(ws)).toEqual([]);
});

test('grantPatterns and GrantMatcher: the rules of grant_matcher_test.cc', () => {
  expect(grantPatterns(true, [], 256)).toBeNull();
  expect(grantPatterns({ subscribe: 'any' }, [], 256)).toBeNull();
  expect(grantPatterns({}, [], 256)).toEqual([]);
  expect(grantPatterns({ topics: ['a'], allow: ['b*', 'a'] }, ['a'], 256)).toEqual(['b*', 'a']);
  // Topics from the query (grant.topics undefined) are not granted.
  expect(grantPatterns({ allow: ['b'] }, ['q'], 256)).toEqual(['b']);
  expect(() => grantPatterns({ allow: ['x'.repeat(257)] }, [], 256)).toThrow(RangeError);
  expect(() => grantPatterns({ allow: ['\ud800'] }, [], 256)).toThrow(RangeError);
  expect(() => grantPatterns({ allow: [1] }, [], 256)).toThrow(TypeError);
  const m = new GrantMatcher(['order:*', 'a*b', 'zone:o17*', 'order:o17']);
  for (const t of ['order:o18', 'order:', 'order:*', 'a*b', 'zone:o17x', 'order:o17']) expect(m.allows(t)).toBe(true);
  for (const t of ['order', 'axb', 'a*bc', 'zone:o1', 'оrder:o17', '']) expect(m.allows(t)).toBe(false);
  expect(new GrantMatcher([]).allows('x')).toBe(false);
  expect(new GrantMatcher(['*']).allows('anything')).toBe(true);
});
