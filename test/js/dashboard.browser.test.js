'use strict';
// The gateway's dashboard in a real headless Chromium (Debian's `chromium`
// package, installed by scripts/setup.js) driven by playwright-core: it
// loads without console errors, shows both paths busy, its slider changes
// the split, its order tracker receives a published event and, drained by
// a rollback, resumes without missing or repeating a status.
//
// FICUS_SCREENSHOT=1 also saves docs/dashboard.png (off by default, so test
// runs do not rewrite the file).

/* global document -- the page.waitForFunction() callbacks run in the page */

const fs = require('node:fs');
const path = require('node:path');
const { startGatewayProcess } = require('./support/gateway-process');
const { launchBrowser } = require('./support/browser');
const { event } = require('./support/clients');
const { mint } = require('./support/tokens');

jest.setTimeout(90000);

const SCREENSHOT = path.resolve(__dirname, '../../docs/dashboard.png');

let gw;
let chromium;
let browser;
let page;
let problems; // console errors, page errors, failed requests

function numberIn(selector) {
  return page.locator(selector).textContent().then((t) => Number(t.replace(/,/g, '')));
}

async function routingPercent() {
  const res = await fetch(gw.http('/admin/routing'));
  return (await res.json()).nativePercent;
}

beforeAll(async () => {
  gw = await startGatewayProcess(['--clients', '20', '--native-percent', '50', '--feed-rate', '50', '--threads', '2']);
  chromium = await launchBrowser();
  ({ browser, problems } = chromium);
  page = await chromium.watch({ viewport: { width: 1280, height: 1000 } });
  await page.goto(gw.http('/'));
});

afterAll(async () => {
  try {
    await chromium?.close();
  } finally {
    if (gw) await gw.stop();
  }
});

test('the dashboard shows traffic on both paths', async () => {
  await page.waitForFunction(() => {
    const n = (id) => Number(document.getElementById(id).textContent.replace(/,/g, ''));
    return n('native-connections') > 0 && n('legacy-connections') > 0 && n('native-rate') > 0 && n('legacy-rate') > 0;
  }, null, { timeout: 15000 });
  expect(await numberIn('#native-connections')).toBeGreaterThan(0);
  expect(await numberIn('#legacy-connections')).toBeGreaterThan(0);
  expect(await page.locator('#split-native').textContent()).toBe('50% native');
  expect(await page.locator('#threads tr').count()).toBe(2);
  expect(await page.locator('#threads td.ok').count()).toBe(2);
  // The latency chart has lines once there are two polls.
  await page.waitForFunction(() => document.querySelectorAll('#latency-chart path.line').length >= 2, null, { timeout: 10000 });
});

test('the track-an-order panel receives an event published for that order', async () => {
  await page.fill('#order-id', 'tracked-order-1');
  await page.click('#track');
  await page.waitForFunction(() => /served by the (native|legacy) path/.test(document.getElementById('track-state').textContent),
    null, { timeout: 10000 });
  const res = await fetch(gw.http('/events'), {
    method: 'POST',
    body: JSON.stringify(event('tracked-order-1', 'd7', 1, { status: 'in_transit', sent_ns: Date.now() * 1e6 })),
  });
  expect(res.status).toBe(200);
  await page.waitForFunction(() => /in_transit · driver d7/.test(document.getElementById('track-events').textContent),
    null, { timeout: 10000 });
});

// With --auth-secret the page asks the gateway for a dashboard's token
// (order:*) and tracks with it; the event comes from a publisher's token.
test('with --auth-secret the tracker gets its token and receives the event', async () => {
  const secret = 'browser-test-secret';
  const authed = await startGatewayProcess(['--feed-rate', '0', '--native-percent', '50', '--threads', '1'], { env: { AUTH_SECRET: secret } });
  const authedPage = await browser.newPage();
  try {
    await authedPage.goto(authed.http('/'));
    await authedPage.fill('#order-id', 'tracked-order-2');
    await authedPage.click('#track');
    await authedPage.waitForFunction(() => /served by the (native|legacy) path/.test(document.getElementById('track-state').textContent),
      null, { timeout: 10000 });
    const res = await fetch(authed.http('/events'), {
      method: 'POST',
      headers: { authorization: `Bearer ${await mint(['--role', 'publisher'], secret)}` },
      body: JSON.stringify(event('tracked-order-2', 'd8', 1, { status: 'in_transit' })),
    });
    expect(res.status).toBe(200);
    await authedPage.waitForFunction(() => /in_transit · driver d8/.test(document.getElementById('track-events').textContent),
      null, { timeout: 10000 });
    expect((await (await fetch(authed.http('/stats'))).json()).gateway.auth.accepted.ws).toBe(1);
  } finally {
    await authedPage.close();
    await authed.stop();
  }
});

test('moving the slider and pressing Apply changes the routing', async () => {
  await page.fill('#percent', '30'); // sets the range input and fires 'input'
  expect(await page.locator('#percent-value').textContent()).toBe('30%');
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('split-native').textContent === '30% native', null, { timeout: 10000 });
  expect(await routingPercent()).toBe(30);
  await page.fill('#percent', '50');
  await page.click('#apply');
  await page.waitForFunction(() => document.getElementById('routing-message').textContent.includes('now 50% native'),
    null, { timeout: 10000 });
  expect(await routingPercent()).toBe(50);
});

