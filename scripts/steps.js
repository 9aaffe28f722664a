'use strict';
// Shared by the setup, build and test scripts: numbered progress lines and
// child processes whose output streams through, failing loudly.

const { spawnSync } = require('node:child_process');

const started = Date.now();

function elapsed() {
  return `${((Date.now() - started) / 1000).toFixed(0)}s`;
}

function step(message) {
  console.log(`\n[ficus ${elapsed()}] ${message}`);
}

// Runs a command with inherited stdio; throws with the command line when it
// fails so the caller's exit code says so.
function run(command, args, options = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const how = result.signal ? `signal ${result.signal}` : `exit ${result.status}`;
    throw new Error(`${command} ${args.join(' ')} failed (${how})`);
  }
}

function succeeds(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function main(fn) {
  try {
    fn();
  } catch (error) {
    console.error(`\n[ficus ${elapsed()}] FAILED: ${error.message}`);
    process.exit(1);
  }
}

module.exports = { step, run, succeeds, main, elapsed };
