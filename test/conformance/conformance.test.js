'use strict';
// RFC 6455 conformance of both delivery paths. One gateway (its dispatcher
// with maxMessageBytes: 1024, nativePercent 0 and an override header), one
// raw TCP client per case run, every case of cases.js run against the
// native path and the legacy path. The native path must pass every case
// strictly. The legacy path (`ws`) must pass every case not marked
// legacy: 'differs'; a marked one must still fail the strict steps and
// pass its legacySteps, so a change on either side shows up here.
//
// Jest's roots is test/js: test/js/conformance.test.js requires this file.
// Writes test/conformance/results.md after a full run.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startGateway } = require('../js/support/gateway');
const { RawClient, buildFrame, buildFrames, acceptKeyFor, OPCODES, OPCODE_NAMES } = require('./raw-client');
const { cases, MAX_MESSAGE_BYTES } = require('./cases');

const PATHS = ['native', 'legacy'];
const RESULTS_FILE = path.join(__dirname, 'results.md');
const FRAME_TIMEOUT_MS = 1000; // a reply the server owes us
const TCP_CLOSE_TIMEOUT_MS = 1000; // TCP close after the server's close frame
const RESPONSE_TIMEOUT_MS = 2000;
const MESSAGE_TIMEOUT_MS = 1000; // a client message reaching the dispatcher
const SERVER_CLOSE_TIMEOUT_MS = 2000; // the dispatcher's 'close' after ours

let gw;
let runs = 0;
const connections = new Map(); // identity -> { path, id }
const identities = new Map(); // connection id -> identity
const messages = new Map(); // identity -> [{ data, binary }]
const serverCloses = new Map(); // identity -> code
const watchers = new Set();
const results = new Map(); // case id -> { native, legacy }

function notify() {
  for (const watcher of [...watchers]) watcher();
}

// Resolves true once `condition()` holds, false after `timeoutMs`; woken by
// dispatcher and router events.
function until(condition, timeoutMs) {
  if (condition()) return Promise.resolve(true);
  return new Promise((resolve) => {
    let timer;
    const watcher = () => {
      if (!condition()) return;
      clearTimeout(timer);
      watchers.delete(watcher);
      resolve(true);
    };
    timer = setTimeout(() => {
      watchers.delete(watcher);
      resolve(condition());
    }, timeoutMs);
    watchers.add(watcher);
  });
}

function describeFrame(frame) {
  if (!frame) return 'nothing';
  const name = OPCODE_NAMES[frame.opcode] || `opcode ${frame.opcode}`;
  if (frame.opcode === OPCODES.close) {
    return frame.payload.length >= 2 ? `close ${frame.payload.readUInt16BE(0)}` : `close (${frame.payload.length}-byte body)`;
  }
  return `${name} (${frame.payload.length} bytes)`;
}

function sameBytes(actual, expected) {
  return Buffer.from(actual).equals(Buffer.isBuffer(expected) ? expected : Buffer.from(expected));
}

function describeMessage(m) {
  return m.binary ? `binary ${m.data.length} bytes` : `text ${JSON.stringify(m.data.length > 40 ? `${m.data.slice(0, 40)}…` : m.data)}`;
}

// ----------------------------------------------------------------- steps

