'use strict';
// GET/PUT /admin/faults: the dispatcher's rehearsal failpoints
// (dispatch.faults, docs/operations.md "Failpoints"). PUT takes the whole
// set that should be on ({"faults": [{"name": …, …params}]}, [] turns all
// off), so it can be repeated safely; the library validates each entry.
// In a cluster (ctx.fleet) the set applies to every worker.

const { HttpError, json, readBody, parseJsonObject } = require('./http-util');
const { asHttp } = require('./library-errors');
const { failures } = require('./aggregate');

const MAX_FAULTS_BODY = 8 * 1024;

// What the dashboard's buttons turn on: each fault with parameters that
// the default checks notice within an interval or two.
const PRESETS = [
  // A wakeup 600 ms late is a stall (threadHealth counts those >= 500 ms);
  // one every 800 ms (200 ms of work, then 600 blocked), so that every
  // interval of a second or more sees one.
  { name: 'native.worker.stall', params: { ms: 600, everyMs: 200 } },
  { name: 'native.delivery.drop', params: { share: 0.05 } },
  { name: 'native.adopt.refuse', params: {} },
  { name: 'router.authenticate.slow', params: { ms: 200 } },
];

// {"faults": [{ name, ...params }]} -> that array, shape-checked only.
function parseFaultSet(body) {
  const value = parseJsonObject(body);
  const unknown = Object.keys(value).find((key) => key !== 'faults');
  if (unknown) throw new HttpError(400, `unknown field '${unknown}' (expected faults)`);
  if (!Array.isArray(value.faults)) throw new HttpError(400, 'faults must be an array of {"name": ..., ...params} ([] turns every fault off)');
  value.faults.forEach((fault, i) => {
    if (fault === null || typeof fault !== 'object' || Array.isArray(fault) || typeof fault.name !== 'string') {
      throw new HttpError(400, `faults[${i}] must be an object with a name`);
    }
  });
  return value.faults;
}

// Turns exactly `list` on. All or nothing: when the library refuses an
// entry, the faults that were on before are put back.
function replaceFaults(faults, list) {
  const before = faults.list();
  const apply = (entries) => {
    faults.clear();
    for (const { name, ...params } of entries) faults.set(name, params);
  };
  try {
    asHttp(() => apply(list));
  } catch (err) {
    apply(before);
    throw err;
  }
  return faults.list();
}

function faultsView(faults, nativeAvailable) {
  return { faults: faults.list(), nativeAvailable, presets: PRESETS };
}

// What one worker (or the only process) answers to the primary.
function faultQueries(ctx) {
  return {
    faults: () => ctx.dispatch.faults.list(),
    setFaults: (list) => replaceFaults(ctx.dispatch.faults, list),
  };
}

// Every worker's list; a worker that did not answer fails the request (502).
async function clusterFaults(fleet, type, payload) {
  const reply = await fleet.all(type, payload);
  const failed = failures(reply);
  if (failed) throw new HttpError(502, `not every worker answered${type === 'setFaults' ? ' (the change may be partial)' : ''}: ${failed}`);
  return reply.answers.map((a) => ({ worker: a.worker, pid: a.pid, faults: a.value }));
}

function faultRoutes(ctx) {
  const { dispatch, fleet } = ctx;
  const view = async () => ({
    ...faultsView(dispatch.faults, dispatch.nativeAvailable),
    ...(fleet ? { workers: await clusterFaults(fleet, 'faults') } : {}),
  });
  return [
    {
      method: 'GET',
      path: '/admin/faults',
      async handle(req, res) {
        json(res, 200, await view());
      },
    },
    {
      method: 'PUT',
      path: '/admin/faults',
      async handle(req, res) {
        const list = parseFaultSet(await readBody(req, MAX_FAULTS_BODY));
        // This worker first: a set the library refuses is a 400 before
        // any other worker changes.
        replaceFaults(dispatch.faults, list);
        if (fleet) await clusterFaults(fleet, 'setFaults', list);
        json(res, 200, await view());
      },
    },
  ];
}

module.exports = { faultRoutes, faultQueries, replaceFaults, PRESETS };
