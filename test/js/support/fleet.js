'use strict';
// A fleet of clients that behave as production clients should: on a close
// with 1012 they reconnect after the retry hint in its reason (any other
// close ends them). Each has an identity with a known bucket, so a test can
// say which path each should be on at a given percent.

const ficus = require('../../../lib');
const { connect, retryHintMs } = require('./clients');

// One identity per wanted bucket: `${prefix}-${k}` for the first k that
// lands in it (ficus's default salt).
function identitiesFor(buckets, prefix) {
  return buckets.map((bucket) => {
    for (let k = 0; k < 100000; k += 1) {
      const id = `${prefix}-${k}`;
      if (ficus.bucketOf(id, 'ficus') === bucket) return id;
    }
    throw new Error(`no identity for bucket ${bucket}`);
  });
}

class Fleet {
  constructor(gw, buckets, { prefix = 'fleet', topic = 'order:fleet' } = {}) {
    this.gw = gw;
    this.topic = topic;
    this.members = identitiesFor(buckets, prefix).map((identity, i) => ({ identity, bucket: buckets[i], ws: null }));
    this.pathOf = new Map(); // identity -> path of its open connection
    this.stopped = false;
    this.reconnects = 0;
    gw.router.on('connection', ({ path, identity }) => this.pathOf.set(identity, path));
    // A moved client's new connection may open before its old one's close
    // is reported: only a close on the path it is on now removes it.
    gw.dispatch.on('close', ({ identity, path }) => {
      if (this.pathOf.get(identity) === path) this.pathOf.delete(identity);
    });
  }

  async start() {
    await Promise.all(this.members.map((m) => this.#open(m)));
  }

  async #open(member) {
    const ws = await connect(this.gw.url(`/ws?topics=${this.topic}`), { headers: { 'x-client-id': member.identity } });
    member.ws = ws;
    ws.once('close', (code, reason) => {
      if (this.stopped || code !== 1012) return;
      const retry = retryHintMs(reason);
      this.reconnects += 1;
      setTimeout(() => {
        if (!this.stopped) this.#open(member).catch(() => {});
      }, retry);
    });
  }

  // Whether every member is open on the path its bucket gives at `percent`.
  followsSplit(percent) {
    return this.members.every((m) => this.pathOf.get(m.identity) === (m.bucket < percent ? 'native' : 'legacy'));
  }

  count(path) {
    return this.members.filter((m) => this.pathOf.get(m.identity) === path).length;
  }

  // Members whose bucket is native at `to` but was not at `from`.
  movingUp(from, to) {
    return this.members.filter((m) => m.bucket >= from && m.bucket < to).length;
  }

  stop() {
    this.stopped = true;
    for (const m of this.members) if (m.ws) m.ws.close();
  }
}

module.exports = { Fleet, identitiesFor };
