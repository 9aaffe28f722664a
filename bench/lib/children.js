'use strict';
// Every process the benchmarks start is registered here, so an interrupted
// or crashed run kills them (by PID) instead of leaving a gateway or a load
// generator behind.

const live = new Set();
let installed = false;

function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${live.size} child process(es)\n`);
      killAll();
      process.exit(130);
    });
  }
}

function track(child) {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

module.exports = { track, killAll };
