'use strict';
// The router's authorize and refresh hooks (docs/security.md,
// "Authorization" and "Expiring credentials"), shared by both paths: each
// call is bounded in time (authorizeTimeoutMs) and in number
// (maxPendingAuthorizations across the router's connections), never
// rejects, and is counted in the counters of the path it serves. What the
// answers mean is enforced where the subscribe is handled: the core's
// AccessState on the native path, lib/access-state.js on the legacy one.

const v = require('./validate');
const { grantPatterns } = require('./grant');

const TIMED_OUT = Symbol('timed out');
const FAILED = Symbol('failed');

// The answers to a refresh message (docs/api.md, "Client protocol").
const REFRESH_FAILED = JSON.stringify({ type: 'error', reason: 'refresh failed' });
function refreshedMessage(expiresAt) {
  return JSON.stringify({ type: 'refreshed', expiresAt });
}

// What authorize() may answer: only `true` admits.
const OUTCOME = Object.freeze({ allowed: 'allowed', refused: 'refused', timedOut: 'timedOut' });

function accessCounters() {
  return { authorizeCalls: 0, authorizeRefusals: 0, authorizeTimeouts: 0, refreshes: 0, refreshesFailed: 0 };
}

// A Grant's expiresAt as milliseconds since the epoch, or null when it has
// none. Throws a TypeError/RangeError naming the field.
function expiryOf(grant, name = 'grant.expiresAt') {
  const value = grant.expiresAt;
  if (value === undefined || value === null) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number') throw v.typeError('a Date or milliseconds since the epoch', name, value);
  if (!Number.isFinite(ms)) throw v.rangeError('a valid Date or a finite number of milliseconds', name, value);
  return Math.ceil(ms);
}

// { text } when `text` is a refresh message: { token } (a string, or null
// when it has none); undefined for any other message. Cheap for the
// others: only a text naming "refresh" is parsed.
function refreshRequest(text) {
  if (typeof text !== 'string' || !text.includes('"refresh"')) return undefined;
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== 'object' || message.type !== 'refresh') return undefined;
  return { token: typeof message.token === 'string' ? message.token : null };
}

class Access {
  // `options`: the router's validated options.
  constructor({ authorize, refresh, authorizeTimeoutMs, maxPendingAuthorizations }, maxTopicBytes) {
    this.authorize = authorize;
    this.refresh = refresh;
    this.timeoutMs = authorizeTimeoutMs;
    this.maxPending = maxPendingAuthorizations;
    this.maxTopicBytes = maxTopicBytes;
    this.pending = 0; // hook calls not yet answered, across connections
  }

  get hooked() {
    return this.authorize !== undefined || this.refresh !== undefined;
  }

  // What a connection keeps for the hooks, or null without hooks: not the
  // IncomingMessage (its headers, cookies included, would stay in memory
  // for the connection's life) but the little the hooks are given as
  // `connection`, and whether a refresh is under way.
  record(req, grant, identity, restricted) {
    if (!this.hooked) return null;
    return {
      access: this,
      asks: this.authorize !== undefined && restricted,
      refreshes: this.refresh !== undefined,
      refreshing: false,
      identity,
      info: { id: null, path: null, url: req.url, remoteAddress: req.socket?.remoteAddress ?? null, grant },
    };
  }

  // Calls fn() within the timeout; resolves to its value, TIMED_OUT or
  // FAILED (it threw, or too many calls are pending).
  async #call(fn) {
    if (this.pending >= this.maxPending) return FAILED;
    this.pending += 1;
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs, TIMED_OUT);
    });
    const answer = Promise.resolve().then(fn).catch(() => FAILED);
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
      this.pending -= 1;
    }
  }

  // authorize(identity, topic, connection): an OUTCOME. A hook that throws,
  // answers anything but true, or is over the pending bound refuses.
  async decide(counters, record, topic) {
    counters.authorizeCalls += 1;
    const answer = await this.#call(() => this.authorize(record.identity, topic, record.info));
    if (answer === true) return OUTCOME.allowed;
    counters.authorizeRefusals += 1;
    if (answer !== TIMED_OUT) return OUTCOME.refused;
    counters.authorizeTimeouts += 1;
    return OUTCOME.timedOut;
  }

  // refresh(token, connection) for one connection's refresh message. Resolves
  // to { ok: false, answer } for a failure (the credentials stay as they
  // were), else { ok: true, answer, expiresAt, allow }: the new expiry (ms since the epoch, or
  // null) and permissions (undefined: unchanged; null: unrestricted; else
  // the patterns, lib/grant.js). One refresh at a time per connection.
  async renew(counters, record, token) {
    if (record.refreshing || token === null) {
      counters.refreshesFailed += 1;
      return { ok: false, answer: REFRESH_FAILED };
    }
    record.refreshing = true;
    let grant;
    try {
      grant = await this.#call(() => this.refresh(token, record.info));
    } finally {
      record.refreshing = false;
    }
    const update = this.#update(grant);
    if (update === null) {
      counters.refreshesFailed += 1;
      return { ok: false, answer: REFRESH_FAILED };
    }
    counters.refreshes += 1;
    record.info.grant = grant;
    return update;
  }

  // A refresh hook's Grant as an update, or null when it refuses: not an
  // object, expired already, or one the router would answer 500 at upgrade.
  #update(grant) {
    if (grant === null || typeof grant !== 'object' || grant === TIMED_OUT || grant === FAILED) return null;
    try {
      const expiresAt = expiryOf(grant);
      if (expiresAt !== null && expiresAt <= Date.now()) return null;
      let allow;
      if (grant.allow !== undefined || grant.topics !== undefined || grant.subscribe !== undefined) {
        if (grant.topics !== undefined && !Array.isArray(grant.topics)) return null;
        allow = grantPatterns(grant, (grant.topics || []).map(String), this.maxTopicBytes);
      }
      return { ok: true, answer: refreshedMessage(expiresAt), expiresAt, allow };
    } catch {
      return null;
    }
  }
}

module.exports = { Access, OUTCOME, accessCounters, expiryOf, refreshRequest, REFRESH_FAILED, refreshedMessage };
