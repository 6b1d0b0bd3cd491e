// The conformance runner for JavaScript hosts: replays scenario files (the format of
// shared/conformance-format.md) through this package's wrapper, each scenario in a fresh
// plugin with a virtual clock and a seeded random source, and reports what the Rust runner
// reports: one `ok`/`FAIL` line per scenario (failure details may be worded differently), then
// `N passed, N failed`. YAML scalars are read with the Rust runner's rules (serde_yaml): an
// integer is decimal without leading zeros, or 0x/0o/0b with an optional sign; a float needs a
// point or an exponent; `03` and `1_000` are strings.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';

import { ConfigError, createPlugin, DEFAULT_START_WALL_MS, VirtualClock } from './index.js';
import { JsonText } from './payload.js';

const DEFAULT_REQUEST_ID = 'req-1';
const U64_MAX = (1n << 64n) - 1n;
const SCENARIO_KEYS = ['name', 'description', 'config', 'random_seed', 'start_wall_ms', 'expect_config_error', 'steps'];
const STEP_KEYS = ['at_ms', 'hook', 'tool', 'request_id', 'trace_id', 'server_id', 'remaining_ms', 'tool_annotations', 'result', 'uri', 'content', 'expect'];
const EXPECT_KEYS = ['retry', 'retry_delay_ms', 'metadata', 'stats'];
const HOOKS = ['tool_post_invoke', 'resource_post_fetch', 'stats'];

/** A file that is not a valid scenario; the message names the line or the step. */
class ScenarioError extends Error {}

const kind = (value) => {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  if (typeof value === 'string') return 'a string';
  return Array.isArray(value) ? 'a sequence' : 'a mapping';
};

// ---- YAML as JSON ---------------------------------------------------------------------------

const INTEGER = /^[-+]?(0|[1-9]\d*|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+)$/;
const FLOAT = /^[-+]?(\.\d+|\d+\.\d*|\d+(\.\d*)?[eE][-+]?\d+)$/;
const NOT_FINITE = /^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
const NULL = /^(~|null|Null|NULL|)$/;
const BOOLEAN = /^(true|True|TRUE|false|False|FALSE)$/;

/** The document being read (for resolving aliases) and its line counter. */
let document;
let lines;
const resolve = (node) => (isAlias(node) ? node.resolve(document) : node);

function integer(text) {
  const negative = text.startsWith('-');
  const digits = text.replace(/^[-+]/, '');
  const value = BigInt(digits);
  return negative ? -value : value;
}

/** A float's JSON spelling; a whole one keeps its point (`1.` is the float 1.0). */
function float(text) {
  const value = Number(text);
  if (!Number.isFinite(value)) return 'null';
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(1) : JSON.stringify(value);
}

/** The JSON text of a plain or quoted scalar, read as the Rust runner reads it. */
function scalarText(node) {
  if (node.type !== 'PLAIN' || typeof node.source !== 'string') return JSON.stringify(node.value ?? null);
  const source = node.source;
  if (NULL.test(source)) return 'null';
  if (BOOLEAN.test(source)) return String(source.toLowerCase() === 'true');
  if (INTEGER.test(source)) return integer(source).toString();
  if (FLOAT.test(source)) return float(source);
  if (NOT_FINITE.test(source)) return 'null';
  return JSON.stringify(source);
}

/** The JSON text of a YAML node, numbers spelled as the component must see them (`404.0` stays
 *  a float, a u64 stays exact). */
function jsonText(raw) {
  const node = resolve(raw);
  if (node === null || node === undefined) return 'null';
  if (isMap(node)) {
    // Duplicate keys are refused here, in one pass (the parser's own check is quadratic).
    const seen = new Set();
    const members = node.items.map((pair) => {
      const key = keyText(pair.key);
      if (seen.has(key)) {
        const at = pair.key?.range ? ` at line ${lines.linePos(pair.key.range[0]).line}` : '';
        throw new ScenarioError(`duplicate key \`${key}\`${at}`);
      }
      seen.add(key);
      return `${JSON.stringify(key)}:${jsonText(pair.value)}`;
    });
    return `{${members.join(',')}}`;
  }
  if (isSeq(node)) return `[${node.items.map(jsonText).join(',')}]`;
  if (isScalar(node)) return scalarText(node);
  return 'null';
}

