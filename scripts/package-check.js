'use strict';
// Run by scripts/test-package.js with one Node major's binary, against ficus
// as installed from the tarball in a temporary project:
//
//   node package-check.js <project> prebuilt   the addon loads with no install
//     script run; a ws client on the native path receives a published event
//   node package-check.js <project> fallback   no prebuild matched: require
//     works, the native path is off, createDispatcher() warns exactly once
//
// Prints one JSON line; exits 1 when a check fails.

const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');
const { createRequire } = require('node:module');

const [project, mode] = process.argv.slice(2);
if (!project || !['prebuilt', 'fallback'].includes(mode)) {
  console.error('usage: node package-check.js <project dir> prebuilt|fallback');
  process.exit(2);
}
const projectRequire = createRequire(path.join(path.resolve(project), 'package.json'));
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const warnings = [];
process.on('warning', (w) => {
  if (w.code === 'FICUS_NATIVE_UNAVAILABLE') warnings.push(w.message);
});

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  })]).finally(() => clearTimeout(timer));
}

async function roundTrip(ficus, WebSocket, nativePercent) {
  const server = http.createServer((req, res) => res.end('ok'));
  const dispatch = ficus.createDispatcher({ threads: 1 });
  const router = dispatch.attach(server, { path: '/ws', nativePercent });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/ws?topics=order:o1`);
  try {
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), 5000, 'WebSocket open');
    const received = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data))));
    const published = dispatch.publish({ order_id: 'o1', status: 'picked_up', timestamp: new Date().toISOString() });
    const event = await withTimeout(received, 5000, 'published event');
    return { dispatch, router, published, event, stats: router.stats() };
  } finally {
    ws.close();
    await dispatch.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

(async () => {
  const ficusDir = path.dirname(projectRequire.resolve('ficus/package.json'));
  const ficus = projectRequire('ficus');
  // ws as ficus itself resolves it (a dependency of the package).
  const WebSocket = createRequire(path.join(ficusDir, 'package.json'))('ws');
  const result = {
    node: process.version,
    uv: process.versions.uv,
    napi: process.versions.napi,
    nativeAvailable: ficus.nativeAvailable,
    localBuild: fs.existsSync(path.join(ficusDir, 'build', 'Release', 'ficus.node')),
    redisInstalled: fs.existsSync(path.join(path.resolve(project), 'node_modules', 'redis')),
  };
  check(!result.redisInstalled, 'redis (an optional peer) was installed');

  // The optional peer is missing: bridge() says what to install.
  const lonely = ficus.createDispatcher({ native: false, threads: 1 });
  try {
    lonely.bridge('redis://127.0.0.1:6379');
    check(false, 'bridge() without redis did not throw');
  } catch (error) {
    result.bridgeError = `${error.code}: ${error.message}`;
    check(/npm install redis/.test(error.message), `bridge() without redis: ${error.message}`);
  }
  await lonely.close();

  if (mode === 'prebuilt') {
    check(result.nativeAvailable === true, 'nativeAvailable is not true');
    check(!result.localBuild, 'a local build exists, so the prebuild was not what loaded');
    const trip = await roundTrip(ficus, WebSocket, 100);
    result.received = trip.event.order_id === 'o1' && trip.event.status === 'picked_up';
    result.nativeUpgrades = trip.stats.native.upgrades;
    result.legacyUpgrades = trip.stats.legacy.upgrades;
    check(result.received, `the client received ${JSON.stringify(trip.event)}`);
    check(result.nativeUpgrades === 1 && result.legacyUpgrades === 0,
      `router stats: native ${result.nativeUpgrades}, legacy ${result.legacyUpgrades} upgrades (expected 1 native)`);
    check(warnings.length === 0, `unexpected warnings: ${warnings.join(' | ')}`);
  } else {
    check(result.nativeAvailable === false, 'nativeAvailable is not false');
    // Two dispatchers, one warning; the legacy path serves the client.
    const trip = await roundTrip(ficus, WebSocket, 100);
    const second = ficus.createDispatcher({ threads: 1 });
    await second.close();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    result.received = trip.event.order_id === 'o1';
    result.legacyUpgrades = trip.stats.legacy.upgrades;
    result.fallbacks = trip.stats.native.fallbacks;
    result.warnings = warnings;
    check(result.received, 'the legacy path did not deliver the event');
    check(warnings.length === 1, `${warnings.length} FICUS_NATIVE_UNAVAILABLE warnings (expected exactly 1)`);
    check(warnings.length === 0 || (/npm rebuild ficus/.test(warnings[0]) && /apt-get install/.test(warnings[0])),
      'the warning does not name the fix (apt-get install ..., npm rebuild ficus)');
  }
  result.failures = failures;
  console.log(JSON.stringify(result));
  process.exit(failures.length === 0 ? 0 : 1);
})().catch((error) => {
  console.log(JSON.stringify({ node: process.version, failures: [...failures, error.stack] }));
  process.exit(1);
});
