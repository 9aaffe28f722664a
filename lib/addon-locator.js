'use strict';
// Where the addon may be, and what to tell a user when it is in none of
// those places. lib/native-path.js does the loading (the only module of
// lib/ that does); this module only names paths and texts.
//
// Candidates, first that loads wins:
//   FICUS_ADDON_PATH   when set, the only one (e.g. the test suite's ASan build)
//   build/Release      a local build: `npm rebuild ficus`, or in a checkout
//                      `npm run build:addon`
//   build/Debug
//   prebuilds/<platform>-<arch>/ficus.<tags>.node
//                      the N-API binary shipped in the package, matched to
//                      this platform, arch, libc and libuv major by
//                      node-gyp-build (the same rules bufferutil uses)

const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// Read when ficus is first required, as the rest of its configuration.
const OVERRIDE = process.env.FICUS_ADDON_PATH;
// What scripts/install.js leaves behind when a source build at install time
// did not produce a binary: one line, shown in the warning.
const INSTALL_NOTE = path.join(root, 'build', 'ficus-install-error.txt');

// The system packages a source build needs, for the fix we name.
const DEBIAN_PACKAGES = 'g++ make python3 libboost-dev rapidjson-dev';

function platformLabel() {
  let libc = '';
  if (process.platform === 'linux') {
    const glibc = process.report && typeof process.report.getReport === 'function'
      ? process.report.getReport().header.glibcVersionRuntime : undefined;
    libc = glibc ? `, glibc ${glibc}` : ', musl';
  }
  return `${process.platform}-${process.arch}${libc}`;
}

function fixText() {
  // A ficus checkout builds with its own script (node-gyp is a devDependency there).
  if (fs.existsSync(path.join(root, 'scripts', 'build-addon.js'))) return 'run `npm run build:addon`';
  return `build it from source: \`apt-get install ${DEBIAN_PACKAGES}\` (Debian/Ubuntu), ` +
    'then `npm rebuild ficus` in your project (npm 11+ may ask for `npm install-scripts approve ficus` first); ' +
    'see "Installing" in docs/api.md';
}

function candidates() {
  if (OVERRIDE) return [OVERRIDE];
  const list = [
    path.join(root, 'build', 'Release', 'ficus.node'),
    path.join(root, 'build', 'Debug', 'ficus.node'),
  ];
  let prebuild = null;
  try {
    // Returns build/Release's or build/Debug's first .node when there is
    // one (already in the list), else the best matching prebuild.
    prebuild = require('node-gyp-build').resolve(root);
  } catch (error) {
    if (error.code === 'MODULE_NOT_FOUND') return list; // vendored without its dependencies
    // "No native build was found for platform=... arch=...": no prebuild matches.
  }
  if (prebuild && !list.includes(prebuild)) list.push(prebuild);
  return list;
}

// The error for an addon that loaded from none of the candidates, whose
// load errors (other than "not there") are `errors`; `.fix` says what to do.
function unavailable(errors) {
  const reasons = [];
  if (OVERRIDE && errors.length === 0) {
    reasons.push(`FICUS_ADDON_PATH=${OVERRIDE} does not exist`);
  } else if (errors.length === 0) {
    reasons.push(`no prebuilt binary for ${platformLabel()} in the package and no local build`);
  }
  reasons.push(...errors);
  try {
    const note = fs.readFileSync(INSTALL_NOTE, 'utf8').trim();
    if (note) reasons.push(note);
  } catch {
    // no source build was attempted at install
  }
  const fix = fixText();
  const error = new Error(`the ficus addon could not be loaded: ${reasons.join('; ')}. Fix: ${fix}`);
  error.fix = fix;
  return error;
}

module.exports = { root, candidates, unavailable, INSTALL_NOTE, DEBIAN_PACKAGES };
