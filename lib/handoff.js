'use strict';
// Moving an upgraded socket from Node into the native core (Linux/macOS),
// following the recipe in docs/architecture.md: stop reads before anything
// awaits, then duplicate the descriptor natively, forward every byte Node
// already read, and destroy the JS socket without end() (which would send a
// FIN on the shared connection).

// Returns the libuv handle when this socket can be handed over, else the
// reason it cannot.
function handoffHandle(socket) {
  if (socket.encrypted) return { reason: 'tls' };
  const handle = socket._handle;
  if (!handle || typeof handle.readStop !== 'function' || typeof handle.fd !== 'number' ||
      handle.fd < 0) {
    return { reason: 'no-fd' };
  }
  return { handle };
}

// Must run synchronously in the 'upgrade' handler, before any await: bytes
// that arrive while JS authenticates then stay in the kernel, where the
// core reads them, instead of landing in a JS buffer that destroy() drops.
function pauseReads(handle) {
  handle.readStop();
}

// Undo pauseReads for a socket that stays in JS (legacy path, rejection).
function resumeReads(socket, handle) {
  if (!socket.destroyed && socket._handle === handle) handle.readStart();
}

// `head` plus whatever Node buffered before reads stopped.
function takeBufferedBytes(socket, head) {
  const chunks = head && head.length > 0 ? [head] : [];
  let chunk;
  while ((chunk = socket.read()) !== null) chunks.push(chunk);
  if (chunks.length === 0) return undefined;
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

// After the core took its own descriptor: close Node's copy. destroy()
// closes the fd (Node's epoll entry first); the connection lives on in the
// core's duplicate.
function releaseSocket(socket) {
  socket.destroy();
}

module.exports = { handoffHandle, pauseReads, resumeReads, takeBufferedBytes, releaseSocket };
