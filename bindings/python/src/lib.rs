//! `retry_with_backoff_component._native`: the retry-with-backoff component and wasmtime in one
//! Python extension module, on the `retry-host` library.
//!
//! Python hands dicts in; they become JSON values here and WIT records in `retry_host::payload`
//! (the one conversion every Rust host shares); the component decides; the answer comes back as
//! small Python objects. The ContextForge plugin class (`RetryWithBackoffPlugin`) is written in
//! Python on top of [`PyPlugin`].
#![allow(
    unsafe_code,
    reason = "PyO3's macros expand to unsafe FFI glue; the code written here is safe"
)]

mod cache;
mod contextforge;
mod json;

use json::PyJson;

use std::sync::OnceLock;

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use retry_host::bindings::{
    ConfigError as WitConfigError, PluginContext, ToolPostInvokePayload, ToolPostInvokeResult,
};
use retry_host::guest_env::DEFAULT_START_WALL_MS;
use retry_host::hook::{Configure, Describe, ResourcePostFetch, ToolPostInvoke};
use retry_host::runtime::PLUGIN_COMPONENT;
use retry_host::{GuestEnv, PluginPool, PluginRuntime, VirtualClock, payload};

create_exception!(
    _native,
    ConfigError,
    PyValueError,
    "The plugin refused a configuration. `issues` lists every broken rule as a `(key, message)` \
     pair; the message names the key, the rule and the bad value."
);

create_exception!(
    _native,
    StateError,
    PyValueError,
    "The plugin refused a state snapshot (text that is not one, or of another version); the \
     state in force is unchanged."
);

/// A host or guest failure (a trap, or a component that cannot load) as a Python error.
fn host_error(err: &anyhow::Error) -> PyErr {
    PyRuntimeError::new_err(format!("{err:#}"))
}

/// The Python `ConfigError` for the component's refusal, with every issue.
fn config_error(py: Python<'_>, err: WitConfigError) -> PyErr {
    let issues: Vec<(String, String)> = match err {
        WitConfigError::Malformed(message) => vec![(String::new(), message)],
        WitConfigError::Invalid(issues) => issues
            .into_iter()
            .map(|issue| (issue.key, issue.message))
            .collect(),
    };
    let mut message = format!("the plugin refused its config ({} issue(s))", issues.len());
    for (key, text) in &issues {
        if key.is_empty() {
            message.push_str(&format!("\n  {text}"));
        } else {
            message.push_str(&format!("\n  [{key}] {text}"));
        }
    }
    let error = ConfigError::new_err(message);
    let attached = PyList::new(py, issues).and_then(|list| error.value(py).setattr("issues", list));
    match attached {
        Ok(()) => error,
        Err(other) => other,
    }
}

/// The plugin's config as JSON text: a `str` is passed as it is (the component reports text
/// that is not a JSON object), anything else is converted from Python; `None` is `{}`.
fn config_text(config: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    match config {
        None => Ok("{}".to_owned()),
        Some(value) if value.is_none() => Ok("{}".to_owned()),
        Some(value) => match value.cast::<PyString>() {
            Ok(text) => Ok(text.to_str()?.to_owned()),
            Err(_) => PyJson::new(value.clone()).to_text(),
        },
    }
}

/// A clock the host moves by hand, for tests and simulations: a plugin created with it reads
/// monotonic time `now_ms` and wall time `start_wall_ms + now_ms`.
#[pyclass(
    frozen,
    name = "VirtualClock",
    module = "retry_with_backoff_component._native"
)]
struct PyVirtualClock {
    clock: VirtualClock,
}

#[pymethods]
impl PyVirtualClock {
    /// A clock at 0 whose wall clock reads `start_wall_ms` (Unix ms; default
    /// 2026-01-01T00:00:00Z).
    #[new]
    #[pyo3(signature = (start_wall_ms = DEFAULT_START_WALL_MS))]
    fn new(start_wall_ms: u64) -> Self {
        Self {
            clock: VirtualClock::new(start_wall_ms),
        }
    }

    /// Sets the virtual time, in ms since the start.
    fn set_ms(&self, at_ms: u64) {
        self.clock.set_ms(at_ms);
    }

