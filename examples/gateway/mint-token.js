#!/usr/bin/env node
'use strict';
// Prints a token for a gateway started with --auth-secret, for curl, wscat
// or a test:
//   AUTH_SECRET=s node examples/gateway/mint-token.js --role customer --sub alice --order o17 --driver d3
//   AUTH_SECRET=s node examples/gateway/mint-token.js --role publisher
//   AUTH_SECRET=s node examples/gateway/mint-token.js --claims '{"sub":"x","topics":"order:*"}' --ttl=-60
// --claims signs exactly what it is given (plus iat and exp), so refusals
// can be tried too; --ttl is in seconds, negative for an expired token.

const { parseArgs } = require('node:util');
const { mintToken, roles, DEFAULT_TTL_SECONDS } = require('./tokens');

const USAGE = `Usage: node examples/gateway/mint-token.js [--secret S] (--role R | --claims JSON) [options]
  --secret S       the gateway's --auth-secret (default: the AUTH_SECRET environment variable)
  --role R         ${Object.keys(roles).join(' | ')}
  --sub ID         identity (default: the role's name)
  --order ID       customer: the order it may follow
  --driver ID      customer: its order's driver (optional); driver: its own id (default: --sub)
  --claims JSON    sign these claims as they are instead of a role's
  --ttl SECONDS    lifetime (default ${DEFAULT_TTL_SECONDS}; negative, written --ttl=-60: already expired)
`;

function fail(message) {
  process.stderr.write(`mint-token: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function claimsFrom(values) {
  if (values.claims !== undefined) {
    try {
      return JSON.parse(values.claims);
    } catch (err) {
      return fail(`--claims is not JSON: ${err.message}`);
    }
  }
  const build = roles[values.role];
  if (!build) return fail(`--role must be one of ${Object.keys(roles).join(', ')}`);
  const sub = values.sub || values.role;
  if (values.role === 'customer' && !values.order) fail('a customer token needs --order');
  return build(sub, { order: values.order, driver: values.driver || (values.role === 'driver' ? sub : undefined) });
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        secret: { type: 'string' }, role: { type: 'string' }, sub: { type: 'string' }, order: { type: 'string' },
        driver: { type: 'string' }, claims: { type: 'string' }, ttl: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail(err.message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const secret = values.secret ?? process.env.AUTH_SECRET;
  if (!secret) fail('no secret: pass --secret or set AUTH_SECRET');
  const ttlSeconds = values.ttl === undefined ? DEFAULT_TTL_SECONDS : Number(values.ttl);
  if (!Number.isInteger(ttlSeconds)) fail(`--ttl must be an integer number of seconds, got '${values.ttl}'`);
  process.stdout.write(`${await mintToken(secret, claimsFrom(values), { ttlSeconds })}\n`);
}

main().catch((err) => fail(err.message));
