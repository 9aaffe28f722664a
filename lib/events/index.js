'use strict';
// Event validation and client-message decoding for the JS side, with the
// verdicts and error texts of native/core/src/event_decoder.cc, so that an
// event or a subscribe message is judged the same on the legacy path as in
// the native core.
//
// The C++ decoder is a SAX handler on RapidJSON 1.1.0's iterative reader, and
// its error texts follow that reader: the first problem in document order
// wins (a bad field before a syntax error reports the field), and syntax
// errors name RapidJSON's message and byte offset. So the judge here is an
// exact port of the parts of RapidJSON's reader the C++ decoder uses
// (iterative state machine, string escapes and UTF-8 validation, number
// grammar and overflow rules, error offsets), run over UTF-8 bytes and
// driving ports of the C++ handlers. Bytes always go through it.
//
// Events given as JS strings may take a fast path instead: JSON.parse and a
// check of the four fields, taken only when a cheap scan rules out all that
// JSON.parse and RapidJSON could disagree on (\u escapes, numbers too big
// for RapidJSON, nesting past the limit, a repeated key). It can only
// accept; anything it does not accept goes to the exact decoder, so every
// rejection carries the C++ text.
//
// Files: json-reader.js (the RapidJSON port), handlers.js (the C++ SAX
// handlers), timestamp.js (RFC 3339), lines.js (NDJSON), this one (the
// entry points and the fast path).

const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_TOPIC_BYTES = 256;
const DEFAULT_MAX_TOPICS_PER_MESSAGE = 256;

const { isDigitCode, isRfc3339Timestamp } = require('./timestamp');
const { forEachLine } = require('./lines');
const { reader, E_INVALID_ENCODING } = require('./json-reader');
const { eventHandler, clientHandler, OTHER, F_ORDER_ID, F_STATUS, F_TIMESTAMP } = require('./handlers');

// ---------------------------------------------------------------------------
// Events

function maxEventBytesOf(limits) {
  return limits && limits.maxEventBytes !== undefined ? limits.maxEventBytes : DEFAULT_MAX_EVENT_BYTES;
}

function maxDepthOf(limits) {
  return limits && limits.maxDepth !== undefined ? limits.maxDepth : DEFAULT_MAX_DEPTH;
}

function tooLarge(maxEventBytes) {
  return { ok: false, error: `event: larger than ${maxEventBytes} bytes` };
}

// The exact decoder: the C++ EventDecoder::decode over UTF-8 bytes.
function decodeEventExact(bytes, maxDepth) {
  eventHandler.reset(maxDepth);
  reader.parse(bytes, eventHandler);
  let error;
  if (reader.error !== null) {
    // A handler that stopped the parse has already written its reason.
    error = eventHandler.error || (eventHandler.depthExceeded
      ? `nesting deeper than ${maxDepth}`
      : describeParseError());
  } else if (reader.pos !== bytes.length) {
    // RapidJSON reads a NUL byte as the end of input; no valid JSON text
    // contains one, so stopping short of the end is an error.
    error = `not valid JSON at offset ${reader.pos}: NUL byte`;
  } else {
    error = eventHandler.missingField();
  }
  if (error) return { ok: false, error };
  return { ok: true, orderTopic: eventHandler.orderTopic, driverTopic: eventHandler.driverTopic };
}

function describeParseError() {
  if (reader.error === E_INVALID_ENCODING) return `invalid UTF-8 at offset ${reader.errorOffset}`;
  return `not valid JSON at offset ${reader.errorOffset}: ${reader.error}`;
}

// For the fast path: the number of members of the root object (colons at
// depth 1), or -1 when the text holds anything on which JSON.parse and
// RapidJSON might disagree or decode strings differently: a \u escape (lone
// surrogates), nesting past maxDepth, an exponent of 3 digits or more or an
// integer part of 300 digits or more (the only numbers RapidJSON rejects as
// too big). Strings are skipped with indexOf; malformed text may be
// misjudged here, but JSON.parse rejects it next.
function scanForFastPath(text, maxDepth) {
  const hasEscapes = text.indexOf('\\') !== -1;
  const length = text.length;
  let depth = 0;
  let members = 0;
  for (let i = 0; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = hasEscapes ? endOfEscapedString(text, i + 1) : text.indexOf('"', i + 1);
      if (i === -1) return -1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return -1;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    } else if (c === 0x3a) {
      if (depth === 1) members += 1;
    } else if (isDigitCode(c)) {
      let end = i + 1;
      while (end < length && isDigitCode(text.charCodeAt(end))) end += 1;
      if (end - i >= 300) return -1;
      i = end - 1;
    } else if (c === 0x65 || c === 0x45) { // an exponent (or the e of true/false)
      let p = i + 1;
      const sign = text.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p += 1;
      if (isDigitCode(text.charCodeAt(p)) && isDigitCode(text.charCodeAt(p + 1)) &&
          isDigitCode(text.charCodeAt(p + 2))) {
        return -1;
      }
    }
  }
  return members;
}

