'use strict';
// A router 'connection' listener that throws is the app's bug: Node reports
// it as an uncaught exception (rethrown on its own tick, as a throwing
// dispatcher 'message' listener is), and the connection it was told about
// stays a working WebSocket on both paths. Runs in a child process, where
// the uncaught exception can be observed without failing Jest itself.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const { connect, until } = require('./support/clients');

const LIB = path.resolve(__dirname, '..', '..', 'lib');

const CHILD = `
  const http = require('node:http');
  const ficus = require(${JSON.stringify(LIB)});
  process.on('uncaughtException', (e) => console.log('uncaught ' + e.message));
  const server = http.createServer();
  const dispatch = ficus.createDispatcher({ threads: 1 });
  const router = dispatch.attach(server, { nativePercent: Number(process.argv[1]) });
  router.on('connection', (e) => setTimeout(() => {
    dispatch.publish({ order_id: 'le1', status: 'x', timestamp: '2026-11-27T10:00:00Z', path: e.path });
  }, 50));
  router.on('connection', () => { throw new Error('listener bug'); });
  server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
  process.stdin.on('end', () => dispatch.close().then(() => server.close()));
  process.stdin.resume();
`;

test.each([['legacy', 0], ['native', 100]])('a throwing \'connection\' listener on the %s path', async (pathName, percent) => {
  const child = spawn(process.execPath, ['-e', CHILD, String(percent)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  try {
    await until(() => lines.some((l) => l.startsWith('port ')));
    const port = Number(lines.find((l) => l.startsWith('port ')).slice(5));
    const ws = await connect(`ws://127.0.0.1:${port}/ws?topics=order:le1`);
    await until(() => ws.received.length === 1);
    expect(JSON.parse(ws.received[0])).toEqual(expect.objectContaining({ order_id: 'le1', path: pathName }));
    expect(lines).toContain('uncaught listener bug');
    ws.close();
  } finally {
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
  }
});

