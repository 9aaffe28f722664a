'use strict';
// The hand-off from Node to the core under stress: bytes the client sends
// while authenticate awaits are not lost; TLS sockets stay on legacy;
// authenticate decides before anything is upgraded.

const https = require('node:https');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startGateway } = require('./support/gateway');
const { connect, until, event } = require('./support/clients');

let gw;
afterEach(() => gw && gw.close());

function rawUpgrade(port, target, extra = '') {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
  return socket;
}

// The status line the server answers an upgrade of /ws with this key and version.
async function refusedUpgrade(port, key, version) {
  const socket = net.connect(port, '127.0.0.1');
  const answer = new Promise((resolve) => socket.once('data', (d) => resolve(d.toString())));
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n\r\n`);
  const text = await answer;
  socket.destroy();
  return text;
}

function maskedText(text) {
  const payload = Buffer.from(text);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
    : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([header, mask, body]);
}

test('a subscribe pipelined during a slow authenticate is not lost (native)', async () => {
  gw = await startGateway({
    attach: {
      nativePercent: 100,
      authenticate: async () => {
        await new Promise((r) => setTimeout(r, 200));
        // The subscribes below are the client's own: the Grant allows them.
        return { topics: [], allow: ['order:pipe*'] };
      },
    },
  });
  const received = [];
  const socket = rawUpgrade(gw.port, '/ws');
  socket.on('data', (d) => received.push(d));
  // Immediately, and again while authenticate is still waiting.
  socket.write(maskedText(JSON.stringify({ type: 'subscribe', topics: ['order:pipe1'] })));
  await new Promise((r) => setTimeout(r, 50));
  socket.write(maskedText(JSON.stringify({ type: 'subscribe', topics: ['order:pipe2'] })));
  await until(() => Buffer.concat(received).toString('latin1').includes('101 Switching Protocols'), 5000, '101');
  await until(() => gw.dispatch.stats().paths.native.connections === 1);
  await until(async () => {
    gw.dispatch.publish([event('pipe1', null, 1), event('pipe2', null, 2)]);
    await new Promise((r) => setTimeout(r, 30));
    const text = Buffer.concat(received).toString('latin1');
    return text.includes('"seq":1') && text.includes('"seq":2');
  }, 5000, 'both pipelined subscriptions to take effect');
  expect(gw.dispatch.stats().paths.native.upgrades).toBe(1);
  socket.destroy();
});

test('authenticate rejecting means 401 and no upgrade on either path', async () => {
  gw = await startGateway({ attach: { nativePercent: 50, authenticate: async (req) => req.headers['x-token'] === 'ok' } });
  await expect(connect(gw.url('/ws'))).rejects.toThrow(/401/);
  const ws = await connect(gw.url('/ws'), { headers: { 'x-token': 'ok' } });
  ws.close();
  const errors = [];
  gw.router.on('error', (e) => errors.push(e));
  gw.router.options.authenticate = () => {
    throw new Error('auth backend down');
  };
  await expect(connect(gw.url('/ws'))).rejects.toThrow(/401/);
  expect(errors.map((e) => e.message)).toEqual(['auth backend down']);
  expect(errors.map((e) => [e.code, e.cause.message])).toEqual([['ERR_FICUS_UPGRADE_REFUSED', 'auth backend down']]);
  const stats = gw.dispatch.stats();
  expect(stats.rejectedUpgrades.unauthorized).toBe(1);
  expect(stats.rejectedUpgrades.error).toBe(1);
  expect(stats.paths.native.upgrades + stats.paths.legacy.upgrades).toBe(1);
});

test('a throwing authenticate or key, with no \'error\' listener, refuses that upgrade and nothing else', async () => {
  const rejections = [];
  const onRejection = (reason) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    let mode = 'auth';
    gw = await startGateway({
      attach: {
        nativePercent: 50,
        authenticate: async () => {
          if (mode === 'auth') throw new Error('auth backend down');
          return true;
        },
        key: () => {
          if (mode === 'key') throw new Error('no key');
          return undefined;
        },
      },
    });
    expect(gw.router.listenerCount('error')).toBe(0);
    await expect(connect(gw.url('/ws'))).rejects.toThrow(/401/);
    mode = 'key';
    await expect(connect(gw.url('/ws'))).rejects.toThrow(/500/);
    mode = 'none';
    const ws = await connect(gw.url('/ws'));
    ws.close();
    await new Promise((r) => setImmediate(r));
    expect(rejections).toEqual([]);
    expect(gw.dispatch.stats().rejectedUpgrades).toEqual({
      unauthorized: 0, error: 2, closedDuringAuth: 0, authTimeout: 0, unservedPath: 0, upgradeRate: 0, identityRate: 0, badPosition: 0,
    });
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

test('an authenticate that returns nothing refuses (only a Grant or true admits)', async () => {
  const answers = [undefined, 0, 'yes', true, {}];
  gw = await startGateway({ attach: { nativePercent: 50, authenticate: async () => answers.shift() } });
  await expect(connect(gw.url('/ws'))).rejects.toThrow(/401/);
  await expect(connect(gw.url('/ws'))).rejects.toThrow(/401/);
  await expect(connect(gw.url('/ws'))).rejects.toThrow(/401/);
  (await connect(gw.url('/ws'))).close();
  (await connect(gw.url('/ws'))).close();
  expect(gw.dispatch.stats().rejectedUpgrades.unauthorized).toBe(3);
});

test('\'connection\' comes with the id on both paths, and not for a handshake the legacy path refused', async () => {
  gw = await startGateway({ attach: { nativePercent: 0, overrideHeader: 'x-path' } });
  const seen = [];
  gw.router.on('connection', (e) => seen.push(e));
  // Version 8: ws would take it, the legacy path answers 426.
  expect(await refusedUpgrade(gw.port, 'dGhlIHNhbXBsZSBub25jZQ==', 8)).toMatch(/^HTTP\/1\.1 426/);
  const legacy = await connect(gw.url('/ws?topics=order:c1'));
  const native = await connect(gw.url('/ws?topics=order:c2'), { headers: { 'x-path': 'native' } });
  await until(() => seen.length === 2);
  expect(seen.map((e) => e.path).sort()).toEqual(['legacy', 'native']);
  const byPath = Object.fromEntries(seen.map((e) => [e.path, e]));
  expect(typeof byPath.legacy.id).toBe('string');
  expect(typeof byPath.native.id).toBe('number');
  expect(gw.dispatch.send(byPath.legacy.id, 'to legacy')).toBe(true);
  expect(gw.dispatch.send(byPath.native.id, 'to native')).toBe(true);
  await until(() => legacy.received.includes('to legacy') && native.received.includes('to native'));
  await new Promise((r) => setTimeout(r, 50));
  expect(seen).toHaveLength(2);
  legacy.close();
  native.close();
});

test('a client that resets while it is being refused does not take the gateway down', async () => {
  gw = await startGateway({
    attach: { nativePercent: 50, authenticate: () => new Promise((r) => setTimeout(() => r(false), 100)) },
  });
  const errors = [];
  const onError = (e) => errors.push(e);
  process.on('uncaughtException', onError);
  try {
    for (let i = 0; i < 20; i += 1) {
      const socket = rawUpgrade(gw.port, '/ws');
      socket.on('error', () => {});
      await new Promise((r) => setTimeout(r, 20)); // the server has the request and awaits authenticate
      socket.resetAndDestroy();
    }
    await until(() => gw.dispatch.stats().rejectedUpgrades.unauthorized + gw.dispatch.stats().rejectedUpgrades.closedDuringAuth === 20);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toEqual([]);
  } finally {
    process.off('uncaughtException', onError);
  }
});

test('a handshake ws refuses on the legacy path counts as rejected, not as an upgrade', async () => {
  gw = await startGateway({ attach: { nativePercent: 0 } });
  expect(await refusedUpgrade(gw.port, 'not-a-key', 13)).toMatch(/^HTTP\/1\.1 400/);
  await until(() => gw.dispatch.stats().paths.legacy.handshakesRejected === 1);
  expect(gw.dispatch.stats().paths.legacy.upgrades).toBe(0);
  (await connect(gw.url('/ws'))).close();
  await until(() => gw.dispatch.stats().paths.legacy.upgrades === 1);
});

test('upgrades for other paths are left to other listeners', async () => {
  gw = await startGateway({ attach: { nativePercent: 100 } });
  let seen = 0;
  gw.server.on('upgrade', (req, socket) => {
    if (req.url === '/other') {
      seen += 1;
      socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
    }
  });
  await expect(connect(gw.url('/other'))).rejects.toThrow(/418/);
  expect(seen).toBe(1);
});

test('TLS sockets fall back to the legacy path and still work', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  const server = https.createServer({
    key: fs.readFileSync(path.join(dir, 'key.pem')),
    cert: fs.readFileSync(path.join(dir, 'cert.pem')),
  });
  gw = await startGateway({ server, attach: { nativePercent: 100 } });
  const ws = await connect(`wss://127.0.0.1:${gw.port}/ws?topics=order:tls1`, { rejectUnauthorized: false });
  gw.dispatch.publish(event('tls1', null, 1));
  await until(() => ws.received.length === 1);
  const stats = gw.dispatch.stats();
  expect(stats.paths.native.fallbacksByReason).toEqual({ tls: 1 });
  expect(stats.paths.legacy.connections).toBe(1);
  ws.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a client that vanishes while authenticate awaits is counted, not upgraded', async () => {
  let release;
  gw = await startGateway({
    attach: { nativePercent: 100, authenticate: () => new Promise((r) => { release = r; }) },
  });
  const socket = rawUpgrade(gw.port, '/ws');
  await until(() => release !== undefined);
  socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  release({});
  await until(() => {
    const s = gw.dispatch.stats();
    // Either JS saw the close, or the core did (EOF right after adopt).
    return s.rejectedUpgrades.closedDuringAuth === 1 ||
      (s.paths.native.upgrades === 1 && s.paths.native.connections === 0);
  });
});