function keyText(raw) {
  const key = resolve(raw);
  if (!isScalar(key)) throw new ScenarioError('a mapping key must be a scalar');
  const value = JSON.parse(scalarText(key));
  return typeof value === 'string' ? value : String(scalarText(key));
}

/** The JavaScript value of a YAML node (as JSON.parse of its JSON text would give). */
const jsValue = (node) => JSON.parse(jsonText(node));

function member(raw, key) {
  const node = resolve(raw);
  if (!isMap(node)) return undefined;
  const found = node.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
  return found ? resolve(found.value) : undefined;
}

function checkKeys(node, allowed, what, lines) {
  if (!isMap(node)) throw new ScenarioError(`${what}: expected a mapping, got ${kind(node ? jsValue(node) : null)}`);
  const seen = new Set();
  for (const pair of node.items) {
    const key = keyText(pair.key);
    if (seen.has(key)) {
      throw new ScenarioError(`${what}: duplicate field \`${key}\` at line ${lines.linePos(pair.key.range[0]).line}`);
    }
    seen.add(key);
    if (!allowed.includes(key)) {
      const { line } = lines.linePos(pair.key.range[0]);
      const expected = allowed.map((name) => `\`${name}\``).join(', ');
      throw new ScenarioError(`${what}: unknown field \`${key}\`, expected one of ${expected} at line ${line}`);
    }
  }
}

function u64(node, what) {
  const text = isScalar(node) ? scalarText(node) : '';
  if (/^\d+$/.test(text) && BigInt(text) <= U64_MAX) return BigInt(text);
  throw new ScenarioError(`${what}: expected an integer from 0 to ${U64_MAX}, got ${node ? jsonText(node) : 'null'}`);
}

/** A string field: a string, or any other plain scalar as written (`request_id: 42` is "42"),
 *  as the Rust runner reads it. */
function text(node, what) {
  if (isScalar(node) && typeof node.value === 'string') return node.value;
  if (isScalar(node) && node.type === 'PLAIN' && typeof node.source === 'string' && !NULL.test(node.source)) {
    return node.source;
  }
  throw new ScenarioError(`${what}: expected a string, got ${kind(node ? jsValue(node) : null)}`);
}

const present = (node) => node !== undefined && !(isScalar(node) && node.value === null);
const optionalText = (node, what) => (present(node) ? text(node, what) : undefined);

// ---- reading a scenario ---------------------------------------------------------------------

function readDelay(node, what, lines) {
  if (isMap(node)) {
    checkKeys(node, ['min', 'max'], what, lines);
    const min = member(node, 'min');
    const max = member(node, 'max');
    const low = present(min) ? u64(min, `${what}.min`) : undefined;
    const high = present(max) ? u64(max, `${what}.max`) : undefined;
    return { low, high, text: `${low ?? ''}..=${high ?? ''}` };
  }
  const exact = u64(node, what);
  return { low: exact, high: exact, text: String(exact) };
}

function readResult(node) {
  if (!present(node)) return null;
  const value = jsValue(node);
  const structured = member(node, 'structuredContent');
  // Keep the numbers of structuredContent as written: 404.0 is not 404 to the plugin.
  if (present(structured)) value.structuredContent = new JsonText(jsonText(structured));
  return value;
}

