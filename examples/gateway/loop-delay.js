'use strict';
// Node's event-loop delay the way the gateway reports it. monitorEventLoopDelay
// runs a 10 ms timer and records the whole interval between its runs, so the
// delay is what exceeds the timer's own period. libuv schedules timers in
// whole milliseconds: an idle loop still shows up to ~1 ms.

const { monitorEventLoopDelay } = require('node:perf_hooks');

const RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;

function loopDelayMonitor() {
  return monitorEventLoopDelay({ resolution: RESOLUTION_MS });
}

const excessMs = (ns) => Math.max(0, Math.round((ns / NS_PER_MS - RESOLUTION_MS) * 1000) / 1000);

// { p50, p99, max } in milliseconds of a loopDelayMonitor() histogram.
function loopDelaySummary(h) {
  return h.count > 0
    ? { p50: excessMs(h.percentile(50)), p99: excessMs(h.percentile(99)), max: excessMs(h.max) }
    : { p50: 0, p99: 0, max: 0 };
}

module.exports = { loopDelayMonitor, loopDelaySummary, RESOLUTION_MS };
