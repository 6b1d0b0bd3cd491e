//! One call of an export, as a value: which export, with which arguments, and how a pool routes
//! it. Every layer of a host ([`crate::PluginInstance`], [`crate::SupervisedPlugin`],
//! [`crate::PluginPool`]) has a single generic `call` taking a [`Hook`], so adding an export
//! means adding one type here rather than a forwarding method on every layer.

use wasmtime::Store;

use crate::bindings::{
    ConfigError, PluginContext, PluginExports, ResourcePostFetchPayload, ResourcePostFetchResult,
    ToolPostInvokePayload, ToolPostInvokeResult,
};
use crate::guest_env::HostState;

/// Which instance of a pool a call must reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// The instance that owns this key (a tool name, a URI): state kept per key stays in one
    /// place.
    Key(&'a str),
    /// Any one instance: the call reads what every instance shares (the configuration).
    Any,
    /// Every instance, in order; the first instance's answer is returned.
    Every,
}

/// A call of one export of the `plugin` interface.
pub trait Hook {
    /// What the export returns.
    type Output;
    /// The export's WIT name, for error messages.
    const EXPORT: &'static str;
    /// How many ordinary calls' execution bound (time or fuel) this call may use.
    const BOUND_MULTIPLIER: u64 = 1;

    /// Which instance of a pool the call goes to.
    fn route(&self) -> Route<'_>;

    /// Calls the export in `store`.
    ///
    /// # Errors
    /// The guest trapped or exceeded its execution bound.
    fn invoke(
        &self,
        exports: &PluginExports,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Output>;

    /// The configuration this call put in force, given its answer: a supervisor re-applies it
    /// to the instance that replaces a trapped one. `None` for calls that configure nothing.
    fn configured<'a>(&'a self, _output: &Self::Output) -> Option<&'a str> {
        None
    }
}

/// `configure(config)`: the plugin's config as a JSON object.
#[derive(Debug, Clone, Copy)]
pub struct Configure<'a>(pub &'a str);

impl Hook for Configure<'_> {
    type Output = Result<(), ConfigError>;
    const EXPORT: &'static str = "configure";
    /// A gateway-scale config (up to 40 000 tool policies, about 0.3 s) is parsed and
    /// validated in one call: 20 times a decision's bound (about 2 s under epochs).
    const BOUND_MULTIPLIER: u64 = 20;

    fn route(&self) -> Route<'_> {
        Route::Every
    }

    fn invoke(
        &self,
        exports: &PluginExports,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Output> {
        exports.call_configure(store, self.0)
    }

    fn configured<'a>(&'a self, output: &Self::Output) -> Option<&'a str> {
        output.is_ok().then_some(self.0)
    }
}

/// `tool-post-invoke(payload, context)`.
#[derive(Debug, Clone, Copy)]
pub struct ToolPostInvoke<'a> {
    /// The tool and its result.
    pub payload: &'a ToolPostInvokePayload,
    /// Where the call comes from.
    pub context: &'a PluginContext,
}

impl Hook for ToolPostInvoke<'_> {
    type Output = ToolPostInvokeResult;
    const EXPORT: &'static str = "tool-post-invoke";

    fn route(&self) -> Route<'_> {
        Route::Key(&self.payload.name)
    }

    fn invoke(
        &self,
        exports: &PluginExports,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Output> {
        exports.call_tool_post_invoke(store, self.payload, self.context)
    }
}

/// `resource-post-fetch(payload, context)`.
#[derive(Debug, Clone, Copy)]
pub struct ResourcePostFetch<'a> {
    /// The resource and its contents.
    pub payload: &'a ResourcePostFetchPayload,
    /// Where the call comes from.
    pub context: &'a PluginContext,
}

impl Hook for ResourcePostFetch<'_> {
    type Output = ResourcePostFetchResult;
    const EXPORT: &'static str = "resource-post-fetch";

    fn route(&self) -> Route<'_> {
        Route::Key(&self.payload.uri)
    }

    fn invoke(
        &self,
        exports: &PluginExports,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Output> {
        exports.call_resource_post_fetch(store, self.payload, self.context)
    }
}

/// Declares a hook that takes no argument and answers JSON text, asked of one instance.
macro_rules! text_query {
    ($(#[$meta:meta])* $name:ident, $export:literal, $call:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl Hook for $name {
            type Output = String;
            const EXPORT: &'static str = $export;

            fn route(&self) -> Route<'_> {
                Route::Any
            }

            fn invoke(
                &self,
                exports: &PluginExports,
                store: &mut Store<HostState>,
            ) -> wasmtime::Result<Self::Output> {
                exports.$call(store)
            }
        }
    };
}

text_query!(
    /// `describe()`: the configuration in force, as JSON text.
    Describe,
    "describe",
    call_describe
);

text_query!(
    /// `stats()`: the retry statistics per tool, as JSON text (one instance's; a pool merges
    /// them, see [`crate::PluginPool::stats`]).
    Stats,
    "stats",
    call_stats
);

text_query!(
    /// `export-state()`: the instance's state snapshot, as JSON text.
    ExportState,
    "export-state",
    call_export_state
);

/// `import-state(state)`: takes over a snapshot of [`ExportState`]; the guest's reason when it
/// refuses it.
#[derive(Debug, Clone, Copy)]
pub struct ImportState<'a>(pub &'a str);

impl Hook for ImportState<'_> {
    type Output = Result<(), String>;
    const EXPORT: &'static str = "import-state";
    // Replaying a large snapshot (10 000 tracked requests) is closer to a configure than to a
    // decision.
    const BOUND_MULTIPLIER: u64 = 20;

    fn route(&self) -> Route<'_> {
        Route::Any
    }

    fn invoke(
        &self,
        exports: &PluginExports,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Self::Output> {
        exports.call_import_state(store, self.0)
    }
}
