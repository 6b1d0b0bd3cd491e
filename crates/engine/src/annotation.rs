//! The nested schema's metadata: `metadata.retry_with_backoff`, explaining each decision.

use crate::breaker::BreakerState;
use crate::classify::Reason;
use crate::config::{EffectivePolicy, MetadataFlags};
use crate::json_text::{push_i64, push_u64};
use crate::rfc3339::push_utc_ms;

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
    /// The metadata object as JSON text, with the parts `flags` ask for. Written by hand (the
    /// policy's JSON is serialized once, at configure time): this runs on every call.
    pub(crate) fn render(&self, flags: &MetadataFlags) -> String {
        let policy = self.policy.described_json();
        let mut out = String::with_capacity(
            256 + if flags.include_policy {
                policy.len()
            } else {
                0
            },
        );
        out.push_str(r#"{"retry_with_backoff":{"retry_count":"#);
        push_u64(&mut out, u64::from(self.retry_count));
        out.push_str(r#","retry_delay_ms":"#);
        push_u64(&mut out, self.delay_ms);
        out.push_str(r#","decision":""#);
        out.push_str(self.decision.as_str());
        out.push_str(r#"","reason":""#);
        out.push_str(self.reason.as_static_str());
        if let Reason::Status(code) = self.reason {
            out.push(':');
            push_i64(&mut out, code);
        }
        out.push('"');
        if flags.include_attempt_count {
            out.push_str(r#","attempt":"#);
            push_u64(&mut out, u64::from(self.attempt));
            out.push_str(r#","max_retries":"#);
            push_u64(&mut out, u64::from(self.policy.policy().max_retries()));
        }
        if flags.include_policy {
            out.push_str(r#","policy":"#);
            out.push_str(policy);
        }
        if flags.include_next_retry_time
            && let Some(at_ms) = self.next_retry_at_ms
        {
            out.push_str(r#","next_retry_at":""#);
            push_utc_ms(&mut out, at_ms);
            out.push('"');
        }
        if flags.include_circuit_breaker_state {
            out.push_str(r#","circuit_breaker":{"state":""#);
            out.push_str(self.breaker_state.as_str());
            out.push_str(r#"","consecutive_failures":"#);
            push_u64(&mut out, u64::from(self.consecutive_failures));
            if !self.breaker_enabled {
                out.push_str(r#","enabled":false"#);
            }
            out.push('}');
        }
        out.push_str("}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::config::{PluginConfig, Schema};

    #[test]
    fn render_is_valid_json_with_every_field() {
        let config = PluginConfig::from_value(&json!({"circuit_breaker": {}})).unwrap();
        let Schema::Nested(nested) = config.schema() else {
            panic!()
        };
        let annotation = Annotation {
            decision: Decision::Retry,
            reason: Reason::Status(503),
            retry_count: 1,
            delay_ms: 200,
            attempt: 1,
            policy: &nested.effective(nested.tool_slot("t"), crate::config::ClassSlot::NONE),
            next_retry_at_ms: Some(200),
            breaker_state: BreakerState::Closed,
            consecutive_failures: 1,
            breaker_enabled: true,
        };
        let value: Value =
            serde_json::from_str(&annotation.render(&MetadataFlags::default())).unwrap();
        let inner = &value["retry_with_backoff"];
        assert_eq!(inner["reason"], "status:503");
        assert_eq!(inner["next_retry_at"], "1970-01-01T00:00:00.200Z");
        assert_eq!(inner["policy"]["source"], json!(["default"]));
        assert_eq!(
            inner["circuit_breaker"],
            json!({"state": "closed", "consecutive_failures": 1})
        );
    }
}
