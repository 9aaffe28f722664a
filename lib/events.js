'use strict';
// Event validation and client-message decoding for the JS side, with the
// verdicts and error texts of native/core/src/event_decoder.cc, so that an
// event or a subscribe message is judged the same on the legacy path as in
// the native core.
//
// The C++ decoder is a SAX handler on RapidJSON 1.1.0's iterative reader, and
// its error texts follow that reader: the first problem in document order
// wins (a bad field before a syntax error reports the field), and syntax
// errors name RapidJSON's message and byte offset. So the judge here is an
// exact port of the parts of RapidJSON's reader the C++ decoder uses
// (iterative state machine, string escapes and UTF-8 validation, number
// grammar and overflow rules, error offsets), run over UTF-8 bytes and
// driving ports of the C++ handlers. Bytes always go through it.
//
// Events given as JS strings may take a fast path instead: JSON.parse and a
// check of the four fields, taken only when a cheap scan rules out all that
// JSON.parse and RapidJSON could disagree on (\u escapes, numbers too big
// for RapidJSON, nesting past the limit, a repeated key). It can only
// accept; anything it does not accept goes to the exact decoder, so every
// rejection carries the C++ text.

const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_TOPIC_BYTES = 256;
const DEFAULT_MAX_TOPICS_PER_MESSAGE = 256;

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// A port of RapidJSON 1.1.0's iterative reader, as the C++ decoder runs it
// (kParseIterativeFlag | kParseValidateEncodingFlag, no other flags), over
// UTF-8 bytes. It reports to a handler:
//   startObject() / startArray() / endContainer()
//   key(bytes, length)           -- the decoded name, in `bytes`[0, length)
//   value(kind, bytes, length)   -- a scalar; bytes for strings only
// and any false return stops the parse (RapidJSON's kParseErrorTermination).

const KIND_NULL = 0;
const KIND_BOOL = 1;
const KIND_NUMBER = 2;
const KIND_STRING = 3;
const KIND_OBJECT = 4;
const KIND_ARRAY = 5;

// Parse errors: RapidJSON's GetParseError_En texts.
const E_DOCUMENT_EMPTY = 'The document is empty.';
const E_ROOT_NOT_SINGULAR = 'The document root must not be followed by other values.';
const E_VALUE_INVALID = 'Invalid value.';
const E_OBJECT_MISS_NAME = 'Missing a name for object member.';
const E_OBJECT_MISS_COLON = 'Missing a colon after a name of object member.';
const E_OBJECT_MISS_COMMA = "Missing a comma or '}' after an object member.";
const E_ARRAY_MISS_COMMA = "Missing a comma or ']' after an array element.";
const E_ESCAPE_HEX = 'Incorrect hex digit after \\u escape in string.';
const E_SURROGATE = 'The surrogate pair in string is invalid.';
const E_ESCAPE_INVALID = 'Invalid escape character in string.';
const E_MISS_QUOTE = 'Missing a closing quotation mark in string.';
const E_INVALID_ENCODING = 'Invalid encoding in string.';
const E_NUMBER_TOO_BIG = 'Number too big to be stored in double.';
const E_MISS_FRACTION = 'Miss fraction part in number.';
const E_MISS_EXPONENT = 'Miss exponent in number.';
const E_TERMINATION = 'Terminate parsing due to Handler error.';

// States and tokens, numbered as in reader.h.
const S_START = 0;
const S_FINISH = 1;
const S_ERROR = 2;
const S_OBJECT_INITIAL = 3;
const S_MEMBER_KEY = 4;
const S_KEY_VALUE_DELIMITER = 5;
const S_MEMBER_VALUE = 6;
const S_MEMBER_DELIMITER = 7;
const S_OBJECT_FINISH = 8;
const S_ARRAY_INITIAL = 9;
const S_ELEMENT = 10;
const S_ELEMENT_DELIMITER = 11;
const S_ARRAY_FINISH = 12;
const S_VALUE = 13;

const T_LEFT_BRACKET = 0;
const T_RIGHT_BRACKET = 1;
const T_LEFT_CURLY = 2;
const T_RIGHT_CURLY = 3;
const T_COMMA = 4;
const T_COLON = 5;
const T_STRING = 6;
const T_FALSE = 7;
const T_TRUE = 8;
const T_NULL = 9;
const T_NUMBER = 10;
const TOKEN_COUNT = 11;

// Every byte not named here is a NumberToken, as in RapidJSON's tokenMap.
const TOKEN_OF = new Uint8Array(256).fill(T_NUMBER);
TOKEN_OF[0x5b] = T_LEFT_BRACKET;
TOKEN_OF[0x5d] = T_RIGHT_BRACKET;
TOKEN_OF[0x7b] = T_LEFT_CURLY;
TOKEN_OF[0x7d] = T_RIGHT_CURLY;
TOKEN_OF[0x2c] = T_COMMA;
TOKEN_OF[0x3a] = T_COLON;
TOKEN_OF[0x22] = T_STRING;
TOKEN_OF[0x66] = T_FALSE;
TOKEN_OF[0x74] = T_TRUE;
TOKEN_OF[0x6e] = T_NULL;

