'use strict';
// Minting the gateway's tokens (--auth-secret): HS256 JWTs signed with
// jose, for the gateway's own clients (simulated subscribers, the
// dashboard's order tracker) and for people (mint-token.js). What the
// claims mean, and how they are checked, is auth.js.
//
// One builder per kind of client, so every minted token grants only what
// that client needs: a customer its order (and the driver bringing it), a
// driver its own topic, a dashboard every order, a publisher nothing to
// subscribe to but the right to publish.

const { SignJWT } = require('jose');

const ALGORITHM = 'HS256';
const DEFAULT_TTL_SECONDS = 600;

function secretKey(secret) {
  return new TextEncoder().encode(secret);
}

const roles = {
  customer: (sub, { order, driver }) => ({
    sub, role: 'customer', topics: [`order:${order}`, ...(driver ? [`driver:${driver}`] : [])],
  }),
  driver: (sub, { driver }) => ({ sub, role: 'driver', topics: [`driver:${driver}`] }),
  dashboard: (sub) => ({ sub, role: 'dashboard', topics: ['order:*'] }),
  publisher: (sub) => ({ sub, role: 'publisher', topics: [] }),
};

// Signs `claims` (sub, topics, role, ...) valid for `ttlSeconds` from now
// (negative: already expired, for trying the refusal). Resolves with the
// compact JWT.
function mintToken(secret, claims, { ttlSeconds = DEFAULT_TTL_SECONDS } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(secretKey(secret));
}

module.exports = { mintToken, roles, secretKey, ALGORITHM, DEFAULT_TTL_SECONDS };
