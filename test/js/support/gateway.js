'use strict';
// A minimal gateway for tests: a real http.Server on an ephemeral loopback
// port, a dispatcher, and a router attached with the given options.

const http = require('node:http');
const ficus = require('../../../lib');

// `backlog`: the listen queue (Node's default 511); a test that has
// thousands of clients reconnect at once may want more.
async function startGateway({ dispatcher: dispatcherOptions = {}, attach = {}, server, backlog } = {}) {
  const httpServer = server || http.createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404).end(req.url === '/healthz' ? 'ok' : '');
  });
  const dispatch = ficus.createDispatcher({ threads: 2, ...dispatcherOptions });
  const router = dispatch.attach(httpServer, {
    key: (req) => req.headers['x-client-id'],
    ...attach,
  });
  await new Promise((resolve) => httpServer.listen({ port: 0, host: '127.0.0.1', backlog }, resolve));
  const { port } = httpServer.address();
  return {
    dispatch,
    router,
    server: httpServer,
    port,
    url: (target = '/ws') => `ws://127.0.0.1:${port}${target}`,
    async close() {
      await dispatch.close();
      httpServer.closeAllConnections?.();
      await new Promise((resolve) => httpServer.close(resolve));
    },
  };
}

module.exports = { startGateway };