// Predict(): state x token -> next state (reader.h's table G).
const PREDICT = (() => {
  const E = S_ERROR;
  const scalar = (s) => [s, s, s, s, s];
  const rows = [
    /* Start */ [S_ARRAY_INITIAL, E, S_OBJECT_INITIAL, E, E, E, ...scalar(S_VALUE)],
    /* Finish */ Array(TOKEN_COUNT).fill(E),
    /* Error */ Array(TOKEN_COUNT).fill(E),
    /* ObjectInitial */ [E, E, E, S_OBJECT_FINISH, E, E, S_MEMBER_KEY, E, E, E, E],
    /* MemberKey */ [E, E, E, E, E, S_KEY_VALUE_DELIMITER, E, E, E, E, E],
    /* KeyValueDelimiter */
    [S_ARRAY_INITIAL, E, S_OBJECT_INITIAL, E, E, E, ...scalar(S_MEMBER_VALUE)],
    /* MemberValue */ [E, E, E, S_OBJECT_FINISH, S_MEMBER_DELIMITER, E, E, E, E, E, E],
    /* MemberDelimiter */ [E, E, E, S_OBJECT_FINISH, E, E, S_MEMBER_KEY, E, E, E, E],
    /* ObjectFinish */ Array(TOKEN_COUNT).fill(E),
    /* ArrayInitial */
    [S_ARRAY_INITIAL, S_ARRAY_FINISH, S_OBJECT_INITIAL, E, E, E, ...scalar(S_ELEMENT)],
    /* Element */ [E, S_ARRAY_FINISH, E, E, S_ELEMENT_DELIMITER, E, E, E, E, E, E],
    /* ElementDelimiter */
    [S_ARRAY_INITIAL, S_ARRAY_FINISH, S_OBJECT_INITIAL, E, E, E, ...scalar(S_ELEMENT)],
    /* ArrayFinish */ Array(TOKEN_COUNT).fill(E),
    /* Value */ Array(TOKEN_COUNT).fill(E),
  ];
  return Uint8Array.from(rows.flat());
})();

// Single-character escapes: the byte each stands for, 0 if not an escape.
const ESCAPE = new Uint8Array(256);
ESCAPE[0x22] = 0x22; // \"
ESCAPE[0x2f] = 0x2f; // \/
ESCAPE[0x5c] = 0x5c; // \\
ESCAPE[0x62] = 0x08; // \b
ESCAPE[0x66] = 0x0c; // \f
ESCAPE[0x6e] = 0x0a; // \n
ESCAPE[0x72] = 0x0d; // \r
ESCAPE[0x74] = 0x09; // \t

// UTF8::GetRange: the DFA character classes RapidJSON validates with.
const UTF8_RANGE = new Uint8Array(256);
UTF8_RANGE.fill(0x10, 0x80, 0x90);
UTF8_RANGE.fill(0x40, 0x90, 0xa0);
UTF8_RANGE.fill(0x20, 0xa0, 0xc0);
UTF8_RANGE.fill(8, 0xc0, 0xc2);
UTF8_RANGE.fill(2, 0xc2, 0xe0);
UTF8_RANGE[0xe0] = 10;
UTF8_RANGE.fill(3, 0xe1, 0xf0);
UTF8_RANGE[0xed] = 4;
UTF8_RANGE[0xf0] = 11;
UTF8_RANGE.fill(6, 0xf1, 0xf4);
UTF8_RANGE[0xf4] = 5;
UTF8_RANGE.fill(8, 0xf5, 0x100);

const UINT32_GUARD = 429496729; // (2^32 - 1) / 10
const INT32_GUARD = 214748364; // 2^31 / 10
const UINT64_GUARD = 0x1999999999999999n; // (2^64 - 1) / 10
const INT64_GUARD = 0x0cccccccccccccccn; // 2^63 / 10
const FAST_PATH_SIGNIFICAND = 0x1fffffffffffffn; // 2^53 - 1
const DOUBLE_MAX_TENTH = 1.7976931348623157e307;

// Decoded strings are kept up to this size between parses.
const KEPT_SCRATCH_BYTES = 1 << 20;

// One reader for the module: parses are synchronous and the handlers never
// parse, so it is never re-entered.
class ByteJsonReader {
  constructor() {
    this.src = null;
    this.pos = 0;
    this.end = 0;
    this.scratch = Buffer.allocUnsafe(256);
    this.length = 0; // bytes of the string being decoded
    this.stack = []; // states to return to when a container ends
    this.error = null; // RapidJSON's message, or null
    this.errorOffset = 0;
    this.handler = null;
  }

  // Parses `bytes`; afterwards `error`/`errorOffset` tell the outcome and
  // `pos` where reading stopped (RapidJSON's stream.Tell()).
  parse(bytes, handler) {
    this.src = bytes;
    this.pos = 0;
    this.end = bytes.length;
    this.error = null;
    this.errorOffset = 0;
    this.stack.length = 0;
    this.handler = handler;
    // Decoded strings are never longer than their source text.
    const needed = bytes.length + 4;
    const scratch = this.scratch;
    if (scratch.length < needed) this.scratch = Buffer.allocUnsafe(Math.max(needed, scratch.length * 2));
    try {
      this.iterativeParse();
    } finally {
      this.src = null;
      this.handler = null;
      if (this.scratch.length > KEPT_SCRATCH_BYTES) this.scratch = Buffer.allocUnsafe(256);
    }
  }

  // RapidJSON's MemoryStream: 0 past the end, like a NUL byte.
  peek() {
    return this.pos < this.end ? this.src[this.pos] : 0;
  }

  take() {
    return this.pos < this.end ? this.src[this.pos++] : 0;
  }

  consume(code) {
    if (this.peek() !== code) return false;
    this.pos += 1;
    return true;
  }

  fail(message, offset) {
    if (this.error === null) {
      this.error = message;
      this.errorOffset = offset;
    }
  }

  skipWhitespace() {
    for (;;) {
      const c = this.peek();
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos += 1;
    }
  }

  iterativeParse() {
    let state = S_START;
    this.skipWhitespace();
    while (this.peek() !== 0) {
      const token = TOKEN_OF[this.peek()];
      const next = PREDICT[state * TOKEN_COUNT + token];
      const reached = this.transit(state, next);
      if (reached === S_ERROR) {
        this.handleError(state);
        break;
      }
      state = reached;
      this.skipWhitespace();
    }
    if (state !== S_FINISH) this.handleError(state);
  }

