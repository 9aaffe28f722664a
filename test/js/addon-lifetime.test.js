'use strict';
// The addon's Core objects against the environment's teardown: a Core that
// is garbage-collected without stop() must not leave its exit hook behind
// (it would run on freed memory when the process exits). Under the ASan
// addon (npm test's jsasan stage) a use-after-free aborts the child.

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { loadAddon } = require('../../lib/native-path');

const NATIVE = path.resolve(__dirname, '..', '..', 'lib', 'native-path');

const run = (script) => spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 30000 });

(loadAddon() ? test : test.skip)('a Core collected without stop(), then process exit', () => {
  const child = run(`
    const addon = require(${JSON.stringify(NATIVE)}).loadAddon();
    (function () {
      const core = new addon.Core({ threads: 1 }, () => {});
      core.start();
    })();
    global.gc();
    setImmediate(() => { global.gc(); setImmediate(() => console.log('end of script')); });
  `);
  expect(child.stderr).not.toMatch(/AddressSanitizer|runtime error/);
  expect(child.stdout).toContain('end of script');
  expect(child.status).toBe(0);
});

(loadAddon() ? test : test.skip)('a Core stopped, collected, then process exit', () => {
  const child = run(`
    const addon = require(${JSON.stringify(NATIVE)}).loadAddon();
    (function () {
      const core = new addon.Core({ threads: 1 }, () => {});
      core.start();
      core.stop(100);
    })();
    global.gc();
    setImmediate(() => { global.gc(); setImmediate(() => console.log('end of script')); });
  `);
  expect(child.stderr).not.toMatch(/AddressSanitizer|runtime error/);
  expect(child.status).toBe(0);
});
