'use strict';
// A simulated delivery feed: orders move created -> assigned -> picked_up ->
// in_transit -> delivered; drivers are assigned and sometimes reassigned;
// a fresh order has no driver yet (driver_id null).
//
// Events are published in batches from a 50 ms timer (rate/20 per tick, as
// one array) instead of one timer per event: one publish() call per tick
// costs one hand-off to the native core, whatever the rate.

const TICK_MS = 50;
const ACTIVE_ORDERS = 200; // orders in flight at once
const DRIVERS = 50;
const REASSIGN_CHANCE = 0.1;
const NEXT_STATUS = { created: 'assigned', assigned: 'picked_up', picked_up: 'in_transit', in_transit: 'delivered' };

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

function randomDriver() {
  return `d${1 + Math.floor(Math.random() * DRIVERS)}`;
}

class Feed {
  // publish(events[]) delivers a batch; returns ficus's PublishResult.
  constructor({ rate, publish }) {
    this.rate = rate;
    this.publish = publish;
    this.nextOrder = 1;
    this.active = new Map(); // order_id -> { status, driver_id }
    this.credit = 0; // fractional events carried between ticks
    this.published = 0;
    this.timer = null;
  }

  start() {
    if (this.rate <= 0 || this.timer) return this;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref(); // the HTTP server keeps the process alive, not the feed
    return this;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    this.credit += (this.rate * TICK_MS) / 1000;
    const count = Math.floor(this.credit);
    if (count === 0) return;
    this.credit -= count;
    const batch = [];
    for (let i = 0; i < count; i += 1) batch.push(this.nextEvent());
    this.publish(batch);
    this.published += count;
  }

  // One event: advances an order in flight, or opens a new order.
  nextEvent() {
    if (this.active.size < ACTIVE_ORDERS && (this.active.size === 0 || Math.random() < 0.3)) {
      const id = `o${this.nextOrder++}`;
      this.active.set(id, { status: 'created', driver_id: null });
      return this.event(id, 'created', null);
    }
    const id = pick([...this.active.keys()]);
    const order = this.active.get(id);
    if (order.status === 'assigned' && Math.random() < REASSIGN_CHANCE) {
      order.driver_id = randomDriver(); // the first driver gave it up
      return this.event(id, 'assigned', order.driver_id);
    }
    order.status = NEXT_STATUS[order.status];
    if (order.status === 'assigned') order.driver_id = randomDriver();
    if (order.status === 'delivered') this.active.delete(id);
    return this.event(id, order.status, order.driver_id);
  }

  event(orderId, status, driverId) {
    const now = Date.now();
    return {
      order_id: orderId,
      status,
      timestamp: new Date(now).toISOString(), // RFC 3339
      driver_id: driverId,
      sent_ns: now * 1e6, // integer nanoseconds; exact enough for ms clocks
    };
  }

  // Ids for simulated subscribers to follow.
  randomOrderId() {
    return this.active.size > 0 ? pick([...this.active.keys()]) : `o${1 + Math.floor(Math.random() * 50)}`;
  }

  randomDriverId() {
    return randomDriver();
  }
}

module.exports = { Feed, TICK_MS };
