'use strict';
// The RFC 6455 conformance cases, in the spirit of Autobahn|Testsuite groups
// 1-7, 9 and 10, plus the upgrade handshake. Pure data: conformance.test.js
// runs every case against both paths of one gateway whose dispatcher has
// maxMessageBytes: 1024.
//
// A case is { id, group, title, steps, note?, handshake?, legacy?,
// legacySteps? }. `steps` is what RFC 6455 requires, checked strictly: the
// native path must pass every case. Where the legacy path (`ws`) answers
// otherwise the case says legacy: 'differs', `note` says how in one line,
// and `legacySteps` is what ws actually does, asserted too, so that a
// change on either side is noticed.
//
// Steps:
//   { send: frameSpec | frameSpec[], chop?: n }  write frames (see
//        raw-client.js buildFrame), optionally n bytes per write, 1 ms apart
//   { expectPong: payload }       the next server frame is a pong with it
//   { ping: payload }             send a ping, then expectPong: the
//                                 connection is open and reading frames
//   { expectMessage: { text } | { binary } }  the dispatcher's next
//        'message' for this connection is exactly this
//   { expectClose: code | 'empty', reason?, within?: ms }  the next server
//        frame is a close frame with this code (or no body) and, when given,
//        exactly this reason; then TCP closes, and nothing arrives after
//        the close frame. reply: true answers it with a close frame first
//        (a server-initiated close waits for that)
//   { sendRaw: Buffer }           write bytes as they are (e.g. the rest of a
//                                 frame whose header announced more)
//   { expectSilence: ms }         no frame and no TCP close for ms
//   { serverClose: [code, reason] }  the embedder closes the connection
//                                 (dispatcher.closeConnection)
//   { expectResponse: { status, headers?, within?, minMs? } }  the HTTP
//        response to the upgrade request (checked first: 101 by default);
//        headers: { name: string | RegExp | null (must be absent) }
//   { expectTcpClose: true }      the server closes TCP
// After the steps the runner checks that the dispatcher got no message the
// steps did not expect, and that every server frame was unmasked, had no
// RSV bits and a valid close reason.
//
// `handshake` shapes the upgrade request: { target, headers (null
// removes one), pipeline: frameSpecs written with the request, partial:
// only the first half of the request, chunk: bytes per write }.

const { closeBody } = require('./raw-client');
const { DEFAULTS } = require('../../lib/protocol');

const MAX = 1024; // the test gateway's maxMessageBytes

// ----------------------------------------------------------------- helpers

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 .,-';
// Text that is not a subscribe/unsubscribe message, so both paths accept it
// and hand it to the embedder as a 'message' event.
const ascii = (n) => Array.from({ length: n }, (_, i) => ALPHABET[(i * 7) % ALPHABET.length]).join('');
const bytes = (n, seed = 7) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const text = (payload, extra = {}) => ({ opcode: 'text', payload, ...extra });
const binary = (payload, extra = {}) => ({ opcode: 'binary', payload, ...extra });
const cont = (payload, extra = {}) => ({ opcode: 'continuation', payload, ...extra });
const ping = (payload, extra = {}) => ({ opcode: 'ping', payload, ...extra });
const pong = (payload, extra = {}) => ({ opcode: 'pong', payload, ...extra });
const close = (code, reason, extra = {}) => ({ opcode: 'close', payload: closeBody(code, reason), ...extra });

// A ping answered shows that the connection is still open and reading.
const PROBE = { ping: 'probe' };

const fails = (code, ...frames) => [{ send: frames }, { expectClose: code }];
const accepted = (frame, message) => [{ send: frame }, PROBE, { expectMessage: message }];

// Splits `buf` at the given offsets.
function splitAt(buf, offsets) {
  const parts = [];
  let start = 0;
  for (const at of offsets) {
    parts.push(buf.subarray(start, at));
    start = at;
  }
  parts.push(buf.subarray(start));
  return parts;
}

// A text message sent as one fragment per part.
function fragmented(parts) {
  return parts.map((part, i) => ({
    opcode: i === 0 ? 'text' : 'continuation',
    payload: part,
    fin: i === parts.length - 1,
  }));
}

const cases = [];
const add = (group, id, title, steps, extra = {}) => cases.push({ id, group, title, steps, ...extra });

// ------------------------------------------------------- 1 framing

