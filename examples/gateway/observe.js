'use strict';
// The gateway's own figures beside ficus's: uptime, HTTP requests served,
// and the delay and utilization of this process's event loop (what the
// legacy path and every HTTP route share), served as GET /stats (JSON) and GET /metrics
// (Prometheus text). In a cluster (ctx.fleet) both cover every worker:
// /stats adds them up and lists each in `workers`, /metrics labels each
// worker's series with worker="N".

const { performance } = require('node:perf_hooks');
const { json, send } = require('./http-util');
const { clusterStats, clusterMetrics } = require('./aggregate');
const { loopDelayMonitor, loopDelaySummary } = require('./loop-delay');
const { AUTH_OFF } = require('./auth');

const WINDOW_MS = 1000; // event-loop figures are reported for the last second

class GatewayStats {
  constructor() {
    this.startedAt = Date.now();
    this.requests = new Map(); // "route status" -> count
    this.requestsTotal = 0;
    this.loop = loopDelayMonitor();
    this.loopWindow = { p50: 0, p99: 0, max: 0 };
    // The delay histogram takes one sample per timer run, so a loop blocked
    // for 400 ms once a second shows in `max` but not in its P99; the share
    // of the second the loop was busy shows it whatever the pattern.
    this.loopUsage = performance.eventLoopUtilization();
    this.loopUtilization = 0;
    this.timer = null;
  }

  start() {
    this.loop.enable();
    this.timer = setInterval(() => this.rollLoopWindow(), WINDOW_MS);
    this.timer.unref();
    return this;
  }

  stop() {
    clearInterval(this.timer);
    this.loop.disable();
  }

  rollLoopWindow() {
    this.loopWindow = loopDelaySummary(this.loop);
    this.loop.reset();
    const usage = performance.eventLoopUtilization();
    this.loopUtilization = Math.round(performance.eventLoopUtilization(usage, this.loopUsage).utilization * 1000) / 1000;
    this.loopUsage = usage;
  }

  countRequest(route, status) {
    const key = `${route} ${status}`;
    this.requests.set(key, (this.requests.get(key) || 0) + 1);
    this.requestsTotal += 1;
  }

  uptimeSeconds() {
    return Math.round((Date.now() - this.startedAt) / 100) / 10;
  }
}

function gatewayFigures({ gatewayStats, feed, publishers, simClients, store, auth }) {
  return {
    uptimeSeconds: gatewayStats.uptimeSeconds(),
    pid: process.pid,
    rssBytes: process.memoryUsage.rss(),
    eventLoopDelayMs: gatewayStats.loopWindow,
    eventLoopUtilization: gatewayStats.loopUtilization,
    http: { requests: gatewayStats.requestsTotal },
    feed: { rate: feed.rate, published: feed.published },
    publishers: publishers.stats(),
    simulatedClients: simClients.stats(),
    orders: store.size,
    auth: auth ? auth.stats() : AUTH_OFF,
  };
}

function gatewayMetrics(ctx) {
  const g = gatewayFigures(ctx);
  const lines = [];
  const metric = (name, type, help, samples) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric('ficus_gateway_uptime_seconds', 'gauge', 'Seconds since the gateway started.', [['', g.uptimeSeconds]]);
  metric('ficus_gateway_event_loop_delay_seconds', 'gauge', 'Event-loop delay over the last second.',
    [['{quantile="0.5"}', g.eventLoopDelayMs.p50 / 1000], ['{quantile="0.99"}', g.eventLoopDelayMs.p99 / 1000],
      ['{quantile="1"}', g.eventLoopDelayMs.max / 1000]]);
  metric('ficus_gateway_event_loop_utilization', 'gauge', 'Share of the last second the event loop was busy (0-1).',
    [['', g.eventLoopUtilization]]);
  // Routes are templates (/api/orders/:id), so the label set stays small.
  const requests = [...ctx.gatewayStats.requests].map(([key, n]) => {
    const [route, status] = key.split(' ');
    return [`{route="${route}",status="${status}"}`, n];
  });
  metric('ficus_gateway_http_requests_total', 'counter', 'HTTP requests served, by route and status.', requests);
  metric('ficus_gateway_feed_events_total', 'counter', 'Events published by the simulated feed.', [['', g.feed.published]]);
  metric('ficus_gateway_publisher_connections', 'gauge', 'Open /publish connections.', [['', g.publishers.connections]]);
  metric('ficus_gateway_publisher_frames_total', 'counter', 'Frames received from /publish connections.',
    [['', g.publishers.frames]]);
  metric('ficus_gateway_simulated_clients', 'gauge', 'Simulated subscribers the gateway opened.',
    [['', g.simulatedClients.count]]);
  if (g.auth.enabled) {
    // Endpoints and reasons are fixed lists (auth.js): the label set is bounded.
    metric('ficus_gateway_auth_accepted_total', 'counter', 'Tokens accepted, by endpoint.',
      Object.entries(g.auth.accepted).map(([endpoint, n]) => [`{endpoint="${endpoint}"}`, n]));
    metric('ficus_gateway_auth_refused_total', 'counter', 'Requests and upgrades refused for their token (401/403), by endpoint and reason.',
      Object.entries(g.auth.refused).flatMap(([endpoint, byReason]) =>
        Object.entries(byReason).map(([reason, n]) => [`{endpoint="${endpoint}",reason="${reason}"}`, n])));
  }
  metric('ficus_gateway_resident_memory_bytes', 'gauge', 'Resident set size of the gateway process.', [['', g.rssBytes]]);
  return `${lines.join('\n')}\n`;
}

// What one worker (or the only process) answers.
function observeQueries(ctx) {
  return {
    stats: () => ({ ...ctx.dispatch.stats(), gateway: gatewayFigures(ctx) }),
    metrics: () => ({ text: ctx.dispatch.metrics() + gatewayMetrics(ctx), rssBytes: process.memoryUsage.rss() }),
  };
}

function observeRoutes(ctx) {
  const { fleet } = ctx;
  const queries = observeQueries(ctx);
  return [
    {
      method: 'GET',
      path: '/stats',
      async handle(req, res) {
        json(res, 200, fleet ? clusterStats(await fleet.all('stats')) : queries.stats());
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      async handle(req, res) {
        const text = fleet ? clusterMetrics(await fleet.all('metrics')) : queries.metrics().text;
        send(res, 200, text, 'text/plain; version=0.0.4; charset=utf-8');
      },
    },
  ];
}

module.exports = { GatewayStats, observeRoutes, observeQueries, gatewayFigures };
