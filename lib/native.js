'use strict';
// Loads the addon once per environment. When it cannot load (not built,
// unsupported platform) ficus keeps working on the legacy path and says why.

const path = require('node:path');

// FICUS_ADDON_PATH, when set, is the only candidate (e.g. the ASan build).
const candidates = process.env.FICUS_ADDON_PATH ? [process.env.FICUS_ADDON_PATH] : [
  path.join(__dirname, '..', 'build', 'Release', 'ficus.node'),
  path.join(__dirname, '..', 'build', 'Debug', 'ficus.node'),
];

let addon = null;
let loadError = null;

function load() {
  if (addon || loadError) return addon;
  if (process.platform === 'win32') {
    loadError = new Error('the native core supports Linux and macOS; Windows stays on the legacy path');
    return null;
  }
  const errors = [];
  for (const candidate of candidates) {
    try {
      addon = require(candidate);
      return addon;
    } catch (error) {
      errors.push(`${candidate}: ${error.code === 'MODULE_NOT_FOUND' ? 'not built' : error.message}`);
    }
  }
  loadError = new Error(`the ficus addon could not be loaded (run \`npm run build:addon\`): ${errors.join('; ')}`);
  return null;
}

module.exports = {
  get addon() {
    return load();
  },
  get loadError() {
    load();
    return loadError;
  },
  // { decodeEvent, decodeClientMessage } of the loaded addon (the core's
  // event decoder, see native/binding/decode_wrap.h), or null without one.
  get decoders() {
    const loaded = load();
    if (loaded === null || typeof loaded.decodeEvent !== 'function') return null;
    return { decodeEvent: loaded.decodeEvent, decodeClientMessage: loaded.decodeClientMessage };
  },
};