{
  const g = '1 framing';
  const sizes = [0, 125, 126, 127, MAX];
  sizes.forEach((n, i) => {
    add(g, `1.1.${i + 1}`, `text, ${n} bytes${n > 125 ? ' (16-bit length)' : ''} accepted`,
      accepted(text(ascii(n)), { text: ascii(n) }));
  });
  sizes.forEach((n, i) => {
    add(g, `1.2.${i + 1}`, `binary, ${n} bytes${n > 125 ? ' (16-bit length)' : ''} accepted`,
      accepted(binary(bytes(n)), { binary: bytes(n) }));
  });
  const limitNote = `over maxMessageBytes (${MAX}) of the test gateway`;
  add(g, '1.1.6', `text, ${MAX + 1} bytes → 1009`, fails(1009, text(ascii(MAX + 1))), { note: limitNote });
  add(g, '1.1.7', 'text declaring 65535 bytes (16-bit length), header only → 1009',
    fails(1009, text('', { length: 65535 })), { note: `${limitNote}; refused on the declared length` });
  add(g, '1.1.8', 'text declaring 65536 bytes (64-bit length), header only → 1009',
    fails(1009, text('', { length: 65536 })), { note: `${limitNote}; refused on the declared length` });
  add(g, '1.2.6', `binary, ${MAX + 1} bytes → 1009`, fails(1009, binary(bytes(MAX + 1))), { note: limitNote });
  add(g, '1.2.7', 'binary declaring 65535 bytes (16-bit length), header only → 1009',
    fails(1009, binary('', { length: 65535 })), { note: limitNote });
  add(g, '1.2.8', 'binary declaring 65536 bytes (64-bit length), header only → 1009',
    fails(1009, binary('', { length: 65536 })), { note: limitNote });
  add(g, '1.3.1', 'text of 5 bytes in a 16-bit length (not minimal) accepted',
    accepted(text('hello', { lengthEncoding: 16 }), { text: 'hello' }),
    { note: 'tolerated: "minimal length" binds the sender (RFC 6455 §5.2); Autobahn does not probe it' });
  add(g, '1.3.2', 'text of 126 bytes in a 64-bit length (not minimal) accepted',
    accepted(text(ascii(126), { lengthEncoding: 64 }), { text: ascii(126) }),
    { note: 'tolerated, as 1.3.1' });
  add(g, '1.3.3', '64-bit length with its top bit set → 1002',
    fails(1002, binary('', { length: 2n ** 63n + 5n })), {
      legacy: 'differs',
      note: 'ws answers 1009 (it refuses any length above 2^53 - 1 as too big) instead of 1002',
      legacySteps: fails(1009, binary('', { length: 2n ** 63n + 5n })),
    });
  add(g, '1.3.4', 'unmasked text frame → 1002', fails(1002, text('hello', { mask: false })));
  add(g, '1.3.5', 'unmasked ping → 1002', fails(1002, ping('hello', { mask: false })));
  add(g, '1.3.6', 'unmasked close → 1002', fails(1002, close(1000, '', { mask: false })));
}

// ------------------------------------------------------- 2 ping/pong

{
  const g = '2 ping/pong';
  add(g, '2.1', 'ping, empty → pong, empty', [{ send: ping('') }, { expectPong: '' }]);
  add(g, '2.2', 'ping, text payload → pong, same payload', [{ send: ping('Hello, world!') }, { expectPong: 'Hello, world!' }]);
  add(g, '2.3', 'ping, 125 bytes of binary → pong, same payload',
    [{ send: ping(bytes(125, 3)) }, { expectPong: bytes(125, 3) }]);
  add(g, '2.4', 'ping, 125 bytes, written 1 byte at a time → pong',
    [{ send: ping(bytes(125, 5)), chop: 1 }, { expectPong: bytes(125, 5) }]);
  add(g, '2.5', 'ping, 126 bytes → 1002', fails(1002, ping(bytes(126))));
  add(g, '2.6', 'fragmented ping (FIN=0) → 1002', fails(1002, ping('a', { fin: false }), cont('b')));
  add(g, '2.7', 'unsolicited pong with payload ignored', [{ send: pong('unsolicited') }, { expectSilence: 100 }, PROBE]);
  add(g, '2.8', 'unsolicited empty pong ignored', [{ send: pong('') }, PROBE]);
  add(g, '2.9', '10 pings in one write → 10 pongs, in order', [
    { send: Array.from({ length: 10 }, (_, i) => ping(`ping ${i}`)) },
    ...Array.from({ length: 10 }, (_, i) => ({ expectPong: `ping ${i}` })),
  ]);
}

