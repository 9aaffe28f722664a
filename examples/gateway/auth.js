'use strict';
// --auth-secret: who may subscribe to what, and who may publish. A client
// presents an HS256 JWT (`Authorization: Bearer <jwt>`, or `?token=<jwt>`
// where a browser cannot set headers); jose checks the signature and the
// expiry, this file the claims:
//   sub     the identity (also the sticky routing key): a non-empty string
//   topics  the patterns the connection may subscribe to -> Grant.allow
//   exp     required; -> Grant.expiresAt (ms)
//   role    'publisher' to publish (/publish, POST /events)
// Every refusal is counted by endpoint and reason (GET /stats `gateway.auth`,
// /metrics `ficus_gateway_auth_refused_total`), so an operator sees a
// client with a stale token, or someone trying keys, without reading logs.

const { jwtVerify } = require('jose');
const ficus = require('../..');
const { ALGORITHM, secretKey } = require('./tokens');

const ENDPOINTS = ['ws', 'publish', 'events'];
const REASONS = ['missing', 'malformed', 'algorithm', 'signature', 'expired', 'claims', 'role'];

// What the router would refuse as a Grant pattern (500 at upgrade) is
// refused here instead, as a bad token. The gateway keeps the dispatcher's
// default maxTopicBytes.
const MAX_TOPIC_BYTES = ficus.defaults.maxTopicBytes;

class AuthRefusal extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

// jose's error codes, grouped into the reasons counted.
const JOSE_REASONS = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm',
  ERR_JOSE_NOT_SUPPORTED: 'algorithm',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claims',
};

function tokenOf(req) {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer +(\S+) *$/i.exec(header);
    return match ? match[1] : ''; // another scheme, or garbage: not a token
  }
  const q = req.url.indexOf('?');
  return q >= 0 ? new URLSearchParams(req.url.slice(q + 1)).get('token') : null;
}

function checkTopics(topics) {
  if (topics === undefined) return []; // a publisher's token needs none
  const ok = Array.isArray(topics) && topics.length <= ficus.limits.maxGrantPatterns &&
    topics.every((t) => typeof t === 'string' && t !== '' && t.isWellFormed() && Buffer.byteLength(t) <= MAX_TOPIC_BYTES);
  if (!ok) {
    throw new AuthRefusal('claims', `topics must be an array of at most ${ficus.limits.maxGrantPatterns} topic patterns (1 to ${MAX_TOPIC_BYTES} bytes each)`);
  }
  return topics;
}

class GatewayAuth {
  constructor(secret) {
    this.key = secretKey(secret);
    this.accepted = Object.fromEntries(ENDPOINTS.map((e) => [e, 0]));
    this.refused = Object.fromEntries(ENDPOINTS.map((e) => [e, Object.fromEntries(REASONS.map((r) => [r, 0]))]));
  }

  // Resolves with the verified claims, or rejects with an AuthRefusal
  // (already counted against `endpoint`).
  async verify(req, endpoint, { publisher = false } = {}) {
    try {
      const claims = await this.claimsOf(tokenOf(req));
      if (publisher && claims.role !== 'publisher') throw new AuthRefusal('role', "publishing needs a token with role 'publisher'");
      this.accepted[endpoint] += 1;
      return claims;
    } catch (err) {
      const refusal = err instanceof AuthRefusal ? err
        : new AuthRefusal(JOSE_REASONS[err.code] || 'malformed', `invalid token: ${err.message}`);
      this.refused[endpoint][refusal.reason] += 1;
      throw refusal;
    }
  }

  async claimsOf(token) {
    if (token === null) throw new AuthRefusal('missing', 'a token is required: Authorization: Bearer <jwt> or ?token=<jwt>');
    // Only HS256: neither `none` nor an algorithm the token picks for
    // itself (the key confusion attacks) is ever tried.
    const { payload } = await jwtVerify(token, this.key, { algorithms: [ALGORITHM], requiredClaims: ['exp'] });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthRefusal('claims', 'sub must be a non-empty string');
    return { ...payload, topics: checkTopics(payload.topics) };
  }

  // ficus's `authenticate` for the subscriber router: a Grant that allows
  // exactly the token's topics, or false (401, counted by the router as
  // rejected.unauthorized as well).
  subscriber(req) {
    return this.grantFor(req, 'ws', false);
  }

  // ...and for the publisher router: the same identity and expiry, no
  // topics, and only for role 'publisher'.
  publisher(req) {
    return this.grantFor(req, 'publish', true);
  }

  async grantFor(req, endpoint, publisher) {
    let claims;
    try {
      claims = await this.verify(req, endpoint, { publisher });
    } catch (err) {
      if (err instanceof AuthRefusal) return false;
      throw err;
    }
    // The library closes the connection (3005) when `exp` passes; the
    // simulated clients then reconnect with a fresh token.
    return { identity: claims.sub, allow: publisher ? [] : claims.topics, expiresAt: claims.exp * 1000 };
  }

  stats() {
    const refusedTotal = Object.values(this.refused).reduce((sum, byReason) => sum + Object.values(byReason).reduce((a, b) => a + b, 0), 0);
    return { enabled: true, accepted: { ...this.accepted }, refusedTotal, refused: structuredClone(this.refused) };
  }
}

// What /stats says when --auth-secret is not set.
const AUTH_OFF = Object.freeze({ enabled: false });

module.exports = { GatewayAuth, AuthRefusal, tokenOf, AUTH_OFF, ENDPOINTS, REASONS };
