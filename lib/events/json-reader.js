'use strict';
// A port of RapidJSON 1.1.0's iterative reader, as the C++ decoder runs it
// (kParseIterativeFlag | kParseValidateEncodingFlag, no other flags), over
// UTF-8 bytes. It reports to a handler:
//   startObject() / startArray() / endContainer()
//   key(bytes, length)           -- the decoded name, in `bytes`[0, length)
//   value(kind, bytes, length)   -- a scalar; bytes for strings only
// and any false return stops the parse (RapidJSON's kParseErrorTermination).

const { isDigitCode } = require('./timestamp');

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

module.exports = {
  reader,
  KIND_NULL,
  KIND_STRING,
  KIND_OBJECT,
  KIND_ARRAY,
  E_INVALID_ENCODING,
};
