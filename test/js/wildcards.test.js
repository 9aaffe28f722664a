'use strict';
// Wildcard subscriptions (docs/api.md, "Client protocol"; docs/security.md,
// "Authorization"): a subscribed topic ending in '*' receives every event
// whose topic starts with the rest, once per event however many of a
// connection's subscriptions match, on both paths; only a Grant's prefix
// pattern that the wildcard's prefix starts with allows one.

const { startGateway } = require('./support/gateway');
const { connect, closed, until } = require('./support/clients');
const grants = require('./support/grants');
const { as, attach, subscribe, unsubscribe, refusals, events } = grants;
const { CLOSE, CLOSE_REASONS } = require('../../lib/protocol');
const { refusalMessage, GrantMatcher } = require('../../lib/grant');
const { PrefixTree } = require('../../lib/prefix-tree');
const { TopicIndex } = require('../../lib/topic-index');

const PATHS = ['native', 'legacy'];
const ORDERS = ['o1', 'o17', 'o2', 'o10', 'o18', 'o1', 'p1'];

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

async function start(p, dispatcher = {}) {
  gw = await startGateway({ dispatcher, attach });
  return p === 'legacy' || gw.dispatch.nativeAvailable;
}

const publishAndSettle = (ws, orders, drivers) => grants.publishAndSettle(gw, ws, orders, 'o17', drivers);

describe.each(PATHS)('%s path', (p) => {
  test.each([
    ['order:*', []],
    ['order:* and the exact order:o17', ['order:o17']],
    ['two overlapping wildcards', ['order:o1*']],
    ['order:* and its own driver topics', ['driver:*', 'driver:d1']],
  ])('a dispatcher on %s receives every order event exactly once', async (_, extra) => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { allow: ['order:*', 'driver:*'] }));
    subscribe(ws, ['order:*', ...extra]);
    await publishAndSettle(ws, ORDERS, ORDERS.map(() => 'd1'));
    expect(events(ws)).toEqual(ORDERS);
    expect(refusals(ws)).toEqual([]);
  });

  test('a narrower wildcard receives only its prefix', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws?topics=order:o1*'), as(p, { allow: ['order:*'] }));
    await publishAndSettle(ws, ORDERS);
    expect(events(ws)).toEqual(['o1', 'o17', 'o10', 'o18', 'o1']);
  });

  test('a customer granted order:o17 gets nothing more by wildcard tricks, and a refusal each', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws?topics=order:*'), as(p, { allow: ['order:o17'] }));
    const tricks = ['order:o17*', 'order:o1*', 'order:*', '*', 'order*', 'оrder:*', 'order:ｏ17*',
      'order:o17**', `order:o17${'x'.repeat(240)}*`];
    subscribe(ws, [...tricks, 'order:o17']);
    await until(() => refusals(ws).length === tricks.length + 1, 5000, 'the refusals');
    expect(refusals(ws)).toEqual(['order:*', ...tricks].map(refusalMessage));
    expect(JSON.parse(refusals(ws)[1])).toEqual({ type: 'error', topic: 'order:o17*', reason: 'forbidden' });
    await publishAndSettle(ws, ['o18', 'o170', 'o17*', '*', 'o17']);
    expect(events(ws)).toEqual(['o17']);
    expect(gw.dispatch.stats().paths[p].subscribesRefused).toBe(tricks.length + 1);
  });

  test('a wildcard over maxTopicBytes closes 1008 like any topic', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { allow: ['order:*'] }));
    const done = closed(ws);
    subscribe(ws, [`order:${'x'.repeat(250)}*`]);
    expect(await done).toEqual({ code: CLOSE.POLICY_VIOLATION, reason: 'topics[0]: longer than 256 bytes' });
  });

  test('unsubscribing a wildcard stops its events; the exact topic beside it stays', async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { allow: ['order:*'] }));
    subscribe(ws, ['order:*', 'order:o17']);
    await publishAndSettle(ws, ['o1']);
    unsubscribe(ws, ['order:*', 'order:o']); // the second was never subscribed
    await publishAndSettle(ws, ['o2', 'o17']);
    expect(events(ws)).toEqual(['o1', 'o17']);
  });

  test('wildcards count toward maxTopicsPerConnection', async () => {
    if (!(await start(p, { maxTopicsPerConnection: 2 }))) return;
    const ws = await connect(gw.url('/ws'), as(p, { allow: ['order:*'] }));
    const done = closed(ws);
    subscribe(ws, ['order:*', 'order:o1*']);
    subscribe(ws, ['order:o2*']);
    expect(await done).toEqual({ code: CLOSE.POLICY_VIOLATION, reason: CLOSE_REASONS.tooManyTopics });
  });

  test("'*' is everything, for a client without a Grant or granted '*'", async () => {
    if (!(await start(p))) return;
    const open = await connect(gw.url('/ws'), as(p, true));
    const granted = await connect(gw.url('/ws'), as(p, { allow: ['*'] }));
    subscribe(open, ['*']);
    subscribe(granted, ['*']);
    await grants.sync(gw, open);
    await publishAndSettle(granted, ['o1', 'x9']);
    expect(events(granted)).toEqual(['o1', 'x9']);
    expect(events(open)).toEqual(['o1', 'x9']);
  });

  test('the probes\' reserved topics reach no wildcard, only their exact subscribers', async () => {
    if (!(await start(p))) return;
    const open = await connect(gw.url('/ws'), as(p, true));
    subscribe(open, ['*', 'order:*', 'order:ficus:probe:*']);
    await grants.sync(gw, open);
    const exact = await connect(gw.url('/ws?topics=order:ficus:probe:feed'), as(p, true));
    await publishAndSettle(open, ['ficus:probe:feed', 'ficus:probe', 'o1']);
    expect(events(open)).toEqual(['ficus:probe', 'o1']);
    await until(() => events(exact).length === 1);
    expect(events(exact)).toEqual(['ficus:probe:feed']);
  });

  test("a Grant's own topics may be wildcards: subscribed at open, and allowed again", async () => {
    if (!(await start(p))) return;
    const ws = await connect(gw.url('/ws'), as(p, { topics: ['order:o1*'] }));
    await publishAndSettle(ws, ['o2', 'o11']);
    unsubscribe(ws, ['order:o1*']);
    subscribe(ws, ['order:o1*', 'order:o11*', 'order:*']);
    await publishAndSettle(ws, ['o12', 'o2']);
    expect(events(ws)).toEqual(['o11', 'o12']);
    expect(refusals(ws)).toEqual([refusalMessage('order:*')]);
  });
});

