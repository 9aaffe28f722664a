'use strict';
// --workers N (N > 1): this process is the cluster primary. It forks N
// gateway workers sharing the port (Node's cluster module; on Linux the
// primary accepts and deals connections out round-robin), each with its own
// dispatcher, native core and Redis bridge, and serves nothing itself. It is
// the switchboard for what concerns every worker (stats, metrics, routing
// changes), restarts a worker that dies, and keeps the current split so a
// replacement starts with it. Bucketing hashes identity and salt only, so
// with the same split everywhere a client lands on the same path whichever
// worker accepts it.
//
// It also runs what must be decided once for all of them: the rollout plan
// (cluster-rollout.js), in `handlers`.
//
// Messages (objects tagged `ficus`):
//   worker -> primary   { ficus: 'started', port, nativePercent, native, redis }
//   worker -> primary   { ficus: 'ask', id, type, payload }  a question for every worker
//   primary -> worker   { ficus: 'query', qid, type, payload }  to each serving worker
//   worker -> primary   { ficus: 'answer', qid, value } or { ficus: 'answer', qid, error }
//   primary -> worker   { ficus: 'answers', id, answers: [{ worker, pid, value } or
//                         { worker, pid, error }], primary: { pid, rssBytes, rollout? } }
//   worker -> primary   { ficus: 'ask', id, type, payload, to: 'primary' }  a question for the primary
//   primary -> worker   { ficus: 'answers', id, value } or { ficus: 'answers', id, error: { status, message } }
// Workers that do not answer within ANSWER_TIMEOUT_MS are reported as such.

const cluster = require('node:cluster');
const { HttpError } = require('./http-util');

const ANSWER_TIMEOUT_MS = 2000;
const RESTART_DELAY_MS = 1000;
const MAX_RESTARTS = 5; // within RESTART_WINDOW_MS; one more and the gateway stops
const RESTART_WINDOW_MS = 60000;

function tell(worker, message) {
  if (worker && worker.isConnected()) worker.send(message, () => {});
}

class Primary {
  constructor(config) {
    this.workers = new Array(config.workers).fill(null); // slot -> cluster.Worker
    this.serving = new Set(); // slots whose worker reported 'started'
    this.nativePercent = config.nativePercent;
    this.queries = new Map(); // qid -> { answers, pending, finish }
    this.nextQid = 1;
    this.restarts = [];
    this.starting = null; // { resolve, reject } until every worker serves
    this.stopping = null; // the stop() promise
    this.handlers = {}; // type -> async (payload) => value: questions the primary answers itself
    this.report = () => ({}); // the primary's own figures, beside every worker's answers
  }

  // Resolves with a worker's 'started' message once every worker serves;
  // rejects if one exits first.
  start() {
    return new Promise((resolve, reject) => {
      this.starting = { resolve, reject };
      for (let slot = 0; slot < this.workers.length; slot += 1) this.fork(slot);
    });
  }

  fork(slot) {
    const worker = cluster.fork({
      FICUS_GATEWAY_WORKER: String(slot),
      FICUS_GATEWAY_NATIVE_PERCENT: String(this.nativePercent),
    });
    this.workers[slot] = worker;
    worker.on('message', (message) => this.receive(slot, worker, message));
    worker.on('exit', (code, signal) => this.exited(slot, worker, code, signal));
  }

  receive(slot, worker, message) {
    if (!message || typeof message !== 'object' || worker !== this.workers[slot]) return;
    if (message.ficus === 'started') {
      this.serving.add(slot);
      // Forked before a routing change it then missed: catch it up.
      if (message.nativePercent !== this.nativePercent) {
        tell(worker, { ficus: 'query', qid: 0, type: 'setRouting', payload: { nativePercent: this.nativePercent, drain: false } });
      }
      if (this.starting && this.serving.size === this.workers.length) {
        this.starting.resolve(message);
        this.starting = null;
      }
    } else if (message.ficus === 'ask') {
      this.ask(worker, message);
    } else if (message.ficus === 'answer') {
      this.answer(slot, message);
    }
  }

