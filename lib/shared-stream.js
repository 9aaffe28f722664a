'use strict';
// Small facts about positions in a shared stream (the Redis bridge's stream
// mode): epochs, Redis stream ids, and the ids a core makes up for itself
// once it has left a shared stream.
//
// A position is "<epoch: 16 lowercase hex>-<ms>-<n>"; in a shared stream
// "<ms>-<n>" is the Redis Stream entry's id, so every gateway reading the
// same stream hands out the same positions.

const crypto = require('node:crypto');
const { forEachLine } = require('./events/lines');

const EPOCH = /^[0-9a-f]{16}$/;
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

function randomEpoch() {
  return crypto.randomBytes(8).toString('hex');
}

// Shape only (the core checks the range): cheap enough for every event.
function isStreamId(value) {
  return typeof value === 'string' && STREAM_ID.test(value);
}

function isEpoch(value) {
  return typeof value === 'string' && EPOCH.test(value);
}

const MAX_MS = 2n ** 53n; // Position::parseStreamId's bounds (position.cc)
const MAX_N = 2n ** 32n - 1n;

// Whether the core takes `id` as a position: a Redis id may be larger
// (XADD with an explicit id), and then it cannot be one.
function fitsPosition(id) {
  const dash = id.indexOf('-');
  // The usual case without BigInts: under 16 and 10 digits always fit.
  if (dash > 0 && dash < 16 && id.length - dash - 1 < 10 && isStreamId(id)) return true;
  const parsed = parseStreamId(id);
  return parsed !== null && parsed[0] <= MAX_MS && parsed[1] <= MAX_N;
}

// "<ms>-<n>" as [ms, n] BigInts, or null.
function parseStreamId(id) {
  const match = typeof id === 'string' ? STREAM_ID.exec(id) : null;
  return match ? [BigInt(match[1]), BigInt(match[2])] : null;
}

// <0, 0 or >0 as stream id a is before, equal to or after b.
function compareStreamIds(a, b) {
  const [am, an] = parseStreamId(a);
  const [bm, bn] = parseStreamId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (an !== bn) return an < bn ? -1 : 1;
  return 0;
}

// Once a core has left a shared stream it still refuses publishes without
// ids (the core has no way back to numbering events itself), so ids are
// made here, the way the core would: wall-clock ms, never backwards, n
// counting within one ms. Inactive (idsFor returns undefined) until start().
class LocalIds {
  #on = false;
  #ms = 0;
  #n = -1;

  start() {
    this.#on = true;
  }

  stop() {
    this.#on = false;
  }

  // One id per non-blank line of `ndjson`, or undefined while inactive.
  idsFor(ndjson) {
    if (!this.#on) return undefined;
    const ids = [];
    forEachLine(ndjson, () => {
      const now = Date.now();
      if (now > this.#ms) {
        this.#ms = now;
        this.#n = 0;
      } else {
        this.#n += 1;
      }
      ids.push(`${this.#ms}-${this.#n}`);
    });
    return ids;
  }
}

module.exports = { randomEpoch, isEpoch, isStreamId, fitsPosition, parseStreamId, compareStreamIds, LocalIds };
