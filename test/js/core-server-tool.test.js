'use strict';
// native/tools/ficus_server as a long-running process: it has no use for
// the core's notifications (opens, closes, client messages) but must take
// them, or every connection that ever came and went stays in its memory.

const net = require('node:net');
const { readProc } = require('../../bench/lib/proc');
const { startCoreServer } = require('./support/core-server');
const { until } = require('./support/clients');

const UPGRADE = 'GET /ws?topics=order:churn HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

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
    const allClosed = async () => (await server.stats()).connections === 0;
    await until(allClosed, 5000, 'the warm-up connections to close');
    const before = readProc(server.pid).rss;
    await churn(server.port, 6000);
    await until(allClosed, 10000, 'the churned connections to close');
    const stats = await server.stats();
    expect(stats.opened).toBe(7000);
    expect(stats.connections).toBe(0);
    // Kept notifications cost ≈ 200 B per open and per close: 2.4 MB here.
    expect(readProc(server.pid).rss - before).toBeLessThan(800 * 1024);
  } finally {
    expect(await server.stop()).toBe(0);
  }
});