// ------------------------------------------------------- 3 reserved bits

{
  const g = '3 reserved bits';
  add(g, '3.1', 'text with RSV1 → 1002', fails(1002, text('hello', { rsv: 0b100 })));
  add(g, '3.2', 'text with RSV2 after a valid text → the text, then 1002', [
    { send: [text('first'), text('hello', { rsv: 0b010 })] },
    { expectClose: 1002 },
    { expectMessage: { text: 'first' } },
  ]);
  add(g, '3.3', 'text with RSV3 between pings → pong, then 1002', [
    { send: [ping('a'), text('hello', { rsv: 0b001 }), ping('b')] },
    { expectPong: 'a' },
    { expectClose: 1002 },
  ]);
  add(g, '3.4', 'binary with RSV1+RSV3 → 1002', fails(1002, binary(bytes(8), { rsv: 0b101 })));
  add(g, '3.5', 'ping with RSV1 → 1002', fails(1002, ping('hello', { rsv: 0b100 })));
  add(g, '3.6', 'ping with RSV2 → 1002', fails(1002, ping('hello', { rsv: 0b010 })));
  add(g, '3.7', 'ping with RSV3 → 1002', fails(1002, ping('hello', { rsv: 0b001 })));
  add(g, '3.8', 'close with all RSV bits → 1002', fails(1002, close(1000, '', { rsv: 0b111 })));
}

// ------------------------------------------------------- 4 opcodes

{
  const g = '4 opcodes';
  [3, 4, 5, 6, 7].forEach((op, i) => {
    add(g, `4.1.${i + 1}`, `reserved data opcode ${op} → 1002`, fails(1002, { opcode: op, payload: 'hello' }));
  });
  [0xb, 0xc, 0xd, 0xe, 0xf].forEach((op, i) => {
    add(g, `4.2.${i + 1}`, `reserved control opcode 0x${op.toString(16).toUpperCase()} → 1002`,
      fails(1002, { opcode: op, payload: 'hello' }));
  });
  add(g, '4.3', 'reserved opcode after a valid text → the text, then 1002', [
    { send: [text('first'), { opcode: 5, payload: '' }] },
    { expectClose: 1002 },
    { expectMessage: { text: 'first' } },
  ]);
}

// ------------------------------------------------------- 5 fragmentation

{
  const g = '5 fragmentation';
  add(g, '5.1', 'fragmented pong (FIN=0) → 1002', fails(1002, pong('a', { fin: false }), cont('b')));
  add(g, '5.2', 'text in 3 fragments, ping after the first → pong before the rest; message accepted', [
    { send: text('frag1 ', { fin: false }) },
    { send: ping('between') },
    { expectPong: 'between' },
    { send: [cont('frag2 ', { fin: false }), cont('frag3')] },
    PROBE,
    { expectMessage: { text: 'frag1 frag2 frag3' } },
  ]);
  add(g, '5.3', 'text in 3 fragments with pings between, one write → pongs; message accepted', [
    { send: [text('ab', { fin: false }), ping('p1'), cont('cd', { fin: false }), ping('p2'), cont('ef')] },
    { expectPong: 'p1' },
    { expectPong: 'p2' },
    PROBE,
    { expectMessage: { text: 'abcdef' } },
  ]);
  add(g, '5.4', 'text in 3 fragments with a ping between, 1 byte per write → pong; message accepted', [
    { send: [text('ab', { fin: false }), ping('p1'), cont('cd', { fin: false }), cont('ef')], chop: 1 },
    { expectPong: 'p1' },
    PROBE,
    { expectMessage: { text: 'abcdef' } },
  ]);
  add(g, '5.5', 'binary in 2 fragments accepted', [
    { send: [binary(bytes(10), { fin: false }), cont(bytes(6, 9))] },
    PROBE,
    { expectMessage: { binary: Buffer.concat([bytes(10), bytes(6, 9)]) } },
  ]);
  add(g, '5.6', 'empty first and last fragments accepted', [
    { send: [text('', { fin: false }), cont('abc', { fin: false }), cont('')] },
    PROBE,
    { expectMessage: { text: 'abc' } },
  ]);
  add(g, '5.7', 'continuation (FIN=1) without a message → 1002', fails(1002, cont('hello')));
  add(g, '5.8', 'continuation (FIN=0) without a message → 1002', fails(1002, cont('hello', { fin: false })));
  add(g, '5.9', 'new text frame while a fragmented text is open → 1002',
    fails(1002, text('one', { fin: false }), text('two')));
  add(g, '5.10', 'new binary frame while a fragmented text is open → 1002',
    fails(1002, text('one', { fin: false }), binary('two')));
  add(g, '5.11', 'a complete message, then a continuation → the message, then 1002', [
    { send: [text('whole'), cont('stray')] },
    { expectClose: 1002 },
    { expectMessage: { text: 'whole' } },
  ]);
  add(g, '5.12', `fragments of exactly maxMessageBytes (2 × ${MAX / 2}) accepted`, [
    { send: [text(ascii(MAX / 2), { fin: false }), cont(ascii(MAX / 2))] },
    PROBE,
    { expectMessage: { text: ascii(MAX / 2) + ascii(MAX / 2) } },
  ]);
  add(g, '5.13', `fragments over maxMessageBytes (3 × 400 > ${MAX}) → 1009`,
    fails(1009, text(ascii(400), { fin: false }), cont(ascii(400), { fin: false }), cont(ascii(400))));
  add(g, '5.14', 'close between fragments → echoed', [
    { send: [text('part', { fin: false }), close(1000)] },
    { expectClose: 1000 },
  ]);
}

