'use strict';
// Builds the addon (build/Release/ficus.node) with node-gyp against the
// running Node's own headers and libuv. When those headers are installed
// beside Node (as on Debian's and NodeSource's packages) no download is
// needed: node-gyp is pointed at them with --nodedir.

const fs = require('node:fs');
const path = require('node:path');
const { step, run, main } = require('./steps');

const root = path.resolve(__dirname, '..');

function localNodeDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function buildAddon({ debug = false } = {}) {
  const gyp = path.join(root, 'node_modules', '.bin', 'node-gyp');
  if (!fs.existsSync(gyp)) throw new Error('node-gyp is missing: run `npm install` first');
  const args = ['rebuild', '-j', 'max'];
  const nodedir = localNodeDir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  if (debug) args.push('--debug');
  step(`building the addon${debug ? ' (debug)' : ''} with node-gyp${nodedir ? ` (headers from ${nodedir}/include/node)` : ''}`);
  run(gyp, args, { cwd: root });
  const output = path.join(root, 'build', debug ? 'Debug' : 'Release', 'ficus.node');
  // A build that cannot load is a failed build.
  run(process.execPath, ['-e', `require(${JSON.stringify(output)})`]);
  return output;
}

module.exports = { buildAddon };

if (require.main === module) main(() => buildAddon({ debug: process.argv.includes('--debug') }));
