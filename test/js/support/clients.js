'use strict';
// Small promise helpers around `ws` clients.

const WebSocket = require('ws');

function connect(url, options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.received = [];
    ws.on('message', (data, isBinary) => ws.received.push(isBinary ? data : data.toString()));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function until(condition, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function event(order, driver, seq, extra = {}) {
  return {
    order_id: order,
    status: 'picked_up',
    timestamp: '2026-11-27T10:00:00Z',
    driver_id: driver,
    seq,
    ...extra,
  };
}

module.exports = { connect, closed, until, event };
