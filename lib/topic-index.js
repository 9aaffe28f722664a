'use strict';
// The legacy path's map from topic to the connections subscribed to it
// (the native worker's TopicIndex): exact topics in a Map, topics ending
// in '*' as prefixes in a PrefixTree. Each connection keeps the names it
// subscribed to (`conn.topics`, as subscribed: "order:*"), so the limits
// and unsubscribes read them without asking the index.

const { PrefixTree } = require('./prefix-tree');
const { isWildcard, wildcardPrefix, isReservedTopic } = require('./wildcard');

class TopicIndex {
  constructor() {
    this._exact = new Map(); // topic -> Set of connections
    this._prefixes = new PrefixTree();
    this._prefixCount = 0;
  }

  // Topics and prefixes with at least one subscriber.
  get size() {
    return this._exact.size + this._prefixCount;
  }

  get prefixCount() {
    return this._prefixCount;
  }

  add(conn, topic) {
    if (!isWildcard(topic)) {
      let subscribers = this._exact.get(topic);
      if (subscribers === undefined) {
        subscribers = new Set();
        this._exact.set(topic, subscribers);
      }
      subscribers.add(conn);
      return;
    }
    const node = this._prefixes.insert(wildcardPrefix(topic));
    if (node.subscribers === null) {
      node.subscribers = new Set();
      this._prefixCount += 1;
    }
    node.subscribers.add(conn);
  }

  // Precondition: `conn` subscribed to `topic` (as named then).
  remove(conn, topic) {
    if (!isWildcard(topic)) {
      const subscribers = this._exact.get(topic);
      subscribers.delete(conn);
      if (subscribers.size === 0) this._exact.delete(topic);
      return;
    }
    const node = this._prefixes.find(wildcardPrefix(topic));
    node.subscribers.delete(conn);
    if (node.subscribers.size > 0) return;
    node.subscribers = null;
    this._prefixCount -= 1;
    this._prefixes.release(node);
  }

  // Pushes onto `out` the subscriber Sets an event on `topic` (literal)
  // reaches: its own, then its subscribed prefixes'. A connection may be
  // in several: the caller delivers once per connection.
  collect(topic, out) {
    const exact = this._exact.get(topic);
    if (exact !== undefined) out.push(exact);
    if (!this._prefixes.empty && !isReservedTopic(topic)) this._prefixes.collect(topic, out);
  }
}

module.exports = { TopicIndex };
