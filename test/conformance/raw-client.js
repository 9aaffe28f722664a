'use strict';
// A raw TCP WebSocket client for the conformance suite: it writes whatever
// bytes a case asks for (a hand-built upgrade request, frames that break
// the protocol on purpose, 1-byte chunks) and parses what comes back
// incrementally: the HTTP response head, then the server's frames, then
// whether TCP closed and whether anything followed the close frame.

const net = require('node:net');
const crypto = require('node:crypto');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODES = Object.freeze({ continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa });
const OPCODE_NAMES = Object.freeze(Object.fromEntries(Object.entries(OPCODES).map(([name, op]) => [op, name])));
const utf8 = new TextDecoder('utf-8', { fatal: true });

function acceptKeyFor(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

function isValidUtf8(bytes) {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function toBuffer(payload) {
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Array.isArray(payload) || payload instanceof Uint8Array) return Buffer.from(payload);
  throw new TypeError(`cannot make a payload of ${typeof payload}`);
}

// The body of a close frame: nothing without a code, else the 2-byte code
// and the reason (a string, or a Buffer to send invalid UTF-8).
function closeBody(code, reason) {
  if (code === undefined || code === null) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, toBuffer(reason)]);
}

// Builds one client frame from a small spec:
//   fin            default true
//   rsv            3 bits, 0b100 = RSV1, 0b010 = RSV2, 0b001 = RSV3 (default 0)
//   opcode         number or name ('text', 'ping', ...)
//   mask           default true (a client must mask)
//   payload        string | Buffer | byte array
//   lengthEncoding 7 | 16 | 64; default the minimal one for the length
//   length         declared length (number or BigInt) when it must differ
//                  from the payload's: only `payload` follows the header,
//                  e.g. a header that announces 2^40 bytes and sends none
//   maskKey        4 bytes; default random
function buildFrame(spec) {
  const payload = toBuffer(spec.payload);
  const opcode = typeof spec.opcode === 'string' ? OPCODES[spec.opcode] : spec.opcode;
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) throw new TypeError(`bad opcode ${spec.opcode}`);
  const fin = spec.fin !== false;
  const rsv = spec.rsv || 0;
  const mask = spec.mask !== false;
  const declared = BigInt(spec.length !== undefined ? spec.length : payload.length);
  let encoding = spec.lengthEncoding;
  if (encoding === undefined) encoding = declared < 126n ? 7 : (declared <= 0xffffn ? 16 : 64);
  let header;
  if (encoding === 7) {
    if (declared > 125n) throw new RangeError('a 7-bit length holds at most 125');
    header = Buffer.from([0, Number(declared)]);
  } else if (encoding === 16) {
    if (declared > 0xffffn) throw new RangeError('a 16-bit length holds at most 65535');
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(Number(declared), 2);
  } else if (encoding === 64) {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(declared, 2);
  } else {
    throw new RangeError(`lengthEncoding must be 7, 16 or 64, not ${encoding}`);
  }
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | opcode;
  if (!mask) return Buffer.concat([header, payload]);
  header[1] |= 0x80;
  const key = spec.maskKey ? toBuffer(spec.maskKey) : crypto.randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i += 1) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([header, key, body]);
}

function buildFrames(specs) {
  return Buffer.concat((Array.isArray(specs) ? specs : [specs]).map(buildFrame));
}