  transit(src, dst) {
    switch (dst) {
      case S_ERROR:
        return dst;
      case S_OBJECT_INITIAL:
      case S_ARRAY_INITIAL: {
        let resume = src;
        if (src === S_ARRAY_INITIAL || src === S_ELEMENT_DELIMITER) resume = S_ELEMENT;
        else if (src === S_KEY_VALUE_DELIMITER) resume = S_MEMBER_VALUE;
        this.stack.push(resume);
        const ok = dst === S_OBJECT_INITIAL ? this.handler.startObject() : this.handler.startArray();
        if (!ok) {
          this.fail(E_TERMINATION, this.pos);
          return S_ERROR;
        }
        this.pos += 1;
        return dst;
      }
      case S_MEMBER_KEY:
        this.parseString(true);
        return this.error === null ? dst : S_ERROR;
      case S_KEY_VALUE_DELIMITER:
      case S_MEMBER_DELIMITER:
      case S_ELEMENT_DELIMITER:
        this.pos += 1;
        return dst;
      case S_MEMBER_VALUE:
      case S_ELEMENT:
        this.parseValue();
        return this.error === null ? dst : S_ERROR;
      case S_OBJECT_FINISH:
      case S_ARRAY_FINISH:
        return this.finishContainer(src, dst);
      default: // S_VALUE: a scalar root
        this.parseValue();
        return this.error === null ? S_FINISH : S_ERROR;
    }
  }

  finishContainer(src, dst) {
    // A trailing comma (kParseTrailingCommasFlag is off).
    if (dst === S_OBJECT_FINISH && src === S_MEMBER_DELIMITER) {
      this.fail(E_OBJECT_MISS_NAME, this.pos);
      return S_ERROR;
    }
    if (dst === S_ARRAY_FINISH && src === S_ELEMENT_DELIMITER) {
      this.fail(E_VALUE_INVALID, this.pos);
      return S_ERROR;
    }
    let resume = this.stack.pop();
    if (resume === S_START) resume = S_FINISH;
    this.handler.endContainer();
    this.pos += 1;
    return resume;
  }

  handleError(src) {
    const at = this.pos;
    switch (src) {
      case S_START: return this.fail(E_DOCUMENT_EMPTY, at);
      case S_FINISH: return this.fail(E_ROOT_NOT_SINGULAR, at);
      case S_OBJECT_INITIAL:
      case S_MEMBER_DELIMITER: return this.fail(E_OBJECT_MISS_NAME, at);
      case S_MEMBER_KEY: return this.fail(E_OBJECT_MISS_COLON, at);
      case S_MEMBER_VALUE: return this.fail(E_OBJECT_MISS_COMMA, at);
      case S_KEY_VALUE_DELIMITER:
      case S_ARRAY_INITIAL:
      case S_ELEMENT_DELIMITER: return this.fail(E_VALUE_INVALID, at);
      default: return this.fail(E_ARRAY_MISS_COMMA, at);
    }
  }

  // Containers never get here: Predict() sends them to the Initial states.
  parseValue() {
    switch (this.peek()) {
      case 0x6e: return this.parseLiteral(0x75, 0x6c, 0x6c, -1, KIND_NULL); // null
      case 0x74: return this.parseLiteral(0x72, 0x75, 0x65, -1, KIND_BOOL); // true
      case 0x66: return this.parseLiteral(0x61, 0x6c, 0x73, 0x65, KIND_BOOL); // false
      case 0x22: return this.parseString(false);
      default: return this.parseNumber();
    }
  }

  // The first letter is known; `c1`..`c4` are the rest (-1: none).
  parseLiteral(c1, c2, c3, c4, kind) {
    this.pos += 1;
    if (this.consume(c1) && this.consume(c2) && this.consume(c3) && (c4 < 0 || this.consume(c4))) {
      if (!this.handler.value(kind, null, 0)) this.fail(E_TERMINATION, this.pos);
    } else {
      this.fail(E_VALUE_INVALID, this.pos);
    }
  }

  put(byte) {
    this.scratch[this.length++] = byte;
  }

  parseString(isKey) {
    this.pos += 1; // the opening quote
    this.length = 0;
    if (!this.readStringBody()) return;
    const ok = isKey
      ? this.handler.key(this.scratch, this.length)
      : this.handler.value(KIND_STRING, this.scratch, this.length);
    if (!ok) this.fail(E_TERMINATION, this.pos);
  }

