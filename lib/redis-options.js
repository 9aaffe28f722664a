'use strict';
// The Redis bridge's options (lib/redis-bridge.js): their checks, defaults
// and the rules between them (each mode refuses the other's options), the
// URL check and the reconnect backoff.

const dns = require('node:dns');
const v = require('./validate');

const positive = (min, max) => (value, name) => v.integer(value, name, { min, max });

const OPTIONS = {
  mode: (value, name) => v.oneOf(value, name, ['stream', 'pubsub']),
  channels: (value, name) => {
    if (!Array.isArray(value)) throw v.typeError('an array of 1 to 64 channel names', name, value);
    if (value.length === 0 || value.length > 64) throw v.rangeError('an array of 1 to 64 channel names', name, value);
    value.forEach((channel, i) => v.string(channel, `${name}[${i}]`, { nonEmpty: true }));
    return [...new Set(value)];
  },
  publishThrough: v.boolean,
  backoffMinMs: positive(1, 60000),
  backoffMaxMs: positive(1, 600000),
  connectTimeoutMs: positive(100, 600000),
  maxQueuedPublishes: positive(1, 1 << 20),
  maxQueuedPublishBytes: positive(1024 * 1024, 2 ** 40),
  batchWindowMs: positive(0, 1000),
  // Stream mode only (lib/redis-stream.js).
  stream: (value, name) => v.string(value, name, { nonEmpty: true }),
  streamMaxLen: positive(1, 1e9),
  readCount: positive(1, 100000),
  readBlockMs: positive(10, 60000),
  reader: (value, name) => v.oneOf(value, name, ['native', 'js']),
  writer: (value, name) => v.oneOf(value, name, ['native', 'js']),
};
const PUBSUB_ONLY = ['channels'];
const STREAM_ONLY = ['stream', 'streamMaxLen', 'readCount', 'readBlockMs', 'reader', 'writer'];

const DEFAULTS = {
  mode: 'stream',
  channels: ['ficus:events'],
  publishThrough: undefined, // stream mode: true (and only true); pub/sub: false
  backoffMinMs: 100, // first retry after 50-100 ms ...
  backoffMaxMs: 5000, // ... doubling up to 2.5-5 s
  connectTimeoutMs: 5000,
  maxQueuedPublishes: 10000, // publish-through messages held while Redis is away
  maxQueuedPublishBytes: 64 * 1024 * 1024, // ... and their bytes: a message can be 1 MiB
  batchWindowMs: 0, // publish-through: 0 = one message per event-loop turn
  stream: 'ficus:stream',
  streamMaxLen: undefined, // the dispatcher's historyMaxEvents, at least 10,000 (redis-bridge.js)
  readCount: 1000, // entries per XREAD
  readBlockMs: 1000, // how long one XREAD waits for new entries
  reader: undefined, // 'native' (the core reads the stream) unless the URL is rediss://
  writer: undefined, // 'native' (the core writes what its publishers send) unless rediss://
};

// Options that belong to the other mode are refused rather than ignored.
function checkMode(given, options) {
  const foreign = options.mode === 'stream' ? PUBSUB_ONLY : STREAM_ONLY;
  for (const key of foreign) {
    if (given && given[key] !== undefined) {
      throw new RangeError(`options.${key} is for mode '${options.mode === 'stream' ? 'pubsub' : 'stream'}' (this bridge's mode is '${options.mode}')`);
    }
  }
  if (options.mode === 'stream') {
    if (options.publishThrough === false) {
      throw v.rangeError("true or undefined (mode 'stream' publishes through Redis: positions come from the stream)",
        'options.publishThrough', false);
    }
    options.publishThrough = true;
  } else if (options.publishThrough === undefined) {
    options.publishThrough = false;
  }
  return options;
}

// Exponential backoff with "equal jitter": half the delay fixed, half random.
function backoff(minMs, maxMs) {
  return (retries) => {
    const cap = Math.min(maxMs, minMs * 2 ** Math.min(retries, 30));
    return Math.round(cap / 2 + Math.random() * (cap / 2));
  };
}

// A password never goes into an error message.
function redact(url) {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function checkUrl(url) {
  v.string(url, 'redisUrl', { nonEmpty: true });
  let protocol = null;
  try {
    ({ protocol } = new URL(url));
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw v.rangeError('a redis:// or rediss:// URL', 'redisUrl', redact(url));
  }
  return url;
}

// Where the core's own stream reader or writer connects (`role`: 'reader'
// or 'writer'; lib/redis-stream.js), from the URL as the `redis` package
// reads it: redis://[[username][:password]@]host[:port][/db]. Null when
// JavaScript does that work: asked for (`choice` 'js'), or TLS (rediss://),
// which the core does not speak.
function coreTarget(url, choice, role) {
  const parsed = new URL(url);
  if (choice === 'js') return null;
  if (parsed.protocol === 'rediss:') {
    if (choice === 'native') {
      throw v.rangeError(`'js' with a rediss:// URL (the core's ${role} does not speak TLS)`, `options.${role}`, choice);
    }
    return null;
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw v.rangeError('a redis:// URL whose path is a database number', 'redisUrl', redact(url));
  return {
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    db,
  };
}

// One numeric address of `hostname` (IPv4 first, as the Redis client tries
// them): the `index`th, modulo how many it has. The core connects to
// numbers only.
async function resolveHost(hostname, index) {
  const addresses = await dns.promises.lookup(hostname, { all: true });
  addresses.sort((a, b) => a.family - b.family);
  return addresses[index % addresses.length].address;
}

module.exports = { OPTIONS, DEFAULTS, checkMode, checkUrl, redact, backoff, coreTarget, resolveHost };