// ------------------------------------------------------- 6 UTF-8

{
  const g = '6 UTF-8';
  const sample = Buffer.from('κόσμε € 𝄞 ok', 'utf8');
  add(g, '6.1', 'valid multi-byte text in one frame accepted', accepted(text(sample), { text: sample.toString() }));
  // κ = ce ba (0-1), ό = e1 bd b9 (2-4), σ... € = e2 82 ac, 𝄞 = f0 9d 84 9e.
  const euro = sample.indexOf(hex('e282ac'));
  const clef = sample.indexOf(hex('f09d849e'));
  add(g, '6.2', 'valid text split inside 2-, 3- and 4-byte code points across 4 fragments accepted', [
    { send: fragmented(splitAt(sample, [1, euro + 2, clef + 3])) },
    PROBE,
    { expectMessage: { text: sample.toString() } },
  ]);
  add(g, '6.3', 'valid text, one byte per fragment accepted', [
    { send: fragmented(splitAt(sample, Array.from({ length: sample.length - 1 }, (_, i) => i + 1))) },
    PROBE,
    { expectMessage: { text: sample.toString() } },
  ]);
  add(g, '6.4', 'valid multi-byte text, 1 byte per write accepted', [
    { send: text(sample), chop: 1 },
    PROBE,
    { expectMessage: { text: sample.toString() } },
  ]);
  const edges = '\u007f\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff\u{10000}\u{10ffff}';
  add(g, '6.5', 'boundary code points (U+007F … U+10FFFF, around the surrogates) accepted',
    accepted(text(edges), { text: edges }));
  const invalid = [
    ['c080', 'overlong NUL C0 80'],
    ['e08080', 'overlong 3-byte E0 80 80'],
    ['f0808080', 'overlong 4-byte F0 80 80 80'],
    ['eda080', 'surrogate U+D800 ED A0 80'],
    ['edbfbf', 'surrogate U+DFFF ED BF BF'],
    ['f4908080', 'above U+10FFFF F4 90 80 80'],
    ['f5', 'F5, never valid'],
    ['ff', 'FF, never valid'],
    ['80', 'lone continuation 80'],
    ['e282', 'truncated at the end E2 82'],
  ];
  invalid.forEach(([bytesHex, what], i) => {
    add(g, `6.6.${i + 1}`, `text with ${what} → 1007`,
      fails(1007, text(Buffer.concat([Buffer.from('abc'), hex(bytesHex)]))));
  });
  add(g, '6.7', 'fragmented text whose last fragment ends inside a code point → 1007',
    fails(1007, text('abc', { fin: false }), cont(hex('f09d84'))));
  add(g, '6.8', 'binary with invalid UTF-8 accepted (binary is not text)',
    accepted(binary(hex('c080eda080ff')), { binary: hex('c080eda080ff') }));
  add(g, '6.9', 'fail fast: first fragment (FIN=0) has an invalid byte → 1007 before the final fragment', [
    { send: text(Buffer.concat([Buffer.from('hello'), hex('c080')]), { fin: false }) },
    { expectClose: 1007, within: 700 },
  ], {
    legacy: 'differs',
    note: 'ws validates UTF-8 only on whole messages: 1007 comes after the final fragment',
    legacySteps: [
      { send: text(Buffer.concat([Buffer.from('hello'), hex('c080')]), { fin: false }) },
      { expectSilence: 300 },
      { send: cont('world') },
      { expectClose: 1007 },
    ],
  });
  add(g, '6.10', 'fail fast: a sequence broken across fragments (ED | A0 80) → 1007 before the final fragment', [
    { send: [text(hex('61ed'), { fin: false }), cont(hex('a080'), { fin: false })] },
    { expectClose: 1007, within: 700 },
  ], {
    legacy: 'differs',
    note: 'ws validates UTF-8 only on whole messages: 1007 comes after the final fragment',
    legacySteps: [
      { send: [text(hex('61ed'), { fin: false }), cont(hex('a080'), { fin: false })] },
      { expectSilence: 300 },
      { send: cont('z') },
      { expectClose: 1007 },
    ],
  });
  // Autobahn 6.4.x: the frame's header announces 40 bytes, 5 follow (the
  // last one invalid), the rest is withheld.
  const partial = text(Buffer.concat([Buffer.from('abcd'), hex('c0')]), { length: 40 });
  add(g, '6.12', 'fail fast inside one frame: invalid byte, rest of the frame withheld → 1007 at once', [
    { send: partial },
    { expectClose: 1007, within: 700 },
  ], {
    legacy: 'differs',
    note: 'ws validates UTF-8 only on whole messages: 1007 comes once the frame is complete',
    legacySteps: [
      { send: partial },
      { expectSilence: 300 },
      { sendRaw: Buffer.alloc(35, 0x41) },
      { expectClose: 1007 },
    ],
  });
  add(g, '6.11', 'invalid UTF-8 in a text frame written 1 byte at a time → 1007', [
    { send: text(Buffer.concat([Buffer.from('abcdef'), hex('eda080'), Buffer.from('ghij')])), chop: 1 },
    { expectClose: 1007 },
  ]);
}