  // ParseStringToStream with kParseValidateEncodingFlag; false on error.
  readStringBody() {
    const src = this.src;
    const end = this.end;
    const scratch = this.scratch;
    for (;;) {
      // Printable ASCII, the bulk of most strings, is copied as is.
      let p = this.pos;
      let length = this.length;
      while (p < end) {
        const b = src[p];
        if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) break;
        scratch[length++] = b;
        p += 1;
      }
      this.pos = p;
      this.length = length;
      const c = this.peek();
      if (c === 0x5c) { // backslash
        if (!this.readEscape()) return false;
      } else if (c === 0x22) {
        this.pos += 1;
        return true;
      } else if (c < 0x20) {
        // 0 is the end of input or a NUL byte.
        this.fail(c === 0 ? E_MISS_QUOTE : E_ESCAPE_INVALID, this.pos);
        return false;
      } else {
        const offset = this.pos;
        if (!this.copyUtf8Sequence()) {
          this.fail(E_INVALID_ENCODING, offset);
          return false;
        }
      }
    }
  }

  readEscape() {
    const escapeOffset = this.pos;
    this.pos += 1;
    const e = this.peek();
    if (ESCAPE[e] !== 0) {
      this.pos += 1;
      this.put(ESCAPE[e]);
      return true;
    }
    if (e !== 0x75) { // 'u'
      this.fail(E_ESCAPE_INVALID, escapeOffset);
      return false;
    }
    this.pos += 1;
    let codepoint = this.parseHex4(escapeOffset);
    if (codepoint < 0) return false;
    if (codepoint >= 0xd800 && codepoint <= 0xdbff) {
      // A high surrogate must be followed by an escaped low one; a lone low
      // surrogate is encoded as is (ED B0..BF xx), as RapidJSON 1.1.0 does.
      if (!this.consume(0x5c) || !this.consume(0x75)) {
        this.fail(E_SURROGATE, escapeOffset);
        return false;
      }
      const low = this.parseHex4(escapeOffset);
      if (low < 0) return false;
      if (low < 0xdc00 || low > 0xdfff) {
        this.fail(E_SURROGATE, escapeOffset);
        return false;
      }
      codepoint = (((codepoint - 0xd800) << 10) | (low - 0xdc00)) + 0x10000;
    }
    this.encodeUtf8(codepoint);
    return true;
  }

  // The value of four hex digits, or -1 after reporting the error.
  parseHex4(escapeOffset) {
    let codepoint = 0;
    for (let i = 0; i < 4; i += 1) {
      const c = this.peek();
      let digit;
      if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) digit = c - 0x41 + 10;
      else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
      else {
        this.fail(E_ESCAPE_HEX, escapeOffset);
        return -1;
      }
      codepoint = codepoint * 16 + digit;
      this.pos += 1;
    }
    return codepoint;
  }

  encodeUtf8(codepoint) {
    if (codepoint <= 0x7f) {
      this.put(codepoint);
    } else if (codepoint <= 0x7ff) {
      this.put(0xc0 | (codepoint >> 6));
      this.put(0x80 | (codepoint & 0x3f));
    } else if (codepoint <= 0xffff) {
      this.put(0xe0 | (codepoint >> 12));
      this.put(0x80 | ((codepoint >> 6) & 0x3f));
      this.put(0x80 | (codepoint & 0x3f));
    } else {
      this.put(0xf0 | (codepoint >> 18));
      this.put(0x80 | ((codepoint >> 12) & 0x3f));
      this.put(0x80 | ((codepoint >> 6) & 0x3f));
      this.put(0x80 | (codepoint & 0x3f));
    }
  }

  // UTF8::Validate: copies one character; false if it is not valid UTF-8.
  // Like RapidJSON it takes the bytes a sequence announces whatever they
  // are; the caller reports the offset of the first.
  copyUtf8Sequence() {
    const lead = this.take();
    this.put(lead);
    if (lead < 0x80) return true;
    switch (UTF8_RANGE[lead]) {
      case 2: return this.tail();
      case 3: return this.tail() & this.tail();
      case 4: return this.second(0x50) & this.tail();
      case 5: return this.second(0x10) & this.tail() & this.tail();
      case 6: return this.tail() & this.tail() & this.tail();
      case 10: return this.second(0x20) & this.tail();
      case 11: return this.second(0x60) & this.tail() & this.tail();
      default: return false;
    }
  }

  second(mask) {
    const c = this.take();
    this.put(c);
    return (UTF8_RANGE[c] & mask) !== 0;
  }

  tail() {
    return this.second(0x70);
  }

  // ParseNumber without kParseFullPrecisionFlag / kParseNumbersAsStrings /
  // kParseNanAndInfFlag. Only its verdict matters here (the handlers ignore
  // numbers' values).
  parseNumber() {
    const end = this.plainNumberEnd();
    if (end !== -1) {
      this.pos = end;
      if (!this.handler.value(KIND_NUMBER, null, 0)) this.fail(E_TERMINATION, end);
      return;
    }
    this.parseNumberExactly();
  }

  // Where a number that RapidJSON certainly accepts ends, or -1 when it
  // might not: malformed, or long enough (an integer part of 300 digits, an
  // exponent of 3) to overflow, which parseNumberExactly() decides.
  plainNumberEnd() {
    const src = this.src;
    const end = this.end;
    let p = this.pos;
    if (p < end && src[p] === 0x2d) p += 1;
    if (p >= end || !isDigitCode(src[p])) return -1;
    const intStart = p;
    if (src[p] === 0x30) p += 1; // a leading 0 stands alone
    else while (p < end && isDigitCode(src[p])) p += 1;
    if (p - intStart >= 300) return -1;
    if (p < end && src[p] === 0x2e) {
      p += 1;
      if (p >= end || !isDigitCode(src[p])) return -1;
      while (p < end && isDigitCode(src[p])) p += 1;
    }
    if (p < end && (src[p] === 0x65 || src[p] === 0x45)) {
      p += 1;
      if (p < end && (src[p] === 0x2b || src[p] === 0x2d)) p += 1;
      const expStart = p;
      while (p < end && isDigitCode(src[p])) p += 1;
      if (p === expStart || p - expStart >= 3) return -1;
    }
    return p;
  }

  // RapidJSON's own steps, for numbers plainNumberEnd() cannot vouch for:
  // the overflow checks depend on the running double and digit counts, so
  // those are computed as RapidJSON computes them.
  parseNumberExactly() {
    const start = this.pos;
    const minus = this.consume(0x2d);
    let i = 0;
    let i64 = 0n;
    let use64bit = false;
    let significandDigit = 0;
    const first = this.peek();
    if (first === 0x30) {
      this.pos += 1;
    } else if (first >= 0x31 && first <= 0x39) {
      i = this.take() - 0x30;
      const guard = minus ? INT32_GUARD : UINT32_GUARD;
      const lastDigit = minus ? 0x38 : 0x35;
      while (isDigitCode(this.peek())) {
        if (i >= guard && (i !== guard || this.peek() > lastDigit)) {
          i64 = BigInt(i);
          use64bit = true;
          break;
        }
        i = i * 10 + (this.take() - 0x30);
        significandDigit += 1;
      }
    } else {
      this.fail(E_VALUE_INVALID, this.pos);
      return;
    }

    let useDouble = false;
    let d = 0;
    if (use64bit) {
      const guard = minus ? INT64_GUARD : UINT64_GUARD;
      const lastDigit = minus ? 0x38 : 0x35;
      while (isDigitCode(this.peek())) {
        if (i64 >= guard && (i64 !== guard || this.peek() > lastDigit)) {
          d = Number(i64);
          useDouble = true;
          break;
        }
        i64 = i64 * 10n + BigInt(this.take() - 0x30);
        significandDigit += 1;
      }
    }
    if (useDouble) { // an integer past 64 bits
      while (isDigitCode(this.peek())) {
        if (d >= DOUBLE_MAX_TENTH) {
          this.fail(E_NUMBER_TOO_BIG, start);
          return;
        }
        d = d * 10 + (this.take() - 0x30);
      }
    }

    let expFrac = 0;
    if (this.consume(0x2e)) { // '.'
      if (!isDigitCode(this.peek())) {
        this.fail(E_MISS_FRACTION, this.pos);
        return;
      }
      if (!useDouble) {
        if (!use64bit) i64 = BigInt(i);
        while (isDigitCode(this.peek())) {
          if (i64 > FAST_PATH_SIGNIFICAND) break;
          i64 = i64 * 10n + BigInt(this.take() - 0x30);
          expFrac -= 1;
          if (i64 !== 0n) significandDigit += 1;
        }
        d = Number(i64);
        useDouble = true;
      }
      while (isDigitCode(this.peek())) {
        if (significandDigit < 17) {
          d = d * 10 + (this.take() - 0x30);
          expFrac -= 1;
          if (d > 0) significandDigit += 1;
        } else {
          this.pos += 1;
        }
      }
    }

    if (this.consume(0x65) || this.consume(0x45)) { // e E
      let expMinus = false;
      if (!this.consume(0x2b)) expMinus = this.consume(0x2d);
      if (!isDigitCode(this.peek())) {
        this.fail(E_MISS_EXPONENT, this.pos);
        return;
      }
      let exp = this.take() - 0x30;
      if (expMinus) {
        // Negative exponents only underflow; RapidJSON stops counting at
        // 214748364 and skips the remaining digits.
        while (isDigitCode(this.peek())) {
          exp = exp * 10 + (this.take() - 0x30);
          if (exp >= INT32_GUARD) while (isDigitCode(this.peek())) this.pos += 1;
        }
      } else {
        const maxExp = 308 - expFrac;
        while (isDigitCode(this.peek())) {
          exp = exp * 10 + (this.take() - 0x30);
          if (exp > maxExp) {
            this.fail(E_NUMBER_TOO_BIG, start);
            return;
          }
        }
      }
    }
    if (!this.handler.value(KIND_NUMBER, null, 0)) this.fail(E_TERMINATION, start);
  }
}