    /// Moves the virtual time forward by `ms`.
    fn advance_ms(&self, ms: u64) {
        self.clock.set_ms(self.clock.now_ms().saturating_add(ms));
    }

    /// The virtual time, in ms since the start.
    #[getter]
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn __repr__(&self) -> String {
        format!("VirtualClock(now_ms={})", self.clock.now_ms())
    }
}

/// The world a plugin is created in: real clocks and random, or a virtual clock and a seed.
fn guest_env(clock: Option<&PyVirtualClock>, seed: Option<u64>) -> GuestEnv {
    let mut env = GuestEnv::real();
    env.clock = clock.map(|clock| clock.clock.clone());
    env.seed = seed;
    env
}

/// A compiled component, from which plugins are instantiated. `Component()` is the component
/// bundled in this package, compiled once per process (and once per machine, through the
/// artifact cache).
#[pyclass(
    frozen,
    name = "Component",
    module = "retry_with_backoff_component._native"
)]
struct PyComponent {
    runtime: PluginRuntime,
}

/// The bundled component, compiled on first use.
fn bundled_runtime() -> PyResult<PluginRuntime> {
    static RUNTIME: OnceLock<PluginRuntime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.clone());
    }
    let runtime = cache::load(PLUGIN_COMPONENT).map_err(|err| host_error(&err))?;
    Ok(RUNTIME.get_or_init(|| runtime).clone())
}

#[pymethods]
impl PyComponent {
    /// The bundled component.
    #[new]
    fn new() -> PyResult<Self> {
        Ok(Self {
            runtime: bundled_runtime()?,
        })
    }

    /// Another build of the component, from a `.wasm` file (compiled through the artifact
    /// cache).
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Self> {
        let wasm = std::fs::read(&path).map_err(|err| {
            PyRuntimeError::new_err(format!("cannot read component {}: {err}", path.display()))
        })?;
        let runtime = cache::load(&wasm).map_err(|err| {
            host_error(&err.context(format!("cannot load component {}", path.display())))
        })?;
        Ok(Self { runtime })
    }

    /// A new plugin instance of this component; see `Plugin`.
    #[pyo3(signature = (config = None, *, clock = None, seed = None, shards = 1))]
    fn plugin(
        &self,
        py: Python<'_>,
        config: Option<&Bound<'_, PyAny>>,
        clock: Option<PyRef<'_, PyVirtualClock>>,
        seed: Option<u64>,
        shards: usize,
    ) -> PyResult<PyPlugin> {
        PyPlugin::create(py, &self.runtime, config, clock.as_deref(), seed, shards)
    }

    /// The interfaces the component imports (WASI clocks, random, cli and io).
    #[getter]
    fn imports(&self) -> Vec<String> {
        self.runtime.imports()
    }
}

/// The bytes of the bundled component (`retry_component.wasm`), for other runtimes.
#[pyfunction]
fn component_bytes(py: Python<'_>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, PLUGIN_COMPONENT)
}

/// Where compiled components are cached (`RETRY_WITH_BACKOFF_CACHE_DIR`, else the user's
/// cache directory), or `None` when there is no per-user cache directory (no caching).
#[pyfunction]
fn cache_dir() -> Option<std::path::PathBuf> {
    cache::cache_dir()
}

/// The answer to `tool_post_invoke`: whether to retry, after how long, why, and a line to log.
#[pyclass(
    frozen,
    name = "ToolDecision",
    module = "retry_with_backoff_component._native"
)]
struct PyToolDecision {
    answer: ToolPostInvokeResult,
}

#[pymethods]
impl PyToolDecision {
    /// Whether the gateway should call the tool again (with the same request id).
    #[getter]
    fn retry(&self) -> bool {
        self.answer.retry
    }

    /// How long to wait first: at least 1 when retrying, 0 otherwise.
    #[getter]
    fn retry_delay_ms(&self) -> u64 {
        self.answer.retry_delay_ms
    }

