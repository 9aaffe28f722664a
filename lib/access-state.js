'use strict';
// The legacy path's twin of the core's AccessState
// (native/core/include/ficus/access_state.h): a connection's topics waiting
// for the authorize hook (at most LIMITS.maxPendingAuthorizations; never
// subscribed meanwhile) and the hook's answers (the last
// LIMITS.maxAuthorizeAnswers), so the hook is asked once per topic per
// connection. The deadline is the hook call's own timeout (lib/access.js).

const { LIMITS } = require('./protocol');

const VERDICT = Object.freeze({
  allowed: 'allowed', // the hook allowed it before
  refused: 'refused', // the hook refused it before
  ask: 'ask', // now pending: ask the hook
  waiting: 'waiting', // already pending
  busy: 'busy', // too many pending: refuse
});

class AccessState {
  constructor() {
    this.pending = new Set();
    this.answers = new Map(); // topic -> allowed, oldest first
  }

  check(topic) {
    const answer = this.answers.get(topic);
    if (answer !== undefined) return answer ? VERDICT.allowed : VERDICT.refused;
    if (this.pending.has(topic)) return VERDICT.waiting;
    if (this.pending.size >= LIMITS.maxPendingAuthorizations) return VERDICT.busy;
    this.pending.add(topic);
    return VERDICT.ask;
  }

  // False when `topic` was no longer pending (unsubscribed meanwhile).
  answer(topic, allowed) {
    if (!this.pending.delete(topic)) return false;
    if (this.answers.size >= LIMITS.maxAuthorizeAnswers) this.answers.delete(this.answers.keys().next().value);
    this.answers.set(topic, allowed);
    return true;
  }

  cancel(topic) {
    this.pending.delete(topic);
  }

  forgetAnswers() {
    this.answers.clear();
  }
}

module.exports = { AccessState, VERDICT };
