'use strict';
// What an upgrade's query asks of stream positions (docs/api.md, "Stream
// positions and recovery"): `recover=1` opts in to positioned frames;
// `since=<position>` resumes from a position and implies it. The router
// reads it before routing; the native core reads the same query itself.

const { isPosition } = require('./position');
const v = require('./validate');

// { recover, since } (since undefined when not asked), or null when
// `since` is there but not a position (the upgrade is refused with 400).
function recoveryOf(query) {
  v.string(query, 'query');
  // Most upgrades name neither: no URLSearchParams for them.
  if (!query.includes('since=') && !query.includes('recover=')) return { recover: false, since: undefined };
  const params = new URLSearchParams(query);
  const since = params.get('since');
  if (since === null) return { recover: params.get('recover') === '1', since: undefined };
  if (!isPosition(since)) return null;
  return { recover: true, since };
}

module.exports = { recoveryOf };
