'use strict';
// `npm test`: every test ficus has, from a fresh clone. Sets up what is
// missing, then runs the stages in order and stops at the first failure:
//
//   lint    clang-format 14 (--dry-run --Werror, .clang-format) over the
//           git-tracked C++ of native/, bench/ and test/; ESLint
//           (eslint.config.js) over lib/, examples/, scripts/, bench/, test/
//   native  release build of the core, its GoogleTest suite under CTest
//   asan    the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
//   tsan    the same suite under ThreadSanitizer
//   fuzz    each libFuzzer target on its regressions, then for
//           FICUS_FUZZ_SECONDS (default 30) seconds from its seed corpus
//   js      builds the addon, then the Jest suites (end to end with real
//           clients; also needs the release core for its standalone server)
//   jsasan  the Jest suites again against an ASan+UBSan build of the addon
//           (the browser test excepted: Chromium cannot run with the ASan
//           runtime preloaded)
//   package npm pack (with its N-API prebuild), then installs of the tarball
//           into fresh projects with no compiler or Boost/RapidJSON headers,
//           under Node 20, 22, 24 and 26: the prebuild loads and serves a
//           native round trip; without a prebuild the install still succeeds
//           and ficus warns once (scripts/test-package.js)
//
// `--quick` runs lint, native and js only; `--only=a,b` picks stages.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { step, run, main } = require('./steps');
const { setup } = require('./setup');
const { buildCore } = require('./build-core');
const { buildAddon, asanRuntime } = require('./build-addon');

const root = path.resolve(__dirname, '..');
// package runs before the Jest stages (its npm pack rebuilds build/ through
// node-gyp; jsasan and js build the addon they load themselves), so that
// Jest's summary closes the run.
const ALL = ['lint', 'native', 'asan', 'tsan', 'fuzz', 'package', 'jsasan', 'js'];
const jobs = String(Math.max(1, os.availableParallelism()));

function ctest(dir, env = {}) {
  run('ctest', ['--test-dir', dir, '--output-on-failure', '-j', jobs, '--timeout', '300'], {
    env: { ...process.env, ...env },
  });
}

// The formatter's version is part of the format: clang-format 14 (Debian 12's
// `clang-format` package) is the one .clang-format is checked with.
const CLANG_FORMAT_MAJOR = 14;
const CPP_DIRS = ['native', 'bench', 'test'];
const JS_DIRS = ['lib', 'examples', 'scripts', 'bench', 'test'];

function clangFormatBinary() {
  for (const name of [`clang-format-${CLANG_FORMAT_MAJOR}`, 'clang-format']) {
    const result = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const major = Number((/version (\d+)\./.exec(result.stdout) || [])[1]);
    if (major === CLANG_FORMAT_MAJOR) return name;
    throw new Error(`${name} is version ${major}; the format is checked with clang-format ${CLANG_FORMAT_MAJOR}`);
  }
  throw new Error(`clang-format ${CLANG_FORMAT_MAJOR} is missing (Debian: apt-get install clang-format)`);
}

// Every git-tracked *.cc and *.h under CPP_DIRS, checked against
// .clang-format without touching them. Returns the files that differ.
function checkCppFormat() {
  const listed = spawnSync('git', ['ls-files', '-z', '--', ...CPP_DIRS], { cwd: root, encoding: 'utf8' });
  if (listed.error || listed.status !== 0) throw new Error(`git ls-files failed: ${listed.error || listed.stderr}`);
  const files = listed.stdout.split('\0').filter((f) => /\.(cc|h)$/.test(f));
  if (files.length === 0) throw new Error(`no C++ files found under ${CPP_DIRS.join(', ')}`);
  const binary = clangFormatBinary();
  // One error per file is enough to name it (--ferror-limit=1).
  const args = ['--dry-run', '--Werror', '--ferror-limit=1', ...files];
  console.log(`$ ${binary} --dry-run --Werror --ferror-limit=1 <${files.length} files: git ls-files ${CPP_DIRS.join(' ')} | *.cc *.h>`);
  const result = spawnSync(binary, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status === 0) {
    console.log(`clang-format: ${files.length} files formatted`);
    return [];
  }
  const offending = [...new Set([...result.stderr.matchAll(/^(.+?):\d+:\d+: error: code should be clang-formatted/gm)]
    .map((m) => m[1]))];
  if (offending.length === 0) throw new Error(`${binary} failed (exit ${result.status}):\n${result.stderr}`);
  console.log(`clang-format: ${offending.length} of ${files.length} files differ from .clang-format:\n` +
    offending.map((f) => `  ${f}`).join('\n') +
    `\n(see the differences: ${binary} --dry-run FILE; fix: ${binary} -i FILE)`);
  return offending;
}

