'use strict';
// Faults in the embedder: the gateway keeps serving on the legacy path and
// says why; calls at the wrong time get defined answers, never a crash.

const path = require('node:path');
const { spawn } = require('node:child_process');
const ficus = require('../../lib');
const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');

function runFixture(shellPrefix, env) {
  return runScript('native-fails.js', shellPrefix, env);
}

function runScript(name, shellPrefix, env) {
  return new Promise((resolve, reject) => {
    const script = path.join(__dirname, 'fixtures', name);
    const child = spawn('sh', ['-c', `${shellPrefix} exec "${process.execPath}" "${script}"`], {
      env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`fixture exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

// The sanitizer run preloads ASan, whose shadow memory cannot live under
// an address-space limit: these children run the release addon.
const plainEnv = () => {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  delete env.FICUS_ADDON_PATH;
  return env;
};

test('native threads cannot be created: legacy serves, the reason is reported', async () => {
  // 1.5 GB of address space: enough for Node, not for 64 thread stacks.
  const result = await runFixture('ulimit -v 1500000 &&', plainEnv());
  expect(result).toEqual({
    nativeAvailable: false,
    code: 'ERR_FICUS_NATIVE_UNAVAILABLE',
    // Thread stacks or queues cannot be mapped, whichever comes first.
    error: expect.stringMatching(/native core unavailable.*(Resource temporarily unavailable|bad_alloc)/),
    fallbacks: { 'native-unavailable': 1 },
    legacyUpgrades: 1,
    accepted: 1,
    received: 'f1',
  });
});

test('the addon cannot be loaded: legacy serves, the reason is reported', async () => {
  const result = await runFixture('', { ...plainEnv(), FICUS_ADDON_PATH: '/nonexistent/ficus.node' });
  expect(result.nativeAvailable).toBe(false);
  expect(result.error).toMatch(/could not be loaded/);
  expect(result.received).toBe('f1');
  expect(result.fallbacks).toEqual({ 'native-unavailable': 1 });
});

test('publish during close() gets ERR_FICUS_CLOSED; close() twice is the same promise', async () => {
  const gw = await startGateway({ attach: { nativePercent: 50 } });
  const ws = await connect(gw.url('/ws?topics=order:c1'), { headers: { 'x-client-id': 'closing' } });
  const closing = gw.dispatch.close();
  expect(gw.dispatch.close()).toBe(closing);
  expect(() => gw.dispatch.publish(event('c1', null, 1))).toThrow(expect.objectContaining({ code: 'ERR_FICUS_CLOSED' }));
  await closing;
  await until(() => ws.readyState === ws.CLOSED);
  await gw.close();
});

test('a throwing message listener surfaces as an uncaught exception; the core keeps going', async () => {
  const result = await runScript('throwing-listener.js', '', plainEnv());
  expect(result).toEqual({ seen: ['first', 'second'], uncaught: ['handler bug'], healthy: true });
});

test('the exported validators refuse wrong types', () => {
  expect(() => ficus.validateEvent(undefined)).toThrow(TypeError);
});
