// @mcp-plugins/retry-with-backoff: the retry-with-backoff WebAssembly component for JavaScript
// gateways. The component (transpiled by jco at build time) decides; this wrapper takes plain
// MCP JSON, gives every plugin its own instance, clock and random source, and returns plain
// objects.

import { readFileSync } from 'node:fs';

import { instantiate } from '../gen/retry/retry_component.js';
import { callToolResult, JsonText, pluginContext, resourcePayload, toolAnnotations } from './payload.js';
import { DEFAULT_START_WALL_MS, SeededRandom, VirtualClock, wasiImports } from './wasi.js';

export { DEFAULT_START_WALL_MS, JsonText, SeededRandom, VirtualClock };

/** A configuration the component refused; the previous one stays in force. */
export class ConfigError extends Error {
  /**
   * @param {{key: string, message: string}[]} issues every broken rule, with its key ('' for
   *   text that is not a JSON object)
   */
  constructor(issues) {
    const lines = issues.map(({ key, message }) => (key ? `  [${key}] ${message}` : `  ${message}`));
    super(`the plugin refused its config (${issues.length} issue(s))\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const coreModules = new Map();

/** The component's core modules, compiled once per process and shared by every instance. */
function coreModule(name) {
  let module = coreModules.get(name);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(new URL(`../gen/retry/${name}`, import.meta.url)));
    coreModules.set(name, module);
  }
  return module;
}

/** The JSON text of a config or state argument: text as it is, anything else serialized. */
function jsonArgument(value) {
  if (value === undefined || value === null) return '{}';
  if (value instanceof JsonText) return value.text;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A snapshot `importState` could not take; the state in force is unchanged. */
export class StateError extends Error {
  /** @param {string} message the component's reason */
  constructor(message) {
    super(`the plugin refused the state snapshot: ${message}`);
    this.name = 'StateError';
  }
}

function configError(error) {
  const payload = error?.payload;
  if (payload?.tag === 'malformed') return new ConfigError([{ key: '', message: payload.val }]);
  if (payload?.tag === 'invalid') {
    return new ConfigError(payload.val.map(({ key, message }) => ({ key, message })));
  }
  return error;
}

/** One plugin: its own component instance and state. */
export class Plugin {
  #exports;

  /** Use `createPlugin`. */
  constructor(exports) {
    this.#exports = exports;
  }

  /**
   * Validates `config` (an object, or JSON text) and puts it in force, dropping all retry and
   * breaker state. Throws a `ConfigError` listing every issue.
   */
  configure(config) {
    try {
      this.#exports.configure(jsonArgument(config));
    } catch (error) {
      throw configError(error);
    }
  }

  /**
   * Decides whether the gateway should retry a tool call.
   * @param {string} toolName
   * @param {unknown} result the MCP `CallToolResult` as received
   * @param {{requestId?: string, traceId?: string, serverId?: string, tenantId?: string, user?: string, remainingMs?: number, toolAnnotations?: object}} [context]
   * @returns {{retry: boolean, retryDelayMs: number, metadata: object, warning: string|null}}
   */
  toolPostInvoke(toolName, result, context) {
    const answer = this.#exports.toolPostInvoke(
      {
        name: String(toolName),
        result: callToolResult(result),
        annotations: toolAnnotations(context?.toolAnnotations),
      },
      pluginContext(context),
    );
    return {
      retry: answer.retry,
      retryDelayMs: Number(answer.retryDelayMs),
      metadata: answer.metadata === '{}' ? {} : JSON.parse(answer.metadata),
      warning: answer.warning ?? null,
    };
  }

  /**
   * The metadata for a resource fetch (the retry policy in force); a fetch is never retried.
   * @returns {{metadata: object}}
   */
  resourcePostFetch(uri, content, context) {
    const answer = this.#exports.resourcePostFetch(resourcePayload(uri, content), pluginContext(context));
    return { metadata: JSON.parse(answer.metadata) };
  }

  /**
   * The retry statistics per tool since the config was put in force: `calls`, `successes`,
   * `failures` (by decision), `retries_granted`, `recovered`, `total_delay_ms` and
   * `breaker_opens`, as the component names them, in a plain object keyed by tool.
   * @returns {Record<string, object>}
   */
  stats() {
    return JSON.parse(this.#exports.stats());
  }

  /** The configuration in force: schema, every key's effective value, policy per tool and class. */
  describe() {
    return JSON.parse(this.#exports.describe());
  }

  /**
   * Everything the plugin remembers (request counters, breakers, budgets, statistics) as a
   * versioned JSON snapshot whose times are relative to now, for another plugin under the same
   * config to take over (`importState`): a worker handing over before it restarts.
   * @returns {string} the snapshot as JSON text
   */
  exportState() {
    return this.#exports.exportState();
  }

  /**
   * Takes over the state of an `exportState` snapshot (its text, or the parsed object), on top
   * of the state in force and re-anchored to this plugin's clock. The config is not part of a
   * snapshot: configure first. Throws a `StateError` for anything that is not a snapshot of a
   * version the component reads; the state in force is then unchanged.
   * @param {string|object} state
   */
  importState(state) {
    try {
      this.#exports.importState(jsonArgument(state));
    } catch (error) {
      throw typeof error?.payload === 'string' ? new StateError(error.payload) : error;
    }
  }
}

/**
 * A new plugin with its own component instance.
 * @param {{config?: object|string, clock?: {nowMs(): number, wallMs(): number}, random?: number|bigint|{nextU64(): bigint}}} [options]
 *   `config` is applied at once (default: the manifest's defaults); `clock` and `random`
 *   virtualise time and randomness (default: the host's real clocks and secure random).
 */
export function createPlugin({ config, clock, random } = {}) {
  const exports = instantiate(coreModule, wasiImports({ clock, random }));
  const plugin = new Plugin(exports.plugin);
  if (config !== undefined && config !== null) plugin.configure(config);
  return plugin;
}
