//! Keeping a host serving when a guest traps: the call that trapped fails, the instance (whose
//! state may be corrupt) is replaced by a fresh one configured like the last, and the next call
//! is served normally.

use anyhow::Result;

use crate::bindings::{
    ConfigError, PluginContext, ResourcePostFetchPayload, ResourcePostFetchResult,
    ToolPostInvokePayload, ToolPostInvokeResult,
};
use crate::guest_env::GuestEnv;
use crate::runtime::{PluginInstance, PluginRuntime};

/// A plugin instance that survives guest traps.
pub struct SupervisedPlugin<'r> {
    runtime: &'r PluginRuntime,
    env: GuestEnv,
    instance: PluginInstance,
    config: Option<String>,
    replacements: u64,
}

impl<'r> SupervisedPlugin<'r> {
    /// A supervised instance of `runtime`'s component in the world of `env`.
    ///
    /// # Errors
    /// The component cannot be instantiated.
    pub fn new(runtime: &'r PluginRuntime, env: GuestEnv) -> Result<Self> {
        let instance = runtime.instantiate(&env)?;
        Ok(Self {
            runtime,
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

    /// Configures the plugin; an accepted config is re-applied to every replacement.
    ///
    /// # Errors
    /// The call trapped (the instance has been replaced).
    pub fn configure(&mut self, config_json: &str) -> Result<Result<(), ConfigError>> {
        let outcome = self.instance.configure(config_json);
        if matches!(outcome, Ok(Ok(()))) {
            self.config = Some(config_json.to_owned());
        }
        self.after(outcome)
    }

    /// The `tool_post_invoke` hook.
    ///
    /// # Errors
    /// The call trapped (the instance has been replaced).
    pub fn tool_post_invoke(
        &mut self,
        payload: &ToolPostInvokePayload,
        context: &PluginContext,
    ) -> Result<ToolPostInvokeResult> {
        let outcome = self.instance.tool_post_invoke(payload, context);
        self.after(outcome)
    }

    /// The `resource_post_fetch` hook.
    ///
    /// # Errors
    /// The call trapped (the instance has been replaced).
    pub fn resource_post_fetch(
        &mut self,
        payload: &ResourcePostFetchPayload,
        context: &PluginContext,
    ) -> Result<ResourcePostFetchResult> {
        let outcome = self.instance.resource_post_fetch(payload, context);
        self.after(outcome)
    }

    /// Passes `outcome` on, replacing the instance first when it is a trap.
    fn after<T>(&mut self, outcome: Result<T>) -> Result<T> {
        if outcome.is_err() {
            self.replace()?;
        }
        outcome
    }

    fn replace(&mut self) -> Result<()> {
        let mut fresh = self.runtime.instantiate(&self.env)?;
        if let Some(config) = &self.config {
            // It was accepted before, by the same component: refusing it now would be a bug.
            fresh.configure(config)?.map_err(|err| {
                anyhow::anyhow!("the replacement refused the config: {}", err.text())
            })?;
        }
        self.instance = fresh;
        self.replacements += 1;
        Ok(())
    }
}
