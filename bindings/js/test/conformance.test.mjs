// Every conformance scenario through bin/conformance.mjs, and the runner's own contract.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const runner = fileURLToPath(new URL('../bin/conformance.mjs', import.meta.url));
const scenarios = fileURLToPath(new URL('../../../tests/conformance', import.meta.url));
const run = (...args) => spawnSync(process.execPath, [runner, ...args], { encoding: 'utf8' });

function countYaml(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (count, entry) =>
      count + (entry.isDirectory() ? countYaml(join(dir, entry.name)) : Number(entry.name.endsWith('.yaml'))),
    0,
  );
}

test('every scenario in tests/conformance passes on Node', () => {
  const completed = run(scenarios);
  const lines = completed.stdout.trim().split('\n');
  assert.deepEqual(lines.filter((line) => line.startsWith('FAIL')), []);
  const total = countYaml(scenarios);
  assert.equal(lines.at(-1), `${total} passed, 0 failed`);
  assert.equal(completed.status, 0);
});

test('a failing scenario exits 1 and names the step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retry-conformance-'));
  const file = join(dir, 'wrong.yaml');
  writeFileSync(
    file,
    'name: wrong on purpose\nconfig: {jitter: false}\nsteps:\n  - {hook: tool_post_invoke, tool: t, result: {isError: true}, expect: {retry_delay_ms: 999}}\n',
  );
  const completed = run(file);
  assert.equal(completed.status, 1);
  assert.match(completed.stdout, new RegExp(`FAIL ${file}: wrong on purpose`));
  assert.match(completed.stdout, /step 1 \(tool_post_invoke t request req-1 at 0 ms\): retry_delay_ms: expected 999, got 200/);
  assert.equal(completed.stdout.trim().split('\n').at(-1), '0 passed, 1 failed');
});

test('an unknown key is a failure naming its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retry-conformance-'));
  const file = join(dir, 'typo.yaml');
  writeFileSync(file, 'name: typo\nsteps:\n  - hook: tool_post_invoke\n    tool: t\n    expect: {retry_delay: 200}\n');
  const completed = run(file);
  assert.equal(completed.status, 1);
  assert.match(completed.stdout, /\(not a valid scenario\)/);
  assert.match(completed.stdout, /retry_delay.*line 5/);
});

test('a missing path exits 2, and so does no argument', () => {
  const completed = run(join(tmpdir(), 'no-such-scenarios'));
  assert.equal(completed.status, 2);
  assert.match(completed.stderr, /no such file or directory/);
  assert.equal(run().status, 2);
});
