'use strict';
// Preloaded into the gateway by the capacity scenario only
// (node --expose-gc --require bench/lib/gc-hook.js examples/gateway/index.js):
// on SIGUSR2 it runs a full garbage collection and prints the heap figures,
// so retained memory per connection can be told from garbage the
// handshakes left behind. Inert until signalled.

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  global.gc();
  setTimeout(() => {
    global.gc();
    process.stderr.write(`GCREPORT ${JSON.stringify({ before, after: process.memoryUsage() })}\n`);
  }, 200);
});
