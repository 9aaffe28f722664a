'use strict';
// Small helpers for plain `http` handlers: JSON and text replies, and a
// body reader with a size limit.

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function send(res, status, body, contentType, headers = {}) {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(bytes);
}

function json(res, status, value, headers) {
  send(res, status, `${JSON.stringify(value)}\n`, 'application/json; charset=utf-8', headers);
}

function text(res, status, body, headers) {
  send(res, status, body, 'text/plain; charset=utf-8', headers);
}

function error(res, status, message, headers) {
  json(res, status, { error: message }, headers);
}

// Beyond the limit the rest of an oversized body is still read (and
// thrown away) up to this, so the client gets to read the 413 instead of a
// reset; past it the socket is cut.
const DISCARD_LIMIT = 16 * 1024 * 1024;

// Resolves with the body as a string, or rejects with HttpError 413 once it
// is larger than `limit` bytes (checked against Content-Length first).
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      let discarded = 0;
      req.removeAllListeners('data');
      req.on('data', (chunk) => {
        discarded += chunk.length;
        if (discarded > DISCARD_LIMIT) req.destroy();
      });
      req.resume();
      reject(new HttpError(413, `request body larger than ${limit} bytes`));
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      tooLarge();
      return;
    }
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        tooLarge();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    // The client went away mid-body ('aborted', ECONNRESET): its fault, not
    // a server error, and nobody is left to read the answer.
    req.on('error', (err) => {
      if (!over) reject(new HttpError(400, `request body not received: ${err.message}`));
    });
  });
}

// Parses a JSON object body, or throws HttpError 400 saying why not.
function parseJsonObject(body) {
  if (body.trim() === '') throw new HttpError(400, 'expected a JSON object body, got an empty body');
  let value;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${err.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'expected a JSON object body');
  }
  return value;
}

module.exports = { HttpError, send, json, text, error, readBody, parseJsonObject };
