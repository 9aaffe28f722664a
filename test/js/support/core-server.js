'use strict';
// Starts the standalone core server (native/tools/ficus_server.cc, built by
// `npm run build:core`) as a child process for end-to-end tests.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const BINARY = process.env.FICUS_SERVER ||
  path.resolve(__dirname, '../../../build-native/release/ficus_server');

// env: the child's environment (default: this process's).
async function startCoreServer(args = [], { env = process.env } = {}) {
  if (!fs.existsSync(BINARY)) {
    throw new Error(`${BINARY} is missing: run \`npm run build:core\` first`);
  }
  const child = spawn(BINARY, ['--threads', '2', ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
  });
  const nextLine = () => new Promise((resolve) => waiting.push(resolve));

  const first = await nextLine();
  const match = /^listening (\d+)$/.exec(first);
  if (!match) throw new Error(`unexpected first line from ficus_server: ${first}`);

  return {
    port: Number(match[1]),
    pid: child.pid,
    url: (target) => `ws://127.0.0.1:${match[1]}${target}`,
    publish(...events) {
      for (const e of events) child.stdin.write(`${typeof e === 'string' ? e : JSON.stringify(e)}\n`);
    },
    async stats() {
      child.stdin.write('!stats\n');
      return JSON.parse(await nextLine());
    },
    // Ends stdin; resolves with the exit code.
    stop() {
      return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.stdin.end();
      });
    },
  };
}

module.exports = { startCoreServer };