function readStep(node, index, previousMs, lines) {
  const what = `step ${index}`;
  checkKeys(node, STEP_KEYS, what, lines);
  const at = member(node, 'at_ms');
  const atMs = present(at) ? u64(at, `${what}.at_ms`) : previousMs;
  if (atMs < previousMs) {
    throw new ScenarioError(`${what}: at_ms ${atMs} is before the previous step's ${previousMs}: time never decreases`);
  }
  const hookNode = member(node, 'hook');
  const hook = isScalar(hookNode) ? hookNode.value : undefined;
  if (!HOOKS.includes(hook)) {
    throw new ScenarioError(`${what}: hook must be one of \`tool_post_invoke\`, \`resource_post_fetch\`, \`stats\`, got ${JSON.stringify(hook ?? null)}`);
  }
  const tool = optionalText(member(node, 'tool'), `${what}.tool`);
  if (hook === 'tool_post_invoke' && tool === undefined) throw new ScenarioError(`${what}: a tool_post_invoke step needs \`tool\``);
  const uri = optionalText(member(node, 'uri'), `${what}.uri`);
  if (hook === 'resource_post_fetch' && uri === undefined) throw new ScenarioError(`${what}: a resource_post_fetch step needs \`uri\``);
  const expectNode = member(node, 'expect');
  const expect = {};
  if (present(expectNode)) {
    checkKeys(expectNode, EXPECT_KEYS, `${what}.expect`, lines);
    const retry = member(expectNode, 'retry');
    if (present(retry)) {
      if (!isScalar(retry) || typeof retry.value !== 'boolean') {
        throw new ScenarioError(`${what}.expect.retry: expected a boolean, got ${kind(jsValue(retry))}`);
      }
      expect.retry = retry.value;
    }
    const delay = member(expectNode, 'retry_delay_ms');
    if (present(delay)) expect.delay = readDelay(delay, `${what}.expect.retry_delay_ms`, lines);
    const metadata = member(expectNode, 'metadata');
    if (present(metadata)) expect.metadata = jsValue(metadata);
    const stats = member(expectNode, 'stats');
    if (present(stats)) expect.stats = jsValue(stats);
  }
  const content = member(node, 'content');
  const remaining = member(node, 'remaining_ms');
  const annotations = member(node, 'tool_annotations');
  return {
    atMs,
    hook,
    tool: tool ?? '',
    requestId: optionalText(member(node, 'request_id'), `${what}.request_id`) ?? DEFAULT_REQUEST_ID,
    traceId: optionalText(member(node, 'trace_id'), `${what}.trace_id`),
    serverId: optionalText(member(node, 'server_id'), `${what}.server_id`),
    remainingMs: present(remaining) ? u64(remaining, `${what}.remaining_ms`) : undefined,
    toolAnnotations: present(annotations) ? jsValue(annotations) : undefined,
    result: readResult(member(node, 'result')),
    uri: uri ?? '',
    content: present(content) ? jsValue(content) : undefined,
    expect,
  };
}

/** Reads and checks a scenario file; throws a ScenarioError naming what is wrong. */
export function loadScenario(path) {
  let source;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(`cannot read ${path}: ${error.message}`);
  }
  lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: true, merge: false, uniqueKeys: false });
  if (doc.errors.length > 0) throw new ScenarioError(doc.errors[0].message.replace(/\n+/g, ' '));
  document = doc;
  const root = doc.contents;
  checkKeys(root, SCENARIO_KEYS, 'scenario', lines);
  const nameNode = member(root, 'name');
  if (nameNode === undefined) throw new ScenarioError('missing field `name`');
  const name = text(nameNode, 'name');
  optionalText(member(root, 'description'), 'description');
  const expectConfigError = optionalText(member(root, 'expect_config_error'), 'expect_config_error');
  const seedNode = member(root, 'random_seed');
  const startNode = member(root, 'start_wall_ms');
  const stepsNode = member(root, 'steps');
  const steps = [];
  if (!present(stepsNode)) {
    if (expectConfigError === undefined) {
      throw new ScenarioError('a scenario needs `steps` unless it gives `expect_config_error`');
    }
  } else {
    if (!isSeq(stepsNode)) throw new ScenarioError(`steps: expected a sequence, got ${kind(jsValue(stepsNode))}`);
    let now = 0n;
    stepsNode.items.forEach((stepNode, index) => {
      const step = readStep(stepNode, index + 1, now, lines);
      now = step.atMs;
      steps.push(step);
    });
  }
  const configNode = member(root, 'config');
  return {
    name,
    config: present(configNode) ? jsonText(configNode) : undefined,
    randomSeed: present(seedNode) ? u64(seedNode, 'random_seed') : undefined,
    startWallMs: present(startNode) ? Number(u64(startNode, 'start_wall_ms')) : DEFAULT_START_WALL_MS,
    expectConfigError,
    steps,
  };
}

