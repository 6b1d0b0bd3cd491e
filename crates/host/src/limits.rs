//! Bounding what a guest call may cost: memory (see `guest_env::GuestLimits`) and time.
//!
//! # Why epochs by default
//! Both of wasmtime's execution bounds were measured with `retry-harness bench --bounds`:
//! epoch interruption adds a check at function entries and loop headers and a 10 ms ticker
//! thread; fuel counts every basic block. Epochs cost less per call (the README quotes the
//! figures), so they are the default, and fuel remains for hosts that need determinism.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch ticker advances the engine's epoch.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Ticks a call may span before it traps (so a call is stopped after 90-100 ms).
pub const EPOCH_DEADLINE_TICKS: u64 = 10;
/// Fuel each call gets under [`ExecutionBound::Fuel`]: far above the largest decision (a 1 MiB
/// payload takes well under a million units).
pub const DEFAULT_FUEL_PER_CALL: u64 = 50_000_000;

/// How a runaway guest call is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionBound {
    /// Not at all.
    None,
    /// Epoch interruption: a call spanning more than [`EPOCH_DEADLINE_TICKS`] ticks of
    /// [`EPOCH_TICK`] traps.
    #[default]
    Epoch,
    /// Fuel: a call that burns its fuel traps.
    Fuel,
}

/// Options of a [`crate::PluginRuntime`].
///
/// # Default
/// - `execution_bound`: [`ExecutionBound::Epoch`]
/// - `fuel_per_call`: [`DEFAULT_FUEL_PER_CALL`] (used by [`ExecutionBound::Fuel`] only)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeOptions {
    /// How runaway calls are stopped.
    pub execution_bound: ExecutionBound,
    /// Fuel per call under [`ExecutionBound::Fuel`].
    pub fuel_per_call: u64,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            execution_bound: ExecutionBound::default(),
            fuel_per_call: DEFAULT_FUEL_PER_CALL,
        }
    }
}

impl RuntimeOptions {
    /// The same options with another execution bound.
    pub fn with_execution_bound(mut self, bound: ExecutionBound) -> Self {
        self.execution_bound = bound;
        self
    }

    /// The same options with another fuel budget per call.
    pub fn with_fuel_per_call(mut self, fuel: u64) -> Self {
        self.fuel_per_call = fuel;
        self
    }
}

/// A thread advancing an engine's epoch every [`EPOCH_TICK`] until dropped.
#[derive(Debug)]
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub(crate) fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