test('an authenticate that never answers is cut off after authenticateTimeoutMs (503, counted)', async () => {
  let calls = 0;
  let late;
  gw = await startGateway({
    attach: {
      nativePercent: 100,
      authenticateTimeoutMs: 150,
      authenticate: () => {
        calls += 1;
        // The first hangs until the test releases it after the timeout; the
        // second answers at once.
        return calls === 1 ? new Promise((r) => { late = r; }) : true;
      },
    },
  });
  const started = Date.now();
  const answer = await new Promise((resolve) => {
    const socket = rawUpgrade(gw.port, '/ws');
    let text = '';
    socket.on('data', (d) => { text += d.toString(); });
    socket.on('close', () => resolve(text));
  });
  expect(answer).toMatch(/^HTTP\/1.1 503 /);
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  expect(gw.dispatch.stats().rejectedUpgrades.authTimeout).toBe(1);
  late({}); // too late: ignored, nothing is upgraded
  await new Promise((r) => setTimeout(r, 50));
  expect(gw.dispatch.stats().paths.native.upgrades).toBe(0);
  // A prompt authenticate still admits.
  const ws = await connect(gw.url('/ws'));
  await until(() => gw.dispatch.stats().paths.native.upgrades === 1);
  ws.close();
  expect(gw.dispatch.metrics()).toMatch(/ficus_upgrades_rejected_total\{reason="authTimeout"\} 1/);
});
