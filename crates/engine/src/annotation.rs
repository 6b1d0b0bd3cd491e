//! The nested schema's metadata: `metadata.retry_with_backoff`, explaining each decision.

use serde_json::{Map, Value, json};

use crate::breaker::BreakerState;
use crate::classify::Reason;
use crate::config::{EffectivePolicy, MetadataFlags};
use crate::rfc3339::format_utc_ms;

/// What the plugin decided for one tool result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Retry after the delay.
    Retry,
    /// A retryable failure whose budget is spent.
    GiveUp,
    /// A failure that must not be retried.
    NotRetryable,
    /// The tool's circuit breaker refused the retry.
    CircuitOpen,
    /// Not a failure.
    Success,
}

impl Decision {
    /// The metadata name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retry => "retry",
            Self::GiveUp => "give_up",
            Self::NotRetryable => "not_retryable",
            Self::CircuitOpen => "circuit_open",
            Self::Success => "success",
        }
    }
}

/// Everything one annotation reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Annotation<'a> {
    pub(crate) decision: Decision,
    pub(crate) reason: Reason,
    /// Consecutive failures of the request after this call (0 on success or not retryable).
    pub(crate) retry_count: u32,
    pub(crate) delay_ms: u64,
    /// Failures of this request so far (this one included).
    pub(crate) attempt: u32,
    pub(crate) policy: &'a EffectivePolicy,
    /// Wall-clock ms of the retry, when retrying.
    pub(crate) next_retry_at_ms: Option<u64>,
    pub(crate) breaker_state: BreakerState,
    pub(crate) consecutive_failures: u32,
    pub(crate) breaker_enabled: bool,
}

impl Annotation<'_> {
    /// The metadata object as JSON text, with the parts `flags` ask for.
    pub(crate) fn render(&self, flags: &MetadataFlags) -> String {
        let mut inner = Map::new();
        inner.insert("retry_count".into(), json!(self.retry_count));
        inner.insert("retry_delay_ms".into(), json!(self.delay_ms));
        inner.insert("decision".into(), json!(self.decision.as_str()));
        inner.insert("reason".into(), json!(self.reason.render()));
        if flags.include_attempt_count {
            inner.insert("attempt".into(), json!(self.attempt));
            inner.insert(
                "max_retries".into(),
                json!(self.policy.policy().max_retries()),
            );
        }
        if flags.include_policy {
            inner.insert("policy".into(), self.policy.described().clone());
        }
        if flags.include_next_retry_time
            && let Some(at_ms) = self.next_retry_at_ms
        {
            inner.insert("next_retry_at".into(), json!(format_utc_ms(at_ms)));
        }
        if flags.include_circuit_breaker_state {
            let mut breaker = json!({
                "state": self.breaker_state.as_str(),
                "consecutive_failures": self.consecutive_failures,
            });
            if !self.breaker_enabled {
                breaker["enabled"] = json!(false);
            }
            inner.insert("circuit_breaker".into(), breaker);
        }
        let mut outer = Map::new();
        outer.insert("retry_with_backoff".into(), Value::Object(inner));
        Value::Object(outer).to_string()
    }
}
