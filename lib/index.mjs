// ESM entry: the CommonJS API under named exports (Node's loader cannot
// detect getters and methods of lib/index.js by itself).
import ficus from './index.js';

export const {
  createDispatcher, Dispatcher, Router, FicusError, errorCodes, defaults, limits, validateEvent, bucketOf, checks,
} = ficus;
// Read once at import: the addon loads (or fails to) once per process.
export const nativeAvailable = ficus.nativeAvailable;
export default ficus;
