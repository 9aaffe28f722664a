'use strict';
// lib/events against the native decoder's verdicts: the shared event
// table (fixtures/events.json, expectations produced by the C++
// EventDecoder and checked against it by test/native/event_fixtures_test.cc),
// client messages, NDJSON splitting, RFC 3339, and events given as objects.
// Every decoder test runs twice: through the addon (exact texts) and through
// the JS fallback used without the addon (same verdicts; syntax errors and
// invalid UTF-8 may be worded otherwise, see docs/api.md).

const path = require('node:path');
const { isRfc3339Timestamp, forEachLine } = require('../../lib/events');
const table = require('./fixtures/events.json');

const withAddon = require('../../lib/events');
const nativePath = require('../../lib/native-path');
// A second copy of lib/ whose addon cannot load: lib/events falls back.
let withoutAddon;
let nativeWithoutAddon;
jest.isolateModules(() => {
  const saved = process.env.FICUS_ADDON_PATH;
  process.env.FICUS_ADDON_PATH = path.join(__dirname, 'no-such-addon.node');
  try {
    withoutAddon = require('../../lib/events');
    nativeWithoutAddon = require('../../lib/native-path');
  } finally {
    if (saved === undefined) delete process.env.FICUS_ADDON_PATH;
    else process.env.FICUS_ADDON_PATH = saved;
  }
});

// Texts that only say the input is not JSON (or not UTF-8): the fallback
// words these after JSON.parse and TextDecoder.
const SYNTAX = /^(not valid JSON|invalid UTF-8)/;

// The exact native verdict, or for the fallback the same verdict with a
// syntax-error text where the native one is a syntax error (or, for
// `syntaxFirst`, a field error the native decoder meets before one).
function expectVerdict(actual, expected, exact, syntaxFirst = false) {
  if (exact || expected.ok || !(SYNTAX.test(expected.error) || syntaxFirst)) {
    expect(actual).toEqual(expected);
    return;
  }
  expect(actual.ok).toBe(false);
  expect(actual.error).toMatch(SYNTAX);
}

// The same for validateEventObject's null-or-reason.
function expectReason(actual, expected, exact) {
  if (exact || expected === null || !SYNTAX.test(expected)) {
    expect(actual).toBe(expected);
    return;
  }
  expect(actual).toMatch(SYNTAX);
}

const DECODERS = [['through the addon', withAddon, true], ['without the addon', withoutAddon, false]];

describe('access to the addon', () => {
  test('lib/native-path exposes the addon\'s decoders, or null without the addon', () => {
    expect(nativePath.loadAddon()).not.toBe(null);
    expect(typeof nativePath.nativeDecoders().decodeEvent).toBe('function');
    expect(typeof nativePath.nativeDecoders().decodeClientMessage).toBe('function');
    expect(nativeWithoutAddon.nativeDecoders()).toBe(null);
    expect(nativeWithoutAddon.loadError.message).toMatch(/FICUS_ADDON_PATH=.*no-such-addon\.node does not exist/);
  });

  test('the addon\'s decoders check their arguments', () => {
    const { decodeEvent, decodeClientMessage } = nativePath.nativeDecoders();
    // The addon's errors come from Node's realm, not Jest's: compare names.
    const thrown = (fn) => {
      try {
        fn();
      } catch (err) {
        return `${err.name}: ${err.message}`;
      }
      return 'nothing thrown';
    };
    for (const decode of [decodeEvent, decodeClientMessage]) {
      expect(thrown(() => decode(42))).toBe('TypeError: bytes: expected a Buffer, Uint8Array or string');
      expect(thrown(() => decode(new Uint16Array(2)))).toMatch(/^TypeError: bytes:/);
      expect(thrown(() => decode('{}', 'x'))).toBe('TypeError: limits: expected an object');
      expect(thrown(() => decode('{}', { maxDepth: '3' }))).toBe('TypeError: limits.maxDepth: expected an integer');
      expect(thrown(() => decode('{}', { maxDepth: -1 })))
        .toBe('RangeError: limits.maxDepth: expected an integer from 0 to 4294967295');
      expect(thrown(() => decode('{}', { maxTopicBytes: 1.5 })))
        .toBe('RangeError: limits.maxTopicBytes: expected an integer from 0 to 9007199254740992');
      expect(thrown(() => decode('{}', { maxEventBytes: 2 ** 53 + 2 }))).toMatch(/^RangeError: limits\.maxEventBytes:/);
    }
    expect(decodeEvent('{}', null)).toEqual({ ok: false, error: 'missing field: order_id' });
    expect(decodeEvent('{}', { maxEventBytes: 1 })).toEqual({ ok: false, error: 'event: larger than 1 bytes' });
    expect(decodeClientMessage(Buffer.from('{"type":"subscribe","topics":["a"]}'), {}))
      .toEqual({ type: 'subscribe', topics: ['a'] });
  });
});

