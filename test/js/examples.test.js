'use strict';
// The Express and Fastify examples, run as a user would: a process, real
// clients, an event through their HTTP API to every client once.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { connect, until, event } = require('./support/clients');

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');

function start(name, env) {
  const child = spawn(process.execPath, [path.join(EXAMPLES, name, 'server.js')], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)));
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return { child, port, exited };
}

const running = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await r.exited;
  }
});

async function clientsAndOneEvent(port, n) {
  const clients = await Promise.all(Array.from({ length: n }, (_, i) =>
    connect(`ws://127.0.0.1:${port}/ws?topics=order:o1`, { headers: { 'x-user-id': `user-${i}` } })));
  const res = await fetch(`http://127.0.0.1:${port}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event('o1', null, 1)),
  });
  expect(res.status).toBe(202);
  await until(() => clients.every((c) => c.received.length === 1), 5000, 'the event at every client');
  await new Promise((r) => setTimeout(r, 50));
  expect(clients.every((c) => c.received.length === 1)).toBe(true); // once each
  return clients;
}

test.each([['express', '0'], ['express', '50'], ['fastify', '50']])('%s at %s %% native: every client gets the event once', async (name, percent) => {
  const r = start(name, { NATIVE_PERCENT: percent });
  running.push(r);
  const port = await r.port;
  const clients = await clientsAndOneEvent(port, 20);
  const stats = await (await fetch(`http://127.0.0.1:${port}/stats`)).json();
  const ficusStats = stats.ficus || stats;
  const native = ficusStats.paths.native.connections;
  if (percent === '0') expect(native).toBe(0);
  else if (ficusStats.paths.native.available) expect(native).toBeGreaterThan(0);
  if (name === 'express') {
    // The gateway's own ws server holds everyone ficus did not take.
    expect(stats.ownClients + native).toBe(20);
    expect(ficusStats.paths.legacy.connections).toBe(0);
  } else {
    expect(ficusStats.paths.legacy.connections + native).toBe(20);
  }
  clients.forEach((c) => c.close());
  r.child.kill('SIGTERM');
  expect(await r.exited).toBe(0);
});
