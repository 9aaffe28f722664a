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

// `everyMs`: how often to ask (a costly condition, such as stats() over
// thousands of connections, should not be asked every 5 ms).
async function until(condition, timeoutMs = 5000, what = 'condition', everyMs = 5) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// The retry hint in a drain's 1012 close reason ("service restart; retry
// after 37 ms"), or undefined when the reason has none.
function retryHintMs(reason) {
  const hint = /retry after (\d+) ms/.exec(String(reason));
  return hint ? Number(hint[1]) : undefined;
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

module.exports = { connect, closed, until, event, retryHintMs };