const reader = new ByteJsonReader();

// ---------------------------------------------------------------------------
// Handlers (the C++ SaxAdapter and its two derived handlers)

// RapidJSON encodes an unpaired low-surrogate escape ("\udc00") as ED B0..BF
// xx, which is not UTF-8; validated raw input never contains it, so finding
// one means such an escape (hasEncodedSurrogate in the C++).
function hasEncodedSurrogate(bytes, length) {
  for (let i = 0; i + 1 < length; i += 1) {
    if (bytes[i] === 0xed && bytes[i + 1] >= 0xa0) return true;
  }
  return false;
}

// Depth bookkeeping and the depth limit, shared by both handlers: the
// container is reported to value() before the parser descends into it.
class SaxAdapter {
  reset(maxDepth) {
    this.maxDepth = maxDepth;
    this.depth = 0;
    this.depthExceeded = false;
  }

  startObject() {
    return this.open(KIND_OBJECT);
  }

  startArray() {
    return this.open(KIND_ARRAY);
  }

  open(kind) {
    if (!this.value(kind, null, 0)) return false;
    if (this.depth >= this.maxDepth) {
      this.depthExceeded = true;
      return false;
    }
    this.depth += 1;
    return true;
  }

  endContainer() {
    this.depth -= 1;
    return true;
  }
}

const F_NONE = 0;
const F_ORDER_ID = 1;
const F_STATUS = 2;
const F_TIMESTAMP = 4;
const F_DRIVER_ID = 8;

// Field names as bytes, compared in place: most keys are rejected on their
// length or first byte, without building a string.
const ORDER_ID = Buffer.from('order_id');
const STATUS = Buffer.from('status');
const TIMESTAMP = Buffer.from('timestamp');
const DRIVER_ID = Buffer.from('driver_id');
const TYPE = Buffer.from('type');
const TOPICS = Buffer.from('topics');
const SUBSCRIBE = Buffer.from('subscribe');
const UNSUBSCRIBE = Buffer.from('unsubscribe');

function bytesEqual(bytes, length, name) {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i += 1) {
    if (bytes[i] !== name[i]) return false;
  }
  return true;
}

function eventFieldNamed(bytes, length) {
  if (bytesEqual(bytes, length, ORDER_ID)) return F_ORDER_ID;
  if (bytesEqual(bytes, length, STATUS)) return F_STATUS;
  if (bytesEqual(bytes, length, TIMESTAMP)) return F_TIMESTAMP;
  if (bytesEqual(bytes, length, DRIVER_ID)) return F_DRIVER_ID;
  return F_NONE;
}

const FIELD_NAME = {
  [F_ORDER_ID]: 'order_id',
  [F_STATUS]: 'status',
  [F_TIMESTAMP]: 'timestamp',
  [F_DRIVER_ID]: 'driver_id',
};

class EventHandler extends SaxAdapter {
  reset(maxDepth) {
    super.reset(maxDepth);
    this.error = '';
    this.pending = F_NONE; // the field whose value comes next
    this.seen = 0; // fields seen, as bits
    this.orderTopic = null;
    this.driverTopic = null;
  }

  key(bytes, length) {
    if (this.depth !== 1) return true;
    this.pending = eventFieldNamed(bytes, length);
    if (this.pending === F_NONE) return true;
    if (this.seen & this.pending) return this.failWith(`duplicate field: ${FIELD_NAME[this.pending]}`);
    this.seen |= this.pending;
    return true;
  }

