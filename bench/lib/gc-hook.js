'use strict';
// Preloaded into the gateway by the capacity and scale scenarios
// (node --expose-gc --require bench/lib/gc-hook.js examples/gateway/index.js):
// on SIGUSR2 it runs a full garbage collection and prints the heap figures,
// so retained memory per connection can be told from garbage the
// handshakes left behind. Inert until signalled.
//
// The second collection is V8's "last resort" one (several passes, memory
// reducing). Even that does not give back the young generation a burst of
// upgrades grew (measured: 2.7 KB per connection at 19,000 before and
// after): only V8's memory reducer does, once it finds the process idle, so
// the scenarios read RSS again after a quiet period.

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  global.gc();
  setTimeout(() => {
    global.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    process.stderr.write(`GCREPORT ${JSON.stringify({ before, after: process.memoryUsage() })}\n`);
  }, 200);
});
