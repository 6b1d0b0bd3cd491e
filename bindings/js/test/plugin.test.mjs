// The wrapper: plain MCP JSON in, plain objects out, one instance per plugin.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, createPlugin, JsonText, SeededRandom, StateError, VirtualClock } from '../src/index.js';

const unavailable = (status = 503) => ({
  content: [{ type: 'text', text: 'upstream unavailable' }],
  isError: true,
  structuredContent: { status_code: status },
});
const ok = { content: [{ type: 'text', text: 'fine' }], isError: false };

test('a 503 is retried with backoff, then the request gives up with a warning', () => {
  const plugin = createPlugin({ config: { max_retries: 2, jitter: false } });
  const answers = [1, 2, 3, 4].map(() => plugin.toolPostInvoke('weather', unavailable(), { requestId: 'r' }));
  assert.deepEqual(answers.map((a) => a.retryDelayMs), [200, 400, 0, 200]);
  assert.deepEqual(answers.map((a) => a.retry), [true, true, false, true]);
  assert.equal(typeof answers[0].retryDelayMs, 'number');
  assert.equal(answers[0].warning, null);
  assert.equal(answers[2].warning, 'tool=weather request_id=r exhausted after 3 failure(s)');
});

test('metadata is an object: empty untraced, filled when traced', () => {
  const plugin = createPlugin({ config: { jitter: false } });
  assert.deepEqual(plugin.toolPostInvoke('t', unavailable(), { requestId: 'a' }).metadata, {});
  const traced = plugin.toolPostInvoke('t', unavailable(), { requestId: 'b', traceId: 'trace-1' });
  assert.deepEqual(traced.metadata, { retry_with_backoff: { retry_count: 1, retry_delay_ms: 200 } });
});

test('success and non-retryable failures are not retried', () => {
  const plugin = createPlugin();
  assert.equal(plugin.toolPostInvoke('t', ok, { requestId: 'r' }).retry, false);
  assert.equal(plugin.toolPostInvoke('t', unavailable(404), { requestId: 'r' }).retry, false);
});

test('a refused config throws ConfigError listing every issue with its key', () => {
  assert.throws(
    () => createPlugin({ config: { max_retries: 11, jiter: true } }),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map((issue) => issue.key).sort(), ['jiter', 'max_retries']);
      assert.match(error.message, /\[max_retries\] max_retries cannot exceed 10, but was 11/);
      assert.match(error.message, /did you mean jitter\?/);
      return true;
    },
  );
});

test('a refused config leaves the previous one in force; text that is not JSON is malformed', () => {
  const plugin = createPlugin({ config: '{"max_retries": 1}' });
  assert.throws(() => plugin.configure({ max_retries: 99 }), ConfigError);
  assert.equal(plugin.describe().default.max_retries, 1);
  assert.throws(
    () => plugin.configure('not json'),
    (error) => error instanceof ConfigError && error.issues[0].key === '',
  );
});

test('each plugin is its own instance', () => {
  const first = createPlugin({ config: { jitter: false } });
  const second = createPlugin({ config: { jitter: false } });
  assert.equal(first.toolPostInvoke('t', unavailable(), { requestId: 'r' }).retryDelayMs, 200);
  assert.equal(first.toolPostInvoke('t', unavailable(), { requestId: 'r' }).retryDelayMs, 400);
  assert.equal(second.toolPostInvoke('t', unavailable(), { requestId: 'r' }).retryDelayMs, 200);
});

test('a virtual clock per instance moves the wall clock and the breaker', () => {
  const clock = new VirtualClock(0);
  const plugin = createPlugin({
    config: { default_policy: { jitter: false }, circuit_breaker: { failure_threshold: 1, recovery_timeout_ms: 1000 } },
    clock,
  });
  const opened = plugin.toolPostInvoke('t', unavailable(), { requestId: 'a' });
  assert.equal(opened.metadata.retry_with_backoff.circuit_breaker.state, 'open');
  clock.advanceMs(1000);
  const probe = plugin.toolPostInvoke('t', ok, { requestId: 'b' });
  assert.equal(probe.metadata.retry_with_backoff.circuit_breaker.state, 'half_open');
  const other = createPlugin({ config: { default_policy: { jitter: false } }, clock: new VirtualClock(5000) });
  const answer = other.toolPostInvoke('t', unavailable(), { requestId: 'c' });
  assert.equal(answer.metadata.retry_with_backoff.next_retry_at, '1970-01-01T00:00:05.200Z');
});

test('a seed makes jitter reproducible; a random source object works too', () => {
  const delays = (random) => {
    const plugin = createPlugin({ config: { max_retries: 10 }, random });
    return ['a', 'b', 'c', 'd'].map((id) => plugin.toolPostInvoke('t', unavailable(), { requestId: id }).retryDelayMs);
  };
  assert.deepEqual(delays(7), delays(7n));
  assert.notDeepEqual(delays(7), delays(8));
  assert.deepEqual(delays(new SeededRandom(7)), delays(7));
});