// The input bytes of one fixture case (see the fixture's description).
function bytesOf(testCase) {
  if (testCase.hex !== undefined) return Buffer.from(testCase.hex, 'hex');
  let text = testCase.text;
  for (const [key, [unit, count]] of Object.entries(testCase.expand || {})) {
    text = text.replace(key, unit.repeat(count));
  }
  return Buffer.from(text, 'utf8');
}

const VALID = '{"order_id":"o1","status":"s","timestamp":"2026-11-27T10:00:00Z"}';

describe.each(DECODERS)('the shared event table, %s', (label, { decodeEvent, validateEventObject }, exact) => {
  test('has enough cases of both verdicts', () => {
    expect(table.cases.length).toBeGreaterThanOrEqual(40);
    expect(table.cases.filter((c) => c.expect.ok).length).toBeGreaterThanOrEqual(10);
    expect(table.cases.filter((c) => !c.expect.ok).length).toBeGreaterThanOrEqual(30);
    expect(new Set(table.cases.map((c) => c.name)).size).toBe(table.cases.length);
  });

  test.each(table.cases.map((c) => [c.name, c]))('%s (bytes)', (name, testCase) => {
    expectVerdict(decodeEvent(bytesOf(testCase)), testCase.expect, exact, testCase.fallbackSyntaxError);
  });

  const textCases = table.cases.filter((c) => c.hex === undefined);
  test.each(textCases.map((c) => [c.name, c]))('%s (string)', (name, testCase) => {
    expectVerdict(decodeEvent(bytesOf(testCase).toString('utf8')), testCase.expect, exact, testCase.fallbackSyntaxError);
  });

  test('a Uint8Array is decoded like a Buffer', () => {
    const bytes = new Uint8Array(Buffer.from(`  ${VALID}`)).subarray(2);
    expect(decodeEvent(bytes)).toEqual({ ok: true, orderTopic: 'order:o1', driverTopic: null });
  });

  // An object judged by validateEventObject gets the verdict its
  // serialization gets from the decoder.
  test.each(textCases.map((c) => [c.name, c]))('%s (as an object)', (name, testCase) => {
    let object;
    try {
      object = JSON.parse(bytesOf(testCase).toString('utf8'));
    } catch {
      return; // not JSON: no object to judge
    }
    let text;
    try {
      text = JSON.stringify(object);
    } catch {
      // Too deep for JSON.stringify's recursion: far past the depth limit.
      expect(validateEventObject(object)).toBe('nesting deeper than 32');
      return;
    }
    const serialized = decodeEvent(text);
    expect(validateEventObject(object)).toBe(serialized.ok ? null : serialized.error);
  });
});

describe.each(DECODERS)('decodeEvent limits and edge cases, %s', (label, { decodeEvent }) => {
  test('maxEventBytes counts UTF-8 bytes, not UTF-16 units', () => {
    const text = VALID.replace('"s"', `"${'é'.repeat(40)}"`);
    const bytes = Buffer.byteLength(text);
    expect(decodeEvent(text, { maxEventBytes: bytes }).ok).toBe(true);
    expect(decodeEvent(text, { maxEventBytes: bytes - 1 })).toEqual({
      ok: false,
      error: `event: larger than ${bytes - 1} bytes`,
    });
    expect(decodeEvent(Buffer.from(text), { maxEventBytes: bytes - 1 }).ok).toBe(false);
  });

  test('maxDepth is configurable', () => {
    const text = VALID.replace('}', ',"n":[[1]]}');
    expect(decodeEvent(text, { maxDepth: 3 }).ok).toBe(true);
    expect(decodeEvent(text, { maxDepth: 2 })).toEqual({ ok: false, error: 'nesting deeper than 2' });
  });

  test('a JS string with a lone surrogate is judged as its UTF-8 encoding (U+FFFD)', () => {
    const text = VALID.replace('"o1"', '"o\ud800"');
    expect(decodeEvent(text)).toEqual({ ok: true, orderTopic: 'order:o\ufffd', driverTopic: null });
  });

  test('the same event decodes the same way many times (no state leaks between calls)', () => {
    const inputs = table.cases.map((c) => bytesOf(c));
    const first = inputs.map((b) => decodeEvent(b));
    for (let round = 0; round < 3; round += 1) {
      expect(inputs.map((b) => decodeEvent(b))).toEqual(first);
    }
  });
});

