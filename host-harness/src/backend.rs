//! Two ways to run the plugin behind one interface: the wasm component through wasmtime, and
//! the same engine linked natively. Conformance runs every scenario on both and requires equal
//! outcomes; the benchmarks use the native one as a baseline.

use std::borrow::Cow;

use anyhow::Result;
use retry_engine::{ConfigErrors, LazySeeded, Plugin, ToolCall, ToolResultView};

use crate::bindings::{
    CallToolResult, ConfigError, ConfigIssue, ContentBlock, PluginContext,
    ResourcePostFetchPayload, ResourcePostFetchResult, ToolPostInvokePayload, ToolPostInvokeResult,
};
use crate::guest_env::{GuestEnv, SeededRandom, VirtualClock};
use crate::runtime::{PluginInstance, PluginRuntime};

/// A plugin instance, whatever runs it.
pub trait PluginBackend {
    /// The backend's name, for reports.
    fn name(&self) -> &'static str;
    /// The clock the plugin reads.
    fn clock(&self) -> &VirtualClock;
    /// Configures the plugin (`Ok(Err(..))`: the plugin refused the config).
    fn configure(&mut self, config_json: &str) -> Result<Result<(), ConfigError>>;
    /// The `tool_post_invoke` hook.
    fn tool_post_invoke(
        &mut self,
        payload: &ToolPostInvokePayload,
        context: &PluginContext,
    ) -> Result<ToolPostInvokeResult>;
    /// The `resource_post_fetch` hook.
    fn resource_post_fetch(
        &mut self,
        payload: &ResourcePostFetchPayload,
        context: &PluginContext,
    ) -> Result<ResourcePostFetchResult>;
}

impl PluginBackend for PluginInstance {
    fn name(&self) -> &'static str {
        "wasm"
    }

    fn clock(&self) -> &VirtualClock {
        PluginInstance::clock(self)
    }

    fn configure(&mut self, config_json: &str) -> Result<Result<(), ConfigError>> {
        PluginInstance::configure(self, config_json)
    }

    fn tool_post_invoke(
        &mut self,
        payload: &ToolPostInvokePayload,
        context: &PluginContext,
    ) -> Result<ToolPostInvokeResult> {
        PluginInstance::tool_post_invoke(self, payload, context)
    }

    fn resource_post_fetch(
        &mut self,
        payload: &ResourcePostFetchPayload,
        context: &PluginContext,
    ) -> Result<ResourcePostFetchResult> {
        PluginInstance::resource_post_fetch(self, payload, context)
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
    /// A plugin with the default configuration in the world of `env`.
    pub fn new(env: &GuestEnv) -> Self {
        Self {
            plugin: Plugin::default(),
            clock: env.clock.clone(),
            random: LazySeeded::new(SeededRandom::new(env.seed)),
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

impl PluginBackend for NativePlugin {
    fn name(&self) -> &'static str {
        "native"
    }

    fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    fn configure(&mut self, config_json: &str) -> Result<Result<(), ConfigError>> {
        Ok(self
            .plugin
            .configure_json(config_json)
            .map_err(config_error))
    }

    fn tool_post_invoke(
        &mut self,
        payload: &ToolPostInvokePayload,
        context: &PluginContext,
    ) -> Result<ToolPostInvokeResult> {
        let view = NativeView(&payload.result);
        let call = ToolCall {
            tool: &payload.name,
            request_id: &context.request_id,
            trace_id: context.trace_id.as_deref(),
            result: &view,
        };
        let decision = self
            .plugin
            .tool_post_invoke(&call, &self.clock, &mut self.random);
        Ok(ToolPostInvokeResult {
            retry: decision.retry,
            retry_delay_ms: decision.delay_ms,
            metadata: Cow::into_owned(decision.metadata),
            warning: decision.warning,
        })
    }

    fn resource_post_fetch(
        &mut self,
        _payload: &ResourcePostFetchPayload,
        _context: &PluginContext,
    ) -> Result<ResourcePostFetchResult> {
        Ok(ResourcePostFetchResult {
            metadata: self.plugin.resource_post_fetch().to_owned(),
        })
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
) -> Result<Vec<Box<dyn PluginBackend>>> {
    let mut out: Vec<Box<dyn PluginBackend>> = Vec::new();
    if choice != BackendChoice::Native {
        out.push(Box::new(runtime.instantiate(env)?));
    }
    if choice != BackendChoice::Wasm {
        out.push(Box::new(NativePlugin::new(env)));
    }
    Ok(out)
}
