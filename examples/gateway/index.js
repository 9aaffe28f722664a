#!/usr/bin/env node
'use strict';
// Entry point of the example gateway: parse settings, start, log where the
// dashboard is, stop gracefully on SIGINT/SIGTERM.

const { parseConfig, usage, ConfigError } = require('./config');

const FORCE_EXIT_MS = 10000;

function readConfig() {
  try {
    return parseConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`ficus gateway: ${err.message}\nRun with --help for usage.`);
    process.exit(2);
  }
  return undefined;
}

function describeNative(dispatch) {
  if (!dispatch.nativeAvailable) return `native core unavailable: ${dispatch.nativeError.message}`;
  return `native core: ${dispatch.stats().paths.native.threads.length} threads`;
}

async function main() {
  const config = readConfig();
  if (config.help) {
    process.stdout.write(usage());
    return;
  }
  // Loaded only now, so --help and flag errors answer even without the library.
  const { createGateway } = require('./server');
  const gateway = createGateway(config);
  let port;
  try {
    port = await gateway.start();
  } catch (err) {
    console.error(`ficus gateway: cannot listen on ${config.host}:${config.port}: ${err.message}`);
    await gateway.stop();
    process.exit(1);
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const feed = config.feedRate > 0 ? `feed ${config.feedRate} events/s` : 'feed off';
  const clients = config.clients > 0 ? ` — ${config.clients} simulated clients` : '';
  // Tests and scripts read the port from this line (with --port 0).
  console.log(`ficus gateway on http://${host}:${port}/ — ${gateway.router.nativePercent}% native ` +
    `(${describeNative(gateway.dispatch)}) — ${feed}${clients}`);

  let stopping = false;
  const shutdown = async (signal) => {
    // `npm start` forwards signals that the terminal also sent to the whole
    // process group: a repeat while stopping is expected and ignored.
    if (stopping) return;
    stopping = true;
    console.log(`ficus gateway: ${signal}, stopping (draining both paths)`);
    const force = setTimeout(() => {
      console.error(`ficus gateway: still stopping after ${FORCE_EXIT_MS / 1000} s, exiting anyway`);
      process.exit(1);
    }, FORCE_EXIT_MS);
    force.unref();
    try {
      await gateway.stop();
      console.log('ficus gateway: stopped');
      process.exit(0);
    } catch (err) {
      console.error(`ficus gateway: error while stopping: ${err.stack || err.message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(`ficus gateway: ${err.stack || err.message}`);
  process.exit(1);
});