describe('isRfc3339Timestamp', () => {
  test.each([
    ['2026-11-27T10:00:00Z', true],
    ['2026-11-27t10:00:00z', true],
    ['2026-11-27T10:00:00.1Z', true],
    ['2026-11-27T10:00:00.123456789-23:59', true],
    ['2024-02-29T00:00:00Z', true],
    ['2000-02-29T00:00:00Z', true],
    ['2026-12-31T23:59:60Z', true],
    ['0000-01-01T00:00:00Z', true],
    ['2023-02-29T00:00:00Z', false],
    ['2100-02-29T00:00:00Z', false],
    ['2026-02-30T00:00:00Z', false],
    ['2026-06-31T00:00:00Z', false],
    ['2026-00-10T00:00:00Z', false],
    ['2026-11-00T00:00:00Z', false],
    ['2026-11-27T24:00:00Z', false],
    ['2026-11-27T10:60:00Z', false],
    ['2026-11-27T10:00:61Z', false],
    ['2026-11-27T10:00:00', false],
    ['2026-11-27T10:00:00.Z', false],
    ['2026-11-27T10:00:00+02', false],
    ['2026-11-27T10:00:00+02:60', false],
    ['2026-11-27T10:00:00Z ', false],
    ['2026-11-27 10:00:00Z', false],
    ['2026-1-27T10:00:00Z', false],
    ['２026-11-27T10:00:00Z', false],
    ['', false],
  ])('%s -> %s', (text, expected) => {
    expect(isRfc3339Timestamp(text)).toBe(expected);
  });
});

describe('forEachLine', () => {
  function lines(input) {
    const seen = [];
    forEachLine(input, (line, index) => seen.push([index, Buffer.isBuffer(line) ? line.toString() : line]));
    return seen;
  }

  test.each([
    ['', []],
    ['a', [[0, 'a']]],
    ['a\n', [[0, 'a']]],
    ['a\nb', [[0, 'a'], [1, 'b']]],
    ['a\r\nb\r\n', [[0, 'a'], [1, 'b']]],
    ['\n\na\n \t \n\nb\n', [[0, 'a'], [1, 'b']]],
    ['a\r\r\n', [[0, 'a\r']]], // one trailing \r is trimmed
    ['\r\n\r\n', []],
    [' a \n', [[0, ' a ']]],
    ['\u00a0\n', [[0, '\u00a0']]], // only spaces and tabs are blank
  ])('%j', (input, expected) => {
    expect(lines(input)).toEqual(expected);
    expect(lines(Buffer.from(input))).toEqual(expected);
  });

  test.each(DECODERS)('NDJSON: each line is judged on its own, indexes count non-blank lines (%s)', (label, { decodeEvent }, exact) => {
    const ndjson = [
      VALID,
      '',
      '{"order_id":"o2","status":"s","timestamp":"2026-11-27T10:00:00Z","driver_id":"d2"}\r',
      '{"order_id":"o3"}',
      '   ',
      'not json',
      VALID.replace('"o1"', '"o\\u0034"'),
    ].join('\n');
    const verdicts = [];
    forEachLine(ndjson, (line, index) => verdicts.push([index, decodeEvent(line)]));
    const expected = [
      [0, { ok: true, orderTopic: 'order:o1', driverTopic: null }],
      [1, { ok: true, orderTopic: 'order:o2', driverTopic: 'driver:d2' }],
      [2, { ok: false, error: 'missing field: status' }],
      [3, { ok: false, error: 'not valid JSON at offset 1: Invalid value.' }], // "n" starts null
      [4, { ok: true, orderTopic: 'order:o4', driverTopic: null }],
    ];
    expect(verdicts.map(([index]) => index)).toEqual(expected.map(([index]) => index));
    verdicts.forEach(([, verdict], i) => expectVerdict(verdict, expected[i][1], exact));
  });
});

