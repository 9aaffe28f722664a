'use strict';
// JSON over HTTP against a gateway: `http(target)` builds the URL (a
// startGatewayProcess() gateway's gw.http). Resolves with { status, body }.

function jsonClient(http) {
  const getJson = async (target) => {
    const res = await fetch(http(target));
    return { status: res.status, body: await res.json() };
  };
  // A string body is sent as is (for malformed JSON), anything else as JSON.
  const sendJson = async (method, target, body) => {
    const res = await fetch(http(target), {
      method,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return { getJson, sendJson };
}

module.exports = { jsonClient };
