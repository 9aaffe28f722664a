'use strict';
// Jest's roots is test/js: the RFC 6455 conformance suite lives in
// test/conformance/ (cases.js, raw-client.js) and runs from here.

require('../conformance/conformance.test.js');
