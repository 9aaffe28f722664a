'use strict';
// A headless Chromium (Debian's `chromium` package, installed by
// scripts/setup.js) driven by playwright-core, for the dashboard's tests.
// Pages opened with watch() record console errors, page errors and failed
// requests in `problems`; close() ends the browser, by PID if it lingers.

const fs = require('node:fs');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.FICUS_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`npm run setup\` as root (apt package chromium)`);
  }
  // launchServer (not launch) so the browser's PID is known and can be
  // killed if closing it fails.
  const server = await chromium.launchServer({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const browser = await chromium.connect(server.wsEndpoint());
  const problems = [];
  return {
    browser,
    problems,
    // A new page whose problems are recorded.
    async watch(options) {
      const page = await browser.newPage(options);
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
      return page;
    },
    async close() {
      const pid = server.process()?.pid;
      try {
        await browser.close();
        await server.close();
      } finally {
        if (pid) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    },
  };
}

module.exports = { launchBrowser };
