'use strict';
// One synthetic subscriber of the per-path probes (lib/probes.js): a `ws`
// client connected to the router's own server, forced onto one path by the
// probes' secret header, that reconnects with backoff whenever it is not
// connected (the server not listening yet, refused, closed). Its socket is
// unref'd: a probe never keeps the process alive.

const net = require('node:net');
const tls = require('node:tls');
const WebSocket = require('ws');

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 5000;
const HANDSHAKE_TIMEOUT_MS = 5000;

// Where a listening server can be reached from this process, or null when
// it is not listening: a wildcard address is reached on loopback.
function targetOf(server, host) {
  const address = server.address();
  if (address === null) return null;
  if (typeof address === 'string') return { path: address, hostHeader: 'localhost' };
  let to = host !== undefined ? host : address.address;
  if (to === '0.0.0.0') to = '127.0.0.1';
  if (to === '::') to = '::1';
  return { host: to, port: address.port, hostHeader: net.isIPv6(to) ? `[${to}]:${address.port}` : `${to}:${address.port}` };
}

// Exponential backoff with jitter (half to all of the step).
function backoffMs(attempt) {
  const step = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 20));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

// `probes` offers: server, host, pathname, header(path), onOpen(client),
// onMessage(client, data), onClose(client), onFailure(client, reason).
class ProbeClient {
  constructor(probes, path, index) {
    this.probes = probes;
    this.path = path;
    this.index = index;
    this.ws = null;
    this.open = false;
    this.stopped = false;
    this.attempt = 0;
    this.retryTimer = null;
    // seq -> publish time (ns) of each probe event this client should receive.
    this.pending = new Map();
  }

  connect() {
    this.retryTimer = null;
    if (this.stopped) return;
    const { server, host, pathname } = this.probes;
    const target = targetOf(server, host);
    if (target === null) {
      this.#failed('not listening');
      return;
    }
    const secure = server instanceof tls.Server;
    const createConnection = () => {
      // Our own server: its certificate need not name the loopback address.
      const socket = secure
        ? tls.connect({ ...(target.path ? { path: target.path } : { host: target.host, port: target.port }), rejectUnauthorized: false })
        : net.connect(target.path ? { path: target.path } : { host: target.host, port: target.port });
      socket.unref();
      return socket;
    };
    const ws = new WebSocket(`${secure ? 'wss' : 'ws'}://${target.hostHeader}${pathname}`, {
      headers: this.probes.header(this.path),
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      followRedirects: false,
      createConnection,
    });
    this.ws = ws;
    let failure = null;
    ws.on('open', () => {
      this.open = true;
      this.attempt = 0;
      this.probes.onOpen(this);
    });
    ws.on('message', (data) => this.probes.onMessage(this, data));
    ws.on('error', (error) => {
      failure = error.message;
    });
    ws.on('close', () => {
      const wasOpen = this.open;
      this.open = false;
      this.ws = null;
      if (wasOpen) this.probes.onClose(this);
      if (this.stopped) return;
      if (!wasOpen) {
        this.#failed(failure || 'closed during the handshake');
      } else {
        this.#retry();
      }
    });
  }

  #failed(reason) {
    this.probes.onFailure(this, reason);
    this.#retry();
  }

  #retry() {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), backoffMs(this.attempt));
    this.retryTimer.unref();
    this.attempt += 1;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.pending.clear();
    if (this.ws) this.ws.terminate();
  }
}

module.exports = { ProbeClient, targetOf };
