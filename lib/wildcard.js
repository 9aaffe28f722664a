'use strict';
// What a trailing '*' means where topics are named (native/core/include/
// ficus/wildcard.h). In a subscribe (message, query, Grant topics, the
// embedder's own) a topic ending in '*' is a prefix subscription:
// "order:*" receives every event whose topic starts with "order:". In a
// Grant pattern the same spelling is a prefix pattern. Published event
// topics are always literal.

function isWildcard(topic) {
  return topic.length > 0 && topic.charCodeAt(topic.length - 1) === 42; // '*'
}

// The prefix a wildcard stands for ("order:*" -> "order:"; "*" -> "").
function wildcardPrefix(topic) {
  return topic.slice(0, -1);
}

// Topics the library publishes for itself (the per-path probes of
// lib/probes.js): only an exact subscription receives their events, never
// a wildcard, so a dashboard on "order:*" or "*" does not see the probes.
const RESERVED_TOPIC_PREFIX = 'order:ficus:probe:';

function isReservedTopic(topic) {
  return topic.startsWith(RESERVED_TOPIC_PREFIX);
}

// Whether an event on `topic` (literal) reaches a subscriber of any of
// `topics` (as subscribed: exact names and wildcards). The linear walk is
// for the few topics of one connection (a replay filtering its history);
// delivery to many connections goes through lib/topic-index.js.
function matchesAny(topics, topic) {
  if (topic === null || topic === undefined) return false;
  for (const t of topics) {
    if (t === topic) return true;
    if (isWildcard(t) && topic.startsWith(wildcardPrefix(t)) && !isReservedTopic(topic)) return true;
  }
  return false;
}

module.exports = { isWildcard, wildcardPrefix, matchesAny, isReservedTopic, RESERVED_TOPIC_PREFIX };
