//! The retry-with-backoff decision engine: pure Rust, no wasm or host dependency.
//!
//! A gateway calls [`Plugin::tool_post_invoke`] after every tool call; the engine classifies
//! the result, counts consecutive failures per (tool, request), and answers whether to retry
//! and after how long. Time and randomness are inputs ([`Clock`], [`Rng`]), so every rule is
//! testable exactly.
#![forbid(unsafe_code)]

mod annotation;
pub mod backoff;
mod breaker;
mod classify;
mod clock;
mod config;
mod error;
mod error_text;
mod jitter;
mod json_text;
mod nested_decision;
mod pattern;
mod plugin;
mod policy;
mod rfc3339;
mod state;
mod status;
mod suggest;
mod tool_result;

pub use annotation::Decision;
pub use breaker::{
    Breaker, BreakerConfig, BreakerEvent, BreakerState, BreakerStore, DEFAULT_BREAKER_ENABLED,
    DEFAULT_FAILURE_THRESHOLD, DEFAULT_HALF_OPEN_MAX_CALLS, DEFAULT_RECOVERY_TIMEOUT_MS,
    MAX_TRACKED_TOOLS, Transition,
};
pub use classify::{Classification, NestedClassification, Reason, classify_flat, classify_nested};
pub use clock::{Clock, FixedClock, LazySeeded, Rng, SplitMix64};
pub use config::{
    ClassSlot, DEFAULT_BACKOFF_BASE_MS, DEFAULT_CHECK_TEXT_CONTENT,
    DEFAULT_CONDITIONS_RETRY_ON_STATUS, DEFAULT_INCLUDE, DEFAULT_JITTER, DEFAULT_MAX_BACKOFF_MS,
    DEFAULT_MAX_RETRIES, DEFAULT_NEVER_RETRY_STATUS, DEFAULT_POLICY_BASE_MS, DEFAULT_POLICY_JITTER,
    DEFAULT_POLICY_JITTER_MAX_PERCENT, DEFAULT_POLICY_MAX_BACKOFF_MS, DEFAULT_POLICY_MAX_RETRIES,
    DEFAULT_POLICY_MULTIPLIER, DEFAULT_POLICY_STRATEGY, DEFAULT_RETRY_ON_CONNECTION_ERROR,
    DEFAULT_RETRY_ON_STATUS, DEFAULT_RETRY_ON_TIMEOUT, EffectivePolicy, FlatConfig, FlatRules,
    MAX_TRACKED_REQUESTS_LIMIT, MetadataFlags, NestedConfig, PluginConfig, RetryConditions, Schema,
    StateLimits, Strategy, ToolSlot,
};
pub use error::{ConfigError, ConfigErrors};
pub use error_text::{
    BuiltinClass, CONNECTION_PHRASES, MAX_ERROR_TEXT_BYTES, TIMEOUT_PHRASES, error_text,
};
pub use jitter::Jitter;
pub use pattern::ErrorPattern;
pub use plugin::{Plugin, ToolCall, ToolDecision};
pub use policy::{MAX_RETRIES_LIMIT, Policy};
pub use rfc3339::format_utc_ms;
pub use state::{DEFAULT_MAX_TRACKED_REQUESTS, DEFAULT_REQUEST_TTL_MS, RequestState, RequestStore};
pub use status::{MAX_STATUS, MIN_STATUS, StatusSet};
pub use suggest::closest_key;
pub use tool_result::{ErrorProbe, OwnedToolResult, StatusValue, ToolResultView};
