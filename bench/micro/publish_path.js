#!/usr/bin/env node
'use strict';
// The JS-thread cost of publishing through the addon, per event, with no
// subscriber (so no socket work): what every event costs the Node event
// loop before any fan-out, on both paths. Measures the addon that
// lib/native-path.js loads (FICUS_ADDON_PATH overrides build/Release's).
//
//   node bench/micro/publish_path.js [--json]

const ficus = require('../..');

const BATCH = 30; // events per publish call, as the example's /publish handler batches a tick
const CALLS = 20000;

function event(i) {
  return `{"order_id":"o${i % 10000}","status":"picked_up","timestamp":"2026-11-27T10:00:00Z",` +
    `"driver_id":"d${i % 100}","ph":1,"pub":0,"seq":${i},"sent_ns":1795860000000000000}`;
}

function measure(fn) {
  for (let i = 0; i < 2000; i += 1) fn();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i += 1) fn();
  const wall = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  return { nsPerEvent: Math.round(wall / CALLS / BATCH), cpuNsPerEvent: Math.round(((cpu.user + cpu.system) * 1000) / CALLS / BATCH) };
}

const dispatch = ficus.createDispatcher({ threads: 1 });
try {
  if (!dispatch.nativeAvailable) throw dispatch.nativeError;
  const items = Array.from({ length: BATCH }, (_, i) => event(i));
  const ndjson = Buffer.from(items.join('\n'));
  // The addon's own call, without the JS layer (lib/native-path.js makes it).
  const addon = require('../../lib/native-path').loadAddon();
  const core = new addon.Core({ threads: 1 }, () => {});
  core.start();
  const results = {
    'core.publishEvents(NDJSON Buffer)': measure(() => core.publishEvents(ndjson, undefined)),
    'dispatch.publish(array of strings)': measure(() => dispatch.publish(items)),
    'JSON.parse per event (what the example store adds)': measure(() => items.forEach((s) => JSON.parse(s))),
  };
  core.stop(0);
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ batch: BATCH, calls: CALLS, results })}\n`);
  } else {
    for (const [name, r] of Object.entries(results)) process.stdout.write(`${name}: ${r.nsPerEvent} ns/event (process CPU ${r.cpuNsPerEvent} ns/event)\n`);
  }
} finally {
  dispatch.close();
}
