'use strict';
// NDJSON (forEachLine in event_decoder.h)

function isBlankLine(text, start, end) {
  for (let i = start; i < end; i += 1) {
    const code = typeof text === 'string' ? text.charCodeAt(i) : text[i];
    if (code !== 0x20 && code !== 0x09) return false;
  }
  return true;
}

// Calls fn(line, index) for each non-blank line (only spaces and tabs count
// as blank) of a string or Buffer, one trailing '\r' trimmed; index counts
// the non-blank lines from 0. Lines are strings for a string, Buffer views
// for a Buffer.
function forEachLine(text, fn) {
  const isString = typeof text === 'string';
  const length = text.length;
  let index = 0;
  let start = 0;
  while (start < length) {
    let end = isString ? text.indexOf('\n', start) : text.indexOf(0x0a, start);
    if (end === -1) end = length;
    let lineEnd = end;
    const last = isString ? text.charCodeAt(lineEnd - 1) : text[lineEnd - 1];
    if (lineEnd > start && last === 0x0d) lineEnd -= 1;
    if (!isBlankLine(text, start, lineEnd)) {
      fn(isString ? text.slice(start, lineEnd) : text.subarray(start, lineEnd), index);
      index += 1;
    }
    start = end + 1;
  }
}

module.exports = { forEachLine };
