'use strict';
// Which path each connected identity is on, from the router's 'connection'
// events and the dispatcher's 'close' events, so GET /admin/whereis can say
// where a given client_id really landed (not only where it would land now).

class Whereabouts {
  constructor() {
    this.byIdentity = new Map(); // identity -> { path, count }
  }

  track(router, dispatch) {
    router.on('connection', ({ path, identity }) => this.opened(identity, path));
    dispatch.on('close', ({ identity }) => this.closed(identity));
    return this;
  }

  opened(identity, path) {
    const entry = this.byIdentity.get(identity);
    if (entry) {
      entry.path = path; // the newest connection decides
      entry.count += 1;
    } else {
      this.byIdentity.set(identity, { path, count: 1 });
    }
  }

  closed(identity) {
    const entry = this.byIdentity.get(identity);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count <= 0) this.byIdentity.delete(identity);
  }

  get(identity) {
    return this.byIdentity.get(identity);
  }
}

module.exports = { Whereabouts };
