//! Sharing the plugin among threads: a pool of supervised instances that routes every call for
//! a tool to the same instance, so per-tool breakers and per-request counters stay exact, while
//! calls for tools on other instances proceed in parallel.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::{Mutex, MutexGuard};

use anyhow::Result;
use serde_json::{Map, Value};

use crate::guest_env::GuestEnv;
use crate::hook::{ExportState, Hook, ImportState, Route, Stats};
use crate::runtime::PluginRuntime;
use crate::supervisor::SupervisedPlugin;

/// A fixed set of instances, one lock each; a key (tool name, URI) always maps to the same one.
pub struct PluginPool {
    /// Never empty.
    shards: Vec<Mutex<SupervisedPlugin>>,
}

impl PluginPool {
    /// `shards` instances (at least one) of `runtime`'s component, each in the world of `env`.
    ///
    /// # Errors
    /// The component cannot be instantiated.
    pub fn new(runtime: &PluginRuntime, shards: usize, env: &GuestEnv) -> Result<Self> {
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

    /// The instance that owns `key`.
    pub fn shard_of(&self, key: &str) -> usize {
        if self.shards.len() == 1 {
            return 0;
        }
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        (hash % self.shards.len() as u64) as usize
    }

    /// Calls one export on the instance its [`Route`] names. A configuration reaches every
    /// instance (they run the same component, so all accept it or all refuse it) and the first
    /// instance's answer is returned; an instance that traps on it is replaced and asked again.
    ///
    /// # Errors
    /// The call trapped (that instance has been replaced).
    pub fn call<H: Hook>(&self, hook: &H) -> Result<H::Output> {
        match hook.route() {
            Route::Key(key) => lock(&self.shards[self.shard_of(key)]).call(hook),
            Route::Any => lock(&self.shards[0]).call(hook),
            Route::Every => {
                // The first instance first: when it traps, no instance has changed.
                let first = lock(&self.shards[0]).call(hook)?;
                for shard in &self.shards[1..] {
                    let mut shard = lock(shard);
                    if shard.call(hook).is_err() {
                        // It was replaced and given its previous config: the same call once
                        // more, on the fresh instance, so that all instances end up alike.
                        shard.call(hook)?;
                    }
                }
                Ok(first)
            }
        }
    }
}

impl PluginPool {
    /// The retry statistics of the whole pool, as a JSON object keyed by tool: each instance's
    /// `stats`, merged (a tool lives on one instance; the overflow entry of several is summed).
    ///
    /// # Errors
    /// A call trapped (that instance has been replaced, and its counts start again).
    pub fn stats(&self) -> Result<Value> {
        let mut merged = Map::new();
        for tools in self.objects_of_every_shard(&Stats)? {
            for (tool, counts) in tools {
                match merged.get_mut(&tool) {
                    Some(existing) => add_counts(existing, &counts),
                    None => {
                        merged.insert(tool, counts);
                    }
                }
            }
        }
        Ok(Value::Object(merged))
    }
}

/// The statistics entry that sums tools past the bound (on any instance); kept by the first.
const OTHER_TOOLS: &str = "(other tools)";

impl PluginPool {
    /// The state of the whole pool as one snapshot (the format of the component's
    /// `export-state`): each instance's lists of requests, breakers and budgets joined, its
    /// statistics merged as [`PluginPool::stats`] merges them. Another pool of any size (or a
    /// single instance) takes it over with [`PluginPool::import_state`].
    ///
    /// # Errors
    /// A call trapped (that instance has been replaced).
    pub fn export_state(&self) -> Result<String> {
        if self.shards.len() == 1 {
            return lock(&self.shards[0]).call(&ExportState);
        }
        let mut merged = Map::new();
        for snapshot in self.objects_of_every_shard(&ExportState)? {
            for (key, value) in snapshot {
                match (merged.get_mut(&key), value) {
                    (Some(Value::Array(into)), Value::Array(more)) => into.extend(more),
                    (Some(into @ Value::Object(_)), more @ Value::Object(_)) => {
                        add_counts(into, &more);
                    }
                    (Some(_), _) => {}
                    (None, value) => {
                        merged.insert(key, value);
                    }
                }
            }
        }
        Ok(Value::Object(merged).to_string())
    }

