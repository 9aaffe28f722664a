'use strict';
// What a user of the npm package sees when parts of it are missing: the
// addon (one process warning naming the fix) or the optional `redis` peer
// (bridge() names `npm install redis`). The tarball itself, installed under
// every Node major with no compiler, is the `package` stage of `npm test`
// (scripts/test-package.js).

const path = require('node:path');
const { spawnSync } = require('node:child_process');

const lib = path.join(__dirname, '..', '..', 'lib');

test('the addon cannot load: createDispatcher() warns once, with the reason and the fix', () => {
  const script = `
    const warnings = [];
    process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
    const ficus = require(${JSON.stringify(lib)});
    const a = ficus.createDispatcher({ threads: 1 });
    const b = ficus.createDispatcher({ threads: 1 });
    const c = ficus.createDispatcher({ native: false });
    Promise.all([a.close(), b.close(), c.close()]).then(() => setImmediate(() => {
      console.log(JSON.stringify({ available: ficus.nativeAvailable, warnings }));
    }));`;
  const env = { ...process.env, FICUS_ADDON_PATH: '/nonexistent/ficus.node' };
  delete env.LD_PRELOAD;
  const child = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  expect(child.status).toBe(0);
  const { available, warnings } = JSON.parse(child.stdout);
  expect(available).toBe(false);
  expect(warnings).toHaveLength(1);
  expect(warnings[0].code).toBe('FICUS_NATIVE_UNAVAILABLE');
  expect(warnings[0].message).toMatch(/legacy ws path/);
  expect(warnings[0].message).toMatch(/FICUS_ADDON_PATH=\/nonexistent\/ficus\.node does not exist/);
  expect(warnings[0].message).toMatch(/Fix: /);
  // Node prints it once on stderr, as any process warning.
  expect(child.stderr.match(/FICUS_NATIVE_UNAVAILABLE/g)).toHaveLength(1);
});

test('warnIfUnavailable() is quiet when the addon loads and refuses arguments', () => {
  const native = require('../../lib/native-path');
  expect(() => native.warnIfUnavailable('x')).toThrow(TypeError);
  if (native.loadAddon()) expect(native.warnIfUnavailable()).toBe(false);
});

test('bridge() without the optional redis peer names what to install', async () => {
  let ficus;
  jest.isolateModules(() => {
    jest.doMock('redis', () => {
      const error = new Error("Cannot find module 'redis' from 'lib/redis-bridge.js'");
      error.code = 'MODULE_NOT_FOUND';
      throw error;
    });
    ficus = require('../../lib');
  });
  const dispatch = ficus.createDispatcher({ native: false });
  try {
    expect(() => dispatch.bridge('redis://127.0.0.1:6379')).toThrow(expect.objectContaining({
      name: 'FicusError',
      code: 'ERR_FICUS_MISSING_PEER',
      message: expect.stringMatching(/npm install redis/),
    }));
    expect(dispatch.stats().bridge).toBeUndefined();
  } finally {
    await dispatch.close();
    jest.dontMock('redis');
  }
});
