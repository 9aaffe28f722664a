'use strict';
// Resuming a subscription across a move (docs/api.md, "Stream positions and
// recovery"): opt in with recover=1, keep the last position received, and
// after a close come back with since=<it> once the server's retry hint has
// passed. Written once for both of the gateway's own subscribers: the
// dashboard's order tracker loads it as a classic script
// (window.ficusResume) and sim-clients.js requires it, so the browser and
// Node sides cannot drift apart.

(function publish(root, factory) {
  const api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.ficusResume = api;
}(typeof self === 'object' ? self : globalThis, () => {
  // An opted-in event frame is exactly {"pos":"<position>","event":<event>}
  // with no spaces, and a position never contains a quote: the position and
  // the event's text are cut out without parsing the event (the simulated
  // clients never need it, and there may be thousands of them).
  const POSITION_START = '{"pos":"';
  const EVENT_KEY = ',"event":';
  const SERVICE_RESTART = 1012;
  const MAX_HINT_MS = 10000; // a hint is honoured up to this, whatever it says
  const HINT = /retry after (\d+) ms/;

  // How long to wait before reconnecting: a drain's 1012 carries a jittered
  // hint ("service restart; retry after N ms") that spreads the reconnects;
  // anything else (1013 overtaken, 1001 going away, 1006 lost, a refused
  // upgrade) has none, so a jittered 1-3 s.
  function retryDelayMs(code, reason) {
    const hinted = HINT.exec(typeof reason === 'string' ? reason : '');
    if (code === SERVICE_RESTART && hinted) return Math.min(Number(hinted[1]), MAX_HINT_MS);
    return 1000 + Math.random() * 2000;
  }

  class Resumption {
    constructor() {
      this.last = null; // the last position received, null before the first event
    }

    // Adds recover=1 (nothing received yet) or since=<last> to `params`
    // (URLSearchParams) and returns it.
    query(params) {
      if (!(params instanceof URLSearchParams)) throw new TypeError('params must be a URLSearchParams');
      params.delete('recover');
      params.delete('since');
      if (this.last === null) params.set('recover', '1');
      else params.set('since', this.last);
      return params;
    }

    // One text message from the server: { pos, event } for an event frame
    // (`event` is the published JSON text; the position is kept),
    // { recovered: true, complete } at the end of a resume, null otherwise.
    read(text) {
      if (typeof text !== 'string') throw new TypeError('text must be a string');
      if (text.startsWith(POSITION_START)) {
        const end = text.indexOf('"', POSITION_START.length);
        if (end < 0 || !text.startsWith(EVENT_KEY, end + 1)) return null;
        this.last = text.slice(POSITION_START.length, end);
        return { pos: this.last, event: text.slice(end + 1 + EVENT_KEY.length, -1) };
      }
      try {
        const message = JSON.parse(text);
        if (message && message.type === 'recovered') return { recovered: true, complete: message.complete === true };
      } catch {
        // Not JSON: not ours to read.
      }
      return null;
    }
  }

  return { Resumption, retryDelayMs };
}));
