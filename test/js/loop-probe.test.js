'use strict';
// bench/lib/loop-probe.js, preloaded into a small Node process the way the
// gateway scenario preloads it into the gateway: each "mark" on stdin
// reports the event loop's delay and busy share since the previous mark.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');

const PROBE = path.join(__dirname, '..', '..', 'bench', 'lib', 'loop-probe.js');

// The child blocks its event loop for `ms` whenever it reads "block <ms>"
// on stdin (beside the probe, which reads "mark"), and stays up until stdin
// closes.
const CHILD = `
  const { createInterface } = require('node:readline');
  const keepAlive = setInterval(() => {}, 1000);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const m = /^block (\\d+)$/.exec(line);
    if (m) { const until = Date.now() + Number(m[1]); while (Date.now() < until); }
  }).on('close', () => clearInterval(keepAlive));
  process.stdout.write('ready\\n');
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startChild() {
  const child = spawn(process.execPath, ['--require', PROBE, '-e', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  const reports = [];
  const waiting = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!line.startsWith('LOOPREPORT ')) return;
    const report = JSON.parse(line.slice('LOOPREPORT '.length));
    if (waiting.length) waiting.shift()(report);
    else reports.push(report);
  });
  const ready = new Promise((resolve) => createInterface({ input: child.stdout }).on('line', (l) => l === 'ready' && resolve()));
  const mark = () => new Promise((resolve) => {
    waiting.push(resolve);
    child.stdin.write('mark\n');
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, ready, mark, reports, exited };
}

describe('loop probe', () => {
  let c;
  beforeAll(async () => {
    c = startChild();
    await c.ready;
  });
  afterAll(async () => {
    c.child.stdin.end();
    await c.exited;
  });

  test('a span with a 300 ms stall reports it in max, and a busy share that counts its length', async () => {
    await c.mark(); // starts the span
    await sleep(300);
    c.child.stdin.write('block 300\n');
    await sleep(400);
    const r = await c.mark();
    expect(r.spanMs).toBeGreaterThanOrEqual(650);
    expect(r.samples).toBeGreaterThan(20); // one per 10 ms timer run, less the stall
    expect(r.max).toBeGreaterThanOrEqual(250);
    expect(r.p50).toBeLessThan(50);
    expect(r.p50).toBeLessThanOrEqual(r.p99);
    expect(r.p99).toBeLessThanOrEqual(r.max);
    expect(r.utilization).toBeGreaterThan(0.2);
    expect(r.utilization).toBeLessThanOrEqual(1);
  });

  test('each mark starts a new span: the stall is not in the next report', async () => {
    await sleep(300);
    const r = await c.mark();
    expect(r.spanMs).toBeLessThan(650);
    expect(r.max).toBeLessThan(250);
    expect(r.utilization).toBeLessThan(0.2);
  });

  test('lines other than "mark" are ignored', async () => {
    c.child.stdin.write('report\nMARK\n\n');
    await sleep(200);
    expect(c.reports).toEqual([]);
    const r = await c.mark();
    expect(r.spanMs).toBeGreaterThanOrEqual(150);
  });
});
