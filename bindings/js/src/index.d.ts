// Type declarations of @mcp-plugins/retry-with-backoff.

/** The default wall clock of a VirtualClock at 0: 2026-01-01T00:00:00Z, in Unix ms. */
export declare const DEFAULT_START_WALL_MS: number;

/** A clock a plugin reads: monotonic ms (any origin) and wall-clock Unix ms. */
export interface Clock {
  nowMs(): number | bigint;
  wallMs(): number | bigint;
}

/** A random source: 64-bit values. */
export interface RandomSource {
  nextU64(): bigint;
}

/** A clock moved by hand: monotonic `nowMs()`, wall `startWallMs + nowMs()`. */
export declare class VirtualClock implements Clock {
  constructor(startWallMs?: number);
  setMs(ms: number): void;
  advanceMs(ms: number): void;
  nowMs(): number;
  wallMs(): number;
}

/** SplitMix64, the generator the Rust hosts seed: one seed, the same jitter on every host. */
export declare class SeededRandom implements RandomSource {
  constructor(seed: number | bigint);
  nextU64(): bigint;
  bytes(length: number | bigint): Uint8Array;
}

/** A JSON value given as its text, passed to the component exactly as written. */
export declare class JsonText {
  constructor(text: string);
  readonly text: string;
}

/** One broken rule of a refused configuration. */
export interface ConfigIssue {
  /** The key path, e.g. `max_retries` or `tool_overrides['t'].max_retries`; '' for text that is not a JSON object. */
  key: string;
  /** What is wrong, naming the key, the rule and the bad value. */
  message: string;
}

/** A configuration the component refused; the previous one stays in force. */
export declare class ConfigError extends Error {
  readonly issues: ConfigIssue[];
}

/** Where a call comes from (ContextForge's global context). */
export interface CallContext {
  /** The gateway's id for the request; every retry of one call carries the same id. */
  requestId?: string;
  /** The trace id, when the call is traced (the flat schema writes metadata only then). */
  traceId?: string;
  serverId?: string;
  tenantId?: string;
  user?: string;
  /** The time the caller has left for the whole call, in ms: a retry that could not finish in
   * time is refused (`deadline_exceeded`). */
  remainingMs?: number | bigint;
  /** The tool's MCP annotations (`readOnlyHint`, `idempotentHint`, ...): a call that is not
   * safe to repeat is retried only when the server refused it before doing anything. */
  toolAnnotations?: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
}

/** The plugin's answer to `toolPostInvoke`. */
export interface ToolDecision {
  /** Whether the gateway should call the tool again, with the same request id. */
  retry: boolean;
  /** How long to wait first: >= 1 when retrying, 0 otherwise. */
  retryDelayMs: number;
  /** The metadata that explains the decision. */
  metadata: Record<string, unknown>;
  /** A line to log at warning level (a request that exhausted its retries), or null. */
  warning: string | null;
}

/** One plugin: its own component instance and state. */
export declare class Plugin {
  /** Puts `config` (an object or JSON text) in force, dropping all state; throws ConfigError. */
  configure(config: object | string | null | undefined): void;
  /** Decides whether to retry a tool call; `result` is the MCP `CallToolResult` as received. */
  toolPostInvoke(toolName: string, result: unknown, context?: CallContext): ToolDecision;
  /** The retry statistics per tool since the config was put in force (the component's
   * names: `calls`, `successes`, `failures` by decision, `retries_granted`, `recovered`,
   * `total_delay_ms`, `breaker_opens`). */
  stats(): Record<string, Record<string, unknown>>;
  /** The metadata for a resource fetch (the retry policy in force); never a retry. */
  resourcePostFetch(uri: string, content?: unknown, context?: CallContext): { metadata: Record<string, unknown> };
  /** The configuration in force: schema, effective keys, policy per tool and error class. */
  describe(): Record<string, unknown>;
  /** Everything the plugin remembers, as a versioned JSON snapshot (times relative to now). */
  exportState(): string;
  /** Takes over an `exportState` snapshot (text or parsed) on top of the state in force;
   * throws StateError for anything else. Configure first: the config is not part of it. */
  importState(state: string | object): void;
}

/** A snapshot `importState` could not take; the state in force is unchanged. */
export declare class StateError extends Error {}

/** Options of `createPlugin`. */
export interface PluginOptions {
  /** Applied at once (default: the plugin manifest's defaults). */
  config?: object | string;
  /** A clock to read instead of the host's real clocks. */
  clock?: Clock;
  /** A seed, or a random source, instead of the host's secure random. */
  random?: number | bigint | RandomSource;
}

/** A new plugin with its own component instance. Throws ConfigError for a refused config. */
export declare function createPlugin(options?: PluginOptions): Plugin;