  value(kind, bytes, length) {
    if (this.depth === 0) return kind === KIND_OBJECT || this.failWith('event: expected a JSON object');
    if (this.depth !== 1 || this.pending === F_NONE) return true;
    const field = this.pending;
    this.pending = F_NONE;
    const isString = kind === KIND_STRING;
    switch (field) {
      case F_ORDER_ID:
        if (!isString || length === 0) return this.failWith('order_id: expected a non-empty string');
        if (hasEncodedSurrogate(bytes, length)) return this.failWith('order_id: unpaired UTF-16 surrogate escape');
        this.orderTopic = `order:${bytes.toString('utf8', 0, length)}`;
        return true;
      case F_STATUS:
        return isString || this.failWith('status: expected a string');
      case F_TIMESTAMP:
        if (!isString) return this.failWith('timestamp: expected a string');
        return isRfc3339Timestamp(bytes.toString('latin1', 0, length)) ||
          this.failWith('timestamp: expected an RFC 3339 date-time');
      default: // F_DRIVER_ID
        if (kind === KIND_NULL) return true;
        if (!isString) return this.failWith('driver_id: expected a string or null');
        if (length === 0) return this.failWith('driver_id: expected a non-empty string or null');
        if (hasEncodedSurrogate(bytes, length)) return this.failWith('driver_id: unpaired UTF-16 surrogate escape');
        this.driverTopic = `driver:${bytes.toString('utf8', 0, length)}`;
        return true;
    }
  }

  failWith(message) {
    this.error = message;
    return false;
  }

  // After a successful parse: the first required field that never appeared.
  missingField() {
    if (!(this.seen & F_ORDER_ID)) return 'missing field: order_id';
    if (!(this.seen & F_STATUS)) return 'missing field: status';
    if (!(this.seen & F_TIMESTAMP)) return 'missing field: timestamp';
    return null;
  }
}

const C_NONE = 0;
const C_TYPE = 1;
const C_TOPICS = 2;

class ClientMessageHandler extends SaxAdapter {
  reset(maxDepth, maxTopicBytes, maxTopicsPerMessage) {
    super.reset(maxDepth);
    this.maxTopicBytes = maxTopicBytes;
    this.maxTopicsPerMessage = maxTopicsPerMessage;
    this.pending = C_NONE;
    this.inTopics = false; // depth-2 values are elements of "topics"
    this.controlType = null; // 'subscribe' / 'unsubscribe' once seen
    this.typeKeys = 0;
    this.topicsKeys = 0;
    this.topicCount = 0;
    this.topics = [];
    this.error = ''; // the first problem with "topics"
  }

  key(bytes, length) {
    if (this.depth !== 1) return true;
    this.inTopics = false;
    if (bytesEqual(bytes, length, TYPE)) {
      this.pending = C_TYPE;
      this.typeKeys += 1;
    } else if (bytesEqual(bytes, length, TOPICS)) {
      this.pending = C_TOPICS;
      this.topicsKeys += 1;
    } else {
      this.pending = C_NONE;
    }
    return true;
  }

  value(kind, bytes, length) {
    // Not an object: certainly not a control message; stop reading.
    if (this.depth === 0) return kind === KIND_OBJECT;
    if (this.depth === 1) {
      const field = this.pending;
      this.pending = C_NONE;
      if (field === C_TYPE) this.onType(kind, bytes, length);
      else if (field === C_TOPICS) this.onTopicsValue(kind);
    } else if (this.depth === 2 && this.inTopics) {
      this.onTopic(kind, bytes, length);
    }
    return true;
  }

  onType(kind, bytes, length) {
    if (kind !== KIND_STRING) return;
    if (bytesEqual(bytes, length, SUBSCRIBE)) this.controlType = 'subscribe';
    else if (bytesEqual(bytes, length, UNSUBSCRIBE)) this.controlType = 'unsubscribe';
  }

  onTopicsValue(kind) {
    if (kind === KIND_ARRAY) this.inTopics = true;
    else if (this.error === '') this.error = 'topics: expected an array of non-empty strings';
  }

  // "type" may follow "topics", so topics are checked and kept whatever the
  // type turns out to be; after the first problem they are only counted.
  onTopic(kind, bytes, length) {
    const index = this.topicCount;
    this.topicCount += 1;
    if (this.error !== '') return;
    if (this.topicCount > this.maxTopicsPerMessage) {
      this.error = `topics: more than ${this.maxTopicsPerMessage} topics`;
      return;
    }
    const where = `topics[${index}]: `;
    if (kind !== KIND_STRING || length === 0) {
      this.error = `${where}expected a non-empty string`;
    } else if (length > this.maxTopicBytes) {
      this.error = `${where}longer than ${this.maxTopicBytes} bytes`;
    } else if (hasEncodedSurrogate(bytes, length)) {
      this.error = `${where}unpaired UTF-16 surrogate escape`;
    } else {
      this.topics.push(bytes.toString('utf8', 0, length));
    }
  }

  // After a successful parse.
  result() {
    if (this.controlType === null) return OTHER;
    let error;
    if (this.typeKeys > 1) error = 'duplicate field: type';
    else if (this.topicsKeys === 0) error = 'missing field: topics';
    else if (this.topicsKeys > 1) error = 'duplicate field: topics';
    else error = this.error;
    if (error !== '') return { type: 'invalid', error };
    return { type: this.controlType, topics: this.topics };
  }
}

const eventHandler = new EventHandler();
const clientHandler = new ClientMessageHandler();

// ---------------------------------------------------------------------------
// Events

function maxEventBytesOf(limits) {
  return limits && limits.maxEventBytes !== undefined ? limits.maxEventBytes : DEFAULT_MAX_EVENT_BYTES;
}

function maxDepthOf(limits) {
  return limits && limits.maxDepth !== undefined ? limits.maxDepth : DEFAULT_MAX_DEPTH;
}

function tooLarge(maxEventBytes) {
  return { ok: false, error: `event: larger than ${maxEventBytes} bytes` };
}

// The exact decoder: the C++ EventDecoder::decode over UTF-8 bytes.
function decodeEventExact(bytes, maxDepth) {
  eventHandler.reset(maxDepth);
  reader.parse(bytes, eventHandler);
  let error;
  if (reader.error !== null) {
    // A handler that stopped the parse has already written its reason.
    error = eventHandler.error || (eventHandler.depthExceeded
      ? `nesting deeper than ${maxDepth}`
      : describeParseError());
  } else if (reader.pos !== bytes.length) {
    // RapidJSON reads a NUL byte as the end of input; no valid JSON text
    // contains one, so stopping short of the end is an error.
    error = `not valid JSON at offset ${reader.pos}: NUL byte`;
  } else {
    error = eventHandler.missingField();
  }
  if (error) return { ok: false, error };
  return { ok: true, orderTopic: eventHandler.orderTopic, driverTopic: eventHandler.driverTopic };
}

