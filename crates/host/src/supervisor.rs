//! Keeping a host serving when a guest traps: the call that trapped fails, the instance (whose
//! state may be corrupt) is replaced by a fresh one configured like the last, and the next call
//! is served normally.

use anyhow::Result;

use crate::guest_env::GuestEnv;
use crate::hook::{Configure, Hook};
use crate::runtime::{PluginInstance, PluginRuntime};

/// A plugin instance that survives guest traps.
pub struct SupervisedPlugin {
    runtime: PluginRuntime,
    env: GuestEnv,
    instance: PluginInstance,
    config: Option<String>,
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
            replacements: 0,
        })
    }

    /// How many times the instance was replaced after a trap.
    pub fn replacements(&self) -> u64 {
        self.replacements
    }

    /// Calls one export. An accepted configuration is remembered and re-applied to every
    /// replacement.
    ///
    /// # Errors
    /// The call trapped (the instance has been replaced), or no replacement could be made.
    pub fn call<H: Hook>(&mut self, hook: &H) -> Result<H::Output> {
        let outcome = self.instance.call(hook);
        match &outcome {
            Ok(output) => {
                if let Some(config) = hook.configured(output) {
                    self.config = Some(config.to_owned());
                }
            }
            Err(_) => self.replace()?,
        }
        outcome
    }

    fn replace(&mut self) -> Result<()> {
        let mut fresh = self.runtime.instantiate(&self.env)?;
        if let Some(config) = &self.config {
            // It was accepted before, by the same component: refusing it now would be a bug.
            fresh.call(&Configure(config))?.map_err(|err| {
                anyhow::anyhow!("the replacement refused the config: {}", err.text())
            })?;
        }
        self.instance = fresh;
        self.replacements += 1;
        Ok(())
    }
}