test('hostile and malformed results are classified without throwing', () => {
  const plugin = createPlugin();
  const deep = [];
  let cursor = deep;
  for (let i = 0; i < 1000; i += 1) {
    cursor.push([]);
    [cursor] = cursor;
  }
  for (const result of [null, undefined, 7, 'x', [1], { isError: 'true' }, { isError: 1 }, { content: 'no' }, { content: [deep, null, 5] }]) {
    assert.equal(plugin.toolPostInvoke('t', result, { requestId: 'r' }).retry, false);
  }
});

test('every content block kind is accepted', () => {
  const plugin = createPlugin({ config: { default_policy: { jitter: false }, error_patterns: [{ pattern: 'quota' }] } });
  const result = {
    isError: true,
    content: [
      { type: 'image', data: 'AAAA', mimeType: 'image/png' },
      { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
      { type: 'resource_link', uri: 'file:///x', name: 'x' },
      { type: 'resource', resource: { uri: 'file:///y', text: 'y' } },
      { type: 'mystery', x: 1 },
      { type: 'text', text: 'quota exceeded', annotations: { audience: ['user'] } },
    ],
  };
  const answer = plugin.toolPostInvoke('t', result, { requestId: 'r' });
  assert.equal(answer.metadata.retry_with_backoff.reason, 'pattern');
});

test('JsonText keeps numbers as written: 404.0 is not the integer 404', () => {
  const plugin = createPlugin({ config: { jitter: false } });
  const asFloat = { isError: true, structuredContent: new JsonText('{"status_code": 404.0}') };
  assert.equal(plugin.toolPostInvoke('t', asFloat, { requestId: 'a' }).retry, true);
  assert.equal(plugin.toolPostInvoke('t', unavailable(404), { requestId: 'b' }).retry, false);
});

test('resourcePostFetch echoes the policy and describe reports the config', () => {
  const plugin = createPlugin({ config: { max_retries: 4 } });
  assert.equal(plugin.resourcePostFetch('file:///x', { uri: 'file:///x', text: 'x' }).metadata.retry_policy.max_retries, 4);
  assert.equal(plugin.describe().schema, 'flat');
});

test('JsonText is accepted for the whole result, its parts and the config', () => {
  const plugin = createPlugin({ config: new JsonText('{"max_retries": 2.0, "jitter": false}') });
  const whole = new JsonText('{"isError": true, "structuredContent": {"status_code": 503}}');
  assert.equal(plugin.toolPostInvoke('t', whole, { requestId: 'a' }).retryDelayMs, 200);
  const parts = { isError: true, content: new JsonText('[{"type": "text", "text": "busy"}]') };
  assert.equal(plugin.toolPostInvoke('t', parts, { requestId: 'b' }).retry, true);
});

test('stats count decisions per tool; the remaining time and annotations reach the component', () => {
  const plugin = createPlugin({ config: { default_policy: { max_retries: 1, jitter: false } } });
  plugin.toolPostInvoke('t', { isError: true }, { requestId: 'r1' });
  plugin.toolPostInvoke('t', { isError: true }, { requestId: 'r1' });
  const unsafe = plugin.toolPostInvoke('mail', { isError: true }, { requestId: 'r2', toolAnnotations: { idempotentHint: false } });
  assert.equal(unsafe.metadata.retry_with_backoff.decision, 'unsafe_to_retry');
  const late = plugin.toolPostInvoke('report', { isError: true }, { requestId: 'r3', remainingMs: 50 });
  assert.equal(late.metadata.retry_with_backoff.decision, 'deadline_exceeded');
  const stats = plugin.stats();
  assert.equal(stats.t.calls, 2);
  assert.equal(stats.t.retries_granted, 1);
  assert.equal(stats.t.failures.give_up, 1);
  assert.equal(stats.mail.failures.unsafe_to_retry, 1);
});

test('exportState hands a request count and statistics to another plugin; importState refuses garbage', () => {
  const config = { default_policy: { max_retries: 5, jitter: false } };
  const before = createPlugin({ config });
  before.toolPostInvoke('t', { isError: true }, { requestId: 'r' });
  before.toolPostInvoke('t', { isError: true }, { requestId: 'r' });
  const snapshot = before.exportState();
  assert.equal(typeof snapshot, 'string');

  const after = createPlugin({ config });
  after.importState(snapshot);
  const third = after.toolPostInvoke('t', { isError: true }, { requestId: 'r' });
  assert.equal(third.metadata.retry_with_backoff.retry_count, 3);
  assert.equal(after.stats().t.calls, 3);

  const parsed = createPlugin({ config });
  parsed.importState(JSON.parse(snapshot));
  assert.equal(parsed.toolPostInvoke('t', { isError: true }, { requestId: 'r' }).metadata.retry_with_backoff.retry_count, 3);

  assert.throws(() => after.importState('not a snapshot'), StateError);
  assert.equal(after.toolPostInvoke('t', { isError: true }, { requestId: 'r' }).metadata.retry_with_backoff.retry_count, 4);
});