function describeParseError() {
  if (reader.error === E_INVALID_ENCODING) return `invalid UTF-8 at offset ${reader.errorOffset}`;
  return `not valid JSON at offset ${reader.errorOffset}: ${reader.error}`;
}

// For the fast path: the number of members of the root object (colons at
// depth 1), or -1 when the text holds anything on which JSON.parse and
// RapidJSON might disagree or decode strings differently: a \u escape (lone
// surrogates), nesting past maxDepth, an exponent of 3 digits or more or an
// integer part of 300 digits or more (the only numbers RapidJSON rejects as
// too big). Strings are skipped with indexOf; malformed text may be
// misjudged here, but JSON.parse rejects it next.
function scanForFastPath(text, maxDepth) {
  const hasEscapes = text.indexOf('\\') !== -1;
  const length = text.length;
  let depth = 0;
  let members = 0;
  for (let i = 0; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = hasEscapes ? endOfEscapedString(text, i + 1) : text.indexOf('"', i + 1);
      if (i === -1) return -1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return -1;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    } else if (c === 0x3a) {
      if (depth === 1) members += 1;
    } else if (isDigitCode(c)) {
      let end = i + 1;
      while (end < length && isDigitCode(text.charCodeAt(end))) end += 1;
      if (end - i >= 300) return -1;
      i = end - 1;
    } else if (c === 0x65 || c === 0x45) { // an exponent (or the e of true/false)
      let p = i + 1;
      const sign = text.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p += 1;
      if (isDigitCode(text.charCodeAt(p)) && isDigitCode(text.charCodeAt(p + 1)) &&
          isDigitCode(text.charCodeAt(p + 2))) {
        return -1;
      }
    }
  }
  return members;
}

// Index of the quote closing a string that starts at `i`, or -1 if there is
// none or the string has a \u escape.
function endOfEscapedString(text, i) {
  for (; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c === 0x5c) {
      if (text.charCodeAt(i + 1) === 0x75) return -1;
      i += 1;
    }
  }
  return -1;
}

