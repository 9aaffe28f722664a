#!/usr/bin/env node
'use strict';
// Entry point of the example gateway: parse settings, start, log where the
// dashboard is, stop gracefully on SIGINT/SIGTERM. With --workers > 1 this
// process is the cluster primary (cluster.js) and each worker runs the
// gateway (server.js) on the shared port.

const cluster = require('node:cluster');
const { parseConfig, usage, ConfigError, redactUrl } = require('./config');

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

// Tests and scripts read the port from this line (with --port 0).
function startLine(config, { port, nativePercent, native, redis }) {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const feed = config.feedRate > 0 ? `feed ${config.feedRate} events/s` : 'feed off';
  const clients = config.clients > 0 ? ` — ${config.clients} simulated clients` : '';
  const where = config.workers > 1 ? `${config.workers} workers, ${native} each` : native;
  const bridged = config.redis ? ` — redis ${redactUrl(config.redis)} ${redis}` : '';
  const authed = config.authSecret ? ' — auth: HS256 tokens required' : '';
  return `ficus gateway on http://${host}:${port}/ — ${nativePercent}% native (${where}) — ${feed}${clients}${bridged}${authed}`;
}

// Runs stop() once on SIGINT/SIGTERM, then exits (1 if it fails or takes
// longer than FORCE_EXIT_MS, after calling onForce).
function stopOnSignals(label, stop, onForce = () => {}) {
  let stopping = false;
  const shutdown = async (signal) => {
    // `npm start` forwards signals that the terminal also sent to the whole
    // process group: a repeat while stopping is expected and ignored.
    if (stopping) return;
    stopping = true;
    console.log(`${label}: ${signal}, stopping (draining both paths)`);
    const force = setTimeout(() => {
      console.error(`${label}: still stopping after ${FORCE_EXIT_MS / 1000} s, exiting anyway`);
      onForce();
      process.exit(1);
    }, FORCE_EXIT_MS);
    force.unref();
    try {
      await stop();
      console.log(`${label}: stopped`);
      process.exit(0);
    } catch (err) {
      console.error(`${label}: error while stopping: ${err.stack || err.message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function runPrimary(config) {
  const { Primary } = require('./cluster');
  const { clusterRolloutHandler } = require('./cluster-rollout');
  const primary = new Primary(config);
  primary.handlers.rollout = clusterRolloutHandler(primary); // one plan for every worker
  stopOnSignals('ficus gateway', () => primary.stop(), () => primary.kill());
  let info;
  try {
    info = await primary.start();
  } catch (err) {
    console.error(`ficus gateway: ${err.message}`);
    await primary.stop();
    process.exit(1);
  }
  console.log(startLine(config, info));
}

// One gateway process: the only one, or a cluster worker (slot from the
// primary, which also passes the current split). The feed and the initial
// simulated clients run once for the whole gateway: in worker 0.
async function runGateway(config) {
  let slot = null;
  let label = 'ficus gateway';
  if (cluster.isWorker) {
    slot = Number(process.env.FICUS_GATEWAY_WORKER);
    label = `ficus gateway worker ${slot}`;
    config = { ...config, nativePercent: Number(process.env.FICUS_GATEWAY_NATIVE_PERCENT) };
    if (slot > 0) config = { ...config, feedRate: 0, clients: 0 };
  }
  // Loaded only now, so --help and flag errors answer even without the library.
  const { createGateway } = require('./server');
  const gateway = createGateway(config, { slot });
  let port;
  try {
    port = await gateway.start();
  } catch (err) {
    console.error(`${label}: cannot listen on ${config.host}:${config.port}: ${err.message}`);
    await gateway.stop();
    process.exit(1);
  }
  const info = {
    port,
    nativePercent: gateway.router.nativePercent,
    native: describeNative(gateway.dispatch),
    redis: gateway.bridge ? gateway.bridge.state : null,
  };
  stopOnSignals(label, () => gateway.stop());
  if (slot === null) {
    console.log(startLine(config, info));
  } else {
    gateway.ctx.fleet.started(info);
    console.log(`${label} (pid ${process.pid}) serving, redis ${info.redis}`);
  }
}

async function main() {
  const config = readConfig();
  if (config.help) {
    process.stdout.write(usage());
    return;
  }
  if (config.workers > 1 && cluster.isPrimary) await runPrimary(config);
  else await runGateway(config);
}

main().catch((err) => {
  console.error(`ficus gateway: ${err.stack || err.message}`);
  process.exit(1);
});
