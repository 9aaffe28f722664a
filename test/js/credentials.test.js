'use strict';
// The authorize hook, expiring credentials and refresh (docs/security.md,
// "Authorization" and "Expiring credentials"), the same on both paths: a
// pending authorization blocks nobody and leaks no event, a hung or
// throwing hook refuses, answers are cached per connection, expiry closes
// 3005 on time, a refresh extends it, a bad one is answered and changes
// nothing, a narrower one drops what it no longer allows.

const { monitorEventLoopDelay } = require('node:perf_hooks');
const WebSocket = require('ws');
const { startGateway } = require('./support/gateway');
const { connect, closed, until, event } = require('./support/clients');
const { CLOSE, CLOSE_REASONS } = require('../../lib/protocol');
const { refusalMessage, revocationMessage } = require('../../lib/grant');

const PATHS = ['native', 'legacy'];
// The Grant travels in a header; x-expires-in makes its expiresAt relative.
function as(p, grant, expiresInMs) {
  const headers = { 'x-ficus-path': p, 'x-grant': JSON.stringify(grant) };
  if (expiresInMs !== undefined) headers['x-expires-in'] = String(expiresInMs);
  return { headers };
}
function authenticate(req) {
  const grant = JSON.parse(req.headers['x-grant']);
  if (req.headers['x-expires-in']) grant.expiresAt = Date.now() + Number(req.headers['x-expires-in']);
  return grant;
}
const subscribe = (ws, topics) => ws.send(JSON.stringify({ type: 'subscribe', topics }));
const unsubscribe = (ws, topics) => ws.send(JSON.stringify({ type: 'unsubscribe', topics }));
const orders = (ws) => ws.received.filter((m) => m.includes('"order_id"')).map((m) => JSON.parse(m).order_id);
const controls = (ws) => ws.received.filter((m) => m.startsWith('{"type":"error"') || m.startsWith('{"type":"refreshed"'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const REFRESH_FAILED = '{"type":"error","reason":"refresh failed"}';

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

async function start(p, attach = {}, dispatcher = {}) {
  gw = await startGateway({
    dispatcher,
    attach: { nativePercent: 0, overrideHeader: 'x-ficus-path', authenticate, ...attach },
  });
  return p === 'legacy' || gw.dispatch.nativeAvailable;
}

// Publishes `order` until `ws` has received it: everything `ws` sent
// before has been handled by then.
async function settle(ws, order) {
  const deadline = Date.now() + 5000;
  const before = orders(ws).filter((o) => o === order).length;
  while (orders(ws).filter((o) => o === order).length === before) {
    if (Date.now() > deadline) throw new Error(`no ${order} arrived`);
    gw.dispatch.publish(event(order, null, 0));
    await sleep(20);
  }
}

// The gateway and the `ws` clients share this process's event loop, so a
// close frame that arrives while the loop is blocked (a collection, another
// suite's work under the ASan build) is seen late by up to that block. The
// expiry tests bound what the core does (expiresAt, one deadline tick,
// scheduling slack) and take the observer's own longest stall off what
// they measure; the lower bounds are checked as measured.
function observerStalls() {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  return () => {
    delay.disable();
    return delay.max / 1e6;
  };
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe.each(PATHS)('%s path', (p) => {
  test('a pending authorize blocks no other connection and lets no event through before it admits', async () => {
    const answer = deferred();
    const calls = [];
    const authorize = (identity, topic, connection) => {
      calls.push({ identity, topic, path: connection.path, url: connection.url, grant: connection.grant });
      return answer.promise;
    };
    if (!(await start(p, { authorize }))) return;
    const other = await connect(gw.url('/ws'), as(p, { allow: ['order:o1'] }));
    subscribe(other, ['order:o1']);
    await settle(other, 'o1');
    const ws = await connect(gw.url('/ws'), as(p, { identity: 'u7', topics: ['order:o17'] }));
    expect(gw.dispatch.stats().paths[p].connections).toBe(2); // both on the path under test
    subscribe(ws, ['order:o99']);
    await until(() => calls.length === 1, 5000, 'the authorize call');
    expect(calls[0]).toEqual({ identity: 'u7', topic: 'order:o99', path: p, url: '/ws', grant: { identity: 'u7', topics: ['order:o17'] } });
    // While the hook is pending: the other connection keeps receiving,
    // and order:o99's events do not reach the waiting one.
    const received = orders(other).length;
    for (let i = 0; i < 10; i += 1) {
      gw.dispatch.publish([event('o1', null, i), event('o99', null, i)]);
      await sleep(10);
    }
    await until(() => orders(other).length >= received + 10, 5000, 'the other connection\'s events');
    await settle(ws, 'o17');
    expect(orders(ws).filter((o) => o === 'o99')).toEqual([]);
    answer.resolve(true);
    await settle(ws, 'o99');
    expect(controls(ws)).toEqual([]);
    const stats = gw.dispatch.stats().paths[p];
    expect([stats.authorizeCalls, stats.authorizeRefusals, stats.subscribesRefused]).toEqual([1, 0, 0]);
    expect(gw.dispatch.metrics()).toContain(`ficus_authorize_calls_total{path="${p}"} 1`);
  });

  test('a hung hook times out and refuses; a throwing one refuses; neither closes', async () => {
    const authorize = (identity, topic) => {
      if (topic === 'order:hang') return new Promise(() => {});
      throw new Error('database down');
    };
    if (!(await start(p, { authorize, authorizeTimeoutMs: 300 }))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }));
    const sent = Date.now();
    subscribe(ws, ['order:hang']);
    await until(() => controls(ws).length === 1, 5000, 'the timeout refusal');
    expect(Date.now() - sent).toBeGreaterThanOrEqual(290);
    subscribe(ws, ['order:boom']);
    await until(() => controls(ws).length === 2, 5000, 'the refusal');
    expect(controls(ws)).toEqual([refusalMessage('order:hang'), refusalMessage('order:boom')]);
    await settle(ws, 'o17');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const stats = gw.dispatch.stats().paths[p];
    expect([stats.authorizeCalls, stats.authorizeRefusals, stats.authorizeTimeouts, stats.subscribesRefused]).toEqual([2, 2, 1, 2]);
  });

  test('answers are cached: the hook is asked once per topic per connection', async () => {
    const calls = [];
    const authorize = async (identity, topic) => {
      calls.push(`${identity} ${topic}`);
      return topic === 'order:ok';
    };
    if (!(await start(p, { authorize }))) return;
    const a = await connect(gw.url('/ws'), as(p, { identity: 'a', topics: ['order:o17'] }));
    for (let i = 0; i < 3; i += 1) {
      subscribe(a, ['order:ok', 'order:no']);
      await until(() => controls(a).length === i + 1, 5000, 'the refusal');
      await settle(a, 'ok');
      unsubscribe(a, ['order:ok']);
    }
    const b = await connect(gw.url('/ws'), as(p, { identity: 'b', topics: ['order:o17'] }));
    subscribe(b, ['order:ok']);
    await settle(b, 'ok');
    expect(calls.sort()).toEqual(['a order:no', 'a order:ok', 'b order:ok']);
    expect(controls(a)).toEqual([1, 2, 3].map(() => refusalMessage('order:no')));
  });

  test('a connection closes 3005 "token expired" at expiresAt, within a timer tick', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }, 600));
    const opened = Date.now();
    const stalledMs = observerStalls();
    const done = closed(ws);
    expect(await done).toEqual({ code: CLOSE.TOKEN_EXPIRED, reason: CLOSE_REASONS.tokenExpired });
    const at = Date.now() - opened;
    // Opened a few ms after expiresAt was set; the native tick is 50 ms
    // here (deadlineTickMs), the rest is scheduling slack.
    expect(at).toBeGreaterThanOrEqual(540);
    expect(at - stalledMs()).toBeLessThanOrEqual(600 + 50 + 150);
    await until(() => gw.dispatch.stats().paths[p].grantsExpired === 1, 2000, 'the counter');
    expect(gw.dispatch.metrics()).toContain(`ficus_grants_expired_total{path="${p}"} 1`);
  });

  test('a refresh extends the expiry; a bad token is answered and the old expiry holds', async () => {
    let newExpiry = 0;
    const refresh = (token) => {
      if (token === 'boom') throw new Error('bad signature');
      if (token !== 'good') return null;
      newExpiry = Date.now() + 1500;
      return { expiresAt: new Date(newExpiry) };
    };
    if (!(await start(p, { refresh }))) return;
    const good = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }, 600));
    const bad = await connect(gw.url('/ws'), as(p, { topics: ['order:o17'] }, 600));
    const opened = Date.now();
    const stalledMs = observerStalls();
    const goodDone = closed(good);
    const badDone = closed(bad);
    good.send(JSON.stringify({ type: 'refresh', token: 'good' }));
    for (const token of ['nope', 'boom']) bad.send(JSON.stringify({ type: 'refresh', token }));
    bad.send(JSON.stringify({ type: 'refresh' }));
    await until(() => controls(good).length === 1 && controls(bad).length === 3, 5000, 'the answers');
    expect(controls(good)).toEqual([JSON.stringify({ type: 'refreshed', expiresAt: newExpiry })]);
    expect(controls(bad)).toEqual([REFRESH_FAILED, REFRESH_FAILED, REFRESH_FAILED]);
    expect(await badDone).toEqual({ code: CLOSE.TOKEN_EXPIRED, reason: CLOSE_REASONS.tokenExpired });
    expect(Date.now() - opened - stalledMs()).toBeLessThanOrEqual(600 + 50 + 150);
    const goodStalls = observerStalls();
    expect(good.readyState).toBe(WebSocket.OPEN);
    expect(await goodDone).toEqual({ code: CLOSE.TOKEN_EXPIRED, reason: CLOSE_REASONS.tokenExpired });
    const goodAt = Date.now();
    expect(goodAt).toBeGreaterThanOrEqual(newExpiry - 10);
    expect(goodAt - goodStalls()).toBeLessThanOrEqual(newExpiry + 50 + 150);
    const stats = gw.dispatch.stats().paths[p];
    expect([stats.refreshes, stats.refreshesFailed, stats.grantsExpired]).toEqual([1, 3, 2]);
    // Refresh messages are the hook's, not the application's.
    expect(gw.dispatch.listenerCount('message')).toBe(0);
  });

  test('a refresh that narrows the grant drops and tells what it no longer allows', async () => {
    const refresh = () => ({ allow: ['order:o1'] });
    if (!(await start(p, { refresh }))) return;
    const ws = await connect(gw.url('/ws'), as(p, { allow: ['order:*'] }));
    subscribe(ws, ['order:o1', 'order:o2']);
    await settle(ws, 'o2');
    ws.send(JSON.stringify({ type: 'refresh', token: 't' }));
    await until(() => controls(ws).length === 2, 5000, 'the answer and the revocation');
    expect(controls(ws)).toEqual([JSON.stringify({ type: 'refreshed', expiresAt: null }), revocationMessage('order:o2')]);
    const before = orders(ws).length;
    gw.dispatch.publish(event('o2', null, 1));
    await settle(ws, 'o1');
    expect(orders(ws).slice(before).filter((o) => o === 'o2')).toEqual([]);
    subscribe(ws, ['order:o2']);
    await until(() => controls(ws).length === 3, 5000, 'the refusal');
    expect(controls(ws)[2]).toBe(refusalMessage('order:o2'));
  });
});

