'use strict';
// What a connection's grant lets its client subscribe to: the legacy
// path's twin of the core's GrantMatcher (native/core/src/grant_matcher.cc)
// with the same rules, and the router's reading of a Grant into them.
//
// A pattern is an exact topic, or a prefix when it ends in '*'
// ("order:*"). Only a trailing '*' is a wildcard; every other character,
// '*' included, is literal, and nothing is normalized (a look-alike is
// another topic). A topic the client asks for that ends in '*' is a
// wildcard subscription (lib/wildcard.js): it asks for every topic with
// its prefix, so only a prefix pattern that its prefix starts with allows
// it ("order:*" allows "order:o1*"), never an exact one.

const v = require('./validate');
const { isWildcard, wildcardPrefix } = require('./wildcard');
const { LIMITS } = require('./protocol');

// The reason a refused subscribe is answered with, and the one for a
// subscription a refresh's narrower grant dropped.
const FORBIDDEN = 'forbidden';
const REVOKED = 'revoked';

// The message a client gets for each refused topic (encodeSubscribeRefusal
// in event_decoder.cc writes the same bytes).
function refusalMessage(topic) {
  return JSON.stringify({ type: 'error', topic, reason: FORBIDDEN });
}

// The same message for a subscription a narrower refresh dropped.
function revocationMessage(topic) {
  return JSON.stringify({ type: 'error', topic, reason: REVOKED });
}

class GrantMatcher {
  // `patterns`: validated by grantPatterns().
  constructor(patterns) {
    this.exact = new Set();
    this.prefixes = [];
    for (const p of patterns) {
      if (p.endsWith('*')) this.prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
  }

  allows(topic) {
    const wildcard = isWildcard(topic);
    if (!wildcard && this.exact.has(topic)) return true;
    const asked = wildcard ? wildcardPrefix(topic) : topic;
    for (const prefix of this.prefixes) {
      if (asked.startsWith(prefix)) return true;
    }
    return false;
  }
}

// The patterns a Grant restricts its connection to, or null when it does
// not restrict it:
//   - `true` (accepted, no Grant) and `subscribe: 'any'`: unrestricted;
//   - any other Grant: its `allow` patterns plus its own `topics` (which
//     the connection may always subscribe to again). No `allow`: only its
//     own topics; `allow: []` and no topics: nothing by message or query.
// Throws a TypeError/RangeError naming the field for a Grant that cannot
// be meant (the router answers it 500).
function grantPatterns(grant, topics, maxTopicBytes) {
  if (grant === true) return null;
  if (grant.subscribe !== undefined) {
    v.oneOf(grant.subscribe, 'grant.subscribe', ['any', 'granted']);
    if (grant.subscribe === 'any') {
      if (grant.allow !== undefined) throw v.typeError("no grant.allow with subscribe: 'any'", 'grant.allow', grant.allow);
      return null;
    }
  }
  const allow = grant.allow === undefined ? [] : grant.allow;
  if (!Array.isArray(allow)) throw v.typeError('an array of topic patterns', 'grant.allow', allow);
  for (const pattern of allow) {
    if (typeof pattern !== 'string') throw v.typeError('an array of topic patterns (strings)', 'grant.allow', allow);
    if (pattern.length === 0 || !pattern.isWellFormed() || Buffer.byteLength(pattern, 'utf8') > maxTopicBytes) {
      throw v.rangeError(`patterns of 1 to ${maxTopicBytes} bytes of well-formed text`, 'grant.allow', pattern);
    }
  }
  const patterns = [...new Set([...allow, ...(grant.topics === undefined ? [] : topics)])];
  if (patterns.length > LIMITS.maxGrantPatterns) {
    throw v.rangeError(`at most ${LIMITS.maxGrantPatterns} patterns and topics together`, 'grant.allow', allow);
  }
  return patterns;
}

module.exports = { GrantMatcher, grantPatterns, refusalMessage, revocationMessage, FORBIDDEN, REVOKED };
