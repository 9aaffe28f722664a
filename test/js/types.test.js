'use strict';
// lib/index.d.ts compiles against real usage (and rejects wrong usage,
// through @ts-expect-error lines that fail if the error disappears).

const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('type declarations check with tsc --noEmit', () => {
  const tsc = path.resolve(__dirname, '../../node_modules/.bin/tsc');
  const output = (() => {
    try {
      return execFileSync(tsc, ['-p', path.resolve(__dirname, '../types')], { encoding: 'utf8' });
    } catch (error) {
      return error.stdout + error.stderr;
    }
  })();
  expect(output).toBe('');
}, 60000);
