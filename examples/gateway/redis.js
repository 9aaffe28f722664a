'use strict';
// --redis: the gateway on Redis, a Redis Stream (--redis-mode stream, the
// default: positions shared, clients resume on any instance) or pub/sub.
// ficus's bridge reads or subscribes, and every publish (POST /events,
// /publish frames, the feed) goes through Redis, so each gateway instance (worker, process or host)
// delivers each event to its own subscribers once, whoever received it.
// The order store learns events from what comes back, so every instance's
// order API knows them all.

const { redactUrl } = require('./config');

const READY_WAIT_MS = 5000; // at start: how long to wait for Redis before serving anyway

function bridgeGateway({ config, dispatch, store, log, label = 'ficus gateway' }) {
  // Stream mode publishes through Redis by nature; pub/sub is told to.
  const mode = config.redisMode || 'stream';
  let bridge;
  try {
    bridge = dispatch.bridge(config.redis, {
      mode,
      ...(mode === 'pubsub' ? { publishThrough: true } : {}),
      ...(mode === 'stream' && config.redisReader && config.redisReader !== 'auto' ? { reader: config.redisReader } : {}),
      ...(mode === 'stream' && config.redisWriter && config.redisWriter !== 'auto' ? { writer: config.redisWriter } : {}),
      batchWindowMs: config.redisBatchMs,
    });
  } catch (error) {
    // Said in the gateway's own terms: which flag to change.
    if (error.code !== 'ERR_FICUS_NATIVE_UNAVAILABLE') throw error;
    throw new Error(`--redis-mode stream needs the native core (${dispatch.nativeError.message}); start with --redis-mode pubsub`,
      { cause: error });
  }
  const where = redactUrl(config.redis);
  bridge.on('state', ({ state, previous }) => {
    // Losing Redis and getting it back are news; the first connection is in
    // the start line, closing in the stop lines.
    if (state !== 'closed' && previous !== 'connecting') console.log(`${label}: redis ${where} ${previous} -> ${state}`);
  });
  bridge.on('error', (err) => log(`redis: ${err.message}`));
  bridge.on('rejected', ({ count, reason }) => log(`redis: rejected ${count} invalid events (first: ${reason})`));
  bridge.on('events', ({ data, accepted, rejected }) => store.applyBatch(data, { accepted, rejected }));
  return bridge;
}

// Resolves true once Redis is ready, false after READY_WAIT_MS (the bridge
// keeps trying in the background).
async function waitForRedis(bridge, timeoutMs = READY_WAIT_MS) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, timeoutMs, false);
  });
  try {
    return await Promise.race([bridge.ready().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { bridgeGateway, waitForRedis };
