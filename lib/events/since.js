'use strict';
// The "since" of a subscribe message ({"type":"subscribe","topics":[...],
// "since":"<position>"}), read beside decodeClientMessage, whose verdicts
// and results stay the core's (the fixtures hold the two decoders equal).
// Called only for a message the decoder judged a valid subscribe, so the
// text is JSON within the limits; the quick byte test keeps JSON.parse off
// the usual subscribe.

const SINCE = Buffer.from('"since"');

// undefined: no "since"; the string: the position asked for (maybe not a
// position: the caller judges it); null: a "since" that is not a string.
function subscribeSince(data) {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes.indexOf(SINCE) === -1) return undefined;
  let message;
  try {
    message = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== 'object' || !Object.hasOwn(message, 'since')) return undefined;
  return typeof message.since === 'string' ? message.since : null;
}

module.exports = { subscribeSince };