// Each returns undefined when the step holds, else what went wrong.
const STEPS = {
  async send(client, step) {
    await client.write(buildFrames(step.send), { chunk: step.chop || 0 });
  },

  async sendRaw(client, step) {
    await client.write(step.sendRaw);
  },

  async ping(client, step, run) {
    await client.write(buildFrame({ opcode: 'ping', payload: step.ping }));
    return STEPS.expectPong(client, { expectPong: step.ping }, run);
  },

  async expectPong(client, step) {
    const frame = await client.nextFrame(FRAME_TIMEOUT_MS);
    if (!frame || frame.opcode !== OPCODES.pong) {
      return `expected a pong, got ${describeFrame(frame)}${frame ? '' : tcpState(client)}`;
    }
    if (!sameBytes(frame.payload, step.expectPong)) {
      return `pong payload differs: ${frame.payload.toString('hex')} instead of ${Buffer.from(step.expectPong).toString('hex')}`;
    }
    return undefined;
  },

  async expectClose(client, step) {
    const want = step.expectClose;
    const frame = await client.nextFrame(step.within || FRAME_TIMEOUT_MS);
    const wanted = want === 'empty' ? 'an empty close' : `close ${want}`;
    if (!frame || frame.opcode !== OPCODES.close) {
      return `expected ${wanted}, got ${describeFrame(frame)}${frame ? '' : tcpState(client)}`;
    }
    const { code, bodyLength, reason } = client.closeFrame;
    if (want === 'empty' ? bodyLength !== 0 : code !== want) return `expected ${wanted}, got ${describeFrame(frame)}`;
    if (step.reason !== undefined && reason !== step.reason) {
      return `expected close ${want} with reason ${JSON.stringify(step.reason)}, got ${JSON.stringify(reason)}`;
    }
    if (step.reply) client.socket.write(buildFrame({ opcode: 'close', payload: frame.payload.subarray(0, 2) }));
    if (!(await client.waitForTcpClose(TCP_CLOSE_TIMEOUT_MS))) {
      return `TCP still open ${TCP_CLOSE_TIMEOUT_MS} ms after the close frame`;
    }
    if (client.bytesAfterClose !== 0) return `${client.bytesAfterClose} bytes arrived after the close frame`;
    return undefined;
  },

  async serverClose(client, step, run) {
    const routed = connections.get(run.identity);
    if (!routed || routed.id === undefined) return 'no connection id to close';
    if (!gw.dispatch.closeConnection(routed.id, ...step.serverClose)) return 'closeConnection returned false';
    return undefined;
  },

  async expectSilence(client, step) {
    const before = client.frames.length;
    const broke = await client.waitFor(() => client.frames.length > before || client.tcpClosed, step.expectSilence);
    if (broke) {
      return `expected silence for ${step.expectSilence} ms, got ` +
        `${client.frames.length > before ? describeFrame(client.frames[before]) : 'TCP close'}`;
    }
    return undefined;
  },

  async expectMessage(client, step, run) {
    const queue = () => messages.get(run.identity) || [];
    const index = run.messagesSeen;
    const arrived = await until(() => queue().length > index, MESSAGE_TIMEOUT_MS);
    if (!arrived) return `the dispatcher got no message #${index + 1}`;
    run.messagesSeen += 1;
    const got = queue()[index];
    const want = step.expectMessage;
    if ('text' in want) {
      if (got.binary || got.data !== want.text) return `expected text message ${JSON.stringify(want.text.slice(0, 40))}, got ${describeMessage(got)}`;
    } else if (!got.binary || !sameBytes(got.data, want.binary)) {
      return `expected binary message of ${want.binary.length} bytes, got ${describeMessage(got)}`;
    }
    return undefined;
  },

  async expectResponse(client, step, run) {
    const want = step.expectResponse;
    await client.waitForResponse(want.within || RESPONSE_TIMEOUT_MS);
    const { response } = client;
    if (!response) return `no HTTP response${tcpState(client)}`;
    if (response.status !== want.status) {
      return `expected HTTP ${want.status}, got "${response.statusLine}"`;
    }
    const elapsed = Date.now() - run.started;
    if (want.minMs && elapsed < want.minMs) return `HTTP ${response.status} after ${elapsed} ms, expected ≥ ${want.minMs} ms`;
    for (const [name, value] of Object.entries(want.headers || {})) {
      const got = response.headers[name];
      let ok;
      if (value === null) ok = got === undefined;
      else ok = value instanceof RegExp ? got !== undefined && value.test(got) : got === value;
      if (!ok) return `header ${name}: expected ${value}, got ${got === undefined ? 'none' : JSON.stringify(got)}`;
    }
    if (response.status === 101) {
      if (response.headers['sec-websocket-accept'] !== acceptKeyFor(client.key)) {
        return `wrong Sec-WebSocket-Accept ${response.headers['sec-websocket-accept']}`;
      }
      // The override header must have put it on the path under test: a
      // native upgrade that fell back to legacy would test legacy twice.
      const routed = connections.get(run.identity);
      if (!routed || routed.path !== run.path) return `routed to ${routed ? routed.path : 'no path'}, not ${run.path}`;
    }
    return undefined;
  },

  async expectTcpClose(client) {
    if (!(await client.waitForTcpClose(RESPONSE_TIMEOUT_MS))) return `TCP still open after ${RESPONSE_TIMEOUT_MS} ms`;
    return undefined;
  },
};

