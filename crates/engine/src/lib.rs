//! The retry-with-backoff decision engine: pure Rust, no wasm or host dependency.
//!
//! A gateway calls [`Plugin::tool_post_invoke`] after every tool call; the engine classifies
//! the result, counts consecutive failures per (tool, request), and answers whether to retry
//! and after how long. Time and randomness are inputs ([`Clock`], [`Rng`]), so every rule is
//! testable exactly.
#![forbid(unsafe_code)]

pub mod backoff;
mod breaker;
mod budget;
mod call;
mod clock;
mod config;
mod error;
mod error_text;
mod flat_json;
mod jitter;
mod json_scalar;
mod json_text;
mod pattern;
mod pipeline;
mod plugin;
mod policy;
mod retry_after;
mod rfc3339;
mod snapshot;
mod start_bytes;
mod state;
mod stats;
mod status;
mod suggest;
mod text_key;
mod text_scan;
mod tool_event;
mod tool_result;

pub use call::{ToolAnnotations, ToolCall, ToolDecision};
pub use clock::{Clock, FixedClock, LazySeeded, Rng, SplitMix64};
pub use config::PluginConfig;
pub use error::{ConfigError, ConfigErrors};
pub use jitter::Jitter;
pub use plugin::Plugin;
pub use tool_result::{OwnedToolResult, ToolResultView};
