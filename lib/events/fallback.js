'use strict';
// The decoders used without the addon: JSON.parse for the syntax, then one
// walk over the valid text, in document order, for what JSON.parse accepts
// but the native decoder (native/core/src/event_decoder.cc) rejects or
// judges: nesting, numbers too big for a double, unpaired high-surrogate
// escapes, repeated keys, the fields.
//
// Verdicts agree with the native decoder on every case of
// test/js/fixtures/events.json. Texts agree too, except that syntax errors
// and invalid UTF-8 are worded after JSON.parse and TextDecoder ("not valid
// JSON: Unexpected token …", "invalid UTF-8", no RapidJSON offsets), and
// that a syntax error is reported even when the native decoder would have
// met a bad field (or a root that is not an object) before it. Numbers count as too big when JSON.parse makes
// them infinite (RapidJSON's rule differs near 1.8e308).

const { isRfc3339Timestamp } = require('./timestamp');

const OTHER = Object.freeze({ type: 'other' });
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_HIGH_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])/;
const FIELDS = ['order_id', 'status', 'timestamp', 'driver_id'];

// A Buffer or Uint8Array as a string, or null when it is not UTF-8; a
// string with lone surrogates as its UTF-8 encoding would read (U+FFFD).
function textOf(input) {
  if (typeof input === 'string') return input.isWellFormed() ? input : input.toWellFormed();
  try {
    return utf8.decode(input);
  } catch {
    return null;
  }
}

// Index of the quote that ends the string opening at `start`.
function stringEnd(text, start) {
  let end = start;
  for (;;) {
    end = text.indexOf('"', end + 1);
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return end;
  }
}

function isStructural(code) {
  return code === 0x2c || code === 0x5d || code === 0x7d || code === 0x20 ||
    code === 0x09 || code === 0x0a || code === 0x0d;
}

// Walks valid JSON `text` like the native SAX handlers see it: on(kind,
// value, depth, isKey) for each key and value (containers before their
// contents; depth 0 is the root). Returns the first error, from the walk or
// from `on`, or null.
function walk(text, maxDepth, on) {
  const open = []; // 0x7b or 0x5b for each enclosing container
  let previous = 0; // the last of { [ , :
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    let error = null;
    if (c === 0x2c || c === 0x3a || c === 0x7b || c === 0x5b) {
      if (c === 0x7b || c === 0x5b) {
        error = on(c === 0x7b ? 'object' : 'array', '', open.length, false) ||
          (open.length >= maxDepth ? `nesting deeper than ${maxDepth}` : null);
        open.push(c);
      }
      previous = c;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
    } else if (c === 0x22) {
      const end = stringEnd(text, i);
      const raw = text.slice(i + 1, end);
      const escaped = raw.includes('\\');
      const value = escaped ? JSON.parse(text.slice(i, end + 1)) : raw;
      if (escaped && LONE_HIGH_SURROGATE.test(value)) return 'not valid JSON: The surrogate pair in string is invalid.';
      const isKey = open[open.length - 1] === 0x7b && previous !== 0x3a;
      error = on('string', value, open.length, isKey);
      i = end;
    } else if (!isStructural(c)) {
      let end = i + 1;
      while (end < text.length && !isStructural(text.charCodeAt(end))) end += 1;
      const token = text.slice(i, end);
      let kind = 'number';
      if (token === 'null') kind = 'null';
      else if (token === 'true' || token === 'false') kind = 'bool';
      else if (!Number.isFinite(Number(token))) return 'not valid JSON: Number too big to be stored in double.';
      error = on(kind, '', open.length, false);
      i = end - 1;
    }
    if (error) return error;
  }
  return null;
}