test('a refresh message without a refresh hook is an ordinary message', async () => {
  if (!(await start('legacy'))) return;
  const messages = [];
  gw.dispatch.on('message', (m) => messages.push(m.data));
  const ws = await connect(gw.url('/ws'), as('legacy', { topics: ['order:o17'] }));
  ws.send(JSON.stringify({ type: 'refresh', token: 't' }));
  await until(() => messages.length === 1, 5000, 'the message');
  expect(controls(ws)).toEqual([]);
});

test('expired credentials are refused 401; a bad expiresAt or option is an error naming it', async () => {
  if (!(await start('legacy'))) return;
  await expect(connect(gw.url('/ws'), as('legacy', { topics: ['order:o17'] }, -1000))).rejects.toThrow(/401/);
  await expect(connect(gw.url('/ws'), as('legacy', { topics: ['order:o17'], expiresAt: 'soon' }))).rejects.toThrow(/500/);
  expect(gw.dispatch.stats().rejectedUpgrades.unauthorized).toBe(1);
  const http = require('node:http');
  const server = http.createServer();
  expect(() => gw.dispatch.attach(server, { path: '/x', authorize: 1 })).toThrow(/options\.authorize/);
  expect(() => gw.dispatch.attach(server, { path: '/x', refresh: 'f' })).toThrow(TypeError);
  expect(() => gw.dispatch.attach(server, { path: '/x', authorizeTimeoutMs: 0 })).toThrow(RangeError);
  expect(() => gw.dispatch.attach(server, { path: '/x', maxPendingAuthorizations: 0 })).toThrow(/maxPendingAuthorizations/);
});