// Both decoders give the native texts here: none is a syntax error.
describe.each(DECODERS)('decodeClientMessage, %s', (label, { decodeClientMessage }) => {
  // Expectations checked against the C++ decodeClientMessage with these
  // limits.
  const limits = { maxTopicsPerMessage: 4, maxTopicBytes: 16 };
  const sub = (...topics) => ({ type: 'subscribe', topics });
  const invalid = (error) => ({ type: 'invalid', error });
  const other = { type: 'other' };

  test.each([
    ['{"type":"subscribe","topics":["order:o1","driver:d2"]}', sub('order:o1', 'driver:d2')],
    ['{"type":"unsubscribe","topics":["order:o1"]}', { type: 'unsubscribe', topics: ['order:o1'] }],
    ['{"topics":["a"],"type":"subscribe"}', sub('a')],
    ['{"type":"subscribe","topics":[]}', sub()],
    ['{"type":"subscribe","topics":["a","a"]}', sub('a', 'a')],
    ['{"type":"subscribe","topics":["a"],"extra":{"type":"x"}}', sub('a')],
    ['{"\\u0074ype":"subscribe","topics":["o\\u0031"]}', sub('o1')],
    ['{"type":"subscribe","topics":["é"]}', sub('é')],
    ['{"type":"subscribe","topics":["1234567890123456"]}', sub('1234567890123456')],
    ['{"type":"hello"}', other],
    ['{"type":"Subscribe","topics":["a"]}', other],
    ['{"type":["subscribe"],"topics":["a"]}', other],
    ['{"type":"hello","type":"hello"}', other],
    ['hello', other],
    ['', other],
    ['["subscribe"]', other],
    ['"subscribe"', other],
    ['{"type":"subscribe","topics":["a"]', other],
    ['{"type":"subscribe","topics":["a"]}\u0000', other],
    [`{"type":"subscribe","topics":["a"],"x":${'['.repeat(40)}${']'.repeat(40)}}`, other],
    ['{"type":"unsubscribe","topics":["\\ud800"]}', other],
    ['{"type":"subscribe"}', invalid('missing field: topics')],
    ['{"type":"subscribe","type":"subscribe","topics":["a"]}', invalid('duplicate field: type')],
    ['{"type":"subscribe","type":"hello","topics":["a"]}', invalid('duplicate field: type')],
    ['{"type":"subscribe","topics":["a"],"topics":["b"]}', invalid('duplicate field: topics')],
    ['{"type":"subscribe","topics":"a"}', invalid('topics: expected an array of non-empty strings')],
    ['{"type":"subscribe","topics":null}', invalid('topics: expected an array of non-empty strings')],
    ['{"type":"subscribe","topics":[""]}', invalid('topics[0]: expected a non-empty string')],
    ['{"type":"subscribe","topics":["a",1]}', invalid('topics[1]: expected a non-empty string')],
    ['{"type":"subscribe","topics":[["a"]]}', invalid('topics[0]: expected a non-empty string')],
    ['{"type":"subscribe","topics":["12345678901234567"]}', invalid('topics[0]: longer than 16 bytes')],
    ['{"type":"subscribe","topics":["a","b","c","d","e"]}', invalid('topics: more than 4 topics')],
    ['{"type":"subscribe","topics":["a","b","c","d",""]}', invalid('topics: more than 4 topics')],
    ['{"type":"subscribe","topics":["","b","c","d","e"]}', invalid('topics[0]: expected a non-empty string')],
    ['{"type":"unsubscribe","topics":["\\udc00"]}', invalid('topics[0]: unpaired UTF-16 surrogate escape')],
    // A subscribe's "since" (stream positions): kept as a string, '' when it cannot be a position.
    ['{"type":"subscribe","topics":["a"],"since":"3f2a9c0d1e4b5a69-1733385600123-0"}',
      { ...sub('a'), since: '3f2a9c0d1e4b5a69-1733385600123-0' }],
    ['{"since":"x","type":"subscribe","topics":[]}', { ...sub(), since: 'x' }],
    ['{"type":"subscribe","topics":["a"],"since":17}', { ...sub('a'), since: '' }],
    ['{"type":"subscribe","topics":["a"],"since":{"pos":"x"}}', { ...sub('a'), since: '' }],
    [`{"type":"subscribe","topics":["a"],"since":"${'1'.repeat(65)}"}`, { ...sub('a'), since: '' }],
    ['{"type":"subscribe","topics":["a"],"x":{"since":"y"}}', sub('a')],
    ['{"type":"unsubscribe","topics":["a"],"since":"x"}', { type: 'unsubscribe', topics: ['a'] }],
  ])('%s', (text, expected) => {
    expect(decodeClientMessage(text, limits)).toEqual(expected);
    expect(decodeClientMessage(Buffer.from(text), limits)).toEqual(expected);
  });

  test('default limits: 256 topics of 256 bytes', () => {
    const topics = Array.from({ length: 256 }, (_, i) => `t${i}`.padEnd(256, 'x'));
    expect(decodeClientMessage(JSON.stringify({ type: 'subscribe', topics }))).toEqual(sub(...topics));
    expect(decodeClientMessage(JSON.stringify({ type: 'subscribe', topics: [...topics, 'one more'] })))
      .toEqual(invalid('topics: more than 256 topics'));
    expect(decodeClientMessage(JSON.stringify({ type: 'subscribe', topics: ['x'.repeat(257)] })))
      .toEqual(invalid('topics[0]: longer than 256 bytes'));
  });

  test('topic length is counted in UTF-8 bytes', () => {
    expect(decodeClientMessage('{"type":"subscribe","topics":["éééééééé"]}', limits)).toEqual(sub('éééééééé'));
    expect(decodeClientMessage('{"type":"subscribe","topics":["ééééééééa"]}', limits))
      .toEqual(invalid('topics[0]: longer than 16 bytes'));
  });
});