// Parses `input` (string or bytes): the text, or { error } for bytes that
// are not UTF-8 or text that is not JSON.
function parse(input) {
  const text = textOf(input);
  if (text === null) return { error: 'invalid UTF-8' };
  try {
    JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON: ${err.message}` };
  }
  return { text };
}

function decodeEvent(input, limits) {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > limits.maxEventBytes) return { ok: false, error: `event: larger than ${limits.maxEventBytes} bytes` };
  const { text, error: syntaxError } = parse(input);
  if (syntaxError) return { ok: false, error: syntaxError };
  const values = {};
  let pending = null; // the field whose value comes next
  const error = walk(text, limits.maxDepth, (kind, value, depth, isKey) => {
    if (depth === 0) return kind === 'object' ? null : 'event: expected a JSON object';
    if (isKey && depth === 1) {
      pending = FIELDS.includes(value) ? value : null;
      return pending !== null && pending in values ? `duplicate field: ${value}` : null;
    }
    if (depth !== 1 || pending === null) return null;
    const field = pending;
    pending = null;
    values[field] = value;
    return fieldError(field, kind, value);
  });
  if (error) return { ok: false, error };
  for (const field of FIELDS.slice(0, 3)) {
    if (!(field in values)) return { ok: false, error: `missing field: ${field}` };
  }
  const driverTopic = values.driver_id ? `driver:${values.driver_id}` : null; // '' for null
  return { ok: true, orderTopic: `order:${values.order_id}`, driverTopic };
}

// The native decoder's text for a bad value of `field`, or null.
function fieldError(field, kind, value) {
  const string = kind === 'string';
  switch (field) {
    case 'order_id':
      if (!string || value === '') return 'order_id: expected a non-empty string';
      return value.isWellFormed() ? null : 'order_id: unpaired UTF-16 surrogate escape';
    case 'status':
      return string ? null : 'status: expected a string';
    case 'timestamp':
      if (!string) return 'timestamp: expected a string';
      return isRfc3339Timestamp(value) ? null : 'timestamp: expected an RFC 3339 date-time';
    default: // driver_id
      if (kind === 'null') return null;
      if (!string) return 'driver_id: expected a string or null';
      if (value === '') return 'driver_id: expected a non-empty string or null';
      return value.isWellFormed() ? null : 'driver_id: unpaired UTF-16 surrogate escape';
  }
}

// A subscribe's "since" is kept only as long as a position can be
// (kMaxSinceChars in event_decoder.cc); anything else becomes '', which is
// no position.
const MAX_SINCE_BYTES = 64;

// decodeClientMessage in event_decoder.cc: anything not JSON, not an object
// or past the limits of the parse is 'other'.
function decodeClientMessage(input, limits) {
  const { text, error: syntaxError } = parse(input);
  if (syntaxError) return OTHER;
  let types = 0;
  let controlType = null;
  const topicsFields = [];
  let since; // a subscribe's "since", when it has one
  let pending = null; // 'type', 'topics', 'since' or the topics array's elements
  const error = walk(text, limits.maxDepth, (kind, value, depth, isKey) => {
    if (depth === 0) return kind === 'object' ? null : 'other';
    if (depth === 1 && isKey) {
      pending = value === 'type' || value === 'topics' || value === 'since' ? value : null;
      if (value === 'type') types += 1;
    } else if (depth === 1) {
      if (pending === 'type' && (value === 'subscribe' || value === 'unsubscribe')) controlType = value;
      if (pending === 'topics') topicsFields.push(kind === 'array' ? [] : null);
      if (pending === 'since') since = kind === 'string' && Buffer.byteLength(value) <= MAX_SINCE_BYTES ? value : '';
      pending = pending === 'topics' && kind === 'array' ? 'elements' : null;
    } else if (depth === 2 && pending === 'elements') {
      topicsFields[topicsFields.length - 1].push(kind === 'string' ? value : null);
    }
    return null;
  });
  if (error || controlType === null) return OTHER;
  let invalid;
  if (types > 1) invalid = 'duplicate field: type';
  else if (topicsFields.length === 0) invalid = 'missing field: topics';
  else if (topicsFields.length > 1) invalid = 'duplicate field: topics';
  else invalid = topicsError(topicsFields[0], limits);
  if (invalid !== null) return { type: 'invalid', error: invalid };
  if (controlType === 'subscribe' && since !== undefined) return { type: controlType, topics: topicsFields[0], since };
  return { type: controlType, topics: topicsFields[0] };
}

// The first problem with a "topics" value (null when not an array; null
// elements when not strings), or null.
function topicsError(topics, limits) {
  if (topics === null) return 'topics: expected an array of non-empty strings';
  for (let i = 0; i < topics.length; i += 1) {
    const topic = topics[i];
    if (i >= limits.maxTopicsPerMessage) return `topics: more than ${limits.maxTopicsPerMessage} topics`;
    if (topic === null || topic === '') return `topics[${i}]: expected a non-empty string`;
    if (Buffer.byteLength(topic) > limits.maxTopicBytes) return `topics[${i}]: longer than ${limits.maxTopicBytes} bytes`;
    if (!topic.isWellFormed()) return `topics[${i}]: unpaired UTF-16 surrogate escape`;
  }
  return null;
}

module.exports = { decodeEvent, decodeClientMessage };
