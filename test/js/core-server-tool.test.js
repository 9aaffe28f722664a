'use strict';
// native/tools/ficus_server as a long-running process: it has no use for
// the core's notifications (opens, closes, client messages) but must take
// them, or every connection that ever came and went stays in its memory.

const fs = require('node:fs');
const net = require('node:net');
const { startCoreServer } = require('./support/core-server');

const UPGRADE = 'GET /ws?topics=order:churn HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

const rssBytes = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

// Opens `count` connections (`parallel` at a time), each upgraded then dropped.
async function churn(port, count, parallel = 100) {
  let started = 0;
  const one = () => new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(UPGRADE));
    socket.once('data', (chunk) => {
      if (!chunk.toString().startsWith('HTTP/1.1 101')) reject(new Error(`not upgraded: ${chunk}`));
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
  const lane = async () => {
    while (started < count) {
      started += 1;
      await one();
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

test('connections that come and go leave nothing behind', async () => {
  // Measured with glibc's allocator: the sanitizer suite preloads ASan's
  // runtime into everything it starts, whose quarantine keeps freed memory.
  const { LD_PRELOAD, ...env } = process.env;
  const server = await startCoreServer([], { env });
  try {
    await churn(server.port, 1000); // allocator and tables warmed up
    const until = Date.now() + 5000;
    while ((await server.stats()).connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const before = rssBytes(server.pid);
    await churn(server.port, 6000);
    while ((await server.stats()).connections > 0 && Date.now() < until + 10000) await new Promise((r) => setTimeout(r, 20));
    const stats = await server.stats();
    expect(stats.opened).toBe(7000);
    expect(stats.connections).toBe(0);
    // Kept notifications cost ≈ 200 B per open and per close: 2.4 MB here.
    expect(rssBytes(server.pid) - before).toBeLessThan(800 * 1024);
  } finally {
    expect(await server.stop()).toBe(0);
  }
});
