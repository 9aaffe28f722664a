'use strict';
// RFC 3339 date-time, as isRfc3339Timestamp in event_decoder.cc judges it:
// "2026-11-27T10:00:00Z", "2026-11-27T10:00:00.123+02:00". Every accepted
// character is ASCII, so a string and its UTF-8 bytes get the same answer.

// full-date "T" partial-time time-offset; T and Z in either case.
const SHAPE = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))$/;

function daysInMonth(year, month) {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

function isRfc3339Timestamp(text) {
  const m = typeof text === 'string' ? SHAPE.exec(text) : null;
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  // Second 60 is a leap second (RFC 3339 §5.7), accepted without checking
  // the leap-second table, as the C++ does.
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 &&
    minute <= 59 && second <= 60 && (m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59));
}

module.exports = { isRfc3339Timestamp };
