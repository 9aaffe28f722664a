'use strict';
// Publisher connections with --redis (bench/PROTOCOL.md): `GET /publish` +
// WebSocket upgrade; every text frame the publisher sends is one event.
// Bridged, their events must go through Redis, so they stay on this
// process's event loop (a `ws` server of their own) and are published
// through the bridge. Without --redis, ficus's publisher router takes
// /publish instead (server.js).

const { WebSocketServer } = require('ws');

const MAX_FRAME_BYTES = 1024 * 1024; // larger frames close with 1009

class Publishers {
  // publish(items) hands a batch to ficus and returns its PublishResult.
  constructor({ publish }) {
    this.publish = publish;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.pending = [];
    this.flushScheduled = false;
    this.counters = { accepted: 0, frames: 0, batches: 0 };
  }

  get connections() {
    return this.wss.clients.size;
  }

  handleUpgrade(req, socket, head) {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.counters.accepted += 1;
      ws.on('message', (data) => this.onFrame(data));
      ws.on('error', () => {}); // a broken publisher only loses its own socket
    });
  }

  // Frames arriving in the same event-loop turn (one socket read holds many
  // frames; several publishers may be readable at once) are collected and
  // published as one array when the turn ends (setImmediate): one publish()
  // per tick instead of one per frame, in arrival order, so each
  // publisher's events keep their order.
  onFrame(data) {
    let text = data.toString();
    // A frame is one event, but publish() reads newlines as event
    // separators. Outside strings, newlines are JSON whitespace and inside
    // strings they are invalid anyway, so spaces keep the meaning exactly.
    if (text.includes('\n') || text.includes('\r')) text = text.replace(/[\r\n]/g, ' ');
    this.pending.push(text);
    this.counters.frames += 1;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush() {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.counters.batches += 1;
    this.publish(batch);
  }

  // Closes publishers with 1001 (going away); pending frames are published
  // first so nothing accepted is lost. A publisher that does not answer the
  // close within `timeoutMs` is cut off (ws alone would wait 30 s).
  close(timeoutMs = 2000) {
    this.flush();
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    const timer = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
    }, timeoutMs);
    // Calls back once every client is gone.
    return new Promise((resolve) => this.wss.close(() => {
      clearTimeout(timer);
      resolve();
    }));
  }

  stats() {
    return { connections: this.connections, ...this.counters };
  }
}

module.exports = { Publishers };
