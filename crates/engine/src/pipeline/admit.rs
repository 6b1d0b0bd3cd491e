//! The admit step: rules that may refuse a retry the policy would allow.
//!
//! Every rule sees every classified result, in the order of [`AdmissionRules`]' fields, so
//! each keeps its own state current (a breaker counts successes too); the first refusal
//! decides. To add a rule: write a module here implementing [`AdmissionRule`], give it a field
//! of [`AdmissionRules`] (and a line in `each_rule!`), and set it in
//! [`super::Pipeline::new`].

mod circuit_breaker;
mod repeat_safety;
mod retry_budget;

pub(crate) use circuit_breaker::CircuitBreaker;
pub(crate) use repeat_safety::RepeatSafety;
pub(crate) use retry_budget::RetryBudget;

use super::Decision;
use super::Now;
use super::classify::{Classification, Verdict};
use crate::breaker::BreakerState;
use crate::call::ToolAnnotations;
use crate::snapshot::Snapshot;
use crate::tool_event::ToolEvent;

/// One classified call, as an admission rule sees it.
pub(crate) struct Attempt<'a> {
    /// The tool name.
    pub(crate) tool: &'a str,
    /// What the classify step found.
    pub(crate) verdict: &'a Verdict,
    /// The decision's monotonic time (read on first use).
    pub(crate) now: &'a Now<'a>,
    /// The tool's MCP annotations, when the host passed them.
    pub(crate) annotations: Option<&'a ToolAnnotations>,
}

impl Attempt<'_> {
    /// The call as per-tool state sees it.
    pub(crate) fn event(&self) -> ToolEvent {
        match self.verdict.outcome {
            Classification::Success => ToolEvent::Success,
            Classification::Retryable { .. } => ToolEvent::RetryableFailure,
            Classification::NotRetryable { .. } => ToolEvent::NonRetryableFailure,
        }
    }
}

/// What the admission rules report for the metadata.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AdmissionNotes {
    /// The circuit breaker's state after the call, when a breaker is configured.
    pub(crate) breaker: Option<BreakerNote>,
    /// The tool's retry budget after the call, when a budget is configured.
    pub(crate) budget: Option<BudgetNote>,
}

/// The retry budget part of the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BudgetNote {
    /// The tool's tokens after the call, in thousandths.
    pub(crate) milli_tokens: u64,
    /// The most tokens the tool can hold.
    pub(crate) max_tokens: u32,
}

/// The circuit breaker part of the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BreakerNote {
    /// The state after the call.
    pub(crate) state: BreakerState,
    /// Consecutive retryable failures of the tool after the call.
    pub(crate) consecutive_failures: u32,
    /// Whether the breaker may open (`circuit_breaker.enabled`).
    pub(crate) enabled: bool,
    /// Whether this call opened it.
    pub(crate) opened: bool,
}

/// A rule of the admit step.
pub(crate) trait AdmissionRule: std::fmt::Debug {
    /// Observes `attempt` and returns the decision that refuses its retry, if this rule
    /// refuses it; notes what the metadata should report.
    fn admit(&mut self, attempt: &Attempt<'_>, notes: &mut AdmissionNotes) -> Option<Decision>;

    /// Writes the rule's state into `snapshot` (at `now_ms`); stateless rules write nothing.
    fn save(&self, _snapshot: &mut Snapshot, _now_ms: u64) {}

    /// Takes the rule's state back from `snapshot` (at `now_ms`).
    fn restore(&mut self, _snapshot: &Snapshot, _now_ms: u64) {}
}

/// The admit step's rules, each present when the config asks for it, in the contract's order:
/// the circuit breaker, idempotency safety, then the retry budget. Held as fields rather than
/// a list so that each rule is called directly, with no loop or dispatch between them (in wasm
/// a loop over a list of rules cost about 40 instructions a decision with one rule).
#[derive(Debug, Default)]
pub(crate) struct AdmissionRules {
    /// The tool's circuit breaker.
    pub(crate) circuit_breaker: Option<CircuitBreaker>,
    /// Refuses to repeat calls that are not safe to repeat.
    pub(crate) repeat_safety: Option<RepeatSafety>,
    /// The tool's retry budget.
    pub(crate) retry_budget: Option<RetryBudget>,
}

/// `$call` on each rule present in `$rules` (an [`AdmissionRules`]), in order, bound by the
/// pattern `$rule` (`ref rule` or `ref mut rule`): the one place that lists the rules.
macro_rules! each_rule {
    ($rules:expr, $rule:pat => $call:expr) => {{
        if let Some($rule) = $rules.circuit_breaker {
            $call;
        }
        if let Some($rule) = $rules.repeat_safety {
            $call;
        }
        if let Some($rule) = $rules.retry_budget {
            $call;
        }
    }};
}

impl AdmissionRules {
    /// Shows `attempt` to every rule (each keeps its own state current) and returns the first
    /// refusal.
    #[inline(always)]
    pub(crate) fn admit(
        &mut self,
        attempt: &Attempt<'_>,
        notes: &mut AdmissionNotes,
    ) -> Option<Decision> {
        let mut refusal = None;
        each_rule!(self, ref mut rule => if let Some(decision) = rule.admit(attempt, notes) {
            refusal.get_or_insert(decision);
        });
        refusal
    }

    /// Writes every rule's state into `snapshot` (at `now_ms`).
    pub(crate) fn save(&self, snapshot: &mut Snapshot, now_ms: u64) {
        each_rule!(self, ref rule => rule.save(snapshot, now_ms));
    }

    /// Takes every rule's state back from `snapshot` (at `now_ms`).
    pub(crate) fn restore(&mut self, snapshot: &Snapshot, now_ms: u64) {
        each_rule!(self, ref mut rule => rule.restore(snapshot, now_ms));
    }
}
