'use strict';
// Stream positions: where an event sits in the dispatcher's one ordered
// stream, as clients see it: `<epoch>-<ms>-<n>`. The epoch (16 lowercase
// hex digits) is random per process start, so a position from another
// process (or an earlier run of this one) is never mistaken for one of
// ours; within an epoch positions order by (ms, n), ms being wall-clock
// milliseconds and n a counter within the millisecond. The native core
// writes the same text (its history); clients treat it as opaque.

const { randomBytes } = require('node:crypto');

// What the core's Position::parse (native/core/src/position.cc) takes, so
// that both paths judge a `since` alike: 16 lowercase hex digits, then ms
// in at most 16 decimal digits and at most 2^53 (exact in a JS number),
// then n in at most 10 digits and at most 2^32 - 1. Leading zeros are
// allowed (the value counts).
const POSITION = /^([0-9a-f]{16})-([0-9]{1,16})-([0-9]{1,10})$/;
const MAX_MS = 2 ** 53;
const MAX_N = 2 ** 32 - 1;

function isPosition(text) {
  return parsePosition(text) !== null;
}

// { epoch, ms, n }, or null when `text` is not a position.
function parsePosition(text) {
  if (typeof text !== 'string') return null;
  const match = POSITION.exec(text);
  if (match === null) return null;
  const ms = Number(match[2]);
  const n = Number(match[3]);
  if (ms > MAX_MS || n > MAX_N) return null;
  return { epoch: match[1], ms, n };
}

function formatPosition(epoch, ms, n) {
  return `${epoch}-${ms}-${n}`;
}

// Orders two positions of one epoch: <0, 0, >0.
function comparePositions(a, b) {
  return a.ms !== b.ms ? a.ms - b.ms : a.n - b.n;
}

function randomEpoch() {
  return randomBytes(8).toString('hex');
}

module.exports = { isPosition, parsePosition, formatPosition, comparePositions, randomEpoch };
