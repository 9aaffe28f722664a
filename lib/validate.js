'use strict';
// Argument checks for every public function. One message format, after
// sharp's: `Expected <what> for <name> but received <actual>`.

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
      return `the number ${value}`;
    case 'function':
      return 'a function';
    case 'object':
      return Buffer.isBuffer(value) ? `a Buffer of ${value.length} bytes` : 'an object';
    default:
      return `${typeof value} ${String(value)}`;
  }
}

function message(expected, name, actual) {
  return `Expected ${expected} for ${name} but received ${describe(actual)}`;
}

function typeError(expected, name, actual) {
  return new TypeError(message(expected, name, actual));
}

function rangeError(expected, name, actual) {
  return new RangeError(message(expected, name, actual));
}

function integer(value, name, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw typeError(`an integer between ${min} and ${max}`, name, value);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(`an integer between ${min} and ${max}`, name, value);
  }
  return value;
}

// A finite number in [min, max], not necessarily whole (a rate).
function number(value, name, { min, max }) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw typeError(`a number between ${min} and ${max}`, name, value);
  }
  if (value < min || value > max) throw rangeError(`a number between ${min} and ${max}`, name, value);
  return value;
}

function percent(value, name) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw typeError('a number between 0 and 100', name, value);
  }
  if (value < 0 || value > 100) throw rangeError('a number between 0 and 100', name, value);
  return value;
}

function oneOf(value, name, choices) {
  if (!choices.includes(value)) {
    const expected = `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
    if (typeof value !== typeof choices[0]) throw typeError(expected, name, value);
    throw rangeError(expected, name, value);
  }
  return value;
}

function fn(value, name) {
  if (typeof value !== 'function') throw typeError('a function', name, value);
  return value;
}

function string(value, name, { nonEmpty = false } = {}) {
  if (typeof value !== 'string') throw typeError('a string', name, value);
  if (nonEmpty && value.length === 0) throw rangeError('a non-empty string', name, value);
  return value;
}

function boolean(value, name) {
  if (typeof value !== 'boolean') throw typeError('a boolean', name, value);
  return value;
}

function plainObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError('an object', name, value);
  }
  return value;
}

// Checks an options object against `spec` ({ key: (value, name) => value })
// and fills defaults; unknown keys are refused so typos do not pass quietly.
function options(value, name, spec, defaults) {
  if (value === undefined) return { ...defaults };
  plainObject(value, name);
  const out = { ...defaults };
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(spec, key)) {
      throw new TypeError(`Unknown option ${name}.${key} (known: ${Object.keys(spec).join(', ')})`);
    }
    if (value[key] !== undefined) out[key] = spec[key](value[key], `${name}.${key}`);
  }
  return out;
}

module.exports = {
  describe, typeError, rangeError, integer, number, percent, oneOf, fn, string, boolean, plainObject, options,
};
