'use strict';
// Every public function validates its arguments with a TypeError or
// RangeError naming the argument and what it received.

const http = require('node:http');
const ficus = require('../../lib');

let dispatch;
beforeAll(() => {
  dispatch = ficus.createDispatcher({ threads: 1 });
});
afterAll(() => dispatch.close());

test.each([
  [{ threads: -1 }, RangeError, /options\.threads.*the number -1/],
  [{ threads: 'two' }, TypeError, /options\.threads.*the string "two"/],
  [{ backpressure: 'block' }, RangeError, /one of "drop", "close" for options\.backpressure/],
  [{ maxBufferedBytes: 10 }, RangeError, /options\.maxBufferedBytes/],
  [{ pingIntervalMs: 1.5 }, RangeError, /options\.pingIntervalMs/],
  [{ threds: 2 }, TypeError, /Unknown option options\.threds/],
  ['fast', TypeError, /Expected an object for options but received the string "fast"/],
])('createDispatcher(%j) throws', (options, type, message) => {
  expect(() => ficus.createDispatcher(options)).toThrow(type);
  expect(() => ficus.createDispatcher(options)).toThrow(message);
});

test.each([
  [{ nativePercent: 101 }, RangeError, /options\.nativePercent.*the number 101/],
  [{ nativePercent: '10' }, TypeError, /options\.nativePercent.*the string "10"/],
  [{ key: 'x-user' }, TypeError, /a function for options\.key but received the string "x-user"/],
  [{ authenticate: true }, TypeError, /options\.authenticate/],
  [{ path: '' }, RangeError, /options\.path/],
  [{ retryAfterMs: [5, 1] }, RangeError, /options\.retryAfterMs/],
  [{ retryAfterMs: [-1, 1] }, RangeError, /options\.retryAfterMs/],
  [{ retryAfterMs: [1, 1.5] }, TypeError, /options\.retryAfterMs/],
  [{ authenticateTimeoutMs: -1 }, RangeError, /options\.authenticateTimeoutMs/],
  [{ authenticateTimeoutMs: '5' }, TypeError, /options\.authenticateTimeoutMs/],
])('attach(server, %j) throws', (options, type, message) => {
  const server = http.createServer();
  expect(() => dispatch.attach(server, options)).toThrow(type);
  expect(() => dispatch.attach(server, options)).toThrow(message);
});

test('two routers cannot serve one path of a server (until the first detaches)', () => {
  const server = http.createServer();
  const first = dispatch.attach(server, { path: '/ws' });
  const second = dispatch.attach(server, { path: '/other' });
  expect(() => dispatch.attach(server, { path: '/ws' })).toThrow(expect.objectContaining({ code: 'ERR_FICUS_PATH_TAKEN' }));
  // Another dispatcher on the same server is refused too.
  const other = ficus.createDispatcher({ native: false });
  expect(() => other.attach(server, { path: '/ws' })).toThrow(/another router already serves \/ws/);
  expect(server.listenerCount('upgrade')).toBe(2);
  first.detach();
  const again = dispatch.attach(server, { path: '/ws' });
  again.detach();
  second.detach();
  return other.close();
});

test('attach needs a server', () => {
  expect(() => dispatch.attach({}, {})).toThrow(/Expected an http\.Server .* for server but received an object/);
});

test('setNativePercent validates', () => {
  const router = dispatch.attach(http.createServer(), { nativePercent: 10 });
  expect(() => router.setNativePercent(-1)).toThrow(RangeError);
  expect(() => router.setNativePercent(NaN)).toThrow(TypeError);
  expect(() => router.setNativePercent(50, { drain: 'yes' })).toThrow(/a boolean for options\.drain/);
  expect(router.setNativePercent(50).nativePercent).toBe(50);
  router.detach();
});

test('publish validates its input type but returns event rejections', () => {
  expect(() => dispatch.publish(42)).toThrow(TypeError);
  expect(() => dispatch.publish(undefined)).toThrow(/for input but received undefined/);
  const r = dispatch.publish({ order_id: 'o1', status: 'x' });
  expect(r.accepted).toBe(0);
  expect(r.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/timestamp/) }]);
});

test('connection calls validate', () => {
  expect(() => dispatch.send({}, 'x')).toThrow(TypeError);
  expect(() => dispatch.send(1, 5)).toThrow(/for data/);
  for (const id of [NaN, Infinity, -1, 1.5, 2 ** 53]) {
    expect(() => dispatch.send(id, 'x')).toThrow(RangeError);
    expect(() => dispatch.closeConnection(id)).toThrow(/a native connection id .* for id/);
  }
  expect(() => dispatch.closeConnection(1, 999)).toThrow(RangeError);
  // Codes no endpoint may send (RFC 6455 7.4), on either path.
  for (const code of [1004, 1005, 1006, 1015, 2000, 2999]) {
    expect(() => dispatch.closeConnection(1, code)).toThrow(RangeError);
    expect(() => dispatch.closeConnection('l1', code)).toThrow(/1000-1003, 1007-1014 or 3000-4999 for code/);
  }
  expect(() => dispatch.closeConnection(1, 1000, 'x'.repeat(200))).toThrow(/reason/);
  expect(dispatch.send(123456, 'nobody')).toBe(true); // queued; the core ignores unknown ids
  expect(dispatch.send('l-unknown', 'nobody')).toBe(false);
});

test('validateEvent and bucketOf validate', () => {
  expect(() => ficus.validateEvent(5)).toThrow(TypeError);
  expect(ficus.validateEvent({ order_id: 'o', status: 's', timestamp: '2026-11-27T10:00:00Z' })).toBeNull();
  expect(ficus.validateEvent('{"order_id":1}')).toMatch(/order_id/);
  expect(() => ficus.bucketOf(5, 'salt')).toThrow(/identity/);
  expect(ficus.bucketOf('user-1', 'salt')).toBe(ficus.bucketOf('user-1', 'salt'));
});

test('a closed dispatcher refuses work with a FicusError code', async () => {
  const d = ficus.createDispatcher({ threads: 1 });
  await d.close();
  await d.close(); // twice is harmless
  try {
    d.publish({ order_id: 'o', status: 's', timestamp: '2026-11-27T10:00:00Z' });
    throw new Error('expected a throw');
  } catch (error) {
    expect(error).toBeInstanceOf(ficus.FicusError);
    expect(error.code).toBe('ERR_FICUS_CLOSED');
  }
});

test('native core disabled: everything serves on legacy, the reason is reported', async () => {
  const d = ficus.createDispatcher({ native: false });
  expect(d.nativeAvailable).toBe(false);
  expect(d.nativeError.code).toBe('ERR_FICUS_NATIVE_UNAVAILABLE');
  expect(d.stats().paths.native.error).toMatch(/disabled/);
  await d.close();
});
