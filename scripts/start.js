'use strict';
// `npm start`: the example gateway from a fresh clone. Makes sure the
// machine is set up (system packages, npm dependencies), builds the addon
// when it is missing or older than its sources, then runs
// examples/gateway/index.js with the arguments given
// (`npm start -- --native-percent 50`), forwarding SIGINT/SIGTERM and
// exiting with its code.
//
// Unless told otherwise (--clients / SIM_CLIENTS), the gateway opens 40
// simulated subscribers of its own so the dashboard shows both paths at once.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { step } = require('./steps');

const root = path.resolve(__dirname, '..');
const ADDON = path.join(root, 'build', 'Release', 'ficus.node');
const GATEWAY = path.join(root, 'examples', 'gateway', 'index.js');
const DEFAULT_CLIENTS = '40';

// Newest modification time under `dir`, in ms (bounded by the tree's size).
function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

function addonIsStale() {
  if (!fs.existsSync(ADDON)) return 'build/Release/ficus.node is missing';
  const sources = Math.max(newestMtime(path.join(root, 'native')), fs.statSync(path.join(root, 'binding.gyp')).mtimeMs);
  return sources > fs.statSync(ADDON).mtimeMs ? 'native/ changed since the addon was built' : null;
}

function prepare() {
  try {
    require('./setup').setup();
  } catch (error) {
    // A machine that can already run the gateway (say, a non-root user
    // missing only a test-time package) should not be stopped by setup.
    if (!fs.existsSync(path.join(root, 'node_modules', 'ws')) || addonIsStale()) throw error;
    step(`setup incomplete, starting anyway: ${error.message}`);
  }
  const stale = addonIsStale();
  if (stale) {
    step(`${stale}: building it`);
    require('./build-addon').buildAddon();
  }
}

function gatewayArgs(userArgs) {
  const hasClients = userArgs.some((a) => a === '--clients' || a.startsWith('--clients='));
  const wantsHelp = userArgs.includes('--help') || userArgs.includes('-h');
  if (hasClients || wantsHelp || process.env.SIM_CLIENTS) return userArgs;
  return [...userArgs, '--clients', DEFAULT_CLIENTS];
}

function run() {
  const child = spawn(process.execPath, [GATEWAY, ...gatewayArgs(process.argv.slice(2))], { stdio: 'inherit' });
  // Ctrl-C reaches the whole process group, the gateway included; a signal
  // sent to this process alone (kill PID) must reach the gateway too. The
  // gateway ignores a repeat while it is already stopping.
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('error', (error) => {
    console.error(`ficus start: cannot run the gateway: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die the same way, so the caller sees what happened.
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code);
  });
}

try {
  prepare();
} catch (error) {
  console.error(`\nficus start: FAILED: ${error.message}`);
  process.exit(1);
}
run();
