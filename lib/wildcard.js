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

module.exports = { isWildcard, wildcardPrefix };
