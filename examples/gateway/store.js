'use strict';
// In-memory order documents, updated from every accepted event (feed,
// POST /events, /publish). Bounded: a load generator may invent millions of
// order ids, so the least recently updated orders are forgotten first.
//
// In a cluster every worker sees every event (Redis), but each keeps only
// its share of the orders (`owns`): six full copies would make six heaps
// churn, and their garbage collections delay the events each worker hands
// to its native core. The order API asks the owner (api.js).

const { bucketOf } = require('../..');
// Not in the public API: ficus's own line splitting, so the store numbers
// a batch's events exactly as publish() does.
const { forEachLine } = require('../../lib/events/lines');

const HISTORY = 10; // status changes kept per order

// Which of `count` workers owns an order: ficus's own sticky hash (the one
// that picks a connection's path), with a salt of its own. It gives 100
// buckets, so with 6 workers four of them get 17 and two 16: close enough.
const SHARD_SALT = 'order-store';

// The order_id of an event's JSON text when it is a plain string (no
// escapes: then it reads the same parsed) named once (not also in a nested
// object), else null: parse to know. Looks only at text[start, end): one
// line of a batch, read in place.
const ORDER_ID_KEY = '"order_id"';
function plainOrderId(text, start = 0, end = text.length) {
  const at = text.indexOf(ORDER_ID_KEY, start);
  if (at === -1 || at >= end) return null;
  const again = text.indexOf(ORDER_ID_KEY, at + 1);
  if (again !== -1 && again < end) return null;
  let i = skipSpaces(text, at + ORDER_ID_KEY.length, end);
  if (text.charCodeAt(i) !== 0x3a /* : */) return null;
  i = skipSpaces(text, i + 1, end);
  if (text.charCodeAt(i) !== 0x22 /* " */) return null;
  const first = i + 1;
  for (i = first; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return text.slice(first, i);
    if (c === 0x5c /* \ */) return null;
  }
  return null;
}

function skipSpaces(text, i, end) {
  let at = i;
  while (at < end) {
    const c = text.charCodeAt(at);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    at += 1;
  }
  return at;
}

// The events of a newline-delimited batch, numbered as ficus numbers them
// (lines of spaces and tabs skipped, a trailing CR trimmed).
function batchItems(data) {
  const items = [];
  forEachLine(data.toString(), (line) => items.push(line));
  return items;
}

class OrderStore {
  // shard: { index, count } in a cluster (keep the orders of shard index).
  constructor({ maxOrders = 50000, shard = null } = {}) {
    this.maxOrders = maxOrders;
    this.shard = shard;
    this.orders = new Map(); // insertion order = least recently updated first
  }

  owns(id) {
    return this.shard === null || bucketOf(String(id), SHARD_SALT) % this.shard.count === this.shard.index;
  }

  get size() {
    return this.orders.size;
  }

  // `event` is an already validated DeliveryEvent object.
  apply(event) {
    const id = event.order_id;
    if (!this.owns(id)) return;
    const previous = this.orders.get(id);
    const order = previous || { order_id: id, status: null, driver_id: null, created_at: event.timestamp, history: [] };
    order.status = event.status;
    if (event.driver_id !== undefined) order.driver_id = event.driver_id;
    order.updated_at = event.timestamp;
    order.history.push({ status: event.status, driver_id: event.driver_id ?? null, timestamp: event.timestamp });
    if (order.history.length > HISTORY) order.history.shift();
    // Re-insert so Map order tracks recency.
    this.orders.delete(id);
    this.orders.set(id, order);
    if (this.orders.size > this.maxOrders) this.orders.delete(this.orders.keys().next().value);
  }

  // Applies the accepted items of a publish() input given its result.
  // `items` are JSON strings or objects in input order.
  applyAccepted(items, result) {
    if (result.accepted === 0) return;
    const rejected = new Set(result.rejected.map((r) => r.index));
    items.forEach((item, index) => {
      if (rejected.has(index)) return;
      if (typeof item === 'string') this.applyText(item);
      else this.apply(item);
    });
  }

  // Applies the accepted events of a newline-delimited batch (a Buffer, as
  // the Redis bridge delivers it) given its PublishResult. In a cluster
  // every worker reads every event and keeps a sixth: each line is looked
  // at in place and only the owned ones are parsed. (Splitting every batch
  // and matching every event was about a fifth of a worker's JS time at
  // 10,000 events/s.) A batch with rejected events takes the numbered way.
  applyBatch(data, result) {
    if (result.accepted === 0) return;
    if (result.rejected.length > 0) {
      this.applyAccepted(batchItems(data), result);
      return;
    }
    const text = data.toString();
    for (let start = 0; start < text.length;) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const id = this.shard === null ? null : plainOrderId(text, start, end);
      // Blank lines (not events) fail to parse and are passed over.
      if (id === null || this.owns(id)) this.parseAndApply(text.slice(start, end));
      start = end + 1;
    }
  }

  // One accepted event's JSON text. Events of other shards are not worth
  // parsing (their order id is read in place when it is a plain string).
  applyText(text) {
    if (this.shard !== null) {
      const id = plainOrderId(text);
      if (id !== null && !this.owns(id)) return;
    }
    this.parseAndApply(text);
  }

  parseAndApply(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return; // accepted by ficus, so valid JSON; a blank line is not an event
    }
    this.apply(event);
  }

  get(id) {
    return this.orders.get(id);
  }

  // A few recently updated ids, newest first, for the dashboard's hints.
  recentIds(count) {
    const ids = [...this.orders.keys()];
    return ids.slice(-count).reverse();
  }
}

module.exports = { OrderStore, batchItems, plainOrderId };