// libFuzzer prints a line per new coverage point: keep that in a log and
// show the summary, or the last lines when it fails.
function runQuietly(command, args, logPath) {
  console.log(`$ ${[command, ...args].join(' ')}  (log: ${path.relative(root, logPath)})`);
  const log = fs.openSync(logPath, 'w');
  const result = spawnSync(command, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const lines = fs.readFileSync(logPath, 'utf8').split('\n');
  const failed = result.status !== 0 || result.error;
  const shown = failed ? lines.slice(-60) : lines.filter((l) => /^(stat::|Done |INFO: seed corpus)/.test(l));
  console.log(shown.join('\n'));
  if (failed) throw new Error(`${path.basename(command)} failed (exit ${result.status}); see ${logPath}`);
}

const STAGES = {
  // Both checks run, so one pass shows everything to fix.
  lint() {
    const unformatted = checkCppFormat();
    let eslintFailed = false;
    try {
      run(path.join(root, 'node_modules', '.bin', 'eslint'), ['--max-warnings', '0', ...JS_DIRS, 'eslint.config.js'], { cwd: root });
    } catch (error) {
      eslintFailed = true;
      console.log(error.message);
    }
    const failures = [];
    if (unformatted.length > 0) failures.push(`${unformatted.length} C++ files not clang-formatted`);
    if (eslintFailed) failures.push('ESLint found problems');
    if (failures.length > 0) throw new Error(`lint: ${failures.join('; ')}`);
  },
  native() {
    ctest(buildCore('release'));
  },
  asan() {
    ctest(buildCore('asan'), {
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:strict_string_checks=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    });
  },
  tsan() {
    ctest(buildCore('tsan'), {
      TSAN_OPTIONS: `halt_on_error=1 second_deadlock_stack=1 suppressions=${path.join(root, 'test/native/tsan.supp')}`,
    });
  },
  fuzz() {
    const dir = buildCore('fuzz');
    const seconds = Number(process.env.FICUS_FUZZ_SECONDS || 30);
    const fuzzers = fs.readdirSync(dir).filter((f) => f.endsWith('_fuzz')).sort();
    if (fuzzers.length === 0) throw new Error('no fuzz targets were built');
    for (const fuzzer of fuzzers) {
      const name = fuzzer.replace(/_fuzz$/, '');
      const binary = path.join(dir, fuzzer);
      const regressions = path.join(root, 'test/fuzz/regressions', name);
      const seeds = path.join(root, 'test/fuzz/corpus', name);
      const dict = path.join(root, 'test/fuzz', `${name}.dict`);
      const work = path.join(dir, 'work', name);
      fs.mkdirSync(work, { recursive: true });
      if (fs.existsSync(regressions)) {
        const inputs = fs.readdirSync(regressions).map((f) => path.join(regressions, f));
        if (inputs.length > 0) {
          step(`fuzz ${name}: replaying ${inputs.length} regression inputs`);
          run(binary, inputs);
        }
      }
      step(`fuzz ${name}: ${seconds}s from the seed corpus`);
      const args = [work, `-max_total_time=${seconds}`, '-print_final_stats=1', `-artifact_prefix=${dir}/`];
      if (fs.existsSync(seeds)) args.splice(1, 0, seeds);
      if (fs.existsSync(dict)) args.push(`-dict=${dict}`);
      runQuietly(binary, args, path.join(dir, `${name}.log`));
    }
  },
  jsasan() {
    if (!fs.existsSync(path.join(root, 'build-native/release/ficus_server'))) buildCore('release');
    const addon = buildAddon({ sanitize: true });
    run(path.join(root, 'node_modules', '.bin', 'jest'), ['--ci', '--testPathIgnorePatterns', 'browser'], {
      cwd: root,
      env: {
        ...process.env,
        FICUS_ADDON_PATH: addon,
        LD_PRELOAD: asanRuntime(),
        // V8 and Node keep allocations until exit by design; leaks in our
        // code are caught by the native suite's LeakSanitizer run.
        ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
        UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
      },
    });
  },
  js() {
    if (!fs.existsSync(path.join(root, 'build-native/release/ficus_server'))) buildCore('release');
    buildAddon();
    run(path.join(root, 'node_modules', '.bin', 'jest'), ['--ci'], { cwd: root });
  },
  // Last: npm pack's prebuild replaces build/ (the ASan build in build/Debug too).
  package() {
    require('./test-package').testPackage();
  },
};

function parseStages(argv) {
  if (argv.includes('--quick')) return ['lint', 'native', 'js'];
  const only = argv.find((a) => a.startsWith('--only='));
  if (!only) return ALL;
  const picked = only.slice('--only='.length).split(',').filter(Boolean);
  for (const stage of picked) {
    if (!STAGES[stage]) throw new Error(`unknown stage '${stage}' (${ALL.join(', ')})`);
  }
  return picked;
}

main(() => {
  const stages = parseStages(process.argv.slice(2));
  setup();
  stages.forEach((stage, i) => {
    step(`stage ${i + 1}/${stages.length}: ${stage}`);
    STAGES[stage]();
  });
  step(`all ${stages.length} stages passed: ${stages.join(', ')}`);
});