    /// Takes over a snapshot of [`PluginPool::export_state`] (or of one instance's
    /// `export-state`), on top of the state in force: every tool's part goes to the instance
    /// that owns the tool. The config is not part of a snapshot: configure first.
    ///
    /// # Errors
    /// `Ok(Err(reason))` when the component refuses the snapshot (text that is not a snapshot,
    /// another version): the first instance is asked first, so a refusal leaves the pool as it
    /// was. `Err` when a call trapped.
    pub fn import_state(&self, state: &str) -> Result<Result<(), String>> {
        if self.shards.len() == 1 {
            return lock(&self.shards[0]).call(&ImportState(state));
        }
        let Ok(Value::Object(snapshot)) = serde_json::from_str::<Value>(state) else {
            // Not an object: the component words the refusal.
            return lock(&self.shards[0]).call(&ImportState(state));
        };
        let mut parts = vec![Map::new(); self.shards.len()];
        for (key, value) in snapshot {
            match value {
                Value::Array(items) => {
                    for part in &mut parts {
                        part.insert(key.clone(), Value::Array(Vec::new()));
                    }
                    for item in items {
                        let owner = item
                            .get("tool")
                            .and_then(Value::as_str)
                            .map_or(0, |tool| self.shard_of(tool));
                        if let Some(Value::Array(list)) = parts[owner].get_mut(&key) {
                            list.push(item);
                        }
                    }
                }
                Value::Object(tools) => {
                    for part in &mut parts {
                        part.insert(key.clone(), Value::Object(Map::new()));
                    }
                    for (tool, entry) in tools {
                        let owner = if tool == OTHER_TOOLS {
                            0
                        } else {
                            self.shard_of(&tool)
                        };
                        if let Some(Value::Object(map)) = parts[owner].get_mut(&key) {
                            map.insert(tool, entry);
                        }
                    }
                }
                other => {
                    for part in &mut parts {
                        part.insert(key.clone(), other.clone());
                    }
                }
            }
        }
        for (shard, part) in self.shards.iter().zip(parts) {
            if let Err(reason) = lock(shard).call(&ImportState(&Value::Object(part).to_string()))? {
                return Ok(Err(reason));
            }
        }
        Ok(Ok(()))
    }
}

impl PluginPool {
    /// The JSON object each instance answers to `query` (an answer that is not one is skipped).
    fn objects_of_every_shard<H: Hook<Output = String>>(
        &self,
        query: &H,
    ) -> Result<Vec<Map<String, Value>>> {
        let mut objects = Vec::with_capacity(self.shards.len());
        for shard in &self.shards {
            let text = lock(shard).call(query)?;
            if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(&text) {
                objects.push(object);
            }
        }
        Ok(objects)
    }
}

/// Adds the numbers of `more` into `into`, key by key (nested objects alike).
fn add_counts(into: &mut Value, more: &Value) {
    match (into, more) {
        (Value::Object(into), Value::Object(more)) => {
            for (key, value) in more {
                match into.get_mut(key) {
                    Some(existing) => add_counts(existing, value),
                    None => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (into @ Value::Number(_), Value::Number(more)) => {
            let sum = into
                .as_u64()
                .unwrap_or(0)
                .saturating_add(more.as_u64().unwrap_or(0));
            *into = Value::from(sum);
        }
        _ => {}
    }
}

/// Locks a shard; a poisoned lock (a panic elsewhere while holding it) still guards a usable
/// instance, because a trapped call already replaced it.
fn lock(shard: &Mutex<SupervisedPlugin>) -> MutexGuard<'_, SupervisedPlugin> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
