'use strict';
// An Express gateway that already has its own `ws` server for /ws, joined
// by ficus without touching it: `legacy` hands every upgrade that stays
// legacy to the existing handler, so NATIVE_PERCENT=0 changes nothing.
// Run: PORT=3000 NATIVE_PERCENT=50 node examples/express/server.js

const http = require('node:http');
const express = require('express');
const { WebSocketServer } = require('ws');
const ficus = require('../..'); // require('ficus') in your project

const app = express();
app.use(express.json());
const server = http.createServer(app);

// What the gateway had before ficus: its own ws server and broadcast.
const wss = new WebSocketServer({ noServer: true });
const topicsOf = new Map(); // ws -> Set of topics
const ownUpgrade = (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
  topicsOf.set(ws, new Set(new URL(req.url, 'http://x').searchParams.get('topics')?.split(',') ?? []));
  ws.on('close', () => topicsOf.delete(ws));
});

const dispatch = ficus.createDispatcher();
const router = dispatch.attach(server, {
  path: '/ws',
  nativePercent: Number(process.env.NATIVE_PERCENT ?? 0),
  key: (req) => req.headers['x-user-id'],
  legacy: ownUpgrade,
});

// One publish reaches both: ficus's native share and the gateway's own clients.
app.post('/events', (req, res) => {
  const { accepted, rejected } = dispatch.publish(req.body);
  if (accepted > 0) {
    const text = JSON.stringify(req.body);
    for (const [ws, topics] of topicsOf) {
      if (topics.has(`order:${req.body.order_id}`) || topics.has(`driver:${req.body.driver_id}`)) ws.send(text);
    }
  }
  res.status(rejected.length ? 400 : 202).json({ accepted, rejected });
});
app.put('/native-percent/:p', (req, res) => {
  router.setNativePercent(Number(req.params.p), { drain: true });
  res.json({ nativePercent: router.nativePercent });
});
app.get('/stats', (req, res) => res.json({ ficus: dispatch.stats(), ownClients: topicsOf.size }));

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
process.on('SIGTERM', async () => {
  await dispatch.close();
  wss.clients.forEach((ws) => ws.close(1001));
  server.close();
});
