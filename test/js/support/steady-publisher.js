'use strict';
// Events published at a steady rate through a test gateway's dispatcher
// while clients move between paths: `perTick` events every 10 ms, event k
// on order o<k mod orders> with seq k, every one of them accepted. What
// the recovery tests compare each client's received sequence with.

const { event } = require('./clients');

const TICK_MS = 10;

function publishSteadily(gw, { orders, perTick }) {
  const published = [];
  let seq = 0;
  const timer = setInterval(() => {
    const batch = [];
    for (let i = 0; i < perTick; i += 1, seq += 1) batch.push(event(`o${seq % orders}`, null, seq));
    expect(gw.dispatch.publish(batch).accepted).toBe(batch.length);
    published.push(...batch);
  }, TICK_MS);
  return {
    stop: () => clearInterval(timer),
    // The seqs published on `order` from `fromSeq` on, in publish order.
    seqsFor: (order, fromSeq) => published.filter((e) => e.order_id === order && e.seq >= fromSeq).map((e) => e.seq),
  };
}

module.exports = { publishSteadily };
