'use strict';
// A cluster worker's side of the switchboard (cluster.js has the protocol):
// all(type) asks every worker, this one included, through the primary and
// resolves with one answer per worker; primary(type) asks the primary
// itself (the rollout plan it runs for all); queries from the primary are
// answered with this worker's handlers.

const { HttpError } = require('./http-util');

const ASK_TIMEOUT_MS = 5000; // the primary answers within its own 2 s per worker

function send(message) {
  // A primary that is gone cannot be told; the worker exits on disconnect.
  if (process.connected) process.send(message, () => {});
}

class Fleet {
  // handlers: { type: (payload) => value | Promise<value> }
  constructor({ index, handlers }) {
    this.index = index;
    this.handlers = handlers;
    this.nextId = 1;
    this.waiting = new Map(); // id -> { resolve, reject, timer }
    this.onMessage = (message) => this.receive(message);
    process.on('message', this.onMessage);
  }

  // { answers: [{ worker, pid, value | error }], primary: { pid, rssBytes } }
  async all(type, payload) {
    const { answers, primary } = await this.request({ type, payload });
    return { answers, primary };
  }

  // What the primary itself answers (what it decides for every worker);
  // its refusals come back as the HttpError they were.
  async primary(type, payload) {
    const reply = await this.request({ type, payload, to: 'primary' });
    if (reply.error) throw new HttpError(reply.error.status, reply.error.message);
    return reply.value;
  }

  request(question) {
    const id = this.nextId;
    this.nextId += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new HttpError(504, `the cluster primary did not answer '${question.type}' within ${ASK_TIMEOUT_MS} ms`));
      }, ASK_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      send({ ficus: 'ask', id, ...question });
    });
  }

  async receive(message) {
    if (!message || typeof message !== 'object') return;
    if (message.ficus === 'answers') {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return; // timed out already
      this.waiting.delete(message.id);
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    } else if (message.ficus === 'query') {
      let reply;
      try {
        const handler = this.handlers[message.type];
        if (!handler) throw new Error(`unknown query '${message.type}'`);
        reply = { value: await handler(message.payload) };
      } catch (err) {
        reply = { error: err.message };
      }
      send({ ficus: 'answer', qid: message.qid, ...reply });
    }
  }

  // Tells the primary this worker serves (the start line waits for all).
  started(info) {
    send({ ficus: 'started', ...info });
  }

  stop() {
    process.off('message', this.onMessage);
    for (const { reject, timer } of this.waiting.values()) {
      clearTimeout(timer);
      reject(new HttpError(503, 'the gateway is shutting down'));
    }
    this.waiting.clear();
  }
}

module.exports = { Fleet };
