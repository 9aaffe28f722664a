'use strict';
// `import { ... } from 'ficus'` under Node's ESM loader: every documented
// named export exists and is the CommonJS API's own.

const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('every documented named export imports under ESM', () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'fixtures', 'esm-imports.mjs')], {
    encoding: 'utf8',
    timeout: 30000,
  });
  const checks = JSON.parse(out.trim().split('\n').pop());
  expect(checks).toEqual({
    dispatcher: true, router: true, error: true, defaults: true, limits: true, validateEvent: true, bucketOf: true,
    nativeAvailable: true, checks: true, default: true,
  });
});
