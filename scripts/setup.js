'use strict';
// Makes a fresh Debian/Ubuntu machine ready to build and test ficus: the
// system packages the native core needs, then the npm dependencies. As root
// it installs what is missing; otherwise it prints the exact command.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { step, run, succeeds, main } = require('./steps');

const root = path.resolve(__dirname, '..');

// What each package is for, so a reader knows why it is here.
const SYSTEM_PACKAGES = {
  cmake: 'builds the core and its tests',
  'g++': 'C++20 compiler',
  'pkg-config': 'finds libuv for the standalone build',
  'libuv1-dev': 'libuv for the standalone core (the addon uses Node\'s)',
  'libboost-dev': 'Boost.Lockfree queues',
  'rapidjson-dev': 'event decoding',
  'libgtest-dev': 'native unit tests',
  clang: 'libFuzzer targets',
  'clang-format': 'the lint stage checks the C++ against .clang-format (version 14, as in Debian 12)',
  'libclang-rt-dev': 'sanitizer and fuzzer runtimes for clang',
  python3: 'node-gyp',
  chromium: 'headless browser for the dashboard test (driven by playwright-core)',
  'redis-server': 'Redis for the bridge and cluster tests (each starts its own on a free port)',
};

function isInstalled(name) {
  // eslint-disable-next-line no-template-curly-in-string -- dpkg-query's own format syntax, not a JS template
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name]);
  return result.status === 0 && result.stdout.toString().includes('install ok installed');
}

function ensureSystemPackages(extra = []) {
  const wanted = [...Object.keys(SYSTEM_PACKAGES), ...extra];
  if (!succeeds('dpkg-query', ['--version'])) {
    step(`not a Debian-based system: make sure these are installed: ${wanted.join(' ')}`);
    return;
  }
  const missing = wanted.filter((name) => !isInstalled(name));
  if (missing.length === 0) {
    step('system packages: all present');
    return;
  }
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(`missing system packages: ${missing.join(', ')}\n` +
      `run as root:  sudo sh -c '${command}'`);
  }
  step(`installing system packages: ${missing.join(' ')}`);
  run('sh', ['-c', command], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function ensureNodeModules() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  const fresh = fs.existsSync(marker) &&
    (!fs.existsSync(lock) || fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs);
  if (fresh) {
    step('npm dependencies: up to date');
    return;
  }
  step('installing npm dependencies');
  run('npm', [fs.existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root });
}

function setup(extraPackages = []) {
  ensureSystemPackages(extraPackages);
  ensureNodeModules();
}

module.exports = { setup, ensureSystemPackages, ensureNodeModules };

if (require.main === module) main(() => setup());
