'use strict';
// GET/POST /admin/rollout: a rollout plan (router.rollout(), docs/api.md)
// started, paused, resumed and aborted over HTTP, and its status. The body
// is JSON, so a plan's checks are named built-in checks with their options
// instead of functions. In a cluster (ctx.fleet) one plan governs every
// worker: it runs in the primary (cluster-rollout.js), which these routes
// ask; the command itself (RolloutControl) is the same in both.

const ficus = require('../..');
const { HttpError, json, readBody, parseJsonObject } = require('./http-util');
const { asHttp } = require('./library-errors');

const MAX_ROLLOUT_BODY = 16 * 1024;
const ACTIONS = ['start', 'pause', 'resume', 'abort'];
const CHECK_NAMES = Object.keys(ficus.checks).filter((name) => name !== 'defaults');

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// { latencyP99: { maxMs: 100 }, threadHealth: {} } -> the check functions,
// in that order; each factory validates its own options.
function checksFrom(spec) {
  if (!isPlainObject(spec)) throw new HttpError(400, `plan.checks must be an object of check name -> options (checks: ${CHECK_NAMES.join(', ')})`);
  const names = Object.keys(spec);
  if (names.length === 0) throw new HttpError(400, 'plan.checks names no check (leave it out for the defaults)');
  return names.map((name) => {
    if (!CHECK_NAMES.includes(name)) throw new HttpError(400, `plan.checks: unknown check '${name}' (known: ${CHECK_NAMES.join(', ')})`);
    const options = spec[name];
    if (options !== true && !isPlainObject(options)) throw new HttpError(400, `plan.checks.${name} must be an object of options (or true for the defaults)`);
    return asHttp(() => ficus.checks[name](options === true ? undefined : options));
  });
}

// The plan part of a start body -> router.rollout() options. Everything
// but `checks` goes to the library as is: it refuses what is wrong.
function planOptions(plan) {
  if (!isPlainObject(plan)) throw new HttpError(400, 'start needs a plan object: {"action": "start", "plan": {"steps": [1, 5, 25, 50, 100], ...}}');
  const { checks, ...rest } = plan;
  return checks === undefined ? rest : { ...rest, checks: checksFrom(checks) };
}

// `target`: what runs the plan (a ficus Router, or the cluster's stand-in
// for every worker's router): rollout(options), plan, nativePercent.
// `connections`: () => { native, legacy } open connections now.
class RolloutControl {
  constructor({ target, connections }) {
    this.target = target;
    this.connections = connections;
  }

  view() {
    const { plan, nativePercent } = this.target;
    return { plan: plan ? plan.status() : null, nativePercent, connections: this.connections() };
  }

  // { action: 'start', plan } | { action: 'pause' | 'resume' | 'abort' }
  // -> view(); HttpError 400 (bad body) or 409 (not now) otherwise.
  command(body) {
    if (!isPlainObject(body)) throw new HttpError(400, 'expected a JSON object body');
    const { action } = body;
    if (!ACTIONS.includes(action)) {
      throw new HttpError(400, `action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(action) ?? 'nothing'}`);
    }
    const unknown = Object.keys(body).find((key) => key !== 'action' && !(key === 'plan' && action === 'start'));
    if (unknown) throw new HttpError(400, `unknown field '${unknown}' for action ${action}`);
    if (action === 'start') {
      const options = planOptions(body.plan);
      asHttp(() => this.target.rollout(options));
    } else {
      const { plan } = this.target;
      if (!plan) throw new HttpError(409, `no rollout to ${action}: start one first`);
      asHttp(() => plan[action]());
    }
    return this.view();
  }
}

function localControl(ctx) {
  return new RolloutControl({
    target: ctx.router,
    connections: () => {
      const { native, legacy } = ctx.dispatch.stats().paths;
      return { native: native.connections, legacy: legacy.connections };
    },
  });
}

// One log line per decision, with its reason (the figures are in the status).
function logDecisions(router, label) {
  router.on('rollout', ({ decision, previous, nativePercent, reason }) => {
    const where = previous === nativePercent ? `at ${nativePercent}%` : `${previous}% -> ${nativePercent}%`;
    console.log(`${label}: rollout ${decision} ${where} native: ${reason}`);
  });
}

function rolloutRoutes(ctx) {
  const { fleet } = ctx;
  const control = fleet ? null : localControl(ctx);
  const run = (body) => (fleet ? fleet.primary('rollout', body) : (body === null ? control.view() : control.command(body)));
  return [
    {
      method: 'GET',
      path: '/admin/rollout',
      async handle(req, res) {
        json(res, 200, await run(null));
      },
    },
    {
      method: 'POST',
      path: '/admin/rollout',
      async handle(req, res) {
        json(res, 200, await run(parseJsonObject(await readBody(req, MAX_ROLLOUT_BODY))));
      },
    },
  ];
}

module.exports = { rolloutRoutes, RolloutControl, logDecisions, CHECK_NAMES };
