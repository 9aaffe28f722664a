'use strict';
// What the addon's calls return (native/core/src/dispatcher.cc toString(CallStatus)).

module.exports = Object.freeze({
  OK: 'ok',
  BUSY: 'native core is overloaded (worker inbox full)',
  FULL: 'native core is at max_connections',
});