// ------------------------------------------------------- 7 close

{
  const g = '7 close';
  add(g, '7.1.1', 'close 1000, no reason → echoed, TCP closed', [{ send: close(1000) }, { expectClose: 1000 }]);
  add(g, '7.1.2', 'close 1000 with a reason → 1000 echoed', [{ send: close(1000, 'bye') }, { expectClose: 1000 }]);
  add(g, '7.1.3', 'empty close → empty close echoed, TCP closed', [{ send: close() }, { expectClose: 'empty' }],
    { note: 'RFC 6455 §5.5.1: the reply echoes the status code; with none, the reply has no body' });
  add(g, '7.1.4', 'close, then a ping in the same write → no pong after the close', [
    { send: [close(1000), ping('late')] },
    { expectClose: 1000 },
  ]);
  add(g, '7.1.5', 'close, then a text in the same write → text not delivered', [
    { send: [close(1000), text('late')] },
    { expectClose: 1000 },
  ]);
  add(g, '7.1.6', 'close written 1 byte at a time → echoed', [{ send: close(1001, 'chopped'), chop: 1 }, { expectClose: 1001 }]);
  add(g, '7.1.7', 'close with a 123-byte reason (the maximum) → echoed', [
    { send: close(1000, ascii(123)) },
    { expectClose: 1000 },
  ]);
  add(g, '7.1.8', 'close with a multi-byte UTF-8 reason → echoed', [
    { send: close(1000, 'ça va ✓ 𝄞') },
    { expectClose: 1000 },
  ]);
  [1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) => {
    add(g, `7.2.${i + 1}`, `close ${code} (valid) → echoed`, [{ send: close(code) }, { expectClose: code }]);
  });
  [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].forEach((code, i) => {
    add(g, `7.3.${i + 1}`, `close ${code} (invalid on the wire) → 1002`, fails(1002, close(code)));
  });
  add(g, '7.5', 'server-initiated close (4000): the client echoes → server closes TCP, nothing after', [
    PROBE,
    { serverClose: [4000, 'server says bye'] },
    { expectClose: 4000, reply: true },
  ], { note: 'RFC 6455 §7.1.1: after the close handshake the server closes TCP first' });
  add(g, '7.4.1', 'close with a 1-byte body → 1002', fails(1002, { opcode: 'close', payload: [0x03] }));
  add(g, '7.4.2', 'close with an invalid UTF-8 reason → 1007', fails(1007, close(1000, hex('6f6bc080'))));
  add(g, '7.4.3', 'close with a 124-byte reason (126-byte body) → 1002', fails(1002, close(1000, ascii(124))));
}