  ask(from, { id, type, payload, to }) {
    if (to === 'primary') {
      this.answerItself(from, id, type, payload);
      return;
    }
    if (type === 'setRouting' && payload && typeof payload.nativePercent === 'number') {
      this.nativePercent = payload.nativePercent;
    }
    this.query(type, payload).then((reply) => tell(from, { ficus: 'answers', id, ...reply }));
  }

  // Asks every serving worker; resolves with { answers, primary } once all
  // answered or ANSWER_TIMEOUT_MS passed (never rejects).
  query(type, payload) {
    const qid = this.nextQid;
    this.nextQid += 1;
    const answers = this.workers.map((w, slot) => ({ worker: slot, pid: w ? w.process.pid : null, error: 'not serving' }));
    const pending = new Set();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const slot of pending) answers[slot] = { ...answers[slot], error: `no answer within ${ANSWER_TIMEOUT_MS} ms` };
        finish();
      }, ANSWER_TIMEOUT_MS);
      const finish = () => {
        clearTimeout(timer);
        this.queries.delete(qid);
        resolve({ answers, primary: { pid: process.pid, rssBytes: process.memoryUsage.rss(), ...this.report() } });
      };
      this.queries.set(qid, { answers, pending, finish });
      for (const slot of this.serving) {
        pending.add(slot);
        tell(this.workers[slot], { ficus: 'query', qid, type, payload });
      }
      if (pending.size === 0) finish();
    });
  }

  // A refusal with an HTTP status (an HttpError) travels as such; anything
  // else is a bug, logged here and answered as a 500.
  async answerItself(from, id, type, payload) {
    let reply;
    try {
      const handler = this.handlers[type];
      if (!handler) throw new HttpError(404, `the primary does not answer '${type}'`);
      reply = { value: await handler(payload) };
    } catch (err) {
      if (!err.status) console.error(`ficus gateway: the primary failed to answer '${type}':`, err);
      reply = { error: { status: err.status || 500, message: err.status ? err.message : 'internal error' } };
    }
    tell(from, { ficus: 'answers', id, ...reply });
  }

  answer(slot, { qid, value, error }) {
    const query = this.queries.get(qid);
    if (!query || !query.pending.has(slot)) return;
    query.pending.delete(slot);
    const { worker, pid } = query.answers[slot];
    query.answers[slot] = error === undefined ? { worker, pid, value } : { worker, pid, error };
    if (query.pending.size === 0) query.finish();
  }

  exited(slot, worker, code, signal) {
    if (worker !== this.workers[slot]) return;
    this.workers[slot] = null;
    this.serving.delete(slot);
    for (const [qid, query] of this.queries) {
      if (query.pending.has(slot)) this.answer(slot, { qid, error: 'exited' });
    }
    const how = signal || `code ${code}`;
    if (this.stopping) {
      if (this.workers.every((w) => w === null)) this.allExited();
      return;
    }
    if (this.starting) {
      this.starting.reject(new Error(`worker ${slot} (pid ${worker.process.pid}) exited (${how}) before serving`));
      this.starting = null;
      return;
    }
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS).concat(now);
    if (this.restarts.length > MAX_RESTARTS) {
      console.error(`ficus gateway: worker ${slot} exited (${how}); more than ${MAX_RESTARTS} restarts in ${RESTART_WINDOW_MS / 1000} s, stopping`);
      this.stop().then(() => process.exit(1));
      return;
    }
    console.error(`ficus gateway: worker ${slot} (pid ${worker.process.pid}) exited (${how}); restarting it`);
    setTimeout(() => {
      if (!this.stopping) this.fork(slot);
    }, RESTART_DELAY_MS);
  }

  // SIGTERM to every worker (each closes its connections with 1001);
  // resolves when all have exited.
  stop() {
    if (this.stopping) return this.stopping;
    this.stopping = new Promise((resolve) => {
      this.allExited = resolve;
    });
    for (const worker of this.workers) {
      if (worker && !worker.isDead()) worker.process.kill('SIGTERM');
    }
    if (this.workers.every((w) => w === null)) this.allExited();
    return this.stopping;
  }

  // The last resort, when stopping takes too long.
  kill() {
    for (const worker of this.workers) {
      if (worker && !worker.isDead()) worker.process.kill('SIGKILL');
    }
  }
}

module.exports = { Primary, ANSWER_TIMEOUT_MS };
