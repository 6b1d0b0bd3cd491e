//! Idempotency safety as an admission rule: a call that is not safe to repeat is retried only
//! when the server refused it before doing anything.
//!
//! A call is unsafe to repeat when its tool's policy says `idempotent: false`, or, without that
//! word, when the call carries MCP annotations (and the config respects them) and neither
//! `readOnlyHint` nor `idempotentHint` is true (`destructiveHint: false` only means the tool
//! adds rather than destroys, which is still not safe to repeat). Calls without annotations
//! behave as before.

use super::{AdmissionNotes, AdmissionRule, Attempt};
use crate::pipeline::Decision;
use crate::pipeline::classify::{Classification, Reason};
use crate::status::StatusSet;

/// Refuses retries of unsafe calls, but for the status codes of `retry_on_status`.
#[derive(Debug, Clone)]
pub(crate) struct RepeatSafety {
    /// `retry_conditions.respect_tool_annotations`.
    pub(crate) respect_annotations: bool,
    /// `retry_conditions.non_idempotent_retry_on_status`.
    pub(crate) retry_on_status: StatusSet,
}

impl RepeatSafety {
    fn unsafe_to_repeat(&self, attempt: &Attempt<'_>) -> bool {
        match attempt.verdict.policy.idempotent() {
            Some(idempotent) => !idempotent,
            None => {
                self.respect_annotations
                    && attempt.annotations.is_some_and(|hints| {
                        hints.read_only != Some(true) && hints.idempotent != Some(true)
                    })
            }
        }
    }
}

impl AdmissionRule for RepeatSafety {
    fn admit(&mut self, attempt: &Attempt<'_>, _notes: &mut AdmissionNotes) -> Option<Decision> {
        let Classification::Retryable { .. } = attempt.verdict.outcome else {
            return None;
        };
        if !self.unsafe_to_repeat(attempt) {
            return None;
        }
        match attempt.verdict.reason {
            Reason::Status(code) if self.retry_on_status.contains(code) => None,
            _ => Some(Decision::UnsafeToRetry),
        }
    }
}
