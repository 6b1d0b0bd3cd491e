//! Sharing the plugin among threads: a pool of supervised instances that routes every call for
//! a tool to the same instance, so per-tool breakers and per-request counters stay exact, while
//! calls for tools on other instances proceed in parallel.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::{Mutex, MutexGuard};

use anyhow::Result;

use crate::bindings::{
    ConfigError, PluginContext, ResourcePostFetchPayload, ResourcePostFetchResult,
    ToolPostInvokePayload, ToolPostInvokeResult,
};
use crate::guest_env::GuestEnv;
use crate::runtime::PluginRuntime;
use crate::supervisor::SupervisedPlugin;

/// A fixed set of instances, one lock each; a tool always maps to the same one.
pub struct PluginPool<'r> {
    shards: Vec<Mutex<SupervisedPlugin<'r>>>,
}

impl<'r> PluginPool<'r> {
    /// `shards` instances (at least one) of `runtime`'s component, each in the world of `env`.
    ///
    /// # Errors
    /// The component cannot be instantiated.
    pub fn new(runtime: &'r PluginRuntime, shards: usize, env: &GuestEnv) -> Result<Self> {
        let shards = (0..shards.max(1))
            .map(|_| SupervisedPlugin::new(runtime, env.clone()).map(Mutex::new))
            .collect::<Result<_>>()?;
        Ok(Self { shards })
    }

    /// How many instances the pool holds.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Whether the pool is empty (never: it holds at least one instance).
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// Configures every instance; they run the same component, so they all accept or all refuse.
    ///
    /// # Errors
    /// A call trapped.
    pub fn configure(&self, config_json: &str) -> Result<Result<(), ConfigError>> {
        let mut outcome = Ok(());
        for shard in &self.shards {
            if let Err(err) = lock(shard).configure(config_json)? {
                outcome = Err(err);
            }
        }
        Ok(outcome)
    }

    /// The instance that owns `tool`.
    pub fn shard_of(&self, tool: &str) -> usize {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(tool);
        (hash % self.shards.len() as u64) as usize
    }

    /// `tool_post_invoke` on the instance that owns the tool.
    ///
    /// # Errors
    /// The call trapped (that instance has been replaced).
    pub fn tool_post_invoke(
        &self,
        payload: &ToolPostInvokePayload,
        context: &PluginContext,
    ) -> Result<ToolPostInvokeResult> {
        lock(&self.shards[self.shard_of(&payload.name)]).tool_post_invoke(payload, context)
    }

    /// `resource_post_fetch` (which keeps no state) on the instance the URI hashes to.
    ///
    /// # Errors
    /// The call trapped (that instance has been replaced).
    pub fn resource_post_fetch(
        &self,
        payload: &ResourcePostFetchPayload,
        context: &PluginContext,
    ) -> Result<ResourcePostFetchResult> {
        lock(&self.shards[self.shard_of(&payload.uri)]).resource_post_fetch(payload, context)
    }
}

/// Locks a shard; a poisoned lock (a panic elsewhere while holding it) still guards a usable
/// instance, because a trapped call already replaced it.
fn lock<'a, 'r>(shard: &'a Mutex<SupervisedPlugin<'r>>) -> MutexGuard<'a, SupervisedPlugin<'r>> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
