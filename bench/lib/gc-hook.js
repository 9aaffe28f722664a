'use strict';
// Preloaded into the gateway by the capacity scenario only
// (node --expose-gc --require bench/lib/gc-hook.js examples/gateway/index.js):
// on SIGUSR2 it runs a full garbage collection and prints the heap figures,
// so retained memory per connection can be told from garbage the
// handshakes left behind. Inert until signalled.
//
// The second collection is V8's "last resort" one, which also gives back
// the young generation's grown semi-spaces: what V8's memory reducer does
// by itself once a process has been quiet for a while, but at a time of
// V8's choosing (sometimes after 25 s, sometimes not yet).

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  global.gc();
  setTimeout(() => {
    global.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    process.stderr.write(`GCREPORT ${JSON.stringify({ before, after: process.memoryUsage() })}\n`);
  }, 200);
});
