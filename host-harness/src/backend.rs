//! Two ways to run the plugin behind one `call`: the wasm component through wasmtime, and
//! the same engine linked natively. Conformance runs every scenario on both and requires equal
//! outcomes; the benchmarks use the native one as a baseline.

use std::borrow::Cow;

use anyhow::Result;
use retry_engine::{ConfigErrors, LazySeeded, Plugin, ToolAnnotations, ToolCall, ToolResultView};

use retry_host::bindings::{
    CallToolResult, ConfigError, ConfigIssue, ContentBlock, ResourcePostFetchResult,
    ToolPostInvokeResult,
};
use retry_host::guest_env::{
    DEFAULT_START_WALL_MS, GuestEnv, SeededRandom, VirtualClock, fresh_seed,
};
use retry_host::hook::{Configure, Describe, Hook, ResourcePostFetch, Stats, ToolPostInvoke};
use retry_host::{PluginInstance, PluginRuntime};

/// A plugin instance, whatever runs it.
pub enum Backend {
    /// The component, through wasmtime.
    Wasm(PluginInstance),
    /// The engine, linked natively (boxed: the engine's state is large beside a handle).
    Native(Box<NativePlugin>),
}

impl Backend {
    /// The backend's name, for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Wasm(_) => "wasm",
            Self::Native(_) => "native",
        }
    }

    /// Calls one export.
    ///
    /// # Errors
    /// The component trapped.
    pub fn call<H: NativeHook>(&mut self, hook: &H) -> Result<H::Output> {
        match self {
            Self::Wasm(instance) => instance.call(hook),
            Self::Native(native) => Ok(hook.call_native(native)),
        }
    }
}

/// A hook the native engine can answer too, exactly as the component would.
pub trait NativeHook: Hook {
    /// Answers the call with the engine linked natively.
    fn call_native(&self, native: &mut NativePlugin) -> Self::Output;
}

impl NativeHook for Configure<'_> {
    fn call_native(&self, native: &mut NativePlugin) -> Self::Output {
        native.plugin.configure_json(self.0).map_err(config_error)
    }
}

impl NativeHook for ToolPostInvoke<'_> {
    fn call_native(&self, native: &mut NativePlugin) -> Self::Output {
        let view = NativeView(&self.payload.result);
        let call = ToolCall {
            tool: &self.payload.name,
            request_id: &self.context.request_id,
            trace_id: self.context.trace_id.as_deref(),
            result: &view,
            remaining_ms: self.context.remaining_ms,
            annotations: self.payload.annotations.map(|a| ToolAnnotations {
                read_only: a.read_only_hint,
                destructive: a.destructive_hint,
                idempotent: a.idempotent_hint,
                open_world: a.open_world_hint,
            }),
        };
        let decision = native
            .plugin
            .tool_post_invoke(&call, &native.clock, &mut native.random);
        ToolPostInvokeResult {
            retry: decision.retry,
            retry_delay_ms: decision.delay_ms,
            metadata: Cow::into_owned(decision.metadata),
            warning: decision.warning,
        }
    }
}

impl NativeHook for ResourcePostFetch<'_> {
    fn call_native(&self, native: &mut NativePlugin) -> Self::Output {
        ResourcePostFetchResult {
            metadata: native.plugin.resource_post_fetch().to_owned(),
        }
    }
}

impl NativeHook for Describe {
    fn call_native(&self, native: &mut NativePlugin) -> Self::Output {
        native.plugin.config().describe().to_string()
    }
}

impl NativeHook for Stats {
    fn call_native(&self, native: &mut NativePlugin) -> Self::Output {
        native.plugin.stats_json()
    }
}

/// The engine called directly, with the same clock and random sequence a guest would see.
pub struct NativePlugin {
    plugin: Plugin,
    clock: VirtualClock,
    /// Seeded from the guest's source once, as the component does.
    random: LazySeeded<SeededRandom>,
}

impl NativePlugin {
    /// A plugin with the default configuration in the world of `env`. The native baseline
    /// only runs in virtual worlds: without a virtual clock it reads one stopped at
    /// [`DEFAULT_START_WALL_MS`], and without a seed it takes a fresh one.
    pub fn new(env: &GuestEnv) -> Self {
        Self {
            plugin: Plugin::default(),
            clock: env
                .clock
                .clone()
                .unwrap_or_else(|| VirtualClock::new(DEFAULT_START_WALL_MS)),
            random: LazySeeded::new(SeededRandom::new(env.seed.unwrap_or_else(fresh_seed))),
        }
    }
}

/// Reads the WIT record natively, as the component does.
struct NativeView<'a>(&'a CallToolResult);

impl ToolResultView for NativeView<'_> {
    fn is_error(&self) -> Option<bool> {
        self.0.is_error
    }

    fn structured_content(&self) -> Option<&str> {
        self.0.structured_content.as_deref()
    }

    fn text_items(&self) -> impl Iterator<Item = &str> {
        self.0.content.iter().filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.text.as_str()),
            _ => None,
        })
    }
}

fn config_error(errors: ConfigErrors) -> ConfigError {
    match errors {
        ConfigErrors::Malformed(message) => ConfigError::Malformed(message),
        ConfigErrors::Invalid(errors) => ConfigError::Invalid(
            errors
                .into_iter()
                .map(|error| ConfigIssue {
                    key: error.key,
                    message: error.message,
                })
                .collect(),
        ),
    }
}

/// Which backends to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BackendChoice {
    /// The wasm component only.
    Wasm,
    /// The native engine only.
    Native,
    /// Both, requiring equal outcomes.
    #[default]
    Both,
}

/// Creates the backends of `choice` for one scenario, each in the world of `env`.
pub fn backends(
    runtime: &PluginRuntime,
    choice: BackendChoice,
    env: &GuestEnv,
) -> Result<Vec<Backend>> {
    let mut out = Vec::new();
    if choice != BackendChoice::Native {
        out.push(Backend::Wasm(runtime.instantiate(env)?));
    }
    if choice != BackendChoice::Wasm {
        out.push(Backend::Native(Box::new(NativePlugin::new(env))));
    }
    Ok(out)
}
