//! Embedding the retry-with-backoff component in a Rust host with wasmtime: everything a Rust
//! program (the `retry-harness` CLI, the Python package) needs to run the plugin.
//!
//! - [`PluginRuntime`] compiles the component once per process (or loads it from the
//!   [`artifact_cache`]); [`PluginInstance`] is one instance with its own state, bounded in
//!   memory and time ([`limits`]).
//! - Every layer calls an export through one generic `call` taking a [`hook::Hook`]:
//!   [`PluginInstance::call`], [`SupervisedPlugin::call`] (which replaces an instance that
//!   trapped) and [`PluginPool::call`] (which shares instances among threads, per tool).
//! - [`payload`] turns an MCP `CallToolResult` given as JSON into the WIT records.
//! - [`guest_env`] gives the guest its clocks and random source, real or virtual.
//!
//! ```no_run
//! use retry_host::hook::{Configure, ToolPostInvoke};
//! use retry_host::{GuestEnv, PluginRuntime, payload};
//! use serde_json::json;
//!
//! let runtime = PluginRuntime::plugin()?;
//! let mut plugin = runtime.instantiate(&GuestEnv::default())?;
//! plugin.call(&Configure(r#"{"max_retries": 3}"#))?.expect("a valid config");
//! let result = json!({"isError": true, "structuredContent": {"status_code": 503}});
//! let answer = plugin.call(&ToolPostInvoke {
//!     payload: &payload::tool_payload("search", &result),
//!     context: &payload::context("request-1", None, None),
//! })?;
//! assert!(answer.retry);
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod artifact_cache;
pub mod bindings;
pub mod guest_env;
pub mod hook;
pub mod limits;
pub mod payload;
pub mod pool;
pub mod runtime;
pub mod supervisor;

pub use guest_env::{GuestEnv, VirtualClock};
pub use pool::PluginPool;
pub use runtime::{PluginInstance, PluginRuntime};
pub use supervisor::SupervisedPlugin;