// The upgrade request. `headers` adds or replaces (null removes) header
// lines of the default request; names are matched case-insensitively.
function buildRequest({ target = '/ws', key, headers = {} } = {}) {
  const lines = new Map([
    ['host', ['Host', '127.0.0.1']],
    ['upgrade', ['Upgrade', 'websocket']],
    ['connection', ['Connection', 'Upgrade']],
    ['sec-websocket-key', ['Sec-WebSocket-Key', key]],
    ['sec-websocket-version', ['Sec-WebSocket-Version', '13']],
  ]);
  for (const [name, value] of Object.entries(headers)) {
    if (value === null || value === undefined) lines.delete(name.toLowerCase());
    else lines.set(name.toLowerCase(), [name, String(value)]);
  }
  let head = `GET ${target} HTTP/1.1\r\n`;
  for (const [name, value] of lines.values()) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

const delay = (ms) => new Promise((resolve) => {
  setTimeout(resolve, ms);
});

class RawClient {
  constructor(socket) {
    this.socket = socket;
    this.key = crypto.randomBytes(16).toString('base64');
    this.buffer = Buffer.alloc(0);
    this.phase = 'head'; // 'head' -> 'frames' (after 101) | 'body' (any other status)
    this.response = null; // { statusLine, status, headers, body }
    this.frames = []; // every server frame, in order
    this.consumed = 0; // frames handed out by nextFrame()
    this.closeFrame = null; // { code, reason, bodyLength, reasonValidUtf8, at }
    this.bytesAfterClose = 0;
    this.protocolErrors = []; // what the server got wrong in its own frames
    this.ended = false; // FIN from the server
    this.closed = false; // socket fully closed
    this.closedAt = 0;
    this.error = null; // e.g. ECONNRESET
    this.waiters = new Set();
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (error) => {
      this.error = error.code || error.message;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
      this.wake();
    });
  }

  static connect(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      const onError = (error) => reject(error);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RawClient(socket));
      });
    });
  }

  get tcpClosed() {
    return this.ended || this.closed;
  }

  // ------------------------------------------------------------- writing

  // Writes bytes at once, or in `chunk`-byte pieces `delayMs` apart (1-byte
  // writes with setNoDelay make one TCP segment each). Chopped writing
  // stops as soon as the server answered with a close frame, an HTTP
  // response, or closed the connection: bytes written into a socket the
  // peer has closed would only earn an RST. Resolves with the bytes written.
  async write(bytes, { chunk = 0, delayMs = 1, stopOnResponse = false } = {}) {
    const data = toBuffer(bytes);
    if (!chunk || chunk >= data.length) {
      if (!this.canWrite()) return 0;
      this.socket.write(data);
      return data.length;
    }
    let written = 0;
    while (written < data.length) {
      if (!this.canWrite() || (stopOnResponse && this.response)) break;
      const piece = data.subarray(written, written + chunk);
      this.socket.write(piece);
      written += piece.length;
      if (written < data.length) await delay(delayMs);
    }
    return written;
  }

  canWrite() {
    return !this.tcpClosed && !this.closeFrame && !this.socket.destroyed && this.socket.writable;
  }

  sendRequest(options = {}) {
    return buildRequest({ key: this.key, ...options });
  }

  // ------------------------------------------------------------- reading

  onData(chunk) {
    if (this.closeFrame) {
      this.bytesAfterClose += chunk.length;
      this.wake();
      return;
    }
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    if (this.phase === 'head') this.parseHead();
    if (this.phase === 'frames') this.parseFrames();
    if (this.phase === 'body') {
      this.response.body += this.buffer.toString('latin1');
      this.buffer = Buffer.alloc(0);
    }
    this.wake();
  }

  parseHead() {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    this.buffer = this.buffer.subarray(end + 4);
    const statusLine = lines.shift();
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    this.response = { statusLine, status: match ? Number(match[1]) : 0, headers, body: '' };
    this.phase = this.response.status === 101 ? 'frames' : 'body';
  }

  parseFrames() {
    while (!this.closeFrame) {
      const b = this.buffer;
      if (b.length < 2) return;
      const masked = (b[1] & 0x80) !== 0;
      const len7 = b[1] & 0x7f;
      let offset = 2;
      let length = len7;
      if (len7 === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (len7 === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(64 * 1024 * 1024)) {
          this.protocolErrors.push(`server frame declares ${big} bytes`);
          this.phase = 'broken';
          return;
        }
        length = Number(big);
        offset = 10;
      }
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      let payload = Buffer.from(b.subarray(offset, offset + length));
      if (masked) {
        const key = b.subarray(offset - 4, offset);
        payload = Buffer.from(payload.map((byte, i) => byte ^ key[i & 3]));
        this.protocolErrors.push('server frame is masked');
      }
      const frame = {
        fin: (b[0] & 0x80) !== 0,
        rsv: (b[0] >> 4) & 7,
        opcode: b[0] & 0x0f,
        payload,
      };
      if (frame.rsv !== 0) this.protocolErrors.push('server frame has RSV bits set');
      this.frames.push(frame);
      this.buffer = b.subarray(offset + length);
      if (frame.opcode === OPCODES.close) {
        const reason = payload.subarray(2);
        this.closeFrame = {
          code: payload.length >= 2 ? payload.readUInt16BE(0) : null,
          reason: reason.toString('utf8'),
          bodyLength: payload.length,
          reasonValidUtf8: isValidUtf8(reason),
          at: Date.now(),
        };
        if (payload.length === 1) this.protocolErrors.push('server close frame has a 1-byte body');
        // Whatever the server sent after its close frame in the same read.
        this.bytesAfterClose += this.buffer.length;
        this.buffer = Buffer.alloc(0);
      }
    }
  }

  // ------------------------------------------------------------- waiting

  wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  // Resolves true once `condition()` holds, false after `timeoutMs`.
  waitFor(condition, timeoutMs) {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer;
      const waiter = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(true);
      };
      timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(condition());
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  waitForResponse(timeoutMs) {
    return this.waitFor(() => this.response !== null || this.tcpClosed, timeoutMs);
  }

  // The next server frame not yet handed out, or null after `timeoutMs` (or
  // when the connection closed without one).
  async nextFrame(timeoutMs) {
    await this.waitFor(() => this.frames.length > this.consumed || this.tcpClosed, timeoutMs);
    if (this.frames.length > this.consumed) {
      this.consumed += 1;
      return this.frames[this.consumed - 1];
    }
    return null;
  }

  waitForTcpClose(timeoutMs) {
    return this.waitFor(() => this.tcpClosed, timeoutMs);
  }

  // What the exchange looked like from the client's side.
  report() {
    return {
      statusLine: this.response ? this.response.statusLine : null,
      status: this.response ? this.response.status : null,
      headers: this.response ? this.response.headers : null,
      frames: this.frames.map((f) => ({
        opcode: OPCODE_NAMES[f.opcode] || f.opcode,
        fin: f.fin,
        length: f.payload.length,
        payload: f.payload.length <= 32 ? f.payload.toString('hex') : `${f.payload.subarray(0, 32).toString('hex')}…`,
      })),
      close: this.closeFrame && {
        code: this.closeFrame.code,
        reason: this.closeFrame.reason,
        bodyLength: this.closeFrame.bodyLength,
      },
      tcpClosed: this.tcpClosed,
      tcpClosedAfterCloseFrame: Boolean(this.closeFrame) && this.tcpClosed,
      bytesAfterClose: this.bytesAfterClose,
      socketError: this.error,
      protocolErrors: this.protocolErrors,
    };
  }

  destroy() {
    for (const waiter of [...this.waiters]) waiter();
    this.socket.destroy();
  }
}

module.exports = {
  RawClient,
  buildFrame,
  buildFrames,
  buildRequest,
  closeBody,
  acceptKeyFor,
  isValidUtf8,
  toBuffer,
  OPCODES,
  OPCODE_NAMES,
};
