//! Loading the component with wasmtime and calling it: one [`PluginRuntime`] (engine, linker,
//! pre-instantiated component) per process, one [`PluginInstance`] (store + instance) per
//! plugin instance.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{RetryWithBackoff, RetryWithBackoffPre};
use crate::guest_env::{GuestEnv, HostState};
use crate::hook::Hook;
use crate::limits::{EPOCH_DEADLINE_TICKS, EpochTicker, ExecutionBound, RuntimeOptions};

/// Turns wasmtime's error type into `anyhow`'s, keeping the chain.
trait IntoAnyhow<T> {
    fn anyhow(self) -> Result<T>;
}

impl<T> IntoAnyhow<T> for wasmtime::Result<T> {
    fn anyhow(self) -> Result<T> {
        self.map_err(anyhow::Error::from)
    }
}

/// The path of the plugin component built by this crate's build script (on the machine that
/// built it).
pub const PLUGIN_WASM: &str = env!("RETRY_COMPONENT_WASM");
/// The path of the empty-bodied floor component built by this crate's build script.
pub const FLOOR_WASM: &str = env!("FLOOR_COMPONENT_WASM");

/// The plugin component built with this library, bundled into every program that links it
/// (so a host such as the Python package carries the component it was built with).
pub const PLUGIN_COMPONENT: &[u8] = include_bytes!(env!("RETRY_COMPONENT_WASM"));

/// A compiled component ready to be instantiated many times. Cloning is cheap and shares the
/// compiled code (and the epoch ticker, which stops with the last clone).
#[derive(Clone)]
pub struct PluginRuntime {
    engine: Engine,
    component: Component,
    pre: RetryWithBackoffPre<HostState>,
    options: RuntimeOptions,
    _ticker: Option<Arc<EpochTicker>>,
}

impl PluginRuntime {
    /// Compiles the component at `path`.
    ///
    /// The engine uses wasmtime's defaults with synchronous calls and the component model's
    /// async support off.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(path, RuntimeOptions::default())
    }

    /// Compiles the component at `path` with `options`.
    pub fn load_with(path: impl AsRef<Path>, options: RuntimeOptions) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read component {}", path.display()))?;
        Self::from_bytes_with(&bytes, options)
            .with_context(|| format!("cannot load component {}", path.display()))
    }

    /// An engine for `options`: wasmtime's defaults, synchronous calls, the component model's
    /// async support off, and fuel or epoch checks compiled in as the execution bound asks.
    pub fn new_engine(options: RuntimeOptions) -> Result<Engine> {
        let mut config = Config::new();
        config.consume_fuel(options.execution_bound == ExecutionBound::Fuel);
        config.epoch_interruption(options.execution_bound == ExecutionBound::Epoch);
        Engine::new(&config)
            .anyhow()
            .context("cannot create the wasmtime engine")
    }

    /// Compiles a component from its bytes, with the default options.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_with(bytes, RuntimeOptions::default())
    }

    /// Compiles a component from its bytes.
    pub fn from_bytes_with(bytes: &[u8], options: RuntimeOptions) -> Result<Self> {
        let engine = Self::new_engine(options)?;
        let component = Component::new(&engine, bytes)
            .anyhow()
            .context("not a valid component")?;
        Self::link(engine, component, options)
    }

    /// Loads a component precompiled by [`PluginRuntime::precompile`] into `engine`, skipping
    /// compilation.
    ///
    /// The artifact must come from `precompile` with the same wasmtime version and settings
    /// (wasmtime checks both and refuses a mismatch); it is native code, so only artifacts
    /// this host produced itself may be loaded.
    pub fn from_precompiled(
        engine: Engine,
        artifact: &[u8],
        options: RuntimeOptions,
    ) -> Result<Self> {
        #[expect(
            unsafe_code,
            reason = "wasmtime cannot verify native code; callers pass only artifacts they produced with precompile()"
        )]
        // SAFETY: the bytes are an artifact serialized by `precompile` in this harness, and
        // wasmtime rejects artifacts from another version or configuration.
        let component = unsafe { Component::deserialize(&engine, artifact) }
            .anyhow()
            .context("not a precompiled component for this engine")?;
        Self::link(engine, component, options)
    }

    /// Loads a component precompiled by [`PluginRuntime::precompile`] from a file, mapping it
    /// into memory rather than copying it; the same rules as
    /// [`PluginRuntime::from_precompiled`] apply.
    pub fn from_precompiled_file(
        engine: Engine,
        path: &Path,
        options: RuntimeOptions,
    ) -> Result<Self> {
        #[expect(
            unsafe_code,
            reason = "wasmtime cannot verify native code; only the artifact cache's own files are passed"
        )]
        // SAFETY: the file was written whole (temporary file, then rename) by the artifact
        // cache from `precompile`, and wasmtime rejects artifacts from another version or
        // configuration.
        let component = unsafe { Component::deserialize_file(&engine, path) }
            .anyhow()
            .context("not a precompiled component for this engine")?;
        Self::link(engine, component, options)
    }

    /// The compiled component as an artifact for [`PluginRuntime::from_precompiled`].
    pub fn precompile(&self) -> Result<Vec<u8>> {
        self.component
            .serialize()
            .anyhow()
            .context("cannot serialize the compiled component")
    }

    /// The engine this runtime compiled into.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn link(engine: Engine, component: Component, options: RuntimeOptions) -> Result<Self> {
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .anyhow()
            .context("cannot link WASI")?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .anyhow()
            .context("the component's imports cannot be satisfied")?;
        let pre = RetryWithBackoffPre::new(instance_pre)
            .anyhow()
            .context("the component does not export the retry-with-backoff world")?;
        let ticker = (options.execution_bound == ExecutionBound::Epoch)
            .then(|| Arc::new(EpochTicker::start(engine.clone())));
        Ok(Self {
            engine,
            component,
            pre,
            options,
            _ticker: ticker,
        })
    }

    /// The names of the interfaces the component imports (e.g. `wasi:clocks/monotonic-clock@0.2.x`).
    pub fn imports(&self) -> Vec<String> {
        self.component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The bundled plugin component ([`PLUGIN_COMPONENT`]), through the artifact cache in its
    /// default directory.
    ///
    /// # Errors
    /// The component does not compile (a broken build).
    pub fn plugin() -> Result<Self> {
        crate::artifact_cache::load(
            &crate::artifact_cache::default_cache_dir(),
            PLUGIN_COMPONENT,
            RuntimeOptions::default(),
        )
    }

    /// The floor component built with this library, through the artifact cache.
    ///
    /// # Errors
    /// The file is gone or does not compile.
    pub fn floor() -> Result<Self> {
        crate::artifact_cache::load_file(
            &crate::artifact_cache::default_cache_dir(),
            Path::new(FLOOR_WASM),
            RuntimeOptions::default(),
        )
    }

    /// A new instance in its own store, seeing the clock and random source of `env`.
    pub fn instantiate(&self, env: &GuestEnv) -> Result<PluginInstance> {
        let mut store = Store::new(&self.engine, HostState::new(env));
        store.limiter(HostState::limiter);
        let mut budget = CallBudget {
            options: self.options,
            granted_fuel: 0,
        };
        budget.renew(&mut store, 1)?;
        let bindings = self
            .pre
            .instantiate(&mut store)
            .anyhow()
            .context("cannot instantiate the component")?;
        Ok(PluginInstance {
            store,
            bindings,
            budget,
        })
    }
}

