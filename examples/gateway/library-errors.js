'use strict';
// What the library's errors mean over HTTP: it validates every argument
// (TypeError/RangeError naming the field), so the admin routes pass bodies
// through and answer its message as a 400 rather than repeat its rules.

const ficus = require('../..');
const { HttpError } = require('./http-util');

const STATUS_BY_CODE = {
  [ficus.errorCodes.ROLLOUT]: 409, // a second plan, or pause/resume/abort in the wrong state
  [ficus.errorCodes.NATIVE_UNAVAILABLE]: 409, // a native fault without a native core
  [ficus.errorCodes.CLOSED]: 503, // shutting down
};

// Runs fn(); a library refusal becomes the HttpError it stands for, any
// other error passes unchanged (a 500: a bug).
function asHttp(fn) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new HttpError(400, err.message);
    if (err instanceof ficus.FicusError && STATUS_BY_CODE[err.code]) throw new HttpError(STATUS_BY_CODE[err.code], err.message);
    throw err;
  }
}

module.exports = { asHttp };
