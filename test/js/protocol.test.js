'use strict';
// lib/protocol.js is the JS copy of facts the core keeps in C++ (options.h,
// close_codes.h, event_decoder.h). The addon exports its side: the two must
// agree, or the paths drift apart (as the topic-limit reason once did).

const protocol = require('../../lib/protocol');
const { loadAddon } = require('../../lib/native-path');
const ficus = require('../..');

const addon = loadAddon();
const withAddon = addon ? test : test.skip;

withAddon('option defaults: every option the core has, with the same default', () => {
  const { native, ...jsDefaults } = protocol.DEFAULTS; // `native` is JS-only: whether to start the core
  expect(native).toBe(true);
  expect(addon.defaults).toEqual(jsDefaults);
});

withAddon('option ranges: the same bounds on both sides', () => {
  expect(addon.ranges).toEqual(protocol.RANGES);
});

withAddon('limits: close-reason bytes, nesting depth, listen backlog', () => {
  expect(addon.limits).toEqual(protocol.LIMITS);
});

withAddon('policy close reasons: the same texts', () => {
  expect(addon.closeReasons).toEqual(protocol.CLOSE_REASONS);
});

withAddon('the script that appends a batch to a shared stream: the same on both writers', () => {
  expect(addon.streamAppendScript).toBe(require('../../lib/redis-stream').APPEND_SCRIPT);
});

withAddon('call statuses are distinct codes', () => {
  const codes = Object.values(addon.callStatus);
  expect(new Set(codes).size).toBe(codes.length);
  expect(addon.callStatus.ok).toBe(0);
});

test('the public defaults are protocol.js\'s, frozen', () => {
  expect(ficus.defaults).toBe(protocol.DEFAULTS);
  expect(Object.isFrozen(ficus.defaults)).toBe(true);
});

test('every range rejects just outside and accepts its ends', async () => {
  for (const [name, [min, max]] of Object.entries(protocol.RANGES)) {
    for (const value of [min, max]) {
      // Only the validation: `native: false` starts no thread.
      const d = ficus.createDispatcher({ native: false, [name]: value });
      await d.close();
    }
    expect(() => ficus.createDispatcher({ native: false, [name]: max + 1 })).toThrow(RangeError);
    if (min > 0) expect(() => ficus.createDispatcher({ native: false, [name]: min - 1 })).toThrow(RangeError);
  }
});

test('sendable close codes follow RFC 6455 7.4', () => {
  const sendable = [1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1013, 1014, 3000, 4999];
  const never = [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000];
  for (const code of sendable) expect(protocol.isSendableCloseCode(code)).toBe(true);
  for (const code of never) expect(protocol.isSendableCloseCode(code)).toBe(false);
});
