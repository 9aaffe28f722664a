'use strict';
// The server's end of the probe connections (lib/probes.js), per path, as
// the dispatcher sees them: so that its 'close' and 'message' events and
// its stats leave them out. Both paths count every connection they hold;
// this takes the probes' share back out of their connection counts and
// close codes.

const { closeCodeKey } = require('./protocol');

const PATHS = ['native', 'legacy'];

class ProbeConnections {
  #open = { native: new Set(), legacy: new Set() };
  #closedByCode = { native: {}, legacy: {} };

  opened(path, id) {
    this.#open[path].add(id);
  }

  has(path, id) {
    return this.#open[path].has(id);
  }

  // Whether the connection that closed ({ id, code }) was a probe's.
  closed(path, { id, code }) {
    if (!this.#open[path].delete(id)) return false;
    const closes = this.#closedByCode[path];
    const key = closeCodeKey(code);
    closes[key] = (closes[key] || 0) + 1;
    return true;
  }

  count(path) {
    return this.#open[path].size;
  }

  // `paths`: stats().paths (modified in place, closedByCode copied).
  exclude(paths) {
    for (const path of PATHS) {
      const p = paths[path];
      p.connections = Math.max(0, p.connections - this.#open[path].size);
      const closes = { ...(p.closedByCode || {}) };
      for (const [code, n] of Object.entries(this.#closedByCode[path])) {
        if (closes[code] !== undefined) closes[code] = Math.max(0, closes[code] - n);
      }
      p.closedByCode = closes;
    }
    return paths;
  }
}

module.exports = { ProbeConnections };
