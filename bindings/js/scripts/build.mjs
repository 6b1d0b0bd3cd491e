// Transpiles the component (and the empty-bodied floor component, for the benchmark) with jco
// into gen/. The .wasm files come from the Rust workspace: built by cargo when missing, or
// taken from RETRY_COMPONENT_WASM / FLOOR_COMPONENT_WASM.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const workspace = resolve(packageDir, '..', '..');
const wasmDir = join(workspace, 'target', 'wasm', 'wasm32-wasip2', 'wasm-release');
const components = [
  { name: 'retry_component', wasm: process.env.RETRY_COMPONENT_WASM ?? join(wasmDir, 'retry_component.wasm') },
  { name: 'floor_component', wasm: process.env.FLOOR_COMPONENT_WASM ?? join(wasmDir, 'floor_component.wasm') },
];

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: 'inherit', ...options });
}

if (components.some(({ wasm }) => !existsSync(wasm))) {
  console.log('building the components with cargo (target wasm32-wasip2)');
  run('rustup', ['target', 'add', 'wasm32-wasip2']);
  run(
    'cargo',
    ['build', '--target', 'wasm32-wasip2', '--profile', 'wasm-release', '-p', 'retry-component', '-p', 'floor-component', '--target-dir', join(workspace, 'target', 'wasm')],
    { cwd: workspace },
  );
}

// jco 1.11.2 lowers every string through TextEncoder.encode, a fresh buffer per string (about
// 600 ns in Node 20, most of a call's cost: a tool result carries four or five strings). The
// replacement writes short ASCII strings straight into the guest's memory and leaves every
// other string to TextEncoder, growing the allocation to the exact encoded size (UTF-8 is never
// shorter than UTF-16, so the ASCII prefix already written is kept).
const JCO_UTF8_ENCODE = `  function utf8Encode(s, realloc, memory) {
    if (typeof s !== 'string') throw new TypeError('expected a string');
    if (s.length === 0) {
      utf8EncodedLen = 0;
      return 1;
    }
    let buf = utf8Encoder.encode(s);
    let ptr = realloc(0, 0, 1, buf.length);
    new Uint8Array(memory.buffer).set(buf, ptr);
    utf8EncodedLen = buf.length;
    return ptr;
  }`;
const FAST_UTF8_ENCODE = `  function utf8Encode(s, realloc, memory) {
    if (typeof s !== 'string') throw new TypeError('expected a string');
    const length = s.length;
    if (length === 0) {
      utf8EncodedLen = 0;
      return 1;
    }
    if (length > 256) {
      const buf = utf8Encoder.encode(s);
      const ptr = realloc(0, 0, 1, buf.length);
      new Uint8Array(memory.buffer).set(buf, ptr);
      utf8EncodedLen = buf.length;
      return ptr;
    }
    let ptr = realloc(0, 0, 1, length);
    const bytes = new Uint8Array(memory.buffer, ptr, length);
    let ascii = 0;
    for (; ascii < length; ascii++) {
      const unit = s.charCodeAt(ascii);
      if (unit > 0x7f) break;
      bytes[ascii] = unit;
    }
    if (ascii === length) {
      utf8EncodedLen = length;
      return ptr;
    }
    const rest = utf8Encoder.encode(s.slice(ascii));
    ptr = realloc(ptr, length, 1, ascii + rest.length);
    new Uint8Array(memory.buffer).set(rest, ptr + ascii);
    utf8EncodedLen = ascii + rest.length;
    return ptr;
  }`;

const jco = join(packageDir, 'node_modules', '.bin', 'jco');
for (const { name, wasm } of components) {
  const out = join(packageDir, 'gen', name === 'retry_component' ? 'retry' : 'floor');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // Synchronous instantiation: the wrapper passes each instance its own WASI imports.
  run(jco, ['transpile', wasm, '--instantiation', 'sync', '--name', name, '--quiet', '-o', out]);
  const glue = join(out, `${name}.js`);
  const source = readFileSync(glue, 'utf8');
  if (!source.includes(JCO_UTF8_ENCODE)) {
    throw new Error(`${glue}: jco's string encoder is not the one this build replaces (another jco version?)`);
  }
  writeFileSync(glue, source.replace(JCO_UTF8_ENCODE, FAST_UTF8_ENCODE));
}
