'use strict';
// Sticky bucketing: an identity maps to one of 100 buckets by a salted
// 32-bit FNV-1a hash; the connection goes native when bucket < percent. So
// the same identity lands on the same path across reconnects and processes,
// raising the percent only moves legacy buckets to native, and lowering it
// only moves native buckets to legacy.

const crypto = require('node:crypto');

function fnv1a32(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    // Hash UTF-16 code units as two bytes so every string is covered.
    hash ^= c & 0xff;
    hash = Math.imul(hash, 0x01000193);
    hash ^= c >>> 8;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function bucketOf(identity, salt) {
  // Final avalanche (murmur3 fmix32) so near-identical keys spread evenly.
  let h = fnv1a32(`${salt}\u0000${identity}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 100;
}

function isNative(bucket, percent) {
  return bucket < percent;
}

function randomIdentity() {
  return crypto.randomUUID();
}

// A connection's route: the router that placed it (its slot) and its
// bucket, packed into one small integer so that a path keeps no object per
// connection for it. A drain selects connections by route.
const SLOT = 256;
const route = (slot, bucket) => slot * SLOT + bucket;
const bucketOfRoute = (packed) => packed % SLOT;
const slotOfRoute = (packed) => Math.floor(packed / SLOT);
// The route of a probe connection (lib/probes.js): slot -1 is no
// router's, so no drain or rebalance ever selects it.
const PROBE_ROUTE = -1;

module.exports = { bucketOf, isNative, randomIdentity, route, bucketOfRoute, slotOfRoute, PROBE_ROUTE };
