//! What the engine is asked and what it answers: one `tool_post_invoke` call and its decision.

use std::borrow::Cow;

/// One `tool_post_invoke` call, as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct ToolCall<'a, R: ?Sized> {
    /// The tool name.
    pub tool: &'a str,
    /// The gateway's request id (the same for every retry of one call).
    pub request_id: &'a str,
    /// The trace id, when the call is traced.
    pub trace_id: Option<&'a str>,
    /// The tool's result.
    pub result: &'a R,
    /// The time the caller has left for the whole call, in ms, when the host knows it.
    pub remaining_ms: Option<u64>,
    /// The tool's MCP annotations, when the host has them.
    pub annotations: Option<ToolAnnotations>,
}

/// A tool's MCP annotations (each hint optional: absent means unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolAnnotations {
    /// `readOnlyHint`.
    pub read_only: Option<bool>,
    /// `destructiveHint`.
    pub destructive: Option<bool>,
    /// `idempotentHint`.
    pub idempotent: Option<bool>,
    /// `openWorldHint`.
    pub open_world: Option<bool>,
}

/// The answer to one `tool_post_invoke` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDecision {
    /// Whether the gateway should re-invoke the tool.
    pub retry: bool,
    /// How long to wait first: >= 1 when `retry`, 0 otherwise.
    pub delay_ms: u64,
    /// The metadata object, as JSON text.
    pub metadata: Cow<'static, str>,
    /// A line to log, when the decision deserves one (a request that exhausted its budget).
    pub warning: Option<String>,
}
