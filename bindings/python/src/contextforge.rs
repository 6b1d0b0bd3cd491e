//! The ContextForge (cpex) hooks, answered in one native call each.
//!
//! # Why in Rust
//! A hook call is dominated by fixed costs: reading cpex's payload and context, crossing into
//! the component, building cpex's pydantic result. Doing the reading and the result's keyword
//! arguments here, with interned attribute names and the result class looked up once, leaves
//! the Python hook a single call, which is what lets the sandboxed plugin be as fast as the
//! native one it replaces.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use retry_host::bindings::PluginContext;

use crate::PyPlugin;
use crate::json;

/// The hooks of one ContextForge plugin object: its component plugin, cpex's two result
/// classes and the logger the give-up warning goes to.
#[pyclass(
    frozen,
    name = "ContextForgeHooks",
    module = "retry_with_backoff_component._native"
)]
pub(crate) struct ContextForgeHooks {
    plugin: Py<PyPlugin>,
    tool_result_type: Py<PyAny>,
    resource_result_type: Py<PyAny>,
    logger: Py<PyAny>,
}

/// `value` when it is a non-empty string.
fn text_of(value: &Bound<'_, PyAny>) -> Option<String> {
    let text = value.cast::<PyString>().ok()?.to_str().ok()?;
    (!text.is_empty()).then(|| text.to_owned())
}

/// `extensions.request.trace_id`; anything missing or unreadable counts as no trace.
fn trace_id(py: Python<'_>, extensions: Option<&Bound<'_, PyAny>>) -> Option<String> {
    let request = extensions?.getattr(intern!(py, "request")).ok()?;
    text_of(&request.getattr(intern!(py, "trace_id")).ok()?)
}

#[pymethods]
impl ContextForgeHooks {
    /// Hooks for `plugin` returning `tool_result_type` and `resource_result_type` objects and
    /// logging give-ups on `logger`.
    #[new]
    fn new(
        plugin: Py<PyPlugin>,
        tool_result_type: Py<PyAny>,
        resource_result_type: Py<PyAny>,
        logger: Py<PyAny>,
    ) -> Self {
        Self {
            plugin,
            tool_result_type,
            resource_result_type,
            logger,
        }
    }

    /// `tool_post_invoke(payload, context, extensions)`: reads `payload.name`,
    /// `payload.result`, `context.global_context` (request, server and tenant ids) and
    /// `extensions.request.trace_id`, and returns `ToolPostInvokeResult(retry_delay_ms=...)`
    /// with `metadata=` when the component wrote any. A give-up is logged as a warning.
    #[pyo3(signature = (payload, context, extensions = None))]
    fn tool_post_invoke<'py>(
        &self,
        py: Python<'py>,
        payload: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        extensions: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = payload.getattr(intern!(py, "name"))?;
        let tool = name.cast::<PyString>()?.to_str()?;
        let result = payload.getattr(intern!(py, "result"))?;
        let scope = context.getattr(intern!(py, "global_context"))?;
        let request_id = scope
            .getattr(intern!(py, "request_id"))?
            .extract::<String>()?;
        let call_context = PluginContext {
            request_id,
            trace_id: trace_id(py, extensions),
            server_id: text_of(&scope.getattr(intern!(py, "server_id"))?),
            tenant_id: text_of(&scope.getattr(intern!(py, "tenant_id"))?),
            user: None,
            remaining_ms: None,
        };
        // cpex's payload has no tool annotations; a gateway that has them may set
        // `payload.annotations` (the MCP `ToolAnnotations`, a dict or a pydantic model).
        let annotations = payload
            .getattr_opt(intern!(py, "annotations"))?
            .filter(|hints| !hints.is_none());
        let answer =
            self.plugin
                .get()
                .answer(tool, &result, annotations.as_ref(), &call_context)?;
        if let Some(warning) = &answer.warning {
            self.logger.bind(py).call_method1(
                intern!(py, "warning"),
                ("tool_post_invoke: %s", warning.as_str()),
            )?;
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "retry_delay_ms"), answer.retry_delay_ms)?;
        if answer.metadata != "{}" {
            kwargs.set_item(
                intern!(py, "metadata"),
                json::parse_to_python(py, &answer.metadata)?,
            )?;
        }
        self.tool_result_type.bind(py).call((), Some(&kwargs))
    }

    /// `resource_post_fetch(payload, context)`: `ResourcePostFetchResult(metadata=...)` with
    /// the retry policy in force.
    fn resource_post_fetch<'py>(
        &self,
        py: Python<'py>,
        payload: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // Like the plugin it replaces, the answer does not depend on the payload or the
        // context: unreadable parts are left out rather than refused.
        let uri = payload
            .getattr(intern!(py, "uri"))
            .and_then(|uri| uri.str())
            .map(|uri| uri.to_string())
            .unwrap_or_default();
        let scope = context.getattr(intern!(py, "global_context")).ok();
        let field = |name: &Bound<'py, PyString>| {
            scope
                .as_ref()
                .and_then(|scope| scope.getattr(name).ok())
                .and_then(|value| text_of(&value))
        };
        let call_context = PluginContext {
            request_id: field(intern!(py, "request_id")).unwrap_or_default(),
            trace_id: None,
            server_id: field(intern!(py, "server_id")),
            tenant_id: field(intern!(py, "tenant_id")),
            user: None,
            remaining_ms: None,
        };
        let metadata = self
            .plugin
            .get()
            .fetch_metadata(py, &uri, None, call_context)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "metadata"), metadata)?;
        self.resource_result_type.bind(py).call((), Some(&kwargs))
    }
}
