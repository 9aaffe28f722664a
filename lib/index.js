'use strict';
// ficus: route a live percentage of a Node gateway's WebSocket upgrades
// into a native, multithreaded dispatch core. See docs/api.md.

const { Dispatcher, createDispatcher } = require('./dispatcher');
const { DEFAULTS, LIMITS } = require('./protocol');
const { Router } = require('./router');
const { FicusError, codes } = require('./errors');
const { validateEventObject, decodeEvent } = require('./events');
const { bucketOf } = require('./bucket');
const { nativeAvailable } = require('./native-path');
const { checks } = require('./rollout-checks');
const v = require('./validate');

module.exports = {
  createDispatcher,
  Dispatcher,
  Router,
  FicusError,
  errorCodes: codes,
  defaults: DEFAULTS,
  limits: LIMITS,
  // Rollout checks (router.rollout({ checks })): factories of the built-in ones.
  checks,
  validateEvent(event) {
    if (typeof event !== 'string' && (event === null || typeof event !== 'object')) {
      throw v.typeError('an event object, a JSON string or a Buffer', 'event', event);
    }
    if (typeof event === 'string' || Buffer.isBuffer(event)) {
      const decoded = decodeEvent(event);
      return decoded.ok ? null : decoded.error;
    }
    return validateEventObject(event);
  },
  bucketOf(identity, salt) {
    return bucketOf(v.string(identity, 'identity'), v.string(salt, 'salt'));
  },
  get nativeAvailable() {
    return nativeAvailable();
  },
};
