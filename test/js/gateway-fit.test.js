'use strict';
// How a router fits the gateway it joins: upgrades it does not serve,
// server.close(), options it refuses, and a gateway that keeps its own
// legacy WebSocket server (bring your own legacy path).

const http = require('node:http');
const net = require('node:net');
const { WebSocketServer } = require('ws');
const ficus = require('../..');
const { startGateway } = require('./support/gateway');
const { connect, closed, until, event } = require('./support/clients');

let gw;
afterEach(async () => {
  if (gw) await gw.close();
  gw = null;
});

// The status line a raw upgrade request to `target` is answered with, or
// null when nothing is answered within `ms`.
function upgradeStatus(port, target, ms = 500) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, ms);
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.split('\r\n')[0]);
      }
    });
    socket.on('error', () => {});
  });
}

describe('an upgrade for a path no router serves', () => {
  test('is answered 400 when no other upgrade listener exists, and counted', async () => {
    gw = await startGateway({ attach: { path: '/ws' } });
    gw.dispatch.attach(gw.server, { path: '/ws2' });
    expect(await upgradeStatus(gw.port, '/elsewhere')).toBe('HTTP/1.1 400 Bad Request');
    expect(await upgradeStatus(gw.port, '/ws2?x=1')).toBe('HTTP/1.1 101 Switching Protocols');
    expect(gw.dispatch.stats().rejectedUpgrades.unservedPath).toBe(1);
  });

  test('is left to another upgrade listener when there is one', async () => {
    gw = await startGateway({ attach: { path: '/ws' } });
    gw.server.on('upgrade', (req, socket) => {
      if (req.url.startsWith('/mine')) socket.end('HTTP/1.1 418 I\'m a teapot\r\nContent-Length: 0\r\n\r\n');
    });
    expect(await upgradeStatus(gw.port, '/mine')).toBe('HTTP/1.1 418 I\'m a teapot');
    expect(gw.dispatch.stats().rejectedUpgrades.unservedPath).toBe(0);
  });
});

describe('server.close()', () => {
  // As with `ws` (8.x), closing the http.Server stops new connections only:
  // open WebSockets stay until dispatch.close() ends them with 1001.
  test.each(['native', 'legacy'])('leaves %s connections open; dispatch.close() closes them with 1001', async (p) => {
    gw = await startGateway({ attach: { nativePercent: 0, overrideHeader: 'x-ficus-path' } });
    if (p === 'native' && !gw.dispatch.nativeAvailable) return;
    const client = await connect(gw.url('/ws?topics=order:o1'), { headers: { 'x-ficus-path': p } });
    const done = closed(client);
    const serverClosed = new Promise((resolve) => gw.server.close(resolve));
    gw.dispatch.publish(event('o1', null, 1));
    await until(() => client.received.length === 1, 5000, 'an event after server.close()');
    const g = gw;
    gw = null;
    await g.dispatch.close();
    expect(await done).toEqual({ code: 1001, reason: 'server shutting down' });
    await serverClosed;
  });
});

describe('options refused', () => {
  test('a path without a leading "/"', async () => {
    const dispatch = ficus.createDispatcher({ native: false });
    const server = http.createServer();
    expect(() => dispatch.attach(server, { path: 'ws' })).toThrow(/Expected a path starting with "\/" \(or a function\) for options.path/);
    await dispatch.close();
  });

  test('setNativePercent after close() throws ERR_FICUS_CLOSED', async () => {
    const dispatch = ficus.createDispatcher({ native: false });
    const router = dispatch.attach(http.createServer(), { path: '/ws' });
    await dispatch.close();
    expect(() => router.setNativePercent(10)).toThrow(expect.objectContaining({ code: 'ERR_FICUS_CLOSED' }));
  });

  test.each(['native', 'legacy'])('%s: a Grant whose topics is not an array refuses the upgrade (500) and reports it (a TypeError as the cause)', async (p) => {
    gw = await startGateway({
      attach: { nativePercent: p === 'native' ? 100 : 0, authenticate: () => ({ topics: 'order:o1' }) },
    });
    const errors = [];
    gw.router.on('error', (error) => errors.push(error));
    expect(await upgradeStatus(gw.port, '/ws')).toBe('HTTP/1.1 500 Internal Server Error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ficus.FicusError);
    expect(errors[0].code).toBe('ERR_FICUS_UPGRADE_REFUSED');
    expect(errors[0].cause).toBeInstanceOf(TypeError);
    expect(errors[0].message).toMatch(/grant\.topics/);
  });
});

describe('bring your own legacy path', () => {
  // The gateway's own `ws` server, as it was before ficus: clients name
  // their topic in the query, events are broadcast by topic.
  function ownLegacyServer() {
    const wss = new WebSocketServer({ noServer: true });
    const clients = new Map(); // ws -> topic
    const handled = [];
    return {
      handler(req, socket, head) {
        handled.push({ reading: socket.readableFlowing !== false && !socket.isPaused() });
        wss.handleUpgrade(req, socket, head, (ws) => {
          clients.set(ws, new URL(req.url, 'http://x').searchParams.get('topics'));
          ws.on('close', () => clients.delete(ws));
        });
      },
      broadcast(topic, data) {
        for (const [ws, t] of clients) if (t === topic) ws.send(data);
      },
      clients,
      handled,
      close: () => wss.close(),
    };
  }

  test('at 0 % every upgrade reaches the application\'s handler untouched; at 50 % ficus takes the native share and events reach both', async () => {
    const own = ownLegacyServer();
    gw = await startGateway({ attach: { nativePercent: 0, legacy: own.handler } });
    const ids = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const connectAll = () => Promise.all(ids.map((id) => connect(gw.url('/ws?topics=order:o1'), { headers: { 'x-client-id': id } })));

    const before = await connectAll();
    expect(own.handled).toHaveLength(40);
    expect(own.handled.every((h) => h.reading)).toBe(true); // reads never paused
    expect(own.clients.size).toBe(40);
    const stats0 = gw.dispatch.stats();
    expect(stats0.paths.legacy.connections).toBe(0); // ficus's own legacy path is unused
    expect(stats0.paths.native.connections).toBe(0);
    expect(gw.router.stats().legacy.upgrades).toBe(40);
    before.forEach((ws) => ws.close());
    await until(() => own.clients.size === 0, 5000, 'the first clients to leave');

    if (!gw.dispatch.nativeAvailable) return;
    gw.router.setNativePercent(50);
    const after = await connectAll();
    const native = gw.router.stats().native.upgrades;
    expect(native).toBeGreaterThan(5);
    expect(native).toBeLessThan(35);
    await until(() => gw.dispatch.stats().paths.native.connections === native, 5000, 'native connections');
    expect(own.clients.size).toBe(40 - native);

    // The application publishes to both: ficus for its share, its own
    // server for the rest.
    const e = JSON.stringify(event('o1', null, 7));
    gw.dispatch.publish(e);
    own.broadcast('order:o1', e);
    await until(() => after.every((ws) => ws.received.length === 1), 5000, 'every client\'s event');
    expect(after.every((ws) => ws.received[0] === e)).toBe(true);
    after.forEach((ws) => ws.close());
    own.close();
  });
});
