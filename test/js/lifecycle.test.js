'use strict';
// The addon never keeps a process alive, leaves no threads after close(),
// survives process.exit() mid-traffic, and loads in worker_threads.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');

function runChild(script, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms (stderr: ${stderr})`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('serve, close: the process exits on its own with no extra threads left', async () => {
  const { code, signal, stdout, stderr } = await runChild('serve-and-close.js');
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  const { before, during, after } = JSON.parse(stdout);
  expect(during).toBe(before + 2); // the two native workers
  expect(after).toBe(before);
});

test('process.exit() mid-traffic does not crash', async () => {
  const { code, signal, stderr } = await runChild('exit-mid-traffic.js');
  expect({ code, signal, stderr }).toEqual({ code: 7, signal: null, stderr: '' });
});

test('a dispatcher never closed does not keep the process alive', async () => {
  const { code, signal, stdout } = await runChild('forgotten-dispatcher.js');
  expect({ code, signal, stdout }).toEqual({ code: 0, signal: null, stdout: 'true' });
});

test('works inside a worker_threads Worker', async () => {
  const worker = new Worker(path.join(__dirname, 'fixtures', 'in-worker.js'));
  const result = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  expect(result).toEqual({ native: 1, received: 'w1' });
  expect(await new Promise((r) => worker.once('exit', r))).toBe(0);
});
