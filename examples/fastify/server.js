'use strict';
// A Fastify gateway with ficus serving /ws on both paths: a percentage of
// the upgrades goes to the native core, the rest to ficus's own legacy path.
// Run: PORT=3000 NATIVE_PERCENT=10 node examples/fastify/server.js

const Fastify = require('fastify');
const ficus = require('../..'); // require('ficus') in your project

const app = Fastify();
const dispatch = ficus.createDispatcher();

// Fastify owns the http.Server: attach to it before listen().
const router = dispatch.attach(app.server, {
  path: '/ws',
  nativePercent: Number(process.env.NATIVE_PERCENT ?? 10),
  key: (req) => req.headers['x-user-id'],
  // Topics from ?topics=, as in the bench protocol; put your auth here.
  authenticate: async () => true,
});

app.post('/events', async (req, reply) => {
  const result = dispatch.publish(req.body);
  return reply.code(result.rejected.length ? 400 : 202).send(result);
});
app.put('/native-percent/:p', async (req) => {
  router.setNativePercent(Number(req.params.p), { drain: true });
  return { nativePercent: router.nativePercent };
});
app.get('/stats', async () => dispatch.stats());
app.get('/metrics', async (req, reply) => reply.type('text/plain; version=0.0.4').send(dispatch.metrics()));
app.addHook('onClose', () => dispatch.close());

app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' }).then(() => {
  console.log(`listening on ${app.server.address().port}`);
});
process.on('SIGTERM', () => app.close());
