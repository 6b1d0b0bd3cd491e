//! The policy in force for one (tool, error class): what the decision pipeline reads.

use serde_json::Value;

use crate::policy::Policy;
use crate::status::StatusSet;

/// One merged policy: the curve and budget, the status codes that make a failure retryable,
/// and its description for metadata (serialized once, when the policy is built).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EffectivePolicy {
    policy: Policy,
    retry_on_status: StatusSet,
    idempotent: Option<bool>,
    described_json: String,
}

impl EffectivePolicy {
    /// A policy described by `described` (the config's key names and, under the nested
    /// schema, the `source` layers).
    pub(crate) fn new(policy: Policy, retry_on_status: StatusSet, described: &Value) -> Self {
        Self {
            policy,
            retry_on_status,
            idempotent: None,
            described_json: described.to_string(),
        }
    }

    /// The same policy with the tool's own word on whether it is safe to call again.
    pub(crate) fn with_idempotent(self, idempotent: Option<bool>) -> Self {
        Self { idempotent, ..self }
    }

    /// Whether the tool's policy says it is safe to call again (`None`: it does not say).
    pub(crate) fn idempotent(&self) -> Option<bool> {
        self.idempotent
    }

    /// The retry policy.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The status codes that make a failure retryable.
    pub(crate) fn retry_on_status(&self) -> &StatusSet {
        &self.retry_on_status
    }

    /// The description as a value (for `describe`).
    pub(crate) fn described(&self) -> Value {
        serde_json::from_str(&self.described_json).unwrap_or(Value::Null)
    }

    /// The description as JSON text.
    pub(crate) fn described_json(&self) -> &str {
        &self.described_json
    }
}
