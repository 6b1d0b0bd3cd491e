//! The annotate step: the metadata that explains a decision.
//!
//! The flat schema writes what the ContextForge plugin writes (`retry_count` and
//! `retry_delay_ms`, for traced calls only); the nested schema explains every decision under
//! `metadata.retry_with_backoff`, with the parts its `metadata` flags ask for.

use std::borrow::Cow;

use super::admit::AdmissionNotes;
use super::backoff::{DelayKind, DelayNotes};
use super::classify::{Reason, Verdict};
use super::{Decision, with_decision_name};
use crate::clock::Clock;
use crate::config::{EffectivePolicy, MetadataFlags};
use crate::json_text::{TextBuffer, TextSink, WriteText};

/// The annotate step, built from the config.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Annotator {
    /// The ContextForge plugin's metadata.
    ContextForge,
    /// The nested schema's explanation, with these parts.
    Explained(MetadataFlags),
}

impl Annotator {
    /// The metadata of `annotation` as JSON text, written through `buffer`. `clock` gives the
    /// wall time of `next_retry_at` (read only when that is reported).
    pub(crate) fn render(
        &self,
        annotation: &Annotation<'_>,
        trace_id: Option<&str>,
        clock: &dyn Clock,
        buffer: &mut TextBuffer,
    ) -> Cow<'static, str> {
        match self {
            Self::ContextForge => match trace_id {
                None => Cow::Borrowed("{}"),
                Some(_) => Cow::Owned(buffer.text_of(&Counts(annotation))),
            },
            Self::Explained(flags) => {
                let next_retry_at = (flags.include_next_retry_time
                    && annotation.decision == Decision::Retry)
                    .then(|| clock.wall_ms().saturating_add(annotation.delay_ms));
                Cow::Owned(buffer.text_of(&Explanation {
                    annotation,
                    flags,
                    next_retry_at,
                }))
            }
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
}

/// The ContextForge plugin's metadata: the two counts every schema reports.
struct Counts<'a, 'p>(&'a Annotation<'p>);

impl WriteText for Counts<'_, '_> {
    fn write_text(&self, sink: &mut String) {
        open_with_counts(sink, self.0);
        sink.text("}}");
    }
}

/// Opens the metadata object with the two counts every schema reports. Inline in both writers
/// (a call here cost 50 instructions a decision).
#[inline(always)]
fn open_with_counts(sink: &mut String, annotation: &Annotation<'_>) {
    sink.text(r#"{"retry_with_backoff":{"retry_count":"#);
    sink.unsigned(u64::from(annotation.retry_count));
    sink.text(r#","retry_delay_ms":"#);
    sink.unsigned(annotation.delay_ms);
}

/// The nested schema's metadata object, with the parts `flags` ask for. Written by hand (the
/// policy's JSON is serialized once, at configure time): this runs on every call.
struct Explanation<'a, 'p> {
    annotation: &'a Annotation<'p>,
    flags: &'a MetadataFlags,
    /// The wall time of the retry, when reported.
    next_retry_at: Option<u64>,
}

impl WriteText for Explanation<'_, '_> {
    fn write_text(&self, sink: &mut String) {
        let (annotation, flags) = (self.annotation, self.flags);
        open_with_counts(sink, annotation);
        write_decision(sink, annotation.decision);
        write_reason(sink, annotation.reason);
        sink.ascii(b'"');
        if let Some(hint_ms) = annotation.delay_notes.retry_after_ms {
            sink.text(r#","retry_after_ms":"#);
            sink.unsigned(hint_ms);
        }
        if let Some(kind) = annotation.delay_kind {
            write_delay_source(sink, kind);
        }
        if flags.include_attempt_count {
            sink.text(r#","attempt":"#);
            sink.unsigned(u64::from(annotation.attempt));
            sink.text(r#","max_retries":"#);
            sink.unsigned(u64::from(annotation.policy.policy().max_retries()));
        }
        if flags.include_policy {
            sink.text(r#","policy":"#);
            sink.text(annotation.policy.described_json());
        }
        if let Some(at_ms) = self.next_retry_at {
            sink.text(r#","next_retry_at":""#);
            sink.utc_ms(at_ms);
            sink.ascii(b'"');
        }
        if flags.include_circuit_breaker_state
            && let Some(breaker) = annotation.notes.breaker
        {
            sink.text(r#","circuit_breaker":{"state":""#);
            sink.text(breaker.state.as_str());
            sink.text(r#"","consecutive_failures":"#);
            sink.unsigned(u64::from(breaker.consecutive_failures));
            if !breaker.enabled {
                sink.text(r#","enabled":false"#);
            }
            sink.ascii(b'}');
        }
        if flags.include_budget_state
            && let Some(budget) = annotation.notes.budget
        {
            sink.text(r#","retry_budget":{"tokens":"#);
            sink.thousandths(budget.milli_tokens);
            sink.text(r#","max_tokens":"#);
            sink.unsigned(u64::from(budget.max_tokens));
            sink.ascii(b'}');
        }
        sink.text("}}");
    }
}

// The names below are written one arm at a time, each with its key as one write of a known
// length: a name looked up at run time (`decision.as_str()`) is a copy of unknown length, which
// in wasm is a `memory.copy` call into the host, dearer than the rest of the write.

/// Appends the `decision` member and the key of `reason`: `,"decision":"NAME","reason":"`.
fn write_decision(sink: &mut String, decision: Decision) {
    macro_rules! member {
        ($name:literal) => {
            sink.text(concat!(r#","decision":""#, $name, r#"","reason":""#))
        };
    }
    with_decision_name!(decision, member)
}

/// Appends the metadata text of `reason` (`status:503` for a status code).
fn write_reason(sink: &mut String, reason: Reason) {
    match reason {
        Reason::Status(code) => {
            sink.text(reason.as_static_str());
            sink.ascii(b':');
            sink.signed(code);
        }
        Reason::Success => sink.text(Reason::Success.as_static_str()),
        Reason::Timeout => sink.text(Reason::Timeout.as_static_str()),
        Reason::Connection => sink.text(Reason::Connection.as_static_str()),
        Reason::Pattern => sink.text(Reason::Pattern.as_static_str()),
        Reason::Error => sink.text(Reason::Error.as_static_str()),
    }
}

/// Appends the `delay_source` member: `,"delay_source":"NAME"`, the names of [`DelayKind`].
fn write_delay_source(sink: &mut String, kind: DelayKind) {
    match kind {
        DelayKind::Backoff => sink.text(r#","delay_source":"backoff""#),
        DelayKind::RetryAfter => sink.text(r#","delay_source":"retry_after""#),
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
        let rendered = Annotator::Explained(MetadataFlags::default()).render(
            &annotation,
            None,
            &clock,
            &mut TextBuffer::default(),
        );
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
            Annotator::ContextForge.render(&annotation, None, &clock, &mut TextBuffer::default()),
            "{}"
        );
        assert_eq!(
            Annotator::ContextForge.render(
                &annotation,
                Some("trace"),
                &clock,
                &mut TextBuffer::default()
            ),
            r#"{"retry_with_backoff":{"retry_count":2,"retry_delay_ms":400}}"#
        );
    }
}