function tcpState(client) {
  if (client.error) return ` (socket error ${client.error})`;
  return client.tcpClosed ? ' (TCP closed)' : '';
}

function stepKind(step) {
  const kind = Object.keys(STEPS).find((name) => name in step);
  if (!kind) throw new Error(`unknown step ${JSON.stringify(step)}`);
  return kind;
}

// ------------------------------------------------------------------- run

// Runs `steps` of case `c` on `pathName` over a fresh connection. Resolves
// with { passed, failure, report }; never throws for a server's answer.
async function runCase(c, steps, pathName) {
  runs += 1;
  const run = { path: pathName, identity: `conformance-${runs}`, messagesSeen: 0, started: 0 };
  const client = await RawClient.connect(gw.port);
  let failure;
  try {
    const hs = c.handshake || {};
    let request = client.sendRequest({
      target: hs.target,
      headers: { 'X-Ficus-Path': pathName, 'X-Client-Id': run.identity, ...hs.headers },
    });
    if (hs.partial) request = request.subarray(0, Math.floor(request.length / 2));
    if (hs.pipeline) request = Buffer.concat([request, buildFrames(hs.pipeline)]);
    run.started = Date.now();
    await client.write(request, { chunk: hs.chunk || 0, stopOnResponse: true });
    const all = steps[0] && steps[0].expectResponse ? steps : [{ expectResponse: { status: 101 } }, ...steps];
    for (const step of all) {
      failure = await STEPS[stepKind(step)](client, step, run);
      if (failure) break;
    }
    if (!failure) failure = frameErrors(client);
    const upgraded = client.response && client.response.status === 101;
    // Leave politely when the case left the connection open.
    if (upgraded && client.canWrite()) {
      await client.write(buildFrame({ opcode: 'close', payload: Buffer.from([0x03, 0xe8]) }));
      await client.waitFor(() => client.closeFrame !== null || client.tcpClosed, FRAME_TIMEOUT_MS);
    }
    client.destroy();
    // The server's 'close' comes after every message of the connection:
    // then a message no step expected (an invalid one delivered, a text
    // after the close frame) is known.
    if (upgraded && connections.has(run.identity)) {
      const seen = await until(() => serverCloses.has(run.identity), SERVER_CLOSE_TIMEOUT_MS);
      if (!failure && !seen) failure = `the dispatcher saw no 'close' within ${SERVER_CLOSE_TIMEOUT_MS} ms`;
      const got = messages.get(run.identity) || [];
      if (!failure && got.length > run.messagesSeen) {
        failure = `unexpected message delivered: ${describeMessage(got[run.messagesSeen])}`;
      }
    }
  } finally {
    client.destroy();
  }
  return {
    passed: !failure,
    failure,
    report: { ...client.report(), serverCloseCode: serverCloses.get(run.identity) },
  };
}

// What the server got wrong in frames it sent, whatever the case.
function frameErrors(client) {
  if (client.protocolErrors.length) return client.protocolErrors.join('; ');
  if (client.closeFrame && !client.closeFrame.reasonValidUtf8) return 'server close reason is not valid UTF-8';
  return undefined;
}

function explain(label, c, outcome) {
  return `${label} ${c.id} ${c.title}: ${outcome.failure}\n${JSON.stringify(outcome.report, null, 2)}`;
}

function record(c, pathName, value) {
  if (!results.has(c.id)) results.set(c.id, {});
  results.get(c.id)[pathName] = value;
}

// ------------------------------------------------------------ lifecycle

