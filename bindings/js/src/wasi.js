// What the component sees of its host: WASI imports built per instance, so that every plugin
// has its own clock and random source. By default they are the host's real clocks and secure
// random (from @bytecodealliance/preview2-shim); a test or a simulation passes a virtual clock
// and a seed instead. The component imports wasi:cli and wasi:io only because Rust's standard
// library links them: the environment it sees is empty and exiting is refused.

import * as shimCli from '@bytecodealliance/preview2-shim/cli';
import * as shimClocks from '@bytecodealliance/preview2-shim/clocks';
import * as shimIo from '@bytecodealliance/preview2-shim/io';
import * as shimRandom from '@bytecodealliance/preview2-shim/random';

/** The default wall clock of a VirtualClock at 0: 2026-01-01T00:00:00Z, in Unix ms. */
export const DEFAULT_START_WALL_MS = 1767225600000;

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const U64_MASK = (1n << 64n) - 1n;

/** A clock moved by hand: monotonic `nowMs()`, wall `startWallMs + nowMs()`. */
export class VirtualClock {
  #nowMs = 0;
  #startWallMs;

  /** @param {number} [startWallMs] the wall clock (Unix ms) at virtual time 0 */
  constructor(startWallMs = DEFAULT_START_WALL_MS) {
    this.#startWallMs = startWallMs;
  }

  /** Sets the virtual time, in ms since the start. */
  setMs(ms) {
    this.#nowMs = ms;
  }

  /** Moves the virtual time forward by `ms`. */
  advanceMs(ms) {
    this.#nowMs += ms;
  }

  /** The virtual monotonic time, in ms since the start. */
  nowMs() {
    return this.#nowMs;
  }

  /** The virtual wall clock, in Unix ms. */
  wallMs() {
    return this.#startWallMs + this.#nowMs;
  }
}

/**
 * SplitMix64: the generator the Rust hosts seed, so one seed gives the same jitter on every
 * host. Bytes are successive `nextU64()` values, little-endian.
 */
export class SeededRandom {
  #state;

  /** @param {number|bigint} seed */
  constructor(seed) {
    this.#state = BigInt.asUintN(64, BigInt(seed));
  }

  /** The next 64-bit value. */
  nextU64() {
    this.#state = (this.#state + 0x9e3779b97f4a7c15n) & U64_MASK;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & U64_MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & U64_MASK;
    return z ^ (z >> 31n);
  }

  /** `length` bytes. */
  bytes(length) {
    return bytesFrom(() => this.nextU64(), length);
  }
}

/** `length` bytes from successive 64-bit values, little-endian (as the Rust hosts fill them). */
function bytesFrom(nextU64, length) {
  const count = Number(length);
  const out = new Uint8Array(count);
  for (let offset = 0; offset < count; offset += 8) {
    let value = nextU64();
    for (let index = offset; index < Math.min(offset + 8, count); index += 1) {
      out[index] = Number(value & 0xffn);
      value >>= 8n;
    }
  }
  return out;
}

function toMs(value) {
  return typeof value === 'bigint' ? value : BigInt(Math.floor(value));
}

function virtualClocks(clock) {
  const refuse = () => {
    throw new Error('waiting on a virtual clock is not supported');
  };
  return {
    monotonic: {
      now: () => toMs(clock.nowMs()) * NS_PER_MS,
      resolution: () => NS_PER_MS,
      subscribeInstant: refuse,
      subscribeDuration: refuse,
    },
    wall: {
      now() {
        const ns = toMs(clock.wallMs()) * NS_PER_MS;
        return { seconds: ns / NS_PER_S, nanoseconds: Number(ns % NS_PER_S) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
  };
}

function seededRandom(random) {
  const seed = typeof random === 'object' ? undefined : BigInt.asUintN(64, BigInt(random));
  const source = seed === undefined ? random : new SeededRandom(seed);
  // The Rust hosts seed the insecure source with `seed ^ 0x5eed`.
  const insecure = new SeededRandom(seed === undefined ? 0x5eedn : seed ^ 0x5eedn);
  const nextU64 = () => BigInt.asUintN(64, BigInt(source.nextU64()));
  return {
    random: { getRandomBytes: (length) => bytesFrom(nextU64, length), getRandomU64: nextU64 },
    insecure: {
      getInsecureRandomBytes: (length) => insecure.bytes(length),
      getInsecureRandomU64: () => insecure.nextU64(),
    },
    insecureSeed: { insecureSeed: () => [seed ?? 0x5eedn, 0n] },
  };
}

const sandboxEnvironment = {
  getEnvironment: () => [],
  getArguments: () => [],
  initialCwd: () => undefined,
};

const sandboxExit = {
  exit() {
    throw new Error('the component tried to exit');
  },
  exitWithCode() {
    throw new Error('the component tried to exit');
  },
};

/**
 * The imports object for one instance.
 * @param {{clock?: {nowMs(): number|bigint, wallMs(): number|bigint}, random?: number|bigint|{nextU64(): bigint}}} options
 */
export function wasiImports({ clock, random } = {}) {
  const clocks = clock
    ? virtualClocks(clock)
    : { monotonic: shimClocks.monotonicClock, wall: shimClocks.wallClock };
  const randomness =
    random === undefined || random === null
      ? { random: shimRandom.random, insecure: shimRandom.insecure, insecureSeed: shimRandom.insecureSeed }
      : seededRandom(random);
  const byName = {
    'wasi:cli/environment': sandboxEnvironment,
    'wasi:cli/exit': sandboxExit,
    'wasi:cli/stdin': shimCli.stdin,
    'wasi:cli/stdout': shimCli.stdout,
    'wasi:cli/stderr': shimCli.stderr,
    'wasi:cli/terminal-input': shimCli.terminalInput,
    'wasi:cli/terminal-output': shimCli.terminalOutput,
    'wasi:cli/terminal-stdin': shimCli.terminalStdin,
    'wasi:cli/terminal-stdout': shimCli.terminalStdout,
    'wasi:cli/terminal-stderr': shimCli.terminalStderr,
    'wasi:io/error': shimIo.error,
    'wasi:io/poll': shimIo.poll,
    'wasi:io/streams': shimIo.streams,
    'wasi:clocks/monotonic-clock': clocks.monotonic,
    'wasi:clocks/wall-clock': clocks.wall,
    'wasi:random/random': randomness.random,
    'wasi:random/insecure': randomness.insecure,
    'wasi:random/insecure-seed': randomness.insecureSeed,
  };
  // jco 1.11's glue reads the unversioned names; its typings name the versioned ones.
  const imports = {};
  for (const [name, implementation] of Object.entries(byName)) {
    imports[name] = implementation;
    imports[`${name}@0.2.12`] = implementation;
  }
  return imports;
}
