'use strict';
// The dashboard: polls GET /stats every second and draws both paths side by
// side; drives the split through PUT /admin/routing; tracks one order over a
// real WebSocket. No framework, no build step, nothing from the internet.

(function dashboard() {
  const POLL_MS = 1000;
  const WINDOW_MS = 60000;
  const MAX_TRACKED_EVENTS = 50;

  const $ = (id) => document.getElementById(id);
  const history = []; // { t, stats } for the last WINDOW_MS
  let percentTouched = false; // the slider keeps the user's value until Apply

  // ---- helpers ------------------------------------------------------------

  function setText(id, value) {
    const node = $(id);
    if (node.textContent !== String(value)) node.textContent = String(value);
  }

  function number(n) {
    return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
  }

  function ms(n) {
    return Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–';
  }

  const requestJson = window.ficusRequestJson; // http.js

  function showMessage(id, text, isError) {
    const node = $(id);
    node.textContent = text;
    node.classList.toggle('error', Boolean(isError));
  }

  // ---- stats --------------------------------------------------------------

  // Events/s per path from the delivered counters of two polls.
  function ratesBetween(older, newer) {
    const seconds = (newer.t - older.t) / 1000;
    const rate = (path) => Math.max(0, newer.stats.paths[path].delivered - older.stats.paths[path].delivered) / seconds;
    return { native: rate('native'), legacy: rate('legacy') };
  }

  function renderSplit(stats) {
    const percent = stats.nativePercent ?? 0;
    setText('split-native', `${percent}% native`);
    setText('split-legacy', `${100 - percent}% legacy`);
    const native = stats.paths.native;
    setText('native-state', native.available
      ? `native core: ${native.threads.length} threads`
      : `native core unavailable: ${native.error || 'unknown reason'}`);
    if (!percentTouched) {
      $('percent').value = String(Math.round(percent));
      setText('percent-value', `${Math.round(percent)}%`);
    }
  }

  function renderPaths(stats, rates) {
    for (const path of ['native', 'legacy']) {
      const p = stats.paths[path];
      setText(`${path}-connections`, number(p.connections));
      setText(`${path}-rate`, rates ? number(Math.round(rates[path])) : '–');
      setText(`${path}-delivered`, number(p.delivered));
      setText(`${path}-latency`, p.latencyMs.count > 0 ? `${ms(p.latencyMs.p50)} / ${ms(p.latencyMs.p99)}` : '–');
      setText(`${path}-drops`, number(p.drops));
      setText(`${path}-upgrades`, number(p.upgrades));
    }
    const native = stats.paths.native.connections;
    const all = native + stats.paths.legacy.connections;
    const nativeShare = all > 0 ? (100 * native) / all : 0;
    $('share-native').style.width = `${nativeShare}%`;
    $('share-legacy').style.width = all > 0 ? `${100 - nativeShare}%` : '0';
    setText('share-text', all > 0
      ? `${Math.round(nativeShare)}% of ${number(all)} open connections are native`
      : 'no open connections');
    setText('events-accepted', number(stats.events.accepted));
    setText('events-rejected', number(stats.events.rejected));
    setText('fallbacks', number(stats.paths.native.fallbacks));
    setText('drain-pending', number(stats.drain.pending));
  }

  function renderThreads(stats) {
    const rows = stats.paths.native.threads.map((t) => {
      const tr = document.createElement('tr');
      const health = t.healthy ? 'healthy' : (t.running ? 'stalled' : 'stopped');
      for (const [text, cls] of [[`#${t.index}`], [health, t.healthy ? 'ok' : 'bad'], [number(t.connections)], [number(t.topics)]]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 4;
      td.className = 'muted';
      td.textContent = 'no native threads';
      tr.append(td);
      rows.push(tr);
    }
    $('threads').replaceChildren(...rows);
  }

  function renderGateway(g) {
    setText('loop-delay', `${ms(g.eventLoopDelayMs.p50)} / ${ms(g.eventLoopDelayMs.p99)} ms`);
    setText('uptime', `${Math.floor(g.uptimeSeconds)} s`);
    setText('http-requests', number(g.http.requests));
    setText('feed', g.feed.rate > 0 ? `${g.feed.rate}/s · ${number(g.feed.published)} sent` : 'off');
    const sim = g.simulatedClients;
    setText('sim-clients', `${number(sim.open)} open of ${number(sim.count)}`);
    setText('sim-recovery', `${number(sim.reconnects)} · ${number(sim.recovered.complete)} / ${number(sim.recovered.incomplete)}`);
    setText('publishers', `${number(g.publishers.connections)} · ${number(g.publishers.frames)} frames`);
  }

  function renderCharts(now) {
    const latency = { 'native-p50': [], 'native-p99': [], 'legacy-p50': [], 'legacy-p99': [] };
    const rates = { 'native-p50': [], 'legacy-p50': [] };
    history.forEach((h, i) => {
      for (const path of ['native', 'legacy']) {
        const l = h.stats.paths[path].latencyMs;
        if (l.count > 0) {
          latency[`${path}-p50`].push({ t: h.t, v: l.p50 });
          latency[`${path}-p99`].push({ t: h.t, v: l.p99 });
        }
      }
      if (i > 0) {
        const r = ratesBetween(history[i - 1], h);
        rates['native-p50'].push({ t: h.t, v: r.native });
        rates['legacy-p50'].push({ t: h.t, v: r.legacy });
      }
    });
    const toSeries = (map) => Object.entries(map).map(([cls, points]) => ({ cls, points }));
    window.drawLineChart($('latency-chart'), toSeries(latency), { windowMs: WINDOW_MS, now });
    window.drawLineChart($('rate-chart'), toSeries(rates), { windowMs: WINDOW_MS, now });
  }

  async function poll() {
    try {
      const stats = await requestJson('GET', '/stats');
      const now = Date.now();
      history.push({ t: now, stats });
      while (history.length > 0 && history[0].t < now - WINDOW_MS - POLL_MS) history.shift();
      const rates = history.length > 1 ? ratesBetween(history[history.length - 2], history[history.length - 1]) : null;
      renderSplit(stats);
      renderPaths(stats, rates);
      renderThreads(stats);
      renderGateway(stats.gateway);
      renderCharts(now);
      setText('connection-state', `updated ${new Date(now).toLocaleTimeString()}`);
      $('connection-state').classList.remove('error');
    } catch (err) {
      setText('connection-state', `gateway unreachable: ${err.message}`);
      $('connection-state').classList.add('error');
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // ---- routing ------------------------------------------------------------

  async function applyRouting(nativePercent, drain) {
    try {
      const routing = await requestJson('PUT', '/admin/routing', { nativePercent, drain });
      percentTouched = false;
      showMessage('routing-message', `now ${routing.nativePercent}% native${drain ? ', draining native connections' : ''}`);
    } catch (err) {
      showMessage('routing-message', err.message, true);
    }
  }

  $('percent').addEventListener('input', () => {
    percentTouched = true;
    setText('percent-value', `${$('percent').value}%`);
  });
  $('apply').addEventListener('click', () => applyRouting(Number($('percent').value), false));
  $('rollback').addEventListener('click', () => {
    $('percent').value = '0';
    setText('percent-value', '0%');
    applyRouting(0, true);
  });

  $('add-clients').addEventListener('click', async () => {
    try {
      const r = await requestJson('POST', '/admin/clients', { count: 50 });
      showMessage('clients-message', r.added > 0 ? `started ${r.added} clients (${r.count} in all)` : `limit of ${r.max} reached`);
    } catch (err) {
      showMessage('clients-message', err.message, true);
    }
  });

  // ---- track an order ---------------------------------------------------------
  // Survives a move (a rollback's 1012, a restart, a lost network):
  // public/resume.js keeps the last position, and the tracker reconnects
  // with since=<it> after the server's retry hint, so every status shows
  // once and in order. When the history no longer covers the gap
  // (complete:false) it reloads the order from GET /api/orders/:id instead.

  const { Resumption, retryDelayMs } = window.ficusResume;
  const clientId = `dashboard-${Math.random().toString(36).slice(2, 10)}`;
  // One session per Track press; callbacks of an older one find it replaced.
  let session = null; // { orderId, resumption, ws, timer, connects }

  function stopTracking() {
    if (session) {
      clearTimeout(session.timer);
      if (session.ws) session.ws.close(1000, 'done');
    }
    session = null;
    $('untrack').disabled = true;
  }

  // kind: 'event' (a status), or 'note' plus 'resumed' / 'reload'.
  function addTrackedItem(text, kind, status) {
    const li = document.createElement('li');
    li.textContent = text;
    li.className = kind;
    if (status !== undefined) li.dataset.status = status;
    $('track-events').prepend(li);
    while ($('track-events').children.length > MAX_TRACKED_EVENTS) $('track-events').lastChild.remove();
  }

  function addTrackedEvent(data) {
    let text = data;
    let status;
    try {
      const e = JSON.parse(data);
      const latency = Number.isFinite(e.sent_ns) ? ` · ${Math.max(0, Date.now() - e.sent_ns / 1e6).toFixed(0)} ms after send` : '';
      text = `${e.timestamp} · ${e.status}${e.driver_id ? ` · driver ${e.driver_id}` : ''}${latency}`;
      status = e.status;
    } catch {
      // Not JSON: show it as it came.
    }
    addTrackedItem(text, 'event', status);
  }

  // What the gateway's API says now, for when the stream cannot say what
  // was missed.
  async function reloadOrder(current, why) {
    let text;
    try {
      const order = await requestJson('GET', `/api/orders/${encodeURIComponent(current.orderId)}`);
      text = `${why}: reloaded, now ${order.status}${order.driver_id ? ` · driver ${order.driver_id}` : ''} (as of ${order.updated_at})`;
    } catch (err) {
      text = `${why}: could not reload the order (${err.message})`;
    }
    if (session === current) addTrackedItem(text, 'note reload');
  }

  // With --auth-secret the gateway mints the page a dashboard's token
  // (order:*), fresh at every connect; a browser's WebSocket cannot send
  // headers, so it goes in the query.
  async function trackerQuery(orderId) {
    const query = new URLSearchParams({ topics: `order:${orderId}`, client_id: clientId });
    const grant = await requestJson('GET', `/admin/dashboard-token?client_id=${encodeURIComponent(clientId)}`);
    if (grant.auth) query.set('token', grant.token);
    return query;
  }

  function reconnectLater(current, why, delayMs) {
    setText('track-state', `${why}; ${current.resumption.last ? 'resuming' : 'reconnecting'} in ${(delayMs / 1000).toFixed(1)} s`);
    current.timer = setTimeout(() => connectTracker(current), delayMs);
  }

  function onTrackerMessage(current, data) {
    const message = typeof data === 'string' ? current.resumption.read(data) : null;
    if (message === null) addTrackedItem(typeof data === 'string' ? data : '[binary message]', 'note');
    else if (!message.recovered) addTrackedEvent(message.event);
    else if (message.complete) addTrackedItem('resumed: nothing missed while away', 'note resumed');
    else reloadOrder(current, 'the history no longer covers the gap');
  }

  async function connectTracker(current) {
    const { orderId, resumption } = current;
    let query;
    try {
      query = await trackerQuery(orderId);
    } catch (err) {
      if (session === current) reconnectLater(current, `cannot connect: ${err.message}`, retryDelayMs(0, ''));
      return;
    }
    if (session !== current) return; // stopped, or tracking another order, meanwhile
    const resuming = resumption.last !== null;
    const reconnecting = current.connects > 0;
    current.connects += 1;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws?${resumption.query(query)}`);
    current.ws = ws;
    const live = () => session === current && current.ws === ws; // not replaced, stopped or closed
    setText('track-state', `${resuming ? 'resuming' : 'connecting to'} order ${orderId}…`);
    ws.addEventListener('open', async () => {
      // Closed before the first status: no position to resume from, so
      // what happened meanwhile comes from the API.
      if (reconnecting && !resuming) reloadOrder(current, 'reconnected before any status arrived');
      try {
        const where = await requestJson('GET', `/admin/whereis?client_id=${encodeURIComponent(clientId)}`);
        if (live()) setText('track-state', `${resuming ? 'resumed' : 'tracking'} order ${orderId} — served by the ${where.path} path (client id ${clientId})`);
      } catch (err) {
        if (live()) setText('track-state', `tracking order ${orderId} (path unknown: ${err.message})`);
      }
    });
    ws.addEventListener('message', (m) => {
      if (live()) onTrackerMessage(current, m.data);
    });
    ws.addEventListener('close', (e) => {
      if (!live()) return;
      current.ws = null;
      reconnectLater(current, `connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`, retryDelayMs(e.code, e.reason));
    });
  }

  function track(orderId) {
    stopTracking();
    $('track-events').replaceChildren();
    session = { orderId, resumption: new Resumption(), ws: null, timer: null, connects: 0 };
    $('untrack').disabled = false;
    connectTracker(session);
  }

  $('track-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const orderId = $('order-id').value.trim();
    if (!orderId) {
      setText('track-state', 'enter an order id first');
      return;
    }
    track(orderId);
  });
  $('untrack').addEventListener('click', () => {
    stopTracking();
    setText('track-state', 'stopped');
  });

  // Suggest an order the feed is moving.
  requestJson('GET', '/api/orders')
    .then((r) => {
      if (!$('order-id').value && r.recent.length > 0) $('order-id').placeholder = `order id, e.g. ${r.recent[0]}`;
    })
    .catch(() => {});

  poll();
}());
