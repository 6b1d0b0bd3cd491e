//! The retry-with-backoff decision engine: pure Rust, no wasm or host dependency.
//!
//! A gateway calls [`Plugin::tool_post_invoke`] after every tool call; the engine classifies
//! the result, counts consecutive failures per (tool, request), and answers whether to retry
//! and after how long. Time and randomness are inputs ([`Clock`], [`Rng`]), so every rule is
//! testable exactly.
#![forbid(unsafe_code)]

pub mod backoff;
mod classify;
mod clock;
mod config;
mod error;
mod jitter;
mod plugin;
mod policy;
mod state;
mod status;
mod suggest;
mod tool_result;

pub use classify::{Classification, classify_flat};
pub use clock::{Clock, FixedClock, Rng, SplitMix64};
pub use config::{
    DEFAULT_BACKOFF_BASE_MS, DEFAULT_CHECK_TEXT_CONTENT, DEFAULT_JITTER, DEFAULT_MAX_BACKOFF_MS,
    DEFAULT_MAX_RETRIES, DEFAULT_RETRY_ON_STATUS, FlatConfig, FlatRules, PluginConfig, Schema,
};
pub use error::{ConfigError, ConfigErrors};
pub use jitter::Jitter;
pub use plugin::{Plugin, ToolCall, ToolDecision};
pub use policy::{MAX_RETRIES_LIMIT, Policy};
pub use state::{DEFAULT_MAX_TRACKED_REQUESTS, DEFAULT_REQUEST_TTL_MS, RequestState, RequestStore};
pub use status::{MAX_STATUS, MIN_STATUS, StatusSet};
pub use suggest::closest_key;
pub use tool_result::{ErrorProbe, StatusValue, ToolResultView};
