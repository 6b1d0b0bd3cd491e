// Per-call cost in Node, measured against baselines taken in the same run and interleaved run
// by run: the wrapper (`createPlugin`: MCP JSON in, plain objects out), the bare transpiled
// export (WIT records prepared in advance), and the floor component (the same world with empty
// bodies, transpiled the same way, called bare), which is what crossing into any component with
// these arguments costs. Also the time to instantiate. `npm run bench [-- --calls N --runs N]`.

import { readFileSync } from 'node:fs';

import { instantiate as instantiateFloor } from '../gen/floor/floor_component.js';
import { instantiate as instantiateRetry } from '../gen/retry/retry_component.js';
import { createPlugin } from '../src/index.js';
import { callToolResult, pluginContext } from '../src/payload.js';
import { wasiImports } from '../src/wasi.js';

const option = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const CALLS = option('calls', 20000);
const RUNS = Math.max(5, option('runs', 7));
const CONFIG = JSON.stringify({ max_retries: 2, backoff_base_ms: 200, max_backoff_ms: 5000 });

const OK = { content: [{ type: 'text', text: 'fine' }], isError: false };
const UNAVAILABLE = {
  content: [{ type: 'text', text: 'upstream unavailable' }],
  isError: true,
  structuredContent: { status_code: 503 },
};

function loader(dir) {
  const cache = new Map();
  return (name) => {
    if (!cache.has(name)) cache.set(name, new WebAssembly.Module(readFileSync(new URL(`../gen/${dir}/${name}`, import.meta.url))));
    return cache.get(name);
  };
}
const bare = (instantiate, dir) => instantiate(loader(dir), wasiImports()).plugin;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** ns per call of `call(index)` over CALLS calls, fresh request ids (index) each run. */
function timeRun(call, offset) {
  const start = process.hrtime.bigint();
  for (let index = 0; index < CALLS; index += 1) call(offset + index);
  return Number(process.hrtime.bigint() - start) / CALLS;
}

function measure(calls) {
  const samples = calls.map(() => []);
  let offset = 0;
  for (const call of calls) for (let index = 0; index < 2000; index += 1) call(index - 10_000_000);
  for (let run = 0; run < RUNS; run += 1) {
    calls.forEach((call, which) => samples[which].push(timeRun(call, offset)));
    offset += CALLS;
  }
  return samples.map(median);
}

function timeMs(work) {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
// Before anything else has compiled the component's core modules.
const firstInstanceMs = timeMs(() => createPlugin());

const rows = [];
for (const [label, result] of [
  ['success', OK],
  ['retryable failure (503)', UNAVAILABLE],
]) {
  const wrapper = createPlugin({ config: CONFIG });
  const plugin = bare(instantiateRetry, 'retry');
  plugin.configure(CONFIG);
  const floor = bare(instantiateFloor, 'floor');
  const payload = { name: 'api', result: callToolResult(result) };
  const contexts = (prefix) => (index) => pluginContext({ requestId: `${prefix}-${index}` });
  const [bareCtx, floorCtx] = [contexts('b'), contexts('f')];
  const [wrapperNs, bareNs, floorNs] = measure([
    (index) => wrapper.toolPostInvoke('api', result, { requestId: `w-${index}` }),
    (index) => plugin.toolPostInvoke(payload, bareCtx(index)),
    (index) => floor.toolPostInvoke(payload, floorCtx(index)),
  ]);
  rows.push({ path: `toolPostInvoke ${label}`, wrapperNs, bareNs, floorNs });
}

const instantiateMs = median(Array.from({ length: RUNS }, () => timeMs(() => createPlugin())));

const jco = JSON.parse(readFileSync(new URL('../node_modules/@bytecodealliance/jco/package.json', import.meta.url))).version;
const format = (ns) => Math.round(ns).toLocaleString('en-US').replace(/,/g, ' ');
console.log(`| path | wrapper ns/call | bare export ns/call | floor ns/call | wrapper x floor | bare x floor |`);
console.log(`|---|---:|---:|---:|---:|---:|`);
for (const row of rows) {
  console.log(
    `| ${row.path} | ${format(row.wrapperNs)} | ${format(row.bareNs)} | ${format(row.floorNs)} | ${(row.wrapperNs / row.floorNs).toFixed(2)} | ${(row.bareNs / row.floorNs).toFixed(2)} |`,
  );
}
console.log('');
console.log(`instantiate: first plugin in a process ${firstInstanceMs.toFixed(1)} ms (compiles the core modules), then ${instantiateMs.toFixed(2)} ms per plugin`);
console.log(`(jco ${jco}, Node ${process.versions.node}; ${CALLS} calls per run, ${RUNS} runs interleaved, median; fresh request ids)`);
