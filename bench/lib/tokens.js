'use strict';
// Tokens for subscribers of a gateway started with --auth-secret: line i
// is subscriber i's, minted as the example gateway's own customers are
// (examples/gateway/tokens.js): identity c<i> (the load generator's
// client_id), allowed exactly its order topic, an hour to live. So a
// benchmark measures what a granted, expiring connection costs.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { mintToken, roles } = require('../../examples/gateway/tokens');

const TTL_SECONDS = 3600;

async function writeTokens({ secret, count, orders = count }) {
  const lines = [];
  for (let i = 0; i < count; i += 1) {
    lines.push(await mintToken(secret, roles.customer(`c${i}`, { order: `o${i % orders}` }), { ttlSeconds: TTL_SECONDS }));
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ficus-tokens-')), 'tokens.txt');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function removeTokens(file) {
  if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

module.exports = { writeTokens, removeTokens };
