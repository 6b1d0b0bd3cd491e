//! A wasmtime host for the retry-with-backoff component: load it, configure it, call its
//! hooks, with virtual time and seeded randomness. The `retry-harness` binary builds the
//! conformance runner, the demo, the config checker and the benchmarks on top.

pub mod artifact_cache;
pub mod backend;
pub mod bench;
pub mod bindings;
pub mod config_file;
pub mod config_report;
pub mod conformance;
pub mod demo;
pub mod guest_env;
pub mod limits;
pub mod matcher;
pub mod payload;
pub mod pool;
pub mod runtime;
pub mod scenario;
pub mod supervisor;
pub mod yaml;

pub use guest_env::{GuestEnv, VirtualClock};
pub use runtime::{PluginInstance, PluginRuntime};