// The tracker opts in to positions: drained off the native path by the
// Rollback button (1012), it resumes on legacy with since=<last position>
// and gets the status published while it was away, then the live ones.
test('the order tracker survives a rollback drain: every status once, in order', async () => {
  const orderId = 'tracked-rollback-1';
  const statuses = ['created', 'assigned', 'picked_up', 'in_transit', 'delivered'];
  let seq = 0;
  const publishStatus = async (status) => {
    seq += 1;
    const res = await fetch(gw.http('/events'), { method: 'POST', body: JSON.stringify(event(orderId, 'd9', seq, { status })) });
    expect(res.status).toBe(200);
  };
  const trackState = (pattern) => page.waitForFunction((source) => new RegExp(source).test(document.getElementById('track-state').textContent),
    pattern.source, { timeout: 20000 });
  const shown = (count) => page.waitForFunction((n) => document.querySelectorAll('#track-events li.event').length >= n, count, { timeout: 20000 });
  const applyPercent = async (percent) => {
    await page.fill('#percent', String(percent));
    await page.click('#apply');
    await page.waitForFunction((text) => document.getElementById('split-native').textContent === text, `${percent}% native`, { timeout: 10000 });
  };

  await applyPercent(100);
  await page.fill('#order-id', orderId);
  await page.click('#track');
  await trackState(/^tracking order tracked-rollback-1 — served by the native path/);
  await publishStatus(statuses[0]);
  await shown(1);

  await page.click('#rollback'); // 0 %, draining the native path
  await trackState(/^connection closed \(1012: service restart; retry after \d+ ms\); resuming in/);
  await publishStatus(statuses[1]); // while it is away
  await trackState(/^resumed order tracked-rollback-1 — served by the legacy path/);
  await publishStatus(statuses[2]);
  await applyPercent(100); // and back
  await publishStatus(statuses[3]);
  await publishStatus(statuses[4]);
  await shown(statuses.length);
  await page.waitForTimeout(300); // room for a repeat to show

  // Oldest first: the replayed status comes before the note that ends the resume.
  const items = await page.locator('#track-events li').evaluateAll((lis) => lis.reverse()
    .map((li) => (li.classList.contains('event') ? li.dataset.status : li.className)));
  expect(items).toEqual(['created', 'assigned', 'note resumed', 'picked_up', 'in_transit', 'delivered']);
  await page.click('#untrack');
  await applyPercent(50);
});

// Without history the gap cannot be replayed (complete:false): the tracker
// says so and reloads the order from GET /api/orders/:id instead.
test('when the history does not cover the gap the tracker reloads the order', async () => {
  const bare = await startGatewayProcess(['--feed-rate', '0', '--native-percent', '100', '--threads', '1', '--history-max-events', '0']);
  const barePage = await browser.newPage();
  barePage.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  try {
    const publishStatus = async (seq, status) => {
      const res = await fetch(bare.http('/events'), { method: 'POST', body: JSON.stringify(event('tracked-order-3', null, seq, { status })) });
      expect(res.status).toBe(200);
    };
    await barePage.goto(bare.http('/'));
    await barePage.fill('#order-id', 'tracked-order-3');
    await barePage.click('#track');
    await barePage.waitForFunction(() => /served by the native path/.test(document.getElementById('track-state').textContent), null, { timeout: 10000 });
    await publishStatus(1, 'created');
    await barePage.waitForFunction(() => document.querySelectorAll('#track-events li.event').length === 1, null, { timeout: 10000 });
    const res = await fetch(bare.http('/admin/routing'), { method: 'PUT', body: JSON.stringify({ nativePercent: 0, drain: true }) });
    expect(res.status).toBe(200);
    await barePage.waitForFunction(() => /^connection closed \(1012/.test(document.getElementById('track-state').textContent), null, { timeout: 10000 });
    await publishStatus(2, 'assigned'); // missed, and not kept
    await barePage.waitForFunction(() => document.querySelector('#track-events li.reload'), null, { timeout: 20000 });
    const items = await barePage.locator('#track-events li').evaluateAll((lis) => lis.reverse().map((li) => [li.className, li.textContent]));
    expect(items).toEqual([
      ['event', expect.stringContaining('created')],
      ['note reload', expect.stringMatching(/^the history no longer covers the gap: reloaded, now assigned /)],
    ]);
  } finally {
    await barePage.close();
    await bare.stop();
  }
});

test('a screenshot under load (FICUS_SCREENSHOT=1 only)', async () => {
  if (process.env.FICUS_SCREENSHOT !== '1') return;
  // Follow an order the feed is moving, and give the charts some history.
  const { recent } = await (await fetch(gw.http('/api/orders'))).json();
  await page.fill('#order-id', recent[recent.length - 1]);
  await page.click('#track');
  await page.waitForTimeout(20000);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10000);
});

test('no console errors, page errors or failed requests', () => {
  expect(problems).toEqual([]);
});
