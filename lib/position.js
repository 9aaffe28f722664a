'use strict';
// Stream positions: where an event sits in the dispatcher's one ordered
// stream, as clients see it: `<epoch>-<ms>-<n>`. The epoch (16 lowercase
// hex digits) is random per process start, so a position from another
// process (or an earlier run of this one) is never mistaken for one of
// ours; within an epoch positions order by (ms, n), ms being wall-clock
// milliseconds and n a counter within the millisecond. The native core
// writes the same text (its history); clients treat it as opaque.

const { randomBytes } = require('node:crypto');

// Digits are bounded so that both parts are safe integers in JS (and fit
// the core's 64-bit fields).
const POSITION = /^([0-9a-f]{16})-(0|[1-9][0-9]{0,14})-(0|[1-9][0-9]{0,14})$/;

function isPosition(text) {
  return typeof text === 'string' && POSITION.test(text);
}

// { epoch, ms, n }, or null when `text` is not a position.
function parsePosition(text) {
  if (typeof text !== 'string') return null;
  const match = POSITION.exec(text);
  if (match === null) return null;
  return { epoch: match[1], ms: Number(match[2]), n: Number(match[3]) };
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