// Index of the quote closing a string that starts at `i`, or -1 if there is
// none or the string has a \u escape.
function endOfEscapedString(text, i) {
  for (; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c === 0x5c) {
      if (text.charCodeAt(i + 1) === 0x75) return -1;
      i += 1;
    }
  }
  return -1;
}

// The fast verdict, or null when the exact decoder must decide (because the
// event is unusual, or invalid: rejections always come from the exact
// decoder, so their texts match the C++).
function decodeEventFast(text, maxDepth) {
  const members = scanForFastPath(text, maxDepth);
  if (members < 0) return null;
  let event;
  try {
    event = JSON.parse(text);
  } catch {
    return null;
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return null;
  const orderId = event.order_id;
  const driverId = event.driver_id;
  if (typeof orderId !== 'string' || orderId.length === 0 || typeof event.status !== 'string' ||
      !isRfc3339Timestamp(event.timestamp)) {
    return null;
  }
  const hasDriver = driverId !== undefined && driverId !== null;
  if (hasDriver && (typeof driverId !== 'string' || driverId.length === 0)) return null;
  // JSON.parse keeps the last of repeated keys, which RapidJSON rejects for
  // the four fields: fewer keys than members means a repeat somewhere.
  if (Object.keys(event).length !== members) return null;
  return {
    ok: true,
    orderTopic: `order:${orderId}`,
    driverTopic: hasDriver ? `driver:${driverId}` : null,
  };
}

// A Buffer over the same memory as a Uint8Array.
function asBuffer(bytes) {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

// UTF-8 length of `text`, or any number above `max` once it is known to be
// above: a UTF-16 unit is 1 to 3 UTF-8 bytes.
function utf8LengthUpTo(text, max) {
  if (text.length > max) return text.length;
  if (text.length * 3 <= max) return 0;
  return Buffer.byteLength(text, 'utf8');
}

// One event as text. Lone surrogates in a JS string stand for U+FFFD, as in
// its UTF-8 encoding (Buffer.from, and N-API's conversion to a C++ string).
function decodeEvent(text, limits) {
  if (typeof text !== 'string') return decodeEventBytes(text, limits);
  const maxEventBytes = maxEventBytesOf(limits);
  const maxDepth = maxDepthOf(limits);
  if (utf8LengthUpTo(text, maxEventBytes) > maxEventBytes) return tooLarge(maxEventBytes);
  if (text.isWellFormed()) {
    const fast = decodeEventFast(text, maxDepth);
    if (fast !== null) return fast;
  }
  return decodeEventExact(Buffer.from(text, 'utf8'), maxDepth);
}

// One event as UTF-8 bytes (a Buffer or Uint8Array), which may be invalid
// UTF-8: reported like the C++ does, at the first bad sequence in a string
// unless an earlier problem comes first. Bytes go straight to the exact
// decoder: on a typical event it is faster than checking the UTF-8,
// converting to a string and taking the fast path.
function decodeEventBytes(bytes, limits) {
  const maxEventBytes = maxEventBytesOf(limits);
  if (bytes.length > maxEventBytes) return tooLarge(maxEventBytes);
  return decodeEventExact(asBuffer(bytes), maxDepthOf(limits));
}

// ---------------------------------------------------------------------------
// Events given as JS objects

// Per entry, an upper bound of what JSON.stringify writes besides string
// contents: quotes, colon, comma, brackets, or the longest number
// ("-1.7976931348623157e+308" is 24 characters).
const ENTRY_BYTES = 32;
// A UTF-16 unit becomes at most 6 bytes of JSON ("\u001f").
const BYTES_PER_UNIT = 6;

// Objects JSON.stringify does not write as their own keys and values.
function serializesSpecially(object) {
  return typeof object.toJSON === 'function' || object instanceof String ||
    object instanceof Number || object instanceof Boolean || object instanceof BigInt;
}

// Would JSON.stringify(event) hold nothing for the C++ decoder to reject
// but the four fields? Walks the event as JSON.stringify would (key order,
// depth first) without building the text, and gives up (false) on anything
// that needs the exact decoder: toJSON or boxed primitives, nesting past
// maxDepth, strings with lone surrogates, BigInt, or a serialized size that
// might pass maxEventBytes.
function plainEventWithinLimits(event, maxDepth, maxEventBytes) {
  let budget = maxEventBytes;
  const stack = [event, 1];
  while (stack.length > 0) {
    const depth = stack.pop();
    const container = stack.pop();
    if (depth > maxDepth || serializesSpecially(container)) return false;
    budget -= ENTRY_BYTES;
    const keys = Array.isArray(container) ? null : Object.keys(container);
    const count = keys === null ? container.length : keys.length;
    for (let i = 0; i < count; i += 1) {
      const key = keys === null ? i : keys[i];
      if (keys !== null) {
        if (!key.isWellFormed()) return false;
        budget -= key.length * BYTES_PER_UNIT;
      }
      const value = container[key];
      budget -= ENTRY_BYTES;
      switch (typeof value) {
        case 'string':
          if (!value.isWellFormed()) return false;
          budget -= value.length * BYTES_PER_UNIT;
          break;
        case 'object':
          if (value !== null) stack.push(value, depth + 1);
          break;
        case 'bigint':
          return false;
        default: // numbers, booleans, and what JSON.stringify leaves out
          break;
      }
    }
    if (budget < 0) return false;
  }
  return true;
}

// JSON.stringify leaves these out of objects: the field is absent.
function isOmitted(value) {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

// The first field error in key order (the order of the serialized text), or
// a missing field, or null.
function checkEventFields(event) {
  const keys = Object.keys(event);
  let seen = 0;
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i];
    const raw = event[key];
    // NaN and the infinities are written as null.
    const value = typeof raw === 'number' && !Number.isFinite(raw) ? null : raw;
    let error = null;
    if (key === 'order_id' && !isOmitted(value)) {
      seen |= F_ORDER_ID;
      if (typeof value !== 'string' || value.length === 0) error = 'order_id: expected a non-empty string';
    } else if (key === 'status' && !isOmitted(value)) {
      seen |= F_STATUS;
      if (typeof value !== 'string') error = 'status: expected a string';
    } else if (key === 'timestamp' && !isOmitted(value)) {
      seen |= F_TIMESTAMP;
      if (typeof value !== 'string') error = 'timestamp: expected a string';
      else if (!isRfc3339Timestamp(value)) error = 'timestamp: expected an RFC 3339 date-time';
    } else if (key === 'driver_id' && !isOmitted(value) && value !== null) {
      if (typeof value !== 'string') error = 'driver_id: expected a string or null';
      else if (value.length === 0) error = 'driver_id: expected a non-empty string or null';
    }
    if (error !== null) return error;
  }
  if (!(seen & F_ORDER_ID)) return 'missing field: order_id';
  if (!(seen & F_STATUS)) return 'missing field: status';
  if (!(seen & F_TIMESTAMP)) return 'missing field: timestamp';
  return null;
}

// The verdict of the C++ decoder on JSON.stringify(event): null when valid,
// else the error text. Plain events are judged without serializing; for the
// rest (toJSON, lone surrogates, deep nesting, large events) the text is
// built and decoded exactly.
function validateEventObject(event, limits) {
  const maxEventBytes = maxEventBytesOf(limits);
  const maxDepth = maxDepthOf(limits);
  if (event !== null && typeof event === 'object' && !Array.isArray(event) &&
      plainEventWithinLimits(event, maxDepth, maxEventBytes)) {
    return checkEventFields(event);
  }
  let text;
  try {
    text = JSON.stringify(event);
  } catch (err) {
    // JSON.stringify recurses: running out of stack means nesting far past
    // any depth limit (a field error earlier in key order goes unreported).
    if (err instanceof RangeError && /call stack/i.test(err.message)) return `nesting deeper than ${maxDepth}`;
    return `event: not serializable as JSON: ${err.message}`;
  }
  // undefined, a function, a symbol: nothing to send.
  if (text === undefined) return 'event: expected a JSON object';
  const decoded = decodeEvent(text, { maxEventBytes, maxDepth });
  return decoded.ok ? null : decoded.error;
}

// ---------------------------------------------------------------------------
// Client messages

const TYPE_KEY = Buffer.from('"type"');

// {"type":"subscribe","topics":[...]} / "unsubscribe": { type, topics };
// the same with malformed topics: { type: 'invalid', error }; anything else
// (other JSON, not JSON): { type: 'other' }. `text` is a string or UTF-8
// bytes. limits: { maxTopicBytes, maxTopicsPerMessage, maxDepth }.
function decodeClientMessage(text, limits) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : asBuffer(text);
  // A control message has a "type" key, written as such or with escapes:
  // without either, the parse can only end in 'other'.
  if (bytes.indexOf(TYPE_KEY) === -1 && bytes.indexOf(0x5c) === -1) return OTHER;
  clientHandler.reset(
    limits && limits.maxDepth !== undefined ? limits.maxDepth : DEFAULT_MAX_DEPTH,
    limits && limits.maxTopicBytes !== undefined ? limits.maxTopicBytes : DEFAULT_MAX_TOPIC_BYTES,
    limits && limits.maxTopicsPerMessage !== undefined
      ? limits.maxTopicsPerMessage : DEFAULT_MAX_TOPICS_PER_MESSAGE);
  reader.parse(bytes, clientHandler);
  // Not JSON we accept (syntax, encoding, depth, not an object, a NUL): the
  // embedder gets the text as is.
  if (reader.error !== null || reader.pos !== bytes.length) return OTHER;
  return clientHandler.result();
}

module.exports = {
  decodeEvent,
  decodeEventBytes,
  validateEventObject,
  isRfc3339Timestamp,
  forEachLine,
  decodeClientMessage,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_TOPIC_BYTES,
  DEFAULT_MAX_TOPICS_PER_MESSAGE,
};
