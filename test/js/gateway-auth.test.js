'use strict';
// The example gateway with --auth-secret (examples/gateway/auth.js), run as
// a user runs it: every bad token is refused (401, counted by reason) on
// the subscriber upgrade, the publisher upgrade and POST /events; a good
// one subscribes on either path (the token's sub picks the bucket) to what
// its topics grant and nothing else; a customer may not publish. Without a
// secret the gateway stays open.

const ficus = require('../../lib');
const { startGatewayProcess } = require('./support/gateway-process');
const { connect, until, event } = require('./support/clients');
const tokens = require('./support/tokens');

jest.setTimeout(60000);

const SECRET = 'test-secret-0123456789abcdef0123';
const mint = (args, secret = SECRET) => tokens.mint(args, secret);
const { bearer } = tokens;
const mintClaims = (claims, extra = []) => mint(['--claims', JSON.stringify(claims), ...extra]);

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

// A sub whose bucket (salt 'ficus', the gateway's) lands on `p` at 50 %.
function subOn(p, prefix) {
  for (let i = 0; i < 1000; i += 1) {
    const sub = `${prefix}-${i}`;
    if ((ficus.bucketOf(sub, 'ficus') < 50) === (p === 'native')) return sub;
  }
  throw new Error('no sub found');
}

// Every way a token can be bad, with the reason the gateway counts.
async function badTokens(sub) {
  const claims = { sub, role: 'publisher', topics: ['order:x'] };
  const now = Math.floor(Date.now() / 1000);
  return [
    { name: 'malformed', reason: 'malformed', token: 'not-a-jwt' },
    { name: 'unsigned', reason: 'signature', token: `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.` },
    { name: 'alg none', reason: 'algorithm', token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.` },
    { name: 'another key', reason: 'signature', token: await mint(['--claims', JSON.stringify(claims)], 'another-secret') },
    { name: 'expired', reason: 'expired', token: await mintClaims(claims, ['--ttl=-60']) },
    { name: 'topics not an array', reason: 'claims', token: await mintClaims({ ...claims, topics: 'order:*' }) },
    { name: 'topics not strings', reason: 'claims', token: await mintClaims({ ...claims, topics: ['order:x', 7] }) },
    { name: 'missing sub', reason: 'claims', token: await mintClaims({ role: 'publisher', topics: ['order:x'] }) },
  ];
}

describe('with --auth-secret', () => {
  let gw;
  const sockets = [];
  const open = async (...args) => {
    const ws = await connect(...args);
    sockets.push(ws);
    return ws;
  };
  const auth = async () => (await (await fetch(gw.http('/stats'))).json()).gateway.auth;
  const postEvents = (headers, body) => fetch(gw.http('/events'), { method: 'POST', headers, body });
  const refusedUpgrade = (url, options) => expect(connect(url, options)).rejects.toThrow(/401/);

  beforeAll(async () => {
    gw = await startGatewayProcess(['--feed-rate', '0', '--native-percent', '50', '--threads', '1'], { env: { AUTH_SECRET: SECRET } });
  });
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(async () => {
    if (gw) await gw.stop();
  });

  test('the start line says tokens are required (and not the secret)', () => {
    expect(gw.startLine).toMatch(/ — auth: HS256 tokens required$/);
    expect(gw.output.join('\n')).not.toContain(SECRET);
  });

  test('no token: 401 on every endpoint, counted as missing', async () => {
    const before = await auth();
    await refusedUpgrade(gw.ws('/ws?topics=order:o1'));
    await refusedUpgrade(gw.ws('/publish'));
    const res = await postEvents({}, JSON.stringify(event('o1', null, 1)));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ficus"');
    const after = await auth();
    for (const endpoint of ['ws', 'publish', 'events']) {
      expect(after.refused[endpoint].missing - before.refused[endpoint].missing).toBe(1);
    }
  });

  describe.each(['native', 'legacy'])('a token whose sub is bucketed %s', (p) => {
    test('every bad token is refused with 401 on /ws, /publish and POST /events, counted by reason', async () => {
      const tokens = await badTokens(subOn(p, 'bad'));
      const before = await auth();
      for (const { name, token } of tokens) {
        await refusedUpgrade(gw.ws('/ws?topics=order:x'), bearer(token));
        await refusedUpgrade(gw.ws(`/ws?topics=order:x&token=${encodeURIComponent(token)}`));
        await refusedUpgrade(gw.ws('/publish'), bearer(token));
        const res = await postEvents({ authorization: `Bearer ${token}` }, JSON.stringify(event('x', null, 1)));
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
        expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      }
      const after = await auth();
      const expected = (factor) => {
        const counts = {};
        for (const { reason } of tokens) counts[reason] = (counts[reason] || 0) + factor;
        return counts;
      };
      const delta = (endpoint) => Object.fromEntries(Object.keys(expected(1)).map((r) => [r, after.refused[endpoint][r] - before.refused[endpoint][r]]));
      expect(delta('ws')).toEqual(expected(2));
      expect(delta('publish')).toEqual(expected(1));
      expect(delta('events')).toEqual(expected(1));
      expect(after.accepted).toEqual(before.accepted);
      const metrics = await (await fetch(gw.http('/metrics'))).text();
      expect(metrics).toContain(`ficus_gateway_auth_refused_total{endpoint="ws",reason="expired"} ${after.refused.ws.expired}`);
    });

    test('a customer gets its order (header or ?token=) and nothing else; publishing needs role publisher', async () => {
      const sub = subOn(p, 'customer');
      const order = `${p}-o1`;
      const token = await mint(['--role', 'customer', '--sub', sub, '--order', order]);
      const viaHeader = await open(gw.ws(`/ws?topics=order:${order}`), bearer(token));
      const viaQuery = await open(gw.ws(`/ws?topics=order:${order},order:${p}-o2&token=${token}`));
      const where = await (await fetch(gw.http(`/admin/whereis?client_id=${sub}`))).json();
      expect(where).toMatchObject({ connected: true, path: p, connections: 2 });
      // The token grants order:<order>: asking for another is refused.
      viaHeader.send(JSON.stringify({ type: 'subscribe', topics: [`order:${p}-o2`] }));
      const refusal = JSON.stringify({ type: 'error', topic: `order:${p}-o2`, reason: 'forbidden' });
      await until(() => viaHeader.received.includes(refusal) && viaQuery.received.includes(refusal), 5000, 'both refusals');

      // A customer may not publish: 403 on POST /events, 401 on /publish.
      const denied = await postEvents({ authorization: `Bearer ${token}` }, JSON.stringify(event(order, null, 1)));
      expect(denied.status).toBe(403);
      expect(denied.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      await refusedUpgrade(gw.ws('/publish'), bearer(token));
      expect((await auth()).refused.events.role).toBeGreaterThan(0);

      const publisherToken = await mint(['--role', 'publisher', '--sub', `${p}-feed`]);
      const ok = await postEvents({ authorization: `Bearer ${publisherToken}` }, JSON.stringify(event(order, null, 1)));
      expect(ok.status).toBe(200);
      const publisher = await open(gw.ws('/publish'), bearer(publisherToken));
      publisher.send(JSON.stringify(event(`${p}-o2`, null, 2)));
      publisher.send(JSON.stringify(event(order, null, 3)));
      const seqs = (ws) => ws.received.filter((m) => m.includes('"order_id"')).map((m) => JSON.parse(m).seq);
      await until(() => seqs(viaHeader).length >= 2 && seqs(viaQuery).length >= 2, 5000, 'deliveries');
      expect(seqs(viaHeader)).toEqual([1, 3]);
      expect(seqs(viaQuery)).toEqual([1, 3]);
    });
  });

  test('the simulated clients and the dashboard mint their own tokens', async () => {
    const res = await fetch(gw.http('/admin/clients'), { method: 'POST', body: JSON.stringify({ count: 4 }) });
    expect(res.status).toBe(200);
    await until(async () => (await (await fetch(gw.http('/admin/clients'))).json()).open === 4, 10000, 'simulated clients open');
    const dashboard = await (await fetch(gw.http('/admin/dashboard-token?client_id=dash-1'))).json();
    expect(dashboard.auth).toBe(true);
    await open(gw.ws(`/ws?topics=order:o9&token=${dashboard.token}`));
  });
});

test('without a secret the gateway stays open: no token needed anywhere', async () => {
  const gw = await startGatewayProcess(['--feed-rate', '0', '--threads', '1'], { env: { AUTH_SECRET: '' } });
  try {
    const ws = await connect(gw.ws('/ws?topics=order:open-o1'));
    const publisher = await connect(gw.ws('/publish'));
    const res = await fetch(gw.http('/events'), { method: 'POST', body: JSON.stringify(event('open-o1', null, 1)) });
    expect(res.status).toBe(200);
    publisher.send(JSON.stringify(event('open-o1', null, 2)));
    await until(() => ws.received.length === 2, 5000, 'deliveries');
    ws.terminate();
    publisher.terminate();
    const stats = await (await fetch(gw.http('/stats'))).json();
    expect(stats.gateway.auth).toEqual({ enabled: false });
    expect(gw.startLine).not.toContain('auth');
    expect(await (await fetch(gw.http('/admin/dashboard-token?client_id=x'))).json()).toEqual({ auth: false });
  } finally {
    await gw.stop();
  }
});

// --redis --workers 2: the bridged /publish (the gateway's own ws server,
// not ficus's router) checks tokens too, and every worker reads the secret
// (the simulated clients of worker 0 connect with theirs).
test('cluster on Redis: bridged /publish needs a publisher token; simulated clients still connect', async () => {
  const { startRedis } = require('./support/redis-server');
  const redis = await startRedis();
  let gw;
  try {
    gw = await startGatewayProcess(['--workers', '2', '--redis', redis.url, '--native-percent', '50', '--threads', '1', '--feed-rate', '0', '--clients', '4'],
      { env: { AUTH_SECRET: SECRET } });
    const stats = async () => (await (await fetch(gw.http('/stats'))).json()).gateway;
    await until(async () => (await stats()).simulatedClients.open === 4, 15000, 'simulated clients open');

    const customer = await mint(['--role', 'customer', '--sub', 'cl-alice', '--order', 'cl-o1']);
    const ws = await connect(gw.ws('/ws?topics=order:cl-o1'), bearer(customer));
    const before = (await stats()).auth.refused.publish;
    await expect(connect(gw.ws('/publish'))).rejects.toThrow(/401/);
    await expect(connect(gw.ws('/publish'), bearer(customer))).rejects.toThrow(/401/);
    const after = (await stats()).auth.refused.publish;
    expect([after.missing - before.missing, after.role - before.role]).toEqual([1, 1]);

    const publisher = await connect(gw.ws('/publish'), bearer(await mint(['--role', 'publisher'])));
    publisher.send(JSON.stringify(event('cl-o1', null, 1)));
    await until(() => ws.received.length === 1, 5000, 'the delivery through Redis');
    ws.terminate();
    publisher.terminate();
  } finally {
    if (gw) await gw.stop();
    await redis.stop();
  }
});
