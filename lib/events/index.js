'use strict';
// Event validation and client-message decoding for the JS side (the legacy
// path, validateEvent, publishing without the core). With the addon loaded,
// its decodeEvent/decodeClientMessage (the core's own EventDecoder) decide,
// so verdicts and texts are the core's. Without it, ./fallback.js decides
// (JSON.parse plus the field checks): same verdicts, but syntax errors may
// be worded differently (see fallback.js and docs/api.md).
// Files: fallback.js, timestamp.js (RFC 3339), lines.js (NDJSON), this one.

const { isRfc3339Timestamp } = require('./timestamp');
const { forEachLine } = require('./lines');
const fallback = require('./fallback');
const { DEFAULTS, LIMITS } = require('../protocol');
const nativePath = require('../native-path');

let native; // the addon's decoders, or null without it; decided on first use

function nativeDecoders() {
  if (native === undefined) native = nativePath.nativeDecoders();
  return native;
}

function valueOr(limits, name, byDefault) {
  return limits && limits[name] !== undefined ? limits[name] : byDefault;
}

// The fallback's limits, with the native defaults filled in.
function fallbackLimits(limits) {
  return {
    maxEventBytes: valueOr(limits, 'maxEventBytes', DEFAULTS.maxEventBytes),
    maxDepth: valueOr(limits, 'maxDepth', LIMITS.maxDepth),
    maxTopicBytes: valueOr(limits, 'maxTopicBytes', DEFAULTS.maxTopicBytes),
    maxTopicsPerMessage: valueOr(limits, 'maxTopicsPerMessage', LIMITS.maxTopicsPerMessage),
  };
}

// One event as a string or UTF-8 bytes (a Buffer or Uint8Array, which may
// be invalid UTF-8). A string with lone surrogates is judged as its UTF-8
// encoding (U+FFFD). limits: { maxEventBytes, maxDepth }.
// -> { ok: true, orderTopic, driverTopic: string | null } | { ok: false, error }
function decodeEvent(input, limits) {
  const decoders = nativeDecoders();
  if (decoders !== null) return decoders.decodeEvent(input, limits);
  return fallback.decodeEvent(input, fallbackLimits(limits));
}

// {"type":"subscribe","topics":[...]} / "unsubscribe": { type, topics },
// and a subscribe's "since" when it has one (a string; '' when it was not
// one, or too long to be a position);
// the same with malformed topics: { type: 'invalid', error }; anything else
// (other JSON, not JSON): { type: 'other' }. `input` is a string or UTF-8
// bytes. limits: { maxTopicBytes, maxTopicsPerMessage, maxDepth }.
function decodeClientMessage(input, limits) {
  const decoders = nativeDecoders();
  if (decoders !== null) return decoders.decodeClientMessage(input, limits);
  return fallback.decodeClientMessage(input, fallbackLimits(limits));
}

// JSON.stringify(event) as { text }, or { error } when there is no text to
// judge: not serializable, or nothing to send.
function eventJson(event, limits) {
  let text;
  try {
    text = JSON.stringify(event);
  } catch (err) {
    // JSON.stringify recurses: running out of stack means nesting far past
    // any depth limit (a field error earlier in key order goes unreported).
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      return { error: `nesting deeper than ${valueOr(limits, 'maxDepth', LIMITS.maxDepth)}` };
    }
    return { error: `event: not serializable as JSON: ${err.message}` };
  }
  // undefined, a function, a symbol: nothing to send.
  if (text === undefined) return { error: 'event: expected a JSON object' };
  return { text };
}

// The verdict of the decoder on JSON.stringify(event): null when valid, else
// the error text.
function validateEventObject(event, limits) {
  const { text, error } = eventJson(event, limits);
  if (error !== undefined) return error;
  const decoded = decodeEvent(text, limits);
  return decoded.ok ? null : decoded.error;
}

module.exports = {
  decodeEvent,
  validateEventObject,
  eventJson,
  isRfc3339Timestamp,
  forEachLine,
  decodeClientMessage,
};