test('GrantMatcher: a wildcard needs a prefix pattern it starts with (grant_matcher_test.cc)', () => {
  const m = new GrantMatcher(['order:*', 'zone:o17*', 'driver:d1', 'a*b']);
  for (const t of ['order:*', 'order:o1*', 'order:o1**', 'zone:o17*', 'zone:o170*']) expect(m.allows(t)).toBe(true);
  for (const t of ['orde*', '*', 'zone:o1*', 'driver:d1*', 'driver:*', 'a*', 'оrder:*']) expect(m.allows(t)).toBe(false);
  expect(new GrantMatcher(['*']).allows('*')).toBe(true);
});

test('PrefixTree agrees with a model under random churn (prefix_tree_test.cc)', () => {
  let seed = 18;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const name = (max) => Array.from({ length: random(max + 1) }, () => 'ab\u00ff\u0000'[random(4)]).join('');
  const tree = new PrefixTree();
  const model = new Map(); // prefix -> node
  for (let round = 0; round < 5000; round += 1) {
    const prefix = name(6);
    if (!model.has(prefix)) {
      const node = tree.insert(prefix);
      node.subscribers = new Set([prefix]);
      model.set(prefix, node);
    } else if (random(2)) {
      const node = model.get(prefix);
      node.subscribers = null;
      tree.release(node);
      model.delete(prefix);
    }
    const topic = name(8);
    const out = [];
    tree.collect(topic, out);
    const want = [...model.keys()].filter((q) => topic.startsWith(q)).sort((a, b) => a.length - b.length);
    expect(out.map((s) => [...s][0])).toEqual(want);
    for (const [q, node] of model) expect(tree.find(q)).toBe(node);
    expect(tree.nodes).toBeLessThanOrEqual(2 * model.size + 1);
  }
  for (const node of model.values()) {
    node.subscribers = null;
    tree.release(node);
  }
  expect(tree.empty).toBe(true);
  expect(tree.nodes).toBe(1);
});

test('TopicIndex: exact and wildcard entries, removed when empty', () => {
  const index = new TopicIndex();
  const a = {};
  const b = {};
  index.add(a, 'order:*');
  index.add(b, 'order:o17');
  index.add(b, 'order:o1*');
  expect(index.size).toBe(3);
  const out = [];
  index.collect('order:o17', out);
  expect(out.map((s) => [...s])).toEqual([[b], [a], [b]]);
  index.remove(a, 'order:*');
  index.remove(b, 'order:o1*');
  index.remove(b, 'order:o17');
  expect(index.size).toBe(0);
  expect(index.prefixCount).toBe(0);
});
