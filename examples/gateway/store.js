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

const HISTORY = 10; // status changes kept per order

// Which of `count` workers owns an order: ficus's own sticky hash (the one
// that picks a connection's path), with a salt of its own. It gives 100
// buckets, so with 6 workers four of them get 17 and two 16: close enough.
const SHARD_SALT = 'order-store';

// The order_id of an event's JSON text when it is a plain string (no
// escapes: then it reads the same parsed) named once (not also in a nested
// object), else null: parse to know.
const ORDER_ID = /"order_id"\s*:\s*"([^"\\]*)"/;
function plainOrderId(text) {
  const match = ORDER_ID.exec(text);
  if (match === null || text.indexOf('"order_id"', match.index + 1) !== -1) return null;
  return match[1];
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
      // In a cluster every worker sees every event but keeps a sixth: the
      // others are not worth parsing (the parse was most of this worker's
      // JS time per event at 10,000 events/s).
      if (typeof item === 'string' && this.shard !== null) {
        const id = plainOrderId(item);
        if (id !== null && !this.owns(id)) return;
      }
      try {
        this.apply(typeof item === 'string' ? JSON.parse(item) : item);
      } catch {
        // Accepted by ficus, so valid JSON; nothing to do if not.
      }
    });
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

module.exports = { OrderStore };