// ---- running it -----------------------------------------------------------------------------

/** Compact JSON with sorted keys, as the Rust runner prints values. */
function dumps(value) {
  if (Array.isArray(value)) return `[${value.map(dumps).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${dumps(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whole equality with numbers compared by value (1 == 1.0) and booleans apart from numbers. */
function equal(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && equal(a[key], b[key]));
  }
  return a === b;
}

/** The first difference between `expected` (a subset) and `actual`, or undefined. */
export function subsetMismatch(expected, actual, path = 'metadata') {
  const isRecord = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (isRecord(expected) && isRecord(actual)) {
    for (const [key, value] of Object.entries(expected)) {
      const where = `${path}.${key}`;
      if (value === null) {
        if (key in actual) return `${where}: expected absent, got ${dumps(actual[key])}`;
      } else if (!(key in actual)) {
        return `${where}: expected ${dumps(value)}, but it is absent`;
      } else {
        const found = subsetMismatch(value, actual[key], where);
        if (found) return found;
      }
    }
    return undefined;
  }
  return equal(expected, actual) ? undefined : `${path}: expected ${dumps(expected)}, got ${dumps(actual)}`;
}

function call(plugin, step) {
  const context = {
    requestId: step.requestId,
    traceId: step.traceId,
    serverId: step.serverId,
    remainingMs: step.remainingMs,
    toolAnnotations: step.toolAnnotations,
  };
  let outcome;
  if (step.hook === 'tool_post_invoke') {
    outcome = plugin.toolPostInvoke(step.tool, step.result, context);
  } else if (step.hook === 'stats') {
    // The statistics travel as the outcome's metadata object.
    outcome = { retry: false, retryDelayMs: 0, warning: null, metadata: plugin.stats() };
  } else {
    outcome = { retry: false, retryDelayMs: 0, warning: null, ...plugin.resourcePostFetch(step.uri, step.content, context) };
  }
  const { metadata } = outcome;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error(`the metadata is not a JSON object: ${dumps(metadata)}`);
  }
  if (outcome.retry !== outcome.retryDelayMs > 0) {
    throw new Error(`retry=${outcome.retry} with retry_delay_ms=${outcome.retryDelayMs}: a retry needs a delay >= 1 and only a retry has one`);
  }
  return outcome;
}

function check(step, outcome) {
  const failures = [];
  const { expect } = step;
  if (expect.retry !== undefined && expect.retry !== outcome.retry) {
    failures.push(`retry: expected ${expect.retry}, got ${outcome.retry}`);
  }
  if (expect.delay) {
    const delay = BigInt(outcome.retryDelayMs);
    const { low, high } = expect.delay;
    if ((low !== undefined && delay < low) || (high !== undefined && delay > high)) {
      failures.push(`retry_delay_ms: expected ${expect.delay.text}, got ${outcome.retryDelayMs}`);
    }
  }
  if (expect.metadata !== undefined) {
    const mismatch = subsetMismatch(expect.metadata, outcome.metadata);
    if (mismatch) failures.push(`${mismatch}\n  whole metadata: ${dumps(outcome.metadata)}`);
  }
  if (expect.stats !== undefined) {
    const mismatch = subsetMismatch(expect.stats, outcome.metadata);
    if (mismatch) failures.push(`${mismatch}\n  whole stats: ${dumps(outcome.metadata)}`);
  }
  return failures;
}

function describe(step) {
  if (step.hook === 'tool_post_invoke') return `tool_post_invoke ${step.tool} request ${step.requestId} at ${step.atMs} ms`;
  if (step.hook === 'stats') return `stats at ${step.atMs} ms`;
  return `resource_post_fetch ${step.uri} at ${step.atMs} ms`;
}

const configErrorText = (error) => error.issues.map(({ message }) => message).join('; ');

/** Runs a loaded scenario in a fresh plugin; returns the failed expectations. */
export function runScenario(scenario) {
  const seed = scenario.randomSeed ?? BigInt.asUintN(64, BigInt(Math.floor(Math.random() * 2 ** 52)) << 12n);
  const clock = new VirtualClock(scenario.startWallMs);
  const plugin = createPlugin({ clock, random: seed });
  const expected = scenario.expectConfigError;
  if (scenario.config !== undefined) {
    try {
      plugin.configure(scenario.config);
      if (expected !== undefined) {
        return [`config error: expected one containing ${JSON.stringify(expected)}, but the config was accepted`];
      }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const message = configErrorText(error);
      if (expected === undefined) return [`configure refused the config: ${message}`];
      if (!message.includes(expected)) {
        return [`config error: expected it to contain ${JSON.stringify(expected)}, got ${JSON.stringify(message)}`];
      }
    }
    if (expected !== undefined) return [];
  } else if (expected !== undefined) {
    return [`config error: expected one containing ${JSON.stringify(expected)}, but the scenario has no config`];
  }
  const failures = [];
  for (const [index, step] of scenario.steps.entries()) {
    clock.setMs(Number(step.atMs));
    const label = `step ${index + 1} (${describe(step)})`;
    let outcome;
    try {
      outcome = call(plugin, step);
    } catch (error) {
      failures.push(`${label}: ${error.message}`);
      return failures;
    }
    failures.push(...check(step, outcome).map((failure) => `${label}: ${failure}`));
  }
  return failures;
}

/** The report of one file: `{file, name, failures}`. */
export function runFile(file) {
  let scenario;
  try {
    scenario = loadScenario(file);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return { file, name: '(not a valid scenario)', failures: [error.message] };
  }
  let failures;
  try {
    failures = runScenario(scenario);
  } catch (error) {
    failures = [String(error?.message ?? error)];
  }
  return { file, name: scenario.name, failures };
}

/** A report as printed: `ok   file: name`, or `FAIL file: name` and indented details. */
export function render({ file, name, failures }) {
  const lines = [`${failures.length === 0 ? 'ok  ' : 'FAIL'} ${file}: ${name}`];
  for (const failure of failures) lines.push(...failure.split('\n').map((line) => `       ${line}`));
  return lines.join('\n');
}

function collect(dir, files) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path, files);
    else if (entry.name.endsWith('.yaml') || entry.name.endsWith('.yml')) files.push(path);
  }
}

/** Every scenario file named by `paths` or below the directories among them, sorted by path
 *  components (as the Rust runner sorts them). Throws for a path that does not exist. */
export function discover(paths) {
  const files = [];
  for (const path of paths) {
    let stats;
    try {
      stats = statSync(path);
    } catch {
      throw new Error(`${path}: no such file or directory`);
    }
    if (stats.isDirectory()) collect(path, files);
    else files.push(path);
  }
  const parts = (file) => file.split('/');
  return files.sort((a, b) => {
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
      if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return x.length - y.length;
  });
}

/** Runs every scenario below `paths`, printing each report; returns `{passed, failed}`. */
export function runPaths(paths, print = console.log) {
  let passed = 0;
  let failed = 0;
  for (const file of discover(paths)) {
    const report = runFile(file);
    if (report.failures.length === 0) passed += 1;
    else failed += 1;
    print(render(report));
  }
  return { passed, failed };
}
