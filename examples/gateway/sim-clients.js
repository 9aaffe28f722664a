'use strict';
// Simulated subscribers: WebSocket clients the gateway opens against its own
// /ws, each with a random client_id (so the sticky split puts some on each
// path) following one order and one driver of the feed. They behave like
// well-mannered apps that cannot afford to miss a status: they opt in to
// stream positions (recover=1) and keep the last one; when the server
// closes them (a rollback drain's 1012, 1013, 1001, a lost connection) they
// come back after its retry hint with since=<last position>, keeping their
// client_id and topics, so they land on whichever path their bucket now
// maps to and get what they missed first (public/resume.js, shared with the
// dashboard's order tracker). With --auth-secret each connect presents a
// fresh token granting what it subscribes to (so one that expired, or a
// reconnect after it was closed, gets a new one).

const crypto = require('node:crypto');
const WebSocket = require('ws');
const { Resumption, retryDelayMs } = require('./public/resume');

class SimClients {
  // baseUrl: 'ws://127.0.0.1:8080'; topics(): a topic list for a new client
  // (kept across its reconnects); headers(id, topics): resolves with the
  // upgrade's extra headers (a bearer token), or null for none.
  constructor({ baseUrl, topics, headers = null, maxClients = 5000 }) {
    this.baseUrl = baseUrl;
    this.topics = topics;
    this.headers = headers;
    this.maxClients = maxClients;
    this.clients = new Set();
    this.stopped = false;
    this.received = 0; // events
    this.reconnects = 0;
    this.resumes = 0; // reconnects that sent since=<last position>
    this.recovered = { complete: 0, incomplete: 0 };
  }

  get count() {
    return this.clients.size;
  }

  get open() {
    let n = 0;
    for (const c of this.clients) if (c.ws && c.ws.readyState === WebSocket.OPEN) n += 1;
    return n;
  }

  // Adds up to `count` clients (bounded by maxClients); returns how many.
  add(count) {
    const room = Math.max(0, this.maxClients - this.clients.size);
    const adding = Math.min(count, room);
    for (let i = 0; i < adding; i += 1) {
      const client = { id: `sim-${crypto.randomBytes(6).toString('hex')}`, ws: null, timer: null, topics: null, resumption: new Resumption() };
      this.clients.add(client);
      this.connect(client);
    }
    return adding;
  }

  connect(client) {
    if (this.stopped) return;
    // The same topics at every reconnect: a resume replays those.
    client.topics ||= this.topics();
    const { topics } = client;
    Promise.resolve(this.headers ? this.headers(client.id, topics) : null)
      .then((headers) => this.dial(client, topics, headers))
      .catch(() => this.retry(client, 0, '')); // could not mint: try again later
  }

  dial(client, topics, headers) {
    if (this.stopped) return;
    const query = client.resumption.query(new URLSearchParams({ client_id: client.id, topics: topics.join(',') }));
    if (client.resumption.last !== null) this.resumes += 1;
    const ws = new WebSocket(`${this.baseUrl}/ws?${query}`, { perMessageDeflate: false, headers: headers || {} });
    client.ws = ws;
    ws.on('message', (data) => this.read(client, data.toString()));
    ws.on('error', () => {}); // 'close' follows and decides what to do
    ws.on('close', (code, reason) => this.retry(client, code, reason.toString()));
  }

  read(client, text) {
    const message = client.resumption.read(text);
    if (message === null) return;
    if (message.recovered) {
      // complete:false: the history no longer covers the gap. A real app
      // would reload its state from the API here; these only count it.
      if (message.complete) this.recovered.complete += 1;
      else this.recovered.incomplete += 1;
    } else {
      this.received += 1;
    }
  }

  retry(client, code, reason) {
    if (this.stopped) return;
    this.reconnects += 1;
    client.timer = setTimeout(() => this.connect(client), retryDelayMs(code, reason));
    client.timer.unref();
  }

  // Closes every client (1000) and waits, bounded, until they are closed.
  async stop(timeoutMs = 2000) {
    this.stopped = true;
    const closing = [];
    for (const client of this.clients) {
      clearTimeout(client.timer);
      const { ws } = client;
      if (!ws || ws.readyState === WebSocket.CLOSED) continue;
      closing.push(new Promise((resolve) => ws.once('close', resolve)));
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'simulation stopped');
    }
    let timer;
    const deadline = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(closing), deadline]);
    clearTimeout(timer);
    for (const client of this.clients) client.ws?.terminate();
    this.clients.clear();
  }

  stats() {
    return {
      count: this.count,
      open: this.open,
      received: this.received,
      reconnects: this.reconnects,
      resumes: this.resumes,
      recovered: { ...this.recovered },
    };
  }
}

module.exports = { SimClients };
