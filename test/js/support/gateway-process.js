'use strict';
// Runs the example gateway (examples/gateway/index.js) as a child process on
// a free port, the way a user runs it, and reads the port from its start
// line. stop() ends it with SIGTERM and, if it lingers, SIGKILL by PID.

const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const ENTRY = path.resolve(__dirname, '../../../examples/gateway/index.js');
const START_LINE = /^ficus gateway on http:\/\/([^/]+):(\d+)\//;

function startGatewayProcess(args = [], { env = {}, timeoutMs = 15000 } = {}) {
  const child = spawn(process.execPath, [ENTRY, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => output.push(`stderr: ${line}`));
  const lines = readline.createInterface({ input: child.stdout });

  const gateway = {
    child,
    pid: child.pid,
    output,
    exited,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    // SIGTERM, then SIGKILL after `graceMs`; resolves with { code, signal, ms }.
    async stop(graceMs = 5000) {
      const started = Date.now();
      if (gateway.alive) process.kill(child.pid, 'SIGTERM');
      let timer;
      const late = new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs, 'late');
      });
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first === 'late' && gateway.alive) process.kill(child.pid, 'SIGKILL');
      const result = await exited;
      return { ...result, ms: Date.now() - started, late: first === 'late' };
    },
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      gateway.stop(0).finally(() => reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${output.join('\n')}`)));
    }, timeoutMs);
    lines.on('line', (line) => {
      output.push(line);
      const match = START_LINE.exec(line);
      if (!match || gateway.port) return;
      clearTimeout(timer);
      gateway.port = Number(match[2]);
      gateway.startLine = line;
      gateway.http = (target = '/') => `http://127.0.0.1:${gateway.port}${target}`;
      gateway.ws = (target = '/ws') => `ws://127.0.0.1:${gateway.port}${target}`;
      resolve(gateway);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!gateway.port) reject(new Error(`gateway exited (${code ?? signal}) before starting:\n${output.join('\n')}`));
    });
  });
}

// Runs the gateway to completion (for flags that make it exit at once).
function runGatewayToExit(args, { env = {}, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      process.kill(child.pid, 'SIGKILL');
      reject(new Error(`gateway ${args.join(' ')} did not exit in ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

module.exports = { startGatewayProcess, runGatewayToExit };
