'use strict';
// RFC 3339 (isRfc3339Timestamp in event_decoder.cc)

function isDigitCode(code) {
  return code >= 0x30 && code <= 0x39;
}

// Value of the `count` ASCII digits at `pos`, or -1 if one is not a digit.
function readDigits(text, pos, count) {
  let value = 0;
  for (let i = pos; i < pos + count; i += 1) {
    const code = text.charCodeAt(i);
    if (!isDigitCode(code)) return -1;
    value = value * 10 + (code - 0x30);
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year, month) {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

// "2026-11-27T10:00:00Z", "2026-11-27T10:00:00.123+02:00": full-date "T"
// partial-time time-offset. The C++ checks bytes; every accepted character is
// ASCII, so checking UTF-16 units gives the same answer (a non-ASCII
// character fails wherever it is).
function isRfc3339Timestamp(text) {
  if (typeof text !== 'string' || text.length < 20) return false;
  const year = readDigits(text, 0, 4);
  const month = readDigits(text, 5, 2);
  const day = readDigits(text, 8, 2);
  const hour = readDigits(text, 11, 2);
  const minute = readDigits(text, 14, 2);
  const second = readDigits(text, 17, 2);
  const t = text.charCodeAt(10);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 ||
      text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d ||
      (t !== 0x54 && t !== 0x74) || text.charCodeAt(13) !== 0x3a ||
      text.charCodeAt(16) !== 0x3a) {
    return false;
  }
  // Second 60 is a leap second (RFC 3339 §5.7), accepted without checking
  // the leap-second table, as the C++ does.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  let pos = 19;
  if (text.charCodeAt(pos) === 0x2e) { // '.'
    const first = pos + 1;
    pos = first;
    while (pos < text.length && isDigitCode(text.charCodeAt(pos))) pos += 1;
    if (pos === first) return false;
  }
  if (pos >= text.length) return false; // the offset is not optional
  const sign = text.charCodeAt(pos);
  if (sign === 0x5a || sign === 0x7a) return pos + 1 === text.length; // Z z
  if (sign !== 0x2b && sign !== 0x2d) return false;
  if (text.length - pos !== 6 || text.charCodeAt(pos + 3) !== 0x3a) return false;
  const offsetHour = readDigits(text, pos + 1, 2);
  const offsetMinute = readDigits(text, pos + 4, 2);
  return offsetHour >= 0 && offsetMinute >= 0 && offsetHour <= 23 && offsetMinute <= 59;
}

module.exports = { isDigitCode, isRfc3339Timestamp };
