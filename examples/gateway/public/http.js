'use strict';
// The dashboard's one way to call the gateway's JSON endpoints (app.js and
// rollout.js): the answer's JSON, or an Error carrying the gateway's own
// message for a refusal.

window.ficusRequestJson = async function requestJson(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${method} ${url}: HTTP ${response.status}`);
  return data;
};
