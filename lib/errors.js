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
  UPGRADE_REFUSED: 'ERR_FICUS_UPGRADE_REFUSED', // authenticate/key/path threw, or a bad Grant
  REDIS: 'ERR_FICUS_REDIS', // the bridge lost or could not reach Redis (it retries)
  ROLLOUT: 'ERR_FICUS_ROLLOUT', // a second rollout on a router, or pause/resume/abort in the wrong state
  PROBES: 'ERR_FICUS_PROBES', // a second set of probes on a router
  MISSING_PEER: 'ERR_FICUS_MISSING_PEER', // an optional peer dependency (redis, prom-client) is not installed
});

// What 'error' listeners receive: a FicusError with our code, the original
// error as its cause and its message unchanged.
function wrap(code, error) {
  if (error instanceof FicusError) return error;
  const message = error && error.message ? error.message : String(error);
  return new FicusError(code, message, { cause: error });
}

// An application callback that threw inside one of our callbacks: thrown
// again on its own tick, where Node reports it like any uncaught exception,
// so the rest of our work (a batch, a hand-off) is not lost and it is not
// silent either.
function rethrowLater(error) {
  process.nextTick(() => {
    throw error;
  });
}

module.exports = { FicusError, codes, wrap, rethrowLater };
