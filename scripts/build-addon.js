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

// `sanitize`: build the Debug flavour with ASan+UBSan into build/Debug,
// beside (not instead of) build/Release. Loading it needs the ASan runtime
// preloaded: see asanRuntime().
function buildAddon({ sanitize = false } = {}) {
  const gyp = path.join(root, 'node_modules', '.bin', 'node-gyp');
  if (!fs.existsSync(gyp)) throw new Error('node-gyp is missing: run `npm install` first');
  const nodedir = localNodeDir();
  const common = ['-j', 'max', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  step(`building the addon${sanitize ? ' (debug, ASan+UBSan)' : ''} with node-gyp` +
    `${nodedir ? ` (headers from ${nodedir}/include/node)` : ''}`);
  if (sanitize) {
    const flags = '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all';
    const env = { ...process.env, CFLAGS: flags, CXXFLAGS: flags, LDFLAGS: '-fsanitize=address,undefined' };
    // configure + build, not rebuild: rebuild would delete build/Release.
    run(gyp, ['configure', ...common], { cwd: root, env });
    run(gyp, ['build', '--debug', ...common], { cwd: root, env });
  } else {
    run(gyp, ['rebuild', ...common], { cwd: root });
  }
  const output = path.join(root, 'build', sanitize ? 'Debug' : 'Release', 'ficus.node');
  // A build that cannot load is a failed build.
  const loadEnv = sanitize ? { ...process.env, LD_PRELOAD: asanRuntime(), ASAN_OPTIONS: 'detect_leaks=0' } : process.env;
  run(process.execPath, ['-e', `require(${JSON.stringify(output)})`], { env: loadEnv });
  return output;
}

// The shared ASan runtime of the compiler that built the addon.
function asanRuntime() {
  const { execFileSync } = require('node:child_process');
  return execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
}

module.exports = { buildAddon, asanRuntime };

if (require.main === module) main(() => buildAddon({ sanitize: process.argv.includes('--sanitize') }));
