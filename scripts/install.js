'use strict';
// ficus's npm `install` script. It never fails the install: ficus works
// without its addon (every connection then stays on the legacy ws path).
//
// - An addon that loads (the prebuild shipped for this platform, or an
//   earlier local build): nothing to do.
// - Otherwise, or with `FICUS_BUILD_FROM_SOURCE=1` / `--build-from-source`:
//   build from source with node-gyp (the one npm bundles) into build/Release.
//   Without a compiler, or when the build fails, print one line and exit 0;
//   the reason is kept in build/ficus-install-error.txt and repeated in the
//   warning createDispatcher() emits.
//
// npm runs dependencies' install scripts only when the project allows them
// (npm 11: `npm install-scripts approve ficus`); `npm rebuild ficus` runs
// this script too. It needs nothing but Node's standard library and lib/.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// Where the addon may be, the note's path and the packages a source build
// needs: the same facts the run-time loader uses (lib/ ships with this).
const locator = require('../lib/addon-locator');

const root = locator.root;
const NOTE = locator.INSTALL_NOTE;
const FIX = `apt-get install ${locator.DEBIAN_PACKAGES} (Debian/Ubuntu), then run \`npm rebuild ficus\``;

function say(line) {
  console.log(`ficus: ${line}`);
}

function onPath(name) {
  if (name.includes('/')) return fs.existsSync(name) ? name : null;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

// Loads in a child, so a binary that crashes on load cannot take the install down.
function loads(file) {
  const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  return child.status === 0 ? null : (child.stderr.split('\n').find((l) => /Error/.test(l)) || `exit ${child.status}`).trim();
}

function currentAddon() {
  for (const file of locator.candidates()) {
    if (fs.existsSync(file) && loads(file) === null) return file;
  }
  return null;
}

// `reason` completes "source build at install: ..."; lib/addon-locator.js shows the note.
function giveUp(reason) {
  fs.mkdirSync(path.dirname(NOTE), { recursive: true });
  fs.writeFileSync(NOTE, `source build at install: ${reason}\n`);
  say(`no native addon (${prebuildMissing ? `no loadable prebuilt binary for ${process.platform}-${process.arch}; ` : ''}` +
    `source build: ${reason}); ficus works on its legacy ws path. To enable the native core, ${FIX}.`);
  process.exit(0);
}

function buildFromSource() {
  const cxx = process.env.CXX || ['g++', 'c++', 'clang++'].find(onPath);
  const missing = [];
  if (!cxx || !onPath(cxx)) missing.push('a C++20 compiler (g++)');
  if (!onPath('make')) missing.push('make');
  if (!onPath(process.env.PYTHON || 'python3')) missing.push('python3');
  if (missing.length > 0) giveUp(`skipped, ${missing.join(', ')} not found`);

  // npm points npm_config_node_gyp at its bundled node-gyp and puts it on PATH.
  const gyp = process.env.npm_config_node_gyp;
  const command = gyp && fs.existsSync(gyp) ? process.execPath : 'node-gyp';
  const args = gyp && fs.existsSync(gyp) ? [gyp, 'rebuild'] : ['rebuild'];
  say('building the native addon from source (node-gyp rebuild, about a minute)');
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { JOBS: 'max', ...process.env } });
  if (result.error) giveUp(`node-gyp could not run: ${result.error.message}`);
  if (result.status !== 0) {
    const lines = `${result.stdout}\n${result.stderr}`.split('\n');
    // The compiler's first error is the useful one (e.g. a missing Boost header).
    const first = lines.find((l) => /(fatal )?error:/.test(l) && !/^gyp (ERR|info)/.test(l)) ||
      lines.find((l) => /^gyp ERR! stack Error:/.test(l)) || `node-gyp exited ${result.status}`;
    fs.mkdirSync(path.join(root, 'build'), { recursive: true });
    fs.writeFileSync(path.join(root, 'build', 'ficus-install.log'), `${result.stdout}\n${result.stderr}`);
    giveUp(`failed: ${first.replace(/^gyp ERR! stack /, '').trim()} (log: build/ficus-install.log)`);
  }
  const built = path.join(root, 'build', 'Release', 'ficus.node');
  const error = loads(built);
  if (error) giveUp(`built, but does not load: ${error}`);
  fs.rmSync(NOTE, { force: true });
  say(`built the native addon from source: ${path.relative(root, built)}`);
}

const forced = process.env.FICUS_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
fs.rmSync(NOTE, { force: true });
// A ficus checkout (`npm install` of the repository itself; the package
// does not ship this script): its own scripts build the addon when needed.
if (!forced && fs.existsSync(path.join(root, 'scripts', 'build-addon.js'))) process.exit(0);
const existing = forced ? null : currentAddon();
if (existing) process.exit(0);
const prebuildMissing = !forced;
if (process.platform === 'win32') {
  say('the native core supports Linux and macOS; on Windows ficus works on its legacy ws path');
  process.exit(0);
}
buildFromSource();
