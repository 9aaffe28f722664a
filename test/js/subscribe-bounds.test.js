'use strict';
// Issue 18's bad input: "a subscribe message listing 10,000 forbidden
// topics costs the worker no more than a bounded amount of work and closes
// the connection". On both paths, with the limits that let such a message
// through the decoder (maxTopicsPerConnection above 10,000, room for its
// bytes), the topics are looked at one by one only until the refusal past
// maxRefusedSubscribes: the counter of refused topics stops there, not at
// 10,000. (Under the default limits the decoder refuses the message before
// any topic is looked at: authorization.test.js.)

const { startGateway } = require('./support/gateway');
const { connect, closed, until } = require('./support/clients');
const { CLOSE, CLOSE_REASONS, DEFAULTS } = require('../../lib/protocol');
const { refusalMessage } = require('../../lib/grant');

const PATHS = ['native', 'legacy'];
const TOPICS = 10000;

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

test.each(PATHS)('%s: 10,000 forbidden topics in one message: maxRefusedSubscribes + 1 examined, then 1008', async (p) => {
  gw = await startGateway({
    dispatcher: { maxMessageBytes: 1 << 20, maxTopicsPerConnection: 2 * TOPICS },
    attach: { nativePercent: 0, overrideHeader: 'x-ficus-path', authenticate: () => ({ topics: ['order:o17'] }) },
  });
  if (p === 'native' && !gw.dispatch.nativeAvailable) return;
  const ws = await connect(gw.url('/ws'), { headers: { 'x-ficus-path': p } });
  const done = closed(ws);
  const topics = Array.from({ length: TOPICS }, (_, i) => `order:x${i}`);
  ws.send(JSON.stringify({ type: 'subscribe', topics }));
  expect(await done).toEqual({ code: CLOSE.POLICY_VIOLATION, reason: CLOSE_REASONS.tooManyRefusedSubscribes });
  const limit = DEFAULTS.maxRefusedSubscribes;
  expect(ws.received).toEqual(topics.slice(0, limit).map(refusalMessage));
  await until(() => gw.dispatch.stats().paths[p].connections === 0, 5000, 'the close');
  // The one past the limit was looked at (and closed the connection); the
  // 9,983 after it never were.
  expect(gw.dispatch.stats().paths[p].subscribesRefused).toBe(limit + 1);
  expect(gw.dispatch.stats().paths[p].subscribesRefused).toBeLessThan(TOPICS);
});