describe.each(DECODERS)('validateEventObject, %s', (label, { validateEventObject }, exact) => {
  // `levels` arrays inside each other.
  const nested = (levels) => {
    let value = [];
    for (let i = 1; i < levels; i += 1) value = [value];
    return value;
  };
  const event = { order_id: 'o1', status: 's', timestamp: '2026-11-27T10:00:00Z' };

  test.each([
    ['a valid event', event, null],
    ['with driver_id', { ...event, driver_id: 'd1' }, null],
    ['with driver_id null', { ...event, driver_id: null }, null],
    ['with driver_id undefined (left out by JSON)', { ...event, driver_id: undefined }, null],
    ['with driver_id NaN (written as null)', { ...event, driver_id: NaN }, null],
    ['with extra fields', { ...event, sent_ns: 1795860000000000000, meta: { a: [1, { b: null }] } }, null],
    ['with a Date timestamp (toJSON)', { ...event, timestamp: new Date(Date.UTC(2026, 10, 27)) }, null],
    ['not an object', 'hello', 'event: expected a JSON object'],
    ['null', null, 'event: expected a JSON object'],
    ['an array', [event], 'event: expected a JSON object'],
    ['order_id missing', { status: 's', timestamp: event.timestamp }, 'missing field: order_id'],
    ['order_id undefined', { ...event, order_id: undefined }, 'missing field: order_id'],
    ['status a function', { ...event, status: () => 's' }, 'missing field: status'],
    ['order_id empty', { ...event, order_id: '' }, 'order_id: expected a non-empty string'],
    ['order_id a number', { ...event, order_id: 1 }, 'order_id: expected a non-empty string'],
    ['status a number', { ...event, status: 1 }, 'status: expected a string'],
    ['timestamp not RFC 3339', { ...event, timestamp: '2026-02-30T00:00:00Z' },
      'timestamp: expected an RFC 3339 date-time'],
    ['driver_id empty', { ...event, driver_id: '' }, 'driver_id: expected a non-empty string or null'],
    ['driver_id a number', { ...event, driver_id: 3 }, 'driver_id: expected a string or null'],
    // Errors come in the order JSON.stringify writes the keys.
    ['the first bad field in key order', { status: 1, order_id: '', timestamp: 'x' }, 'status: expected a string'],
    ['a lone low surrogate in order_id', { ...event, order_id: 'o\udc00' },
      'order_id: unpaired UTF-16 surrogate escape'],
    ['a lone low surrogate elsewhere', { ...event, note: '\udc00' }, null],
    ['a lone high surrogate elsewhere', { ...event, note: 'ab\ud800' },
      'not valid JSON at offset 75: The surrogate pair in string is invalid.'],
    ['32 levels of nesting', { ...event, n: nested(31) }, null],
    ['33 levels of nesting', { ...event, n: nested(32) },
      'nesting deeper than 32'],
    ['larger than 65536 bytes serialized', { ...event, pad: 'x'.repeat(65536) }, 'event: larger than 65536 bytes'],
    ['large but within the limit', { ...event, pad: '\u0001'.repeat(10000) }, null],
    ['a BigInt', { ...event, n: 1n }, 'event: not serializable as JSON: Do not know how to serialize a BigInt'],
  ])('%s', (name, object, expected) => {
    expectReason(validateEventObject(object), expected, exact);
  });

  test('a cycle is reported, not followed', () => {
    const cyclic = { ...event };
    cyclic.self = cyclic;
    expect(validateEventObject(cyclic)).toMatch(/^event: not serializable as JSON: Converting circular structure/);
  });

  test('limits apply to the serialized event', () => {
    const big = { ...event, pad: 'x'.repeat(100) };
    const size = Buffer.byteLength(JSON.stringify(big));
    expect(validateEventObject(big, { maxEventBytes: size })).toBe(null);
    expect(validateEventObject(big, { maxEventBytes: size - 1 })).toBe(`event: larger than ${size - 1} bytes`);
    expect(validateEventObject({ ...event, n: [[1]] }, { maxDepth: 2 })).toBe('nesting deeper than 2');
  });
});
