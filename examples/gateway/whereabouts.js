'use strict';
// Which path each connected identity is on, from the router's 'connection'
// events and the dispatcher's 'close' events, so GET /admin/whereis can say
// where a given client_id really landed (not only where it would land now).

// identity -> open connections * 2 + 1 if the newest is native: a small
// integer, not an object, per connected identity.
const NATIVE = 1;

class Whereabouts {
  constructor() {
    this.byIdentity = new Map();
  }

  track(router, dispatch) {
    router.on('connection', ({ path, identity }) => this.opened(identity, path));
    dispatch.on('close', ({ identity }) => this.closed(identity));
    return this;
  }

  opened(identity, path) {
    const count = (this.byIdentity.get(identity) ?? 0) >> 1;
    // The newest connection decides the path.
    this.byIdentity.set(identity, (count + 1) * 2 + (path === 'native' ? NATIVE : 0));
  }

  closed(identity) {
    const packed = this.byIdentity.get(identity);
    if (packed === undefined) return;
    if (packed >> 1 <= 1) this.byIdentity.delete(identity);
    else this.byIdentity.set(identity, packed - 2);
  }

  // { path, count } or undefined.
  get(identity) {
    const packed = this.byIdentity.get(identity);
    if (packed === undefined) return undefined;
    return { path: packed & NATIVE ? 'native' : 'legacy', count: packed >> 1 };
  }
}

module.exports = { Whereabouts };
