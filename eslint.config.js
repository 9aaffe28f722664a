'use strict';
// ESLint (flat config): `npm run lint`, and the lint stage of `npm test`.
// @eslint/js's recommended set plus a few rules that each catch a real bug
// rather than a style choice; formatting is left alone.

const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  // Generated or installed code.
  { ignores: ['node_modules/', 'build/', 'build-*/', 'coverage/'] },

  js.configs.recommended,

  {
    files: ['**/*.js'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Recommended, plus one idiom: `const { omitted, ...rest } = obj`
      // names a key in order to leave it out of `rest`.
      'no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `==` coerces ('0' == 0, [] == false); `x == null` (null or
      // undefined) is the one idiom kept.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A map/filter/find/reduce callback that forgets to return.
      'array-callback-return': 'error',
      // '${x}' in a plain string: a template literal was meant.
      'no-template-curly-in-string': 'error',
      // x === x is a NaN test written by accident (Number.isNaN says it).
      'no-self-compare': 'error',
      // A loop whose condition reads nothing the body changes.
      'no-unmodified-loop-condition': 'error',
      // A loop whose body always exits in the first iteration.
      'no-unreachable-loop': 'error',
      // Throwing a non-Error loses the stack and breaks `err.code` checks.
      'no-throw-literal': 'error',
      'prefer-promise-reject-errors': 'error',
      // A `let`/`const`/class read before its declaration in the same scope
      // throws (temporal dead zone). Hoisted function declarations, and
      // closures that run later, are fine.
      'no-use-before-define': ['error', { functions: false, classes: false, variables: false }],
    },
  },

  // ES modules: the ESM entry and its test fixture.
  {
    files: ['**/*.mjs'],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: { ...globals.node } },
  },

  // Jest suites and their helpers.
  {
    files: ['test/**/*.js'],
    languageOptions: { globals: { ...globals.jest } },
  },

  // The dashboard: classic browser scripts (no modules, no build step).
  {
    files: ['examples/gateway/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { ...globals.browser },
    },
  },
];