beforeAll(async () => {
  // Node checks headersTimeout/requestTimeout every connectionsCheckingInterval
  // (30 s by default): small values keep the slow-head case short.
  const server = http.createServer({ connectionsCheckingInterval: 100 }, (req, res) => {
    res.writeHead(404).end();
  });
  server.headersTimeout = 1000;
  server.requestTimeout = 2000;
  gw = await startGateway({
    server,
    dispatcher: { maxMessageBytes: MAX_MESSAGE_BYTES },
    attach: {
      nativePercent: 0,
      overrideHeader: 'x-ficus-path',
      // Unrestricted as without authenticate; expiring for the cases that ask (P.8).
      authenticate: (req) => (req.headers['x-expires-in']
        ? { subscribe: 'any', expiresAt: Date.now() + Number(req.headers['x-expires-in']) } : true),
    },
  });
  // Upgrades for other paths are not the router's: answer them here, as an
  // application's own listener would.
  server.on('upgrade', (req, socket) => {
    if ((req.url || '').split('?')[0] === '/ws') return;
    socket.on('error', () => {});
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  // The router says which path each connection opened on, with its id,
  // before the client can see the handshake's answer.
  gw.router.on('connection', ({ path: p, id, identity }) => {
    connections.set(identity, { path: p, id });
    identities.set(id, identity);
    notify();
  });
  gw.dispatch.on('message', ({ id, data, binary }) => {
    const identity = identities.get(id);
    if (identity === undefined) return;
    if (!messages.has(identity)) messages.set(identity, []);
    messages.get(identity).push({ data, binary });
    notify();
  });
  gw.dispatch.on('close', ({ id, code, identity }) => {
    serverCloses.set(identity !== undefined ? identity : identities.get(id), code);
    notify();
  });
});

afterAll(async () => {
  if (gw) await gw.close();
  const total = cases.length;
  const complete = cases.every((c) => results.has(c.id) && PATHS.every((p) => p in results.get(c.id)));
  const nativePassed = cases.filter((c) => results.get(c.id)?.native === 'pass').length;
  const legacyPassed = cases.filter((c) => results.get(c.id)?.legacy === 'pass').length;
  const documented = cases.filter((c) => c.legacy === 'differs').length;
  const summary = `conformance native: ${nativePassed}/${total} passed; legacy: ${legacyPassed}/${total} passed, ` +
    `${documented} documented differences`;
  console.log(complete ? summary : `${summary} (partial run: ${results.size} cases ran; results.md not written)`);
  if (complete) fs.writeFileSync(RESULTS_FILE, resultsMarkdown(summary));
});

function resultsMarkdown(summary) {
  const cell = (s) => String(s || '').replace(/\|/g, '\\|');
  const lines = [
    '# RFC 6455 conformance results',
    '',
    'Generated by `test/conformance/conformance.test.js` (run: `npx jest test/js/conformance.test.js`);',
    'do not edit by hand. Cases: `test/conformance/cases.js`. Gateway: `maxMessageBytes: 1024`,',
    'path forced per connection with the `x-ficus-path` header.',
    '',
    `**${summary}**`,
    '',
    '`differs`: the legacy path (`ws`) answers otherwise, as the note says; the suite asserts',
    'what `ws` does, so a change on either side is noticed.',
    '',
    '| case | native | legacy | note |',
    '|---|---|---|---|',
  ];
  for (const c of cases) {
    const r = results.get(c.id);
    lines.push(`| ${cell(`${c.id} ${c.title}`)} | ${r.native} | ${r.legacy} | ${cell(c.note)} |`);
  }
  return `${lines.join('\n')}\n`;
}

// ----------------------------------------------------------------- tests

const ids = new Set();
for (const c of cases) {
  if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
  ids.add(c.id);
  if (c.legacy === 'differs' && !(c.note && c.legacySteps)) throw new Error(`case ${c.id} differs without note/legacySteps`);
}

describe.each(PATHS)('RFC 6455 conformance, %s path', (pathName) => {
  test.each(cases.map((c) => [`${c.id} ${c.title}`, c]))('%s', async (_name, c) => {
    const strict = await runCase(c, c.steps, pathName);
    if (pathName === 'native' || c.legacy !== 'differs') {
      record(c, pathName, strict.passed ? 'pass' : 'FAIL');
      if (!strict.passed) throw new Error(explain(pathName, c, strict));
      return;
    }
    // A documented difference: ws must still fail the strict steps (else
    // the note is stale) and do exactly what legacySteps say.
    const actual = await runCase(c, c.legacySteps, pathName);
    record(c, pathName, !strict.passed && actual.passed ? 'differs' : 'FAIL');
    if (strict.passed) throw new Error(`legacy ${c.id} now passes strictly: drop its legacy: 'differs'`);
    if (!actual.passed) throw new Error(explain('legacy (documented behaviour)', c, actual));
  });
});