/// One live plugin instance: its state persists across calls.
pub struct PluginInstance {
    store: Store<HostState>,
    bindings: RetryWithBackoff,
    budget: CallBudget,
}

/// Renews a store's execution bound before each call.
#[derive(Debug, Clone, Copy)]
struct CallBudget {
    options: RuntimeOptions,
    /// The fuel granted to the latest call (fuel-bounded instances only).
    granted_fuel: u64,
}

impl CallBudget {
    /// Renews the bound for a call allowed `multiplier` times an ordinary call's bound.
    fn renew(&mut self, store: &mut Store<HostState>, multiplier: u64) -> Result<()> {
        match self.options.execution_bound {
            ExecutionBound::None => {}
            ExecutionBound::Epoch => {
                store.set_epoch_deadline(EPOCH_DEADLINE_TICKS.saturating_mul(multiplier));
            }
            ExecutionBound::Fuel => {
                self.granted_fuel = self.options.fuel_per_call.saturating_mul(multiplier);
                store
                    .set_fuel(self.granted_fuel)
                    .anyhow()
                    .context("cannot set fuel")?;
            }
        }
        Ok(())
    }
}

impl PluginInstance {
    /// The fuel the latest call consumed (about one unit per wasm instruction), when the
    /// instance runs under [`ExecutionBound::Fuel`]: a deterministic measure of a call's cost.
    pub fn fuel_used(&self) -> Option<u64> {
        let left = self.store.get_fuel().ok()?;
        (self.budget.options.execution_bound == ExecutionBound::Fuel)
            .then(|| self.budget.granted_fuel.saturating_sub(left))
    }

    /// The size the guest's linear memory has grown to, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limits().memory_bytes()
    }

    /// Calls one export, within the execution bound.
    ///
    /// # Errors
    /// The guest trapped or ran out of its bound (the instance's state may then be corrupt:
    /// replace it, as [`crate::SupervisedPlugin`] does). A refused config is not an error here
    /// but [`Configure`](crate::hook::Configure)'s answer.
    pub fn call<H: Hook>(&mut self, hook: &H) -> Result<H::Output> {
        self.budget.renew(&mut self.store, H::BOUND_MULTIPLIER)?;
        hook.invoke(
            self.bindings.mcp_plugins_retry_with_backoff_plugin(),
            &mut self.store,
        )
        .anyhow()
        .with_context(|| format!("{} trapped", H::EXPORT))
    }
}
