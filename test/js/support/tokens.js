'use strict';
// Tokens for the example gateway's --auth-secret, minted by its documented
// script (examples/gateway/mint-token.js): jose is an ES module, which
// Jest on Node 20 cannot require, so tests do not sign tokens themselves.

const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

const MINT = path.resolve(__dirname, '../../../examples/gateway/mint-token.js');
const run = promisify(execFile);

// mint(['--role', 'publisher'], secret) -> the compact JWT.
async function mint(args, secret) {
  const { stdout } = await run(process.execPath, [MINT, '--secret', secret, ...args]);
  return stdout.trim();
}

const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

module.exports = { mint, bearer };
