'use strict';
// `npm pack` / `npm publish` (the prepack script) and `npm run build:prebuild`:
// builds the N-API prebuild that ships in the package,
// prebuilds/<platform>-<arch>/ficus.uv1.<libc>.node, with prebuildify
// (stripped; tagged with libuv's major, since the core calls libuv through
// Node's exports, and with the libc, so musl systems do not pick a glibc
// build). node-gyp-build picks it at run time (lib/addon-locator.js).
//
// Skipped when the prebuild is newer than every native source (set
// FICUS_PREBUILD_FORCE=1 to rebuild anyway). node-gyp's `rebuild` replaces
// build/ (build/Debug's ASan build included); build/Release/ficus.node is
// left as a copy of the prebuild.

const fs = require('node:fs');
const path = require('node:path');
const { step, run, main } = require('./steps');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

function localNodeDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function newestSource() {
  let newest = fs.statSync(path.join(root, 'binding.gyp')).mtimeMs;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  };
  walk(path.join(root, 'native', 'core'));
  walk(path.join(root, 'native', 'binding'));
  return newest;
}

function existingPrebuilds() {
  try {
    return fs.readdirSync(outDir).filter((f) => f.endsWith('.node')).map((f) => path.join(outDir, f));
  } catch {
    return [];
  }
}

function prebuild() {
  const existing = existingPrebuilds();
  if (process.env.FICUS_PREBUILD_FORCE !== '1' && existing.length === 1 &&
      fs.statSync(existing[0]).mtimeMs > newestSource()) {
    step(`prebuild up to date: ${path.relative(root, existing[0])}`);
    return existing[0];
  }
  const bin = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  if (!fs.existsSync(bin)) throw new Error('prebuildify is missing: run `npm install` (it is a devDependency) first');
  fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
  // The prebuild imports libuv's symbols from whichever Node loads it: build
  // it against the oldest supported major, so it needs nothing newer.
  const oldest = Number(require('../package.json').engines.node.replace(/^>=\s*/, '').split('.')[0]);
  if (Number(process.versions.node.split('.')[0]) !== oldest) {
    console.warn(`warning: building the prebuild with Node ${process.version} (libuv ${process.versions.uv}); ` +
      `build it with Node ${oldest}, the oldest supported, so it loads on every supported major`);
  }
  const nodedir = localNodeDir();
  step(`building the N-API prebuild with prebuildify${nodedir ? ` (headers from ${nodedir}/include/node)` : ''}`);
  run(process.execPath, [bin, '--napi', '--strip', '--tag-uv', '--tag-libc'], {
    cwd: root,
    // Headers beside Node need no download; JOBS: node-gyp's make -j.
    env: { ...process.env, JOBS: 'max', ...(nodedir ? { npm_config_nodedir: nodedir } : {}) },
  });
  const built = existingPrebuilds();
  if (built.length !== 1) throw new Error(`expected one prebuild in ${outDir}, found ${built.length}`);
  // A prebuild that cannot load is a failed build.
  run(process.execPath, ['-e', `require(${JSON.stringify(built[0])})`]);
  // prebuildify moves build/Release/ficus.node into prebuilds/: put the same
  // (stripped) release build back for the developer's tests and `npm start`.
  fs.mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(built[0], path.join(root, 'build', 'Release', 'ficus.node'));
  step(`prebuild: ${path.relative(root, built[0])} (${Math.round(fs.statSync(built[0]).size / 1024)} KiB)`);
  return built[0];
}

module.exports = { prebuild };

if (require.main === module) main(prebuild);
