'use strict';
// A real redis-server (the Debian package) as a child process on a free
// loopback port, with no persistence. kill() is SIGKILL by PID (a crash);
// stop() asks with SIGTERM first. Start another on the same port to play a
// restart.

const net = require('node:net');
const os = require('node:os');
const { spawn } = require('node:child_process');

const READY = /Ready to accept connections/;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Redis is not under test: not under the sanitizer runtime the jsasan stage
// preloads into everything it starts.
function redisEnv() {
  const { LD_PRELOAD, ASAN_OPTIONS, UBSAN_OPTIONS, ...env } = process.env;
  return env;
}

// `args`: more redis-server arguments (later ones win), e.g. a
// --dbfilename of the test's own for a restart from an RDB file.
function spawnRedis(port, timeoutMs, args) {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', os.tmpdir(), '--daemonize', 'no', ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: redisEnv() });
  const output = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const server = {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    output,
    exited,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    // A crash: SIGKILL, then wait for the exit.
    async kill() {
      if (server.alive) process.kill(child.pid, 'SIGKILL');
      await exited;
    },
    async stop(graceMs = 3000) {
      if (!server.alive) return;
      process.kill(child.pid, 'SIGTERM');
      let timer;
      const late = await Promise.race([exited, new Promise((r) => {
        timer = setTimeout(r, graceMs, 'late');
      })]);
      clearTimeout(timer);
      if (late === 'late') await server.kill();
    },
  };
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      server.kill().finally(() => reject(new Error(`redis-server did not start in ${timeoutMs} ms:\n${output.join('')}`)));
    }, timeoutMs);
    const onData = (chunk) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
      if (!ready && READY.test(chunk.toString())) {
        ready = true;
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (apt-get install redis-server): ${err.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output.join('')}`));
    });
  });
}

// On a free port unless one is given (a restart); a few tries, since a port
// found free may be taken before redis-server binds it.
async function startRedis({ port, timeoutMs = 10000, args = [] } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await spawnRedis(port ?? await freePort(), timeoutMs, args);
    } catch (err) {
      lastError = err;
      if (port !== undefined && !/Address already in use/.test(err.message)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw lastError;
}

module.exports = { startRedis, freePort };
