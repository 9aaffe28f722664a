'use strict';
// Preloaded into the gateway by the gateway scenario
// (node --require bench/lib/loop-probe.js examples/gateway/index.js, stdin a
// pipe): Node's event-loop delay (monitorEventLoopDelay, as the gateway's
// /stats measures it) and busy share over exactly one measured phase. Each
// line "mark" on stdin ends the current span and starts the next: it answers
// on stderr with LOOPREPORT {"samples","p50","p99","max","utilization","spanMs"}
// for the span since the previous mark.
//
// /stats only knows the last second; the P99 of a phase is not the median
// of its seconds' P99s (that drops the worst seconds), and a histogram of the
// whole phase cannot be rebuilt from per-second percentiles.

const { performance } = require('node:perf_hooks');
const { createInterface } = require('node:readline');
const { loopDelayMonitor, loopDelaySummary } = require('../../examples/gateway/loop-delay');

const histogram = loopDelayMonitor();
histogram.enable();
let spanStart = performance.now();
let usageAtStart = performance.eventLoopUtilization();

function mark() {
  const now = performance.now();
  const usage = performance.eventLoopUtilization();
  const report = {
    samples: histogram.count,
    ...loopDelaySummary(histogram),
    utilization: Math.round(performance.eventLoopUtilization(usage, usageAtStart).utilization * 1000) / 1000,
    spanMs: Math.round(now - spanStart),
  };
  histogram.reset();
  spanStart = now;
  usageAtStart = usage;
  process.stderr.write(`LOOPREPORT ${JSON.stringify(report)}\n`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'mark') mark();
});
// The gateway's own shutdown decides when the process ends, not this pipe.
process.stdin.unref();
