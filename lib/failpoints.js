'use strict';
// Named faults for rehearsing a rollback (docs/operations.md,
// "Failpoints"): break the native path on purpose in staging and watch the
// rollout guard act. All are off by default; when off, each costs one
// predictable branch where it is read (the core reads its own as relaxed
// atomics once per loop iteration, delivery batch or adopt:
// native/core/include/ficus/failpoints.h).

const { setTimeout: sleep } = require('node:timers/promises');
const v = require('./validate');
const { FicusError, codes } = require('./errors');

const MAX_MS = 60000;
const ms = (value, name) => v.integer(value, name, { min: 1, max: MAX_MS });
const share = (value, name) => {
  if (typeof value !== 'number' || Number.isNaN(value)) throw v.typeError('a number between 0 and 1', name, value);
  if (value <= 0 || value > 1) throw v.rangeError('a number above 0 and at most 1', name, value);
  return value;
};

// name -> { native, spec, required }: what set() accepts for it.
const FAULTS = {
  'native.worker.stall': { native: true, spec: { ms, everyMs: ms }, required: ['ms', 'everyMs'] },
  'native.delivery.drop': { native: true, spec: { share }, required: ['share'] },
  'native.adopt.refuse': { native: true, spec: {}, required: [] },
  'router.authenticate.slow': { native: false, spec: { ms }, required: ['ms'] },
};

const NAMES = Object.keys(FAULTS);

function faultName(name) {
  return v.oneOf(name, 'name', NAMES);
}

// `native`: the NativePath, or null without one (its faults then cannot
// be set: there is nothing to break). `assertOpen` throws once the
// dispatcher closed.
class Faults {
  #native;
  #assertOpen;
  #active = new Map(); // name -> params

  constructor(native, assertOpen) {
    this.#native = native;
    this.#assertOpen = assertOpen;
  }

  set(name, params = {}) {
    this.#assertOpen();
    const fault = FAULTS[faultName(name)];
    const checked = v.options(params, 'params', fault.spec, {});
    for (const key of fault.required) {
      if (checked[key] === undefined) throw v.typeError(`a value (required by ${name})`, `params.${key}`, undefined);
    }
    if (fault.native && this.#native === null) {
      throw new FicusError(codes.NATIVE_UNAVAILABLE, `${name}: there is no native core to break`);
    }
    this.#active.set(name, checked);
    if (fault.native) this.#pushNative();
    return this;
  }

  // clear(name) clears one; clear() all of them.
  clear(name) {
    this.#assertOpen();
    if (name === undefined) {
      this.#active.clear();
    } else {
      this.#active.delete(faultName(name));
    }
    if (this.#native !== null) this.#pushNative();
    return this;
  }

  // The faults set now: [{ name, ...params }].
  list() {
    return [...this.#active].map(([name, params]) => ({ name, ...params }));
  }

  // The router's read: the delay of router.authenticate.slow, 0 when off.
  authenticateDelayMs() {
    if (this.#active.size === 0) return 0;
    const slow = this.#active.get('router.authenticate.slow');
    return slow === undefined ? 0 : slow.ms;
  }

  // The core takes the whole set at once.
  #pushNative() {
    const stall = this.#active.get('native.worker.stall');
    const drop = this.#active.get('native.delivery.drop');
    this.#native.setFailpoints({
      stallMs: stall ? stall.ms : 0,
      stallEveryMs: stall ? stall.everyMs : 0,
      dropPerMillion: drop ? Math.round(drop.share * 1e6) : 0,
      refuseAdopt: this.#active.has('native.adopt.refuse'),
    });
  }
}

// Waits out router.authenticate.slow (resolves at once when off).
function delayed(faults) {
  const delay = faults.authenticateDelayMs();
  return delay === 0 ? Promise.resolve() : sleep(delay);
}

module.exports = { Faults, delayed, FAULT_NAMES: NAMES };