    /// The metadata that explains the decision, as a new dict on each access.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::parse_to_python(py, &self.answer.metadata)
    }

    /// The metadata as the component returned it, JSON text.
    #[getter]
    fn metadata_json(&self) -> &str {
        &self.answer.metadata
    }

    /// A line to log at warning level (a request that exhausted its retries), or `None`.
    #[getter]
    fn warning(&self) -> Option<&str> {
        self.answer.warning.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "ToolDecision(retry={}, retry_delay_ms={}, metadata={}, warning={:?})",
            if self.answer.retry { "True" } else { "False" },
            self.answer.retry_delay_ms,
            self.answer.metadata,
            self.answer.warning
        )
    }
}

/// One plugin: its own instance (or `shards` instances, each tool always on the same one) of
/// the component, with its own state. Safe to share among threads: each instance has a lock
/// (calls hold the GIL, so threads take turns), and a call that traps is replaced by a fresh
/// instance with the same config.
#[pyclass(
    frozen,
    name = "Plugin",
    module = "retry_with_backoff_component._native"
)]
pub(crate) struct PyPlugin {
    pool: PluginPool,
}

impl PyPlugin {
    /// Converts the result, asks the component, and returns its answer.
    pub(crate) fn answer(
        &self,
        tool: &str,
        result: &Bound<'_, PyAny>,
        annotations: Option<&Bound<'_, PyAny>>,
        context: &PluginContext,
    ) -> PyResult<ToolPostInvokeResult> {
        let payload = ToolPostInvokePayload {
            annotations: annotations
                .and_then(|hints| payload::tool_annotations(PyJson::new(hints.clone()))),
            ..payload::tool_payload(tool, PyJson::new(result.clone()))
        };
        self.pool
            .call(&ToolPostInvoke {
                payload: &payload,
                context,
            })
            .map_err(|err| host_error(&err))
    }

    /// The metadata of `resource-post-fetch` as a Python dict.
    pub(crate) fn fetch_metadata<'py>(
        &self,
        py: Python<'py>,
        uri: &str,
        content: Option<&Bound<'_, PyAny>>,
        context: PluginContext,
    ) -> PyResult<Bound<'py, PyAny>> {
        let payload = payload::resource_payload(uri, content.map(|c| PyJson::new(c.clone())));
        let answer = self
            .pool
            .call(&ResourcePostFetch {
                payload: &payload,
                context: &context,
            })
            .map_err(|err| host_error(&err))?;
        json::parse_to_python(py, &answer.metadata)
    }

    fn create(
        py: Python<'_>,
        runtime: &PluginRuntime,
        config: Option<&Bound<'_, PyAny>>,
        clock: Option<&PyVirtualClock>,
        seed: Option<u64>,
        shards: usize,
    ) -> PyResult<Self> {
        let pool = PluginPool::new(runtime, shards, &guest_env(clock, seed))
            .map_err(|err| host_error(&err))?;
        let plugin = Self { pool };
        if config.is_some_and(|config| !config.is_none()) {
            plugin.configure(py, config)?;
        }
        Ok(plugin)
    }
}

#[pymethods]
impl PyPlugin {
    /// A plugin of the bundled component. `config` (a dict, or JSON text) is applied at once;
    /// without it the defaults of the plugin manifest apply. `clock` (a `VirtualClock`) and
    /// `seed` virtualise time and randomness; by default the plugin reads the real clocks and
    /// a secure random source. `shards` instances share the tools between them (each tool always
    /// on the same one); calls hold the GIL, so threads take turns either way.
    ///
    /// Raises `ConfigError` when the config is refused.
    #[new]
    #[pyo3(signature = (config = None, *, clock = None, seed = None, shards = 1))]
    fn new(
        py: Python<'_>,
        config: Option<&Bound<'_, PyAny>>,
        clock: Option<PyRef<'_, PyVirtualClock>>,
        seed: Option<u64>,
        shards: usize,
    ) -> PyResult<Self> {
        Self::create(
            py,
            &bundled_runtime()?,
            config,
            clock.as_deref(),
            seed,
            shards,
        )
    }

    /// Validates `config` (a dict, or JSON text) and puts it in force, dropping all retry and
    /// breaker state. Raises `ConfigError` listing every issue; the previous config then stays.
    #[pyo3(signature = (config))]
    fn configure(&self, py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let text = config_text(config)?;
        self.pool
            .call(&Configure(&text))
            .map_err(|err| host_error(&err))?
            .map_err(|err| config_error(py, err))
    }

