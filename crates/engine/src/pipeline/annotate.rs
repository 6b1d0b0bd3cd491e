//! The annotate step: the metadata that explains a decision.
//!
//! The flat schema writes what the ContextForge plugin writes (`retry_count` and
//! `retry_delay_ms`, for traced calls only); the nested schema explains every decision under
//! `metadata.retry_with_backoff`, with the parts its `metadata` flags ask for.

use std::borrow::Cow;

use super::Decision;
use super::admit::AdmissionNotes;
use super::backoff::{DelayKind, DelayNotes};
use super::classify::{Reason, Verdict};
use crate::clock::Clock;
use crate::config::{EffectivePolicy, MetadataFlags};
use crate::json_text::{push_i64, push_thousandths, push_u64};
use crate::rfc3339::push_utc_ms;

/// The annotate step, built from the config.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Annotator {
    /// The ContextForge plugin's metadata.
    ContextForge,
    /// The nested schema's explanation, with these parts.
    Explained(MetadataFlags),
}

impl Annotator {
    /// The metadata of `annotation` as JSON text. `clock` gives the wall time of
    /// `next_retry_at` (read only when that is reported).
    pub(crate) fn render(
        &self,
        annotation: &Annotation<'_>,
        trace_id: Option<&str>,
        clock: &dyn Clock,
    ) -> Cow<'static, str> {
        match self {
            Self::ContextForge => match trace_id {
                None => Cow::Borrowed("{}"),
                Some(_) => {
                    let mut out = String::with_capacity(80);
                    push_counts(&mut out, annotation);
                    out.push_str("}}");
                    Cow::Owned(out)
                }
            },
            Self::Explained(flags) => Cow::Owned(annotation.explain(flags, clock)),
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
    pub(crate) notes: AdmissionNotes,
    /// What the backoff step read (the server's hint).
    pub(crate) delay_notes: DelayNotes,
    /// Where the delay came from, when retrying.
    pub(crate) delay_kind: Option<DelayKind>,
}

/// Opens the metadata object with the two counts every schema reports.
fn push_counts(out: &mut String, annotation: &Annotation<'_>) {
    out.push_str(r#"{"retry_with_backoff":{"retry_count":"#);
    push_u64(out, u64::from(annotation.retry_count));
    out.push_str(r#","retry_delay_ms":"#);
    push_u64(out, annotation.delay_ms);
}

impl<'a> Annotation<'a> {
    /// A success of `verdict` (the pipeline fills in the rest).
    pub(crate) fn new(verdict: &'a Verdict, notes: AdmissionNotes) -> Self {
        Self {
            decision: Decision::Success,
            reason: verdict.reason,
            retry_count: 0,
            delay_ms: 0,
            attempt: 0,
            policy: &verdict.policy,
            notes,
            delay_notes: DelayNotes::default(),
            delay_kind: None,
        }
    }

    /// The nested schema's metadata object as JSON text, with the parts `flags` ask for.
    /// Written by hand (the policy's JSON is serialized once, at configure time): this runs on
    /// every call.
    fn explain(&self, flags: &MetadataFlags, clock: &dyn Clock) -> String {
        // Everything but the policy takes at most about 300 bytes (every count at 20 digits).
        const FIXED_PART_BYTES: usize = 384;
        let policy = self.policy.described_json();
        let mut out = String::with_capacity(
            FIXED_PART_BYTES
                + if flags.include_policy {
                    policy.len()
                } else {
                    0
                },
        );
        push_counts(&mut out, self);
        out.push_str(r#","decision":""#);
        out.push_str(self.decision.as_str());
        out.push_str(r#"","reason":""#);
        out.push_str(self.reason.as_static_str());
        if let Reason::Status(code) = self.reason {
            out.push(':');
            push_i64(&mut out, code);
        }
        out.push('"');
        if let Some(hint_ms) = self.delay_notes.retry_after_ms {
            out.push_str(r#","retry_after_ms":"#);
            push_u64(&mut out, hint_ms);
        }
        if let Some(kind) = self.delay_kind {
            out.push_str(r#","delay_source":""#);
            out.push_str(kind.as_str());
            out.push('"');
        }
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
        if flags.include_next_retry_time && self.decision == Decision::Retry {
            out.push_str(r#","next_retry_at":""#);
            push_utc_ms(&mut out, clock.wall_ms().saturating_add(self.delay_ms));
            out.push('"');
        }
        if flags.include_circuit_breaker_state
            && let Some(breaker) = self.notes.breaker
        {
            out.push_str(r#","circuit_breaker":{"state":""#);
            out.push_str(breaker.state.as_str());
            out.push_str(r#"","consecutive_failures":"#);
            push_u64(&mut out, u64::from(breaker.consecutive_failures));
            if !breaker.enabled {
                out.push_str(r#","enabled":false"#);
            }
            out.push('}');
        }
        if flags.include_budget_state
            && let Some(budget) = self.notes.budget
        {
            out.push_str(r#","retry_budget":{"tokens":"#);
            push_thousandths(&mut out, budget.milli_tokens);
            out.push_str(r#","max_tokens":"#);
            push_u64(&mut out, u64::from(budget.max_tokens));
            out.push('}');
        }
        out.push_str("}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use serde_json::{Value, json};

    use super::*;
    use crate::breaker::BreakerState;
    use crate::clock::FixedClock;
    use crate::config::{PluginConfig, Schema};
    use crate::pipeline::admit::BreakerNote;

    #[test]
    fn explain_is_valid_json_with_every_field() {
        let config = PluginConfig::from_value(&json!({"circuit_breaker": {}})).unwrap();
        let Schema::Nested(nested) = config.schema() else {
            panic!()
        };
        let policy: Rc<EffectivePolicy> =
            nested.effective(nested.tool_slot("t"), crate::config::ClassSlot::NONE);
        let annotation = Annotation {
            decision: Decision::Retry,
            reason: Reason::Status(503),
            retry_count: 1,
            delay_ms: 200,
            attempt: 1,
            policy: &policy,
            notes: AdmissionNotes {
                breaker: Some(BreakerNote {
                    state: BreakerState::Closed,
                    consecutive_failures: 1,
                    enabled: true,
                    opened: false,
                }),
                budget: None,
            },
            delay_notes: DelayNotes::default(),
            delay_kind: Some(DelayKind::Backoff),
        };
        let clock = FixedClock::default();
        let rendered =
            Annotator::Explained(MetadataFlags::default()).render(&annotation, None, &clock);
        let value: Value = serde_json::from_str(&rendered).unwrap();
        let inner = &value["retry_with_backoff"];
        assert_eq!(inner["reason"], "status:503");
        assert_eq!(inner["next_retry_at"], "1970-01-01T00:00:00.200Z");
        assert_eq!(inner["policy"]["source"], json!(["default"]));
        assert_eq!(
            inner["circuit_breaker"],
            json!({"state": "closed", "consecutive_failures": 1})
        );
    }

    #[test]
    fn context_forge_metadata_only_for_traced_calls() {
        let config = PluginConfig::default();
        let Schema::Flat(flat) = config.schema() else {
            panic!()
        };
        let annotation = Annotation {
            decision: Decision::Retry,
            reason: Reason::Error,
            retry_count: 2,
            delay_ms: 400,
            attempt: 2,
            policy: flat.rules_for("t").effective(),
            notes: AdmissionNotes::default(),
            delay_notes: DelayNotes::default(),
            delay_kind: Some(DelayKind::Backoff),
        };
        let clock = FixedClock::default();
        assert_eq!(
            Annotator::ContextForge.render(&annotation, None, &clock),
            "{}"
        );
        assert_eq!(
            Annotator::ContextForge.render(&annotation, Some("trace"), &clock),
            r#"{"retry_with_backoff":{"retry_count":2,"retry_delay_ms":400}}"#
        );
    }
}
