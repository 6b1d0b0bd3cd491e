//! Keeping a host serving when a guest traps: the call that trapped fails, the instance (whose
//! state may be corrupt) is replaced by a fresh one configured like the last and given the last
//! state snapshot taken before the failing call (open breakers stay open, budgets stay spent),
//! and the next call is served normally.

use anyhow::Result;

use crate::guest_env::GuestEnv;
use crate::hook::{Configure, ExportState, Hook, ImportState};

/// Calls between two state snapshots: a trap loses at most this many calls' worth of state.
pub const SNAPSHOT_INTERVAL: u32 = 64;
use crate::runtime::{PluginInstance, PluginRuntime};

/// A plugin instance that survives guest traps.
pub struct SupervisedPlugin {
    runtime: PluginRuntime,
    env: GuestEnv,
    instance: PluginInstance,
    config: Option<String>,
    /// The last state snapshot under the config in force, and the calls made since.
    snapshot: Option<String>,
    calls_since_snapshot: u32,
    replacements: u64,
}

impl SupervisedPlugin {
    /// A supervised instance of `runtime`'s component in the world of `env`.
    ///
    /// # Errors
    /// The component cannot be instantiated.
    pub fn new(runtime: &PluginRuntime, env: GuestEnv) -> Result<Self> {
        let instance = runtime.instantiate(&env)?;
        Ok(Self {
            runtime: runtime.clone(),
            env,
            instance,
            config: None,
            snapshot: None,
            calls_since_snapshot: 0,
            replacements: 0,
        })
    }

    /// How many times the instance was replaced after a trap.
    pub fn replacements(&self) -> u64 {
        self.replacements
    }

    /// Calls one export. An accepted configuration is remembered and re-applied to every
    /// replacement; every [`SNAPSHOT_INTERVAL`] calls the state is snapshotted, for the
    /// replacement to take over.
    ///
    /// # Errors
    /// The call trapped (the instance has been replaced), or no replacement could be made.
    pub fn call<H: Hook>(&mut self, hook: &H) -> Result<H::Output> {
        let outcome = self.instance.call(hook);
        match &outcome {
            Ok(output) => {
                if let Some(config) = hook.configured(output) {
                    // A new config starts from a clean state.
                    self.config = Some(config.to_owned());
                    self.snapshot = None;
                    self.calls_since_snapshot = 0;
                } else {
                    self.calls_since_snapshot += 1;
                    if self.calls_since_snapshot >= SNAPSHOT_INTERVAL {
                        self.snapshot = self.instance.call(&ExportState).ok();
                        self.calls_since_snapshot = 0;
                    }
                }
            }
            Err(_) => self.replace()?,
        }
        outcome
    }

    fn replace(&mut self) -> Result<()> {
        let mut fresh = self.configured_instance()?;
        if let Some(snapshot) = &self.snapshot
            && !matches!(fresh.call(&ImportState(snapshot)), Ok(Ok(())))
        {
            // A snapshot the fresh instance refuses (or traps on) only costs the state.
            fresh = self.configured_instance()?;
        }
        self.instance = fresh;
        self.replacements += 1;
        Ok(())
    }

    /// A new instance under the config in force.
    fn configured_instance(&self) -> Result<PluginInstance> {
        let mut fresh = self.runtime.instantiate(&self.env)?;
        if let Some(config) = &self.config {
            // It was accepted before, by the same component: refusing it now would be a bug.
            fresh.call(&Configure(config))?.map_err(|err| {
                anyhow::anyhow!("the replacement refused the config: {}", err.text())
            })?;
        }
        Ok(fresh)
    }
}
