'use strict';
// The policy closes the conformance cases cannot reach (they need a slow
// reader or a shutdown): each path closes with the same code and the same
// reason, the ones lib/protocol.js and the core share. Frame-level and
// topic-level policy closes are conformance cases (group P).

const { startGateway } = require('./support/gateway');
const { connect, closed, until, event } = require('./support/clients');
const { CLOSE, CLOSE_REASONS } = require('../../lib/protocol');

const PATHS = ['native', 'legacy'];
const onPath = (p) => ({ headers: { 'x-ficus-path': p } });
const attach = { nativePercent: 0, overrideHeader: 'x-ficus-path' };

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

test.each(PATHS)('%s: a reader that stops reading, under backpressure "close" → 1008 "send buffer full"', async (p) => {
  gw = await startGateway({ dispatcher: { maxBufferedBytes: 64 * 1024, backpressure: 'close' }, attach });
  if (p === 'native' && !gw.dispatch.nativeAvailable) return;
  const slow = await connect(gw.url('/ws?topics=order:o1'), onPath(p));
  const done = closed(slow);
  slow._socket.pause();
  // Events of ~32 KB until the kernel's buffers and then maxBufferedBytes
  // are full: bounded in count, the close comes long before the end.
  const filler = 'x'.repeat(32 * 1024);
  for (let i = 0; i < 2000 && gw.dispatch.stats().paths[p].connections > 0; i += 1) {
    gw.dispatch.publish(event('o1', null, i, { filler }));
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  slow._socket.resume();
  expect(await done).toEqual({ code: CLOSE.POLICY_VIOLATION, reason: CLOSE_REASONS.sendBufferFull });
});

test.each(PATHS)('%s: dispatch.close() → 1001 "server shutting down"', async (p) => {
  gw = await startGateway({ attach });
  if (p === 'native' && !gw.dispatch.nativeAvailable) return;
  const client = await connect(gw.url('/ws?topics=order:o1'), onPath(p));
  await until(() => gw.dispatch.stats().paths[p].connections === 1, 5000, 'the connection');
  const done = closed(client);
  const closing = gw;
  gw = null;
  await closing.close();
  expect(await done).toEqual({ code: CLOSE.GOING_AWAY, reason: CLOSE_REASONS.shuttingDown });
});

// The message bucket (maxMessagesPerSecond, messageBurst). At one token a
// second, messages written in one tick reach the server within
// milliseconds: a full burst passes and one more is refused, whatever the
// load, as long as the machine is not a whole second late.
describe.each(PATHS)('%s: the message rate limit', (p) => {
  const dispatcher = { maxMessagesPerSecond: 1, messageBurst: 20 };
  const sendMany = (ws, n) => {
    for (let i = 0; i < n; i += 1) ws.send(`hello ${i}`);
  };

  async function open() {
    gw = await startGateway({ dispatcher, attach });
    if (p === 'native' && !gw.dispatch.nativeAvailable) return null;
    const messages = [];
    gw.dispatch.on('message', (m) => messages.push(m.data));
    const ws = await connect(gw.url('/ws?topics=order:o1'), onPath(p));
    return { ws, messages };
  }

  test('exactly messageBurst messages at once: every one delivered, the connection stays open', async () => {
    const c = await open();
    if (!c) return;
    sendMany(c.ws, dispatcher.messageBurst);
    await until(() => c.messages.length === dispatcher.messageBurst, 5000, 'the messages');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(gw.dispatch.stats().paths[p].rateLimited).toBe(0);
  });

  test('one more → 1008 "message rate limit exceeded", counted in stats and Prometheus', async () => {
    const c = await open();
    if (!c) return;
    const done = closed(c.ws);
    sendMany(c.ws, dispatcher.messageBurst + 1);
    expect(await done).toEqual({ code: CLOSE.POLICY_VIOLATION, reason: CLOSE_REASONS.messageRateExceeded });
    expect(c.messages).toHaveLength(dispatcher.messageBurst); // the one past the limit is not delivered
    await until(() => gw.dispatch.stats().paths[p].rateLimited === 1, 5000, 'the counter');
    expect(gw.dispatch.metrics()).toContain(`ficus_rate_limited_total{path="${p}"} 1`);
  });

  test('the bucket refills at maxMessagesPerSecond', async () => {
    const c = await open();
    if (!c) return;
    sendMany(c.ws, dispatcher.messageBurst);
    await until(() => c.messages.length === dispatcher.messageBurst, 5000, 'the burst');
    // Waiting longer only adds tokens: after 2.2 s at least two are back.
    await new Promise((r) => setTimeout(r, 2200));
    sendMany(c.ws, 2);
    await until(() => c.messages.length === dispatcher.messageBurst + 2, 5000, 'two more');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(gw.dispatch.stats().paths[p].rateLimited).toBe(0);
  });
});
