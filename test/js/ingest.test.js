'use strict';
// Publisher connections routed with role 'publisher': on the native path
// their events are validated and fanned out by the core without touching
// the JS thread, and still reach legacy subscribers; on the legacy path
// they are published by JS. Either way every subscriber gets each event
// once, in order.

const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');

let gw;
afterEach(() => gw && gw.close());

async function withPublisher(publisherPath) {
  gw = await startGateway({ attach: { nativePercent: 50, overrideHeader: 'x-ficus-path' } });
  const publishers = gw.dispatch.attach(gw.server, { path: '/publish', role: 'publisher', overrideHeader: 'x-ficus-path' });
  const subs = [];
  for (const path of ['native', 'legacy', 'native', 'legacy']) {
    subs.push(await connect(gw.url('/ws?topics=order:g1'), { headers: { 'x-ficus-path': path } }));
  }
  const publisher = await connect(gw.url('/publish'), { headers: { 'x-ficus-path': publisherPath } });
  return { subs, publisher, publishers };
}

test.each(['native', 'legacy'])('a %s publisher reaches subscribers on both paths once, in order', async (publisherPath) => {
  const { subs, publisher } = await withPublisher(publisherPath);
  for (let seq = 0; seq < 200; seq += 1) publisher.send(JSON.stringify(event('g1', seq % 3 ? 'dg' : null, seq)));
  publisher.send('garbage');
  await until(() => subs.every((ws) => ws.received.length >= 200), 10000, 'deliveries');
  await new Promise((r) => setTimeout(r, 100));
  for (const ws of subs) expect(ws.received.map((m) => JSON.parse(m).seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  const stats = gw.dispatch.stats();
  if (publisherPath === 'native') {
    expect(stats.paths.native.ingested).toBe(200);
    expect(stats.paths.native.ingestRejected).toBe(1);
    expect(stats.events.accepted).toBe(0); // nothing went through publish()
  } else {
    expect(stats.paths.native.ingested).toBe(0);
    expect(stats.events.accepted).toBe(200);
    expect(stats.events.rejected).toBe(1);
  }
  publisher.close();
});

test('publishers receive no events and attach validates role', async () => {
  const { publisher } = await withPublisher('native');
  gw.dispatch.publish(event('g1', null, 1));
  await new Promise((r) => setTimeout(r, 100));
  expect(publisher.received).toEqual([]);
  expect(() => gw.dispatch.attach(gw.server, { role: 'consumer' })).toThrow(/one of "subscriber", "publisher" for options\.role/);
});