// ------------------------------------------------------- 9 limits

{
  const g = '9 limits';
  add(g, '9.1', 'header declaring 2^40 bytes → 1009 at once, before any body',
    fails(1009, binary('', { length: 2 ** 40 })));
  add(g, '9.2', 'text header declaring 2^40 bytes, 1 byte per write → 1009',
    [{ send: text('', { length: 2 ** 40 }), chop: 1 }, { expectClose: 1009 }]);
  add(g, '9.3', `a message of exactly maxMessageBytes in 64 fragments accepted`, [
    { send: fragmented(splitAt(Buffer.from(ascii(MAX)), Array.from({ length: 63 }, (_, i) => (i + 1) * (MAX / 64)))) },
    PROBE,
    { expectMessage: { text: ascii(MAX) } },
  ]);
  add(g, '9.4', '50 messages in one write, then a ping → all delivered in order, pong', [
    { send: Array.from({ length: 50 }, (_, i) => text(`message ${i}`)) },
    PROBE,
    ...Array.from({ length: 50 }, (_, i) => ({ expectMessage: { text: `message ${i}` } })),
  ]);
  add(g, '9.5', `two messages of 600 bytes each (the limit is per message) accepted`, [
    { send: [text(ascii(600)), binary(bytes(600))] },
    PROBE,
    { expectMessage: { text: ascii(600) } },
    { expectMessage: { binary: bytes(600) } },
  ]);
}

// ------------------------------------------------------- 10 misc

{
  const g = '10 misc';
  add(g, '10.1', 'a text message then a ping, written 1 byte at a time → pong, message accepted', [
    { send: [text('chopped exchange'), ping('chop')], chop: 1 },
    { expectPong: 'chop' },
    { expectMessage: { text: 'chopped exchange' } },
  ]);
  add(g, '10.2', 'frames pipelined in the same write as the upgrade request → processed', [
    { expectPong: 'pipelined' },
    { expectMessage: { text: 'early bird' } },
  ], { handshake: { pipeline: [text('early bird'), ping('pipelined')] } });
}

// ------------------------------------------------------- P policy closes
// Closes for a broken rule of ficus's own protocol (topics, messages): the
// same code and the same reason on both paths, so a client cannot tell
// them apart. The test gateway keeps maxTopicsPerConnection at 64.