// The fast verdict, or null when the exact decoder must decide (because the
// event is unusual, or invalid: rejections always come from the exact
// decoder, so their texts match the C++).
function decodeEventFast(text, maxDepth) {
  const members = scanForFastPath(text, maxDepth);
  if (members < 0) return null;
  let event;
  try {
    event = JSON.parse(text);
  } catch {
    return null;
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return null;
  const orderId = event.order_id;
  const driverId = event.driver_id;
  if (typeof orderId !== 'string' || orderId.length === 0 || typeof event.status !== 'string' ||
      !isRfc3339Timestamp(event.timestamp)) {
    return null;
  }
  const hasDriver = driverId !== undefined && driverId !== null;
  if (hasDriver && (typeof driverId !== 'string' || driverId.length === 0)) return null;
  // JSON.parse keeps the last of repeated keys, which RapidJSON rejects for
  // the four fields: fewer keys than members means a repeat somewhere.
  if (Object.keys(event).length !== members) return null;
  return {
    ok: true,
    orderTopic: `order:${orderId}`,
    driverTopic: hasDriver ? `driver:${driverId}` : null,
  };
}

// A Buffer over the same memory as a Uint8Array.
function asBuffer(bytes) {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

// UTF-8 length of `text`, or any number above `max` once it is known to be
// above: a UTF-16 unit is 1 to 3 UTF-8 bytes.
function utf8LengthUpTo(text, max) {
  if (text.length > max) return text.length;
  if (text.length * 3 <= max) return 0;
  return Buffer.byteLength(text, 'utf8');
}

// One event as text. Lone surrogates in a JS string stand for U+FFFD, as in
// its UTF-8 encoding (Buffer.from, and N-API's conversion to a C++ string).
function decodeEvent(text, limits) {
  if (typeof text !== 'string') return decodeEventBytes(text, limits);
  const maxEventBytes = maxEventBytesOf(limits);
  const maxDepth = maxDepthOf(limits);
  if (utf8LengthUpTo(text, maxEventBytes) > maxEventBytes) return tooLarge(maxEventBytes);
  if (text.isWellFormed()) {
    const fast = decodeEventFast(text, maxDepth);
    if (fast !== null) return fast;
  }
  return decodeEventExact(Buffer.from(text, 'utf8'), maxDepth);
}

// One event as UTF-8 bytes (a Buffer or Uint8Array), which may be invalid
// UTF-8: reported like the C++ does, at the first bad sequence in a string
// unless an earlier problem comes first. Bytes go straight to the exact
// decoder: on a typical event it is faster than checking the UTF-8,
// converting to a string and taking the fast path.
function decodeEventBytes(bytes, limits) {
  const maxEventBytes = maxEventBytesOf(limits);
  if (bytes.length > maxEventBytes) return tooLarge(maxEventBytes);
  return decodeEventExact(asBuffer(bytes), maxDepthOf(limits));
}

// ---------------------------------------------------------------------------
// Events given as JS objects

// Per entry, an upper bound of what JSON.stringify writes besides string
// contents: quotes, colon, comma, brackets, or the longest number
// ("-1.7976931348623157e+308" is 24 characters).
const ENTRY_BYTES = 32;
// A UTF-16 unit becomes at most 6 bytes of JSON ("\u001f").
const BYTES_PER_UNIT = 6;

// Objects JSON.stringify does not write as their own keys and values.
function serializesSpecially(object) {
  return typeof object.toJSON === 'function' || object instanceof String ||
    object instanceof Number || object instanceof Boolean || object instanceof BigInt;
}

// Would JSON.stringify(event) hold nothing for the C++ decoder to reject
// but the four fields? Walks the event as JSON.stringify would (key order,
// depth first) without building the text, and gives up (false) on anything
// that needs the exact decoder: toJSON or boxed primitives, nesting past
// maxDepth, strings with lone surrogates, BigInt, or a serialized size that
// might pass maxEventBytes.
function plainEventWithinLimits(event, maxDepth, maxEventBytes) {
  let budget = maxEventBytes;
  const stack = [event, 1];
  while (stack.length > 0) {
    const depth = stack.pop();
    const container = stack.pop();
    if (depth > maxDepth || serializesSpecially(container)) return false;
    budget -= ENTRY_BYTES;
    const keys = Array.isArray(container) ? null : Object.keys(container);
    const count = keys === null ? container.length : keys.length;
    for (let i = 0; i < count; i += 1) {
      const key = keys === null ? i : keys[i];
      if (keys !== null) {
        if (!key.isWellFormed()) return false;
        budget -= key.length * BYTES_PER_UNIT;
      }
      const value = container[key];
      budget -= ENTRY_BYTES;
      switch (typeof value) {
        case 'string':
          if (!value.isWellFormed()) return false;
          budget -= value.length * BYTES_PER_UNIT;
          break;
        case 'object':
          if (value !== null) stack.push(value, depth + 1);
          break;
        case 'bigint':
          return false;
        default: // numbers, booleans, and what JSON.stringify leaves out
          break;
      }
    }
    if (budget < 0) return false;
  }
  return true;
}

// JSON.stringify leaves these out of objects: the field is absent.
function isOmitted(value) {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

// The first field error in key order (the order of the serialized text), or
// a missing field, or null.
function checkEventFields(event) {
  const keys = Object.keys(event);
  let seen = 0;
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i];
    const raw = event[key];
    // NaN and the infinities are written as null.
    const value = typeof raw === 'number' && !Number.isFinite(raw) ? null : raw;
    let error = null;
    if (key === 'order_id' && !isOmitted(value)) {
      seen |= F_ORDER_ID;
      if (typeof value !== 'string' || value.length === 0) error = 'order_id: expected a non-empty string';
    } else if (key === 'status' && !isOmitted(value)) {
      seen |= F_STATUS;
      if (typeof value !== 'string') error = 'status: expected a string';
    } else if (key === 'timestamp' && !isOmitted(value)) {
      seen |= F_TIMESTAMP;
      if (typeof value !== 'string') error = 'timestamp: expected a string';
      else if (!isRfc3339Timestamp(value)) error = 'timestamp: expected an RFC 3339 date-time';
    } else if (key === 'driver_id' && !isOmitted(value) && value !== null) {
      if (typeof value !== 'string') error = 'driver_id: expected a string or null';
      else if (value.length === 0) error = 'driver_id: expected a non-empty string or null';
    }
    if (error !== null) return error;
  }
  if (!(seen & F_ORDER_ID)) return 'missing field: order_id';
  if (!(seen & F_STATUS)) return 'missing field: status';
  if (!(seen & F_TIMESTAMP)) return 'missing field: timestamp';
  return null;
}

// The verdict of the C++ decoder on JSON.stringify(event): null when valid,
// else the error text. Plain events are judged without serializing; for the
// rest (toJSON, lone surrogates, deep nesting, large events) the text is
// built and decoded exactly.
function validateEventObject(event, limits) {
  const maxEventBytes = maxEventBytesOf(limits);
  const maxDepth = maxDepthOf(limits);
  if (event !== null && typeof event === 'object' && !Array.isArray(event) &&
      plainEventWithinLimits(event, maxDepth, maxEventBytes)) {
    return checkEventFields(event);
  }
  let text;
  try {
    text = JSON.stringify(event);
  } catch (err) {
    // JSON.stringify recurses: running out of stack means nesting far past
    // any depth limit (a field error earlier in key order goes unreported).
    if (err instanceof RangeError && /call stack/i.test(err.message)) return `nesting deeper than ${maxDepth}`;
    return `event: not serializable as JSON: ${err.message}`;
  }
  // undefined, a function, a symbol: nothing to send.
  if (text === undefined) return 'event: expected a JSON object';
  const decoded = decodeEvent(text, { maxEventBytes, maxDepth });
  return decoded.ok ? null : decoded.error;
}

// ---------------------------------------------------------------------------
// Client messages

const OTHER = Object.freeze({ type: 'other' });
const TYPE_KEY = Buffer.from('"type"');

// {"type":"subscribe","topics":[...]} / "unsubscribe": { type, topics };
// the same with malformed topics: { type: 'invalid', error }; anything else
// (other JSON, not JSON): { type: 'other' }. `text` is a string or UTF-8
// bytes. limits: { maxTopicBytes, maxTopicsPerMessage, maxDepth }.
function decodeClientMessage(text, limits) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : asBuffer(text);
  // A control message has a "type" key, written as such or with escapes:
  // without either, the parse can only end in 'other'.
  if (bytes.indexOf(TYPE_KEY) === -1 && bytes.indexOf(0x5c) === -1) return OTHER;
  clientHandler.reset(
    limits && limits.maxDepth !== undefined ? limits.maxDepth : DEFAULT_MAX_DEPTH,
    limits && limits.maxTopicBytes !== undefined ? limits.maxTopicBytes : DEFAULT_MAX_TOPIC_BYTES,
    limits && limits.maxTopicsPerMessage !== undefined
      ? limits.maxTopicsPerMessage : DEFAULT_MAX_TOPICS_PER_MESSAGE);
  reader.parse(bytes, clientHandler);
  // Not JSON we accept (syntax, encoding, depth, not an object, a NUL): the
  // embedder gets the text as is.
  if (reader.error !== null || reader.pos !== bytes.length) return OTHER;
  return clientHandler.result();
}

module.exports = {
  decodeEvent,
  decodeEventBytes,
  validateEventObject,
  isRfc3339Timestamp,
  forEachLine,
  decodeClientMessage,
  DEFAULT_MAX_EVENT_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_TOPIC_BYTES,
  DEFAULT_MAX_TOPICS_PER_MESSAGE,
};