    /// Decides whether the gateway should retry a tool call. `result` is the MCP
    /// `CallToolResult` as received (a dict with `content`, `isError`, `structuredContent`,
    /// `_meta`, or a pydantic model of it).
    #[pyo3(signature = (tool, result, request_id, *, trace_id = None, server_id = None, tenant_id = None, user = None, remaining_ms = None, tool_annotations = None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the WIT context's fields"
    )]
    fn tool_post_invoke(
        &self,
        tool: &str,
        result: &Bound<'_, PyAny>,
        request_id: String,
        trace_id: Option<String>,
        server_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
        remaining_ms: Option<u64>,
        tool_annotations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyToolDecision> {
        let context = PluginContext {
            request_id,
            trace_id,
            server_id,
            tenant_id,
            user,
            remaining_ms,
        };
        let answer = self.answer(tool, result, tool_annotations, &context)?;
        Ok(PyToolDecision { answer })
    }

    /// The metadata for a resource fetch (a dict: the retry policy in force). A fetch is never
    /// retried.
    #[pyo3(signature = (uri, content = None, request_id = String::new(), *, trace_id = None, server_id = None, tenant_id = None, user = None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the WIT context's fields"
    )]
    fn resource_post_fetch<'py>(
        &self,
        py: Python<'py>,
        uri: &str,
        content: Option<&Bound<'_, PyAny>>,
        request_id: String,
        trace_id: Option<String>,
        server_id: Option<String>,
        tenant_id: Option<String>,
        user: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fetch_metadata(
            py,
            uri,
            content,
            PluginContext {
                request_id,
                trace_id,
                server_id,
                tenant_id,
                user,
                remaining_ms: None,
            },
        )
    }

    /// The retry statistics per tool since the config was put in force, as a dict keyed by tool:
    /// `calls`, `successes`, `failures` (by decision), `retries_granted`, `recovered`,
    /// `total_delay_ms`, `breaker_opens` (merged over the plugin's instances).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = self.pool.stats().map_err(|err| host_error(&err))?;
        json::parse_to_python(py, &stats.to_string())
    }

    /// The configuration in force as a dict: its schema, every key's effective value, and the
    /// effective policy per tool, status code and error pattern.
    fn describe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = self.pool.call(&Describe).map_err(|err| host_error(&err))?;
        json::parse_to_python(py, &text)
    }

    /// Everything the plugin remembers (request counters, breakers, budgets, statistics) as a
    /// versioned JSON snapshot whose times are relative to now, merged over the plugin's
    /// instances, for another plugin under the same config (any number of shards) to take over.
    fn export_state(&self) -> PyResult<String> {
        self.pool.export_state().map_err(|err| host_error(&err))
    }

    /// Takes over a snapshot of `export_state` (its text, or the parsed dict), on top of the
    /// state in force; configure first (the config is not part of it). Raises `StateError` for
    /// anything that is not a snapshot; the state in force is then unchanged.
    fn import_state(&self, state: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = config_text(Some(state))?;
        self.pool
            .import_state(&text)
            .map_err(|err| host_error(&err))?
            .map_err(|reason| {
                StateError::new_err(format!("the plugin refused the state snapshot: {reason}"))
            })
    }

    /// How many component instances serve this plugin.
    #[getter]
    fn shards(&self) -> usize {
        self.pool.len()
    }
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ConfigError", m.py().get_type::<ConfigError>())?;
    m.add("StateError", m.py().get_type::<StateError>())?;
    m.add_class::<PyVirtualClock>()?;
    m.add_class::<PyComponent>()?;
    m.add_class::<PyPlugin>()?;
    m.add_class::<PyToolDecision>()?;
    m.add_class::<contextforge::ContextForgeHooks>()?;
    m.add_function(wrap_pyfunction!(component_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(cache_dir, m)?)?;
    m.add("DEFAULT_START_WALL_MS", DEFAULT_START_WALL_MS)?;
    Ok(())
}
