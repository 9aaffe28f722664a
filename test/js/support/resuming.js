'use strict';
// A client that opts in to stream positions and resumes from the last one
// it received whenever the server closes it (a drain's 1012, 1013, 1008),
// as docs/api.md's browser client does: what the recovery tests check
// delivery with. Every positioned frame is parsed ({ pos, event }); the
// recovered messages are kept in order with them. It waits the retry hint
// of a drain's 1012 ("retry after N ms") before reconnecting, as a
// production client spreading its reconnects does.

const WebSocket = require('ws');
const { retryHintMs } = require('./clients');

const RECONNECT_CODES = new Set([1001, 1008, 1012, 1013]);
const PAUSE_MS = 20;

class ResumingClient {
  // `url(since)`: the URL to connect to (since undefined at first).
  constructor(url, { headers = {}, reconnect = true } = {}) {
    this.url = url;
    this.headers = headers;
    this.reconnect = reconnect;
    this.last = undefined; // the last position received
    this.events = []; // the events, parsed, in arrival order
    this.positions = []; // and their positions
    this.log = []; // events' `seq` and recovered messages, in arrival order
    this.closes = []; // { code, reason }
    this.opens = 0;
    this.stopped = false;
    this.ws = null;
    this.openedOnce = null;
  }

  start(since = this.last) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url(since), { headers: this.headers });
      this.ws = ws;
      ws.on('message', (data) => this.#onMessage(data.toString()));
      ws.once('open', () => {
        this.opens += 1;
        resolve(this);
      });
      ws.once('error', (error) => {
        if (this.opens === 0) reject(error);
      });
      ws.once('close', (code, reason) => {
        this.closes.push({ code, reason: reason.toString() });
        if (this.stopped || !this.reconnect || !RECONNECT_CODES.has(code)) return;
        // Reconnects after the close reason's retry hint (a drain's), else a
        // short pause.
        setTimeout(() => this.start().catch(() => this.#retryLater()), retryHintMs(reason) ?? PAUSE_MS);
      });
    });
  }

  #retryLater() {
    if (!this.stopped) setTimeout(() => this.start().catch(() => this.#retryLater()), 50);
  }

  #onMessage(text) {
    const message = JSON.parse(text);
    if (message.type === 'recovered') {
      this.log.push(`recovered:${message.complete}`);
      return;
    }
    if (message.pos === undefined) throw new Error(`a frame without a position: ${text}`);
    this.last = message.pos;
    this.events.push(message.event);
    this.positions.push(message.pos);
    this.log.push(message.event.seq);
  }

  get seqs() {
    return this.events.map((e) => e.seq);
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}

module.exports = { ResumingClient };
