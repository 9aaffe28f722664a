'use strict';
// One error class for everything the core or the router reports, with a
// stable `code` to branch on. Argument mistakes throw plain TypeError /
// RangeError (see validate.js), as Node's own APIs do.

class FicusError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'FicusError';
    this.code = code;
  }
}

const codes = Object.freeze({
  NATIVE_UNAVAILABLE: 'ERR_FICUS_NATIVE_UNAVAILABLE', // addon missing or failed to start
  CLOSED: 'ERR_FICUS_CLOSED', // the dispatcher was closed
  BUSY: 'ERR_FICUS_BUSY', // a native worker's inbox stayed full
  BRIDGED: 'ERR_FICUS_BRIDGED', // bridge() while the dispatcher's bridge is open
  PATH_TAKEN: 'ERR_FICUS_PATH_TAKEN', // attach() to a server path another router serves
  REDIS_MISSING: 'ERR_FICUS_REDIS_MISSING', // bridge() without the optional `redis` peer installed
});

// An application callback that threw inside one of our callbacks: thrown
// again on its own tick, where Node reports it like any uncaught exception,
// so the rest of our work (a batch, a hand-off) is not lost and it is not
// silent either.
function rethrowLater(error) {
  process.nextTick(() => {
    throw error;
  });
}

module.exports = { FicusError, codes, rethrowLater };
