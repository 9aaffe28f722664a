'use strict';
// Configures and builds one flavour of the standalone core with CMake:
// release (tests + tools), asan (ASan+UBSan), tsan, fuzz (clang +
// libFuzzer). Each flavour has its own build directory under build-native/ (node-gyp owns build/).

const os = require('node:os');
const path = require('node:path');
const { step, run, main } = require('./steps');

const root = path.resolve(__dirname, '..');

const FLAVOURS = {
  release: { dir: 'build-native/release', flags: ['-DCMAKE_BUILD_TYPE=RelWithDebInfo'] },
  asan: { dir: 'build-native/asan', flags: ['-DCMAKE_BUILD_TYPE=Debug', '-DASAN=ON', '-DUBSAN=ON'] },
  tsan: { dir: 'build-native/tsan', flags: ['-DCMAKE_BUILD_TYPE=Debug', '-DTSAN=ON'] },
  fuzz: {
    dir: 'build-native/fuzz',
    flags: ['-DCMAKE_BUILD_TYPE=Debug', '-DASAN=ON', '-DUBSAN=ON', '-DFICUS_FUZZ=ON',
      '-DFICUS_TESTS=OFF', '-DCMAKE_CXX_COMPILER=clang++'],
  },
};

function buildCore(flavour) {
  const spec = FLAVOURS[flavour];
  if (!spec) throw new Error(`unknown build flavour '${flavour}' (${Object.keys(FLAVOURS).join(', ')})`);
  const dir = path.join(root, spec.dir);
  step(`building the core (${flavour}) in ${spec.dir}`);
  run('cmake', ['-S', root, '-B', dir, ...spec.flags]);
  run('cmake', ['--build', dir, '-j', String(Math.max(1, os.availableParallelism()))]);
  return dir;
}

module.exports = { buildCore, FLAVOURS };

if (require.main === module) main(() => buildCore(process.argv[2] || 'release'));