{
  const g = 'P policy closes';
  const subscribe = (topics) => text(JSON.stringify({ type: 'subscribe', topics }));
  const topics = (n, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  // A client that answers the close, as browsers do: the legacy path (ws)
  // waits for that answer before it closes TCP; the core does not.
  const policy = (reason, ...frames) => [{ send: frames }, { expectClose: 1008, reason, reply: true }];
  add(g, 'P.1', '65 topics in one subscribe message → 1008 "topics: more than 64 topics"',
    policy('topics: more than 64 topics', subscribe(topics(65))));
  add(g, 'P.2', '64 topics, then one more in a second message → 1008 "too many topics"',
    policy('too many topics', subscribe(topics(64)), subscribe(['one-more'])));
  add(g, 'P.3', 'an empty topic name → 1008 naming the element',
    policy('topics[0]: expected a non-empty string', subscribe([''])));
  add(g, 'P.4', 'a 257-byte topic name → 1008 naming the element and the limit',
    policy('topics[1]: longer than 256 bytes', subscribe(['ok', 'x'.repeat(257)])));
  add(g, 'P.5', 'topics that are not an array → 1008',
    policy('topics: expected an array of non-empty strings', text('{"type":"subscribe","topics":"a,b"}')));
  add(g, 'P.6', 'unsubscribe with a bad element → 1008 naming it',
    policy('topics[0]: expected a non-empty string', text('{"type":"unsubscribe","topics":[7]}')));
  // The message bucket at its defaults: a burst of messageBurst messages
  // written at once passes (the probe ping is the last of them); one more
  // closes. Unsubscribes, so that the embedder gets none of them.
  const burst = DEFAULTS.messageBurst;
  const noops = (n) => Array.from({ length: n }, () => text('{"type":"unsubscribe","topics":["t"]}'));
  add(g, 'P.8', `${burst} messages at once (the default messageBurst, a ping the last) → still open`,
    [{ send: noops(burst - 1) }, PROBE]);
  add(g, 'P.9', `${burst + 1} messages at once → 1008 "message rate limit exceeded"`,
    policy('message rate limit exceeded', ...noops(burst + 1)));
  add(g, 'P.7', 'the embedder closes with 1008 and a reason → that code and reason, verbatim', [
    PROBE,
    { serverClose: [1008, 'account suspended ✓'] },
    { expectClose: 1008, reason: 'account suspended ✓', reply: true },
  ]);
  // The gateway's authenticate gives this client credentials expiring
  // 300 ms after its upgrade (the x-expires-in header).
  add(g, 'P.10', 'credentials expire without a refresh → 3005 "token expired"', [
    PROBE,
    { expectClose: 3005, reason: 'token expired', reply: true },
  ], { handshake: { headers: { 'X-Expires-In': '300' } } });
}

// ------------------------------------------------------- H handshake

{
  const g = 'H handshake';
  add(g, 'H.1', 'valid request → 101 with Upgrade, Connection and Sec-WebSocket-Accept', [
    { expectResponse: { status: 101, headers: { upgrade: /^websocket$/i, connection: /^upgrade$/i } } },
    PROBE,
  ]);
  add(g, 'H.2', 'missing Sec-WebSocket-Key → 400', [
    { expectResponse: { status: 400 } },
    { expectTcpClose: true },
  ], { handshake: { headers: { 'Sec-WebSocket-Key': null } } });
  add(g, 'H.3', 'Sec-WebSocket-Key that is not base64 of 16 bytes → 400', [
    { expectResponse: { status: 400 } },
    { expectTcpClose: true },
  ], { handshake: { headers: { 'Sec-WebSocket-Key': 'c2hvcnQ=' } } });
  add(g, 'H.4', 'Sec-WebSocket-Version: 8 → 426 with Sec-WebSocket-Version: 13', [
    { expectResponse: { status: 426, headers: { 'sec-websocket-version': /^13$/ } } },
    { expectTcpClose: true },
  ], {
    handshake: { headers: { 'Sec-WebSocket-Version': '8' } },
    note: 'the legacy path refuses non-13 versions itself before ws (which would also speak hybi-08)',
  });
  add(g, 'H.8', 'permessage-deflate offered → 101 without Sec-WebSocket-Extensions; RSV1 still → 1002', [
    { expectResponse: { status: 101, headers: { 'sec-websocket-extensions': null } } },
    { send: text('hello', { rsv: 0b100 }) },
    { expectClose: 1002 },
  ], { handshake: { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } } });
  add(g, 'H.9', 'subprotocol offered → 101 without Sec-WebSocket-Protocol (ficus selects none)', [
    { expectResponse: { status: 101, headers: { 'sec-websocket-protocol': null } } },
    PROBE,
  ], {
    handshake: { headers: { 'Sec-WebSocket-Protocol': 'chat, superchat' } },
    note: 'the legacy path tells ws to select none, as the native core does',
  });
  add(g, 'H.5', 'unknown path → not the router\'s: the server\'s own upgrade listener answers 404', [
    { expectResponse: { status: 404 } },
    { expectTcpClose: true },
  ], { handshake: { target: '/not-ws' }, note: 'the router leaves it to other listeners (the test adds one)' });
  add(g, 'H.6', '64 KiB request header → 431 from Node\'s HTTP parser, TCP closed', [
    { expectResponse: { status: 431 } },
    { expectTcpClose: true },
  ], {
    handshake: { headers: { 'X-Padding': 'p'.repeat(64 * 1024) }, chunk: 4096 },
    note: 'Node (maxHeaderSize 16 KiB) answers before the upgrade reaches the router: same on both paths',
  });
  add(g, 'H.7', 'slow request head (half sent, then nothing) → 408 after headersTimeout, TCP closed', [
    { expectResponse: { status: 408, within: 4000, minMs: 800 } },
    { expectTcpClose: true },
  ], {
    handshake: { partial: true },
    note: 'Node\'s headersTimeout (1 s here) closes it before the router: same on both paths',
  });
}

module.exports = { cases, MAX_MESSAGE_BYTES: MAX };
