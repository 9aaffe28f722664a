'use strict';
// Gateway settings from command-line flags, then environment variables,
// then defaults. Every value is checked here, at start, so a typo fails
// loudly with the flag's name instead of surfacing later as odd behaviour.

class ConfigError extends Error {}

// name: flag (without --); env: environment variable; parse: string -> value
// (throws ConfigError naming `label`); help: one usage line.
const SETTINGS = [
  { name: 'port', env: 'PORT', def: 8080, kind: 'integer', min: 0, max: 65535,
    help: 'HTTP port (0 = any free port, printed at start)' },
  { name: 'host', env: 'HOST', def: '127.0.0.1', kind: 'host',
    help: 'address to listen on (the admin API has no auth: keep it on loopback)' },
  { name: 'native-percent', env: 'NATIVE_PERCENT', def: 10, kind: 'number', min: 0, max: 100,
    help: 'share of new WebSocket upgrades routed to the native core' },
  { name: 'threads', env: 'FICUS_THREADS', def: 0, kind: 'integer', min: 0, max: 64,
    help: 'native worker threads (0 = one per CPU)' },
  { name: 'history-max-events', env: 'HISTORY_MAX_EVENTS', def: 100000, kind: 'integer', min: 0, max: 10000000,
    help: 'events kept for clients that resume with since= (0 = no history)' },
  { name: 'feed-rate', env: 'FEED_RATE', def: 20, kind: 'number', min: 0, max: 100000,
    help: 'simulated delivery events per second (0 = off)' },
  // Each in-process client holds two descriptors (its end and the server's)
  // and the process may open at most 20,000 files.
  { name: 'clients', env: 'SIM_CLIENTS', def: 0, kind: 'integer', min: 0, max: 5000,
    help: 'simulated WebSocket clients the gateway opens against its own /ws' },
  { name: 'redis', env: 'REDIS_URL', def: '', kind: 'url',
    help: 'Redis for events: every instance subscribes, /events and /publish go through it' },
  { name: 'redis-mode', env: 'REDIS_MODE', def: 'stream', kind: 'choice', choices: ['stream', 'pubsub'],
    help: 'with --redis: stream (a Redis Stream: positions shared, clients resume on any instance) or pubsub (at-most-once)' },
  { name: 'redis-reader', env: 'REDIS_READER', def: 'auto', kind: 'choice', choices: ['auto', 'native', 'js'],
    help: "with --redis-mode stream: who reads the stream, the native core (auto: unless rediss://) or JavaScript" },
  { name: 'redis-writer', env: 'REDIS_WRITER', def: 'auto', kind: 'choice', choices: ['auto', 'native', 'js'],
    help: "with --redis-mode stream: who writes /publish's events to the stream, the native core that ingests them (auto: unless rediss://) or JavaScript" },
  { name: 'redis-batch-ms', env: 'REDIS_BATCH_MS', def: 0, kind: 'integer', min: 0, max: 1000,
    help: 'with --redis: collect published events this long into one Redis message (0 = one per event-loop turn)' },
  // Each worker holds its own subscribers' descriptors (at most 20,000 files
  // a process): several workers serve more connections on one port.
  { name: 'workers', env: 'WORKERS', def: 1, kind: 'integer', min: 1, max: 64,
    help: 'processes sharing the port, each with its own native core (1 = no cluster; needs --redis)' },
  // Prefer the environment variable: a flag shows in `ps` to every user.
  { name: 'auth-secret', env: 'AUTH_SECRET', def: '', kind: 'secret',
    help: 'HS256 key: /ws, /publish and POST /events need a JWT signed with it (auth.js)' },
];

// A password never goes into a message.
function redactUrl(url) {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function describeRange(setting) {
  const what = setting.kind === 'integer' ? 'an integer' : 'a number';
  return `${what} from ${setting.min} to ${setting.max}`;
}

function parseValue(setting, raw, label) {
  if (setting.kind === 'url') {
    if (raw !== '' && !/^rediss?:\/\/\S+$/.test(raw)) {
      throw new ConfigError(`${label} must be a redis:// or rediss:// URL, got '${redactUrl(raw)}'`);
    }
    return raw;
  }
  if (setting.kind === 'choice') {
    if (!setting.choices.includes(raw)) throw new ConfigError(`${label} must be one of ${setting.choices.join(', ')}, got '${raw}'`);
    return raw;
  }
  if (setting.kind === 'secret') {
    // Never echoed: the value is the key.
    if (raw === '' || /[\r\n]/.test(raw)) throw new ConfigError(`${label} must be a non-empty single line`);
    return raw;
  }
  if (setting.kind === 'host') {
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(raw)) {
      throw new ConfigError(`${label} must be a host name or IP address, got '${raw}'`);
    }
    return raw;
  }
  // Number('') is 0 and Number('0x10') is 16: accept plain decimals only.
  const value = /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  const ok = Number.isFinite(value) && value >= setting.min && value <= setting.max &&
    (setting.kind !== 'integer' || Number.isInteger(value));
  if (!ok) throw new ConfigError(`${label} must be ${describeRange(setting)}, got '${raw}'`);
  return value;
}

// Accepts `--name value` and `--name=value`; refuses unknown flags and
// positional arguments so nothing is silently ignored.
function readFlags(argv) {
  const flags = new Map();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      flags.set('help', true);
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const setting = match && SETTINGS.find((s) => s.name === match[1]);
    if (!setting) throw new ConfigError(`unknown argument '${arg}'`);
    let raw = match[2];
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new ConfigError(`--${setting.name} needs a value`);
      raw = argv[(i += 1)];
    }
    flags.set(setting.name, raw);
  }
  return flags;
}

function camel(name) {
  return name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

// Returns { help: true } or the settings as { port, host, nativePercent, ... }.
function parseConfig(argv = process.argv.slice(2), env = process.env) {
  const flags = readFlags(argv);
  if (flags.get('help')) return { help: true };
  const config = {};
  for (const setting of SETTINGS) {
    let value = setting.def;
    if (flags.has(setting.name)) {
      value = parseValue(setting, flags.get(setting.name), `--${setting.name}`);
    } else if (env[setting.env] !== undefined && env[setting.env] !== '') {
      value = parseValue(setting, env[setting.env], setting.env);
    }
    config[camel(setting.name)] = value;
  }
  if (config.workers > 1 && !config.redis) {
    throw new ConfigError('--workers above 1 needs --redis (REDIS_URL): events must reach every worker');
  }
  return config;
}

const COLUMN = 26;

function usage() {
  const lines = SETTINGS.map((s) => {
    const flag = `  --${s.name} <${{ host: 'address', url: 'url', secret: 'secret', choice: s.choices && s.choices.join('|') }[s.kind] || 'n'}>`.padEnd(COLUMN);
    return `${flag}${s.help}\n${' '.repeat(COLUMN)}(env ${s.env}, default ${s.def === '' ? 'off' : s.def})`;
  });
  return [
    'Usage: node examples/gateway/index.js [options]   (or: npm start -- [options])',
    '',
    'ficus example gateway: a delivery-platform gateway that routes a sticky',
    'percentage of WebSocket subscribers to the native core, the rest to `ws`.',
    '',
    'Options (flags win over environment variables):',
    ...lines,
    `${'  --help'.padEnd(COLUMN)}print this help`,
    '',
  ].join('\n');
}

module.exports = { parseConfig, usage, ConfigError, SETTINGS, redactUrl };
