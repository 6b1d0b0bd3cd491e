//! The decision pipeline: `classify -> admit -> backoff -> annotate`, the same four steps for
//! both schemas (the flat schema is the nested model with the ContextForge plugin's
//! classification and annotation).
//!
//! Each step is built once, at configure time, by [`Pipeline::new`]:
//! - [`classify`]: is the result a failure, may it be retried, why, and which policy applies;
//! - [`admit`]: the [`admit::AdmissionRule`]s that may refuse a retry the policy allows, in
//!   order (the circuit breaker, idempotency safety, then the retry budget); every rule sees
//!   every outcome, and the first refusal decides. **A new admission rule is a module under
//!   `admit/`, a field of [`admit::AdmissionRules`] (and a line in its `each_rule!`) and one
//!   line in [`Pipeline::new`].**
//! - [`backoff`]: the [`backoff::DelaySource`]s in order, the first answer of which is the
//!   delay or a refusal (the server's hint, then the policy's curve). A new delay source is
//!   likewise a type, a field of [`backoff::DelaySources`] and one line there.
//! - [`annotate`]: the metadata that explains the decision.
//!
//! The request store (consecutive failures per tool and request) is the one piece of state the
//! pipeline shares between steps; it belongs to the plugin and is passed in.

pub(crate) mod admit;
pub(crate) mod annotate;
pub(crate) mod backoff;
pub(crate) mod classify;
mod deadline;

use std::cell::Cell;

use crate::call::{ToolCall, ToolDecision};
use crate::clock::{Clock, Rng};
use crate::config::{PluginConfig, Schema};
use crate::json_text::{TextBuffer, TextSink, WriteText};
use crate::snapshot::Snapshot;
use crate::state::RequestStore;
use crate::stats::{Outcome, StatsStore};
use crate::tool_result::ToolResultView;
use admit::{AdmissionNotes, AdmissionRules, Attempt, CircuitBreaker, RepeatSafety, RetryBudget};
use annotate::{Annotation, Annotator};
use backoff::{DelayInput, DelaySources, ServerHint};
use classify::{Classification, Classifier};
use deadline::Deadline;

/// What the plugin decided for one tool result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Not a failure.
    Success,
    /// Retry after the delay.
    Retry,
    /// A retryable failure whose budget is spent.
    GiveUp,
    /// A failure that must not be retried.
    NotRetryable,
    /// The tool's circuit breaker refused the retry.
    CircuitOpen,
    /// The call is not safe to repeat (its tool is not idempotent) and the failure is not one
    /// the server refused before doing anything.
    UnsafeToRetry,
    /// The tool's retry budget refused the retry.
    BudgetExhausted,
    /// The server asked for a longer wait than `max_retry_after_ms`.
    RetryAfterTooLong,
    /// The retry could not finish before the caller gives up.
    DeadlineExceeded,
}

impl Decision {
    /// Every decision, in declaration order ([`Decision::index`]).
    pub(crate) const ALL: [Self; 9] = [
        Self::Success,
        Self::Retry,
        Self::GiveUp,
        Self::NotRetryable,
        Self::CircuitOpen,
        Self::UnsafeToRetry,
        Self::BudgetExhausted,
        Self::RetryAfterTooLong,
        Self::DeadlineExceeded,
    ];

    /// The decision's position in [`Decision::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The metadata name.
    pub(crate) fn as_str(self) -> &'static str {
        macro_rules! name {
            ($name:literal) => {
                $name
            };
        }
        with_decision_name!(self, name)
    }
}

/// `$then!(NAME)`, `NAME` being the metadata name of `$decision` as a string literal (which
/// `concat!` can build on): the one list of the decisions' names.
macro_rules! with_decision_name {
    ($decision:expr, $then:ident) => {
        match $decision {
            Decision::Success => $then!("success"),
            Decision::Retry => $then!("retry"),
            Decision::GiveUp => $then!("give_up"),
            Decision::NotRetryable => $then!("not_retryable"),
            Decision::CircuitOpen => $then!("circuit_open"),
            Decision::UnsafeToRetry => $then!("unsafe_to_retry"),
            Decision::BudgetExhausted => $then!("budget_exhausted"),
            Decision::RetryAfterTooLong => $then!("retry_after_too_long"),
            Decision::DeadlineExceeded => $then!("deadline_exceeded"),
        }
    };
}
pub(crate) use with_decision_name;

/// The four steps, built from one configuration.
#[derive(Debug)]
pub(crate) struct Pipeline {
    classifier: Classifier,
    admission: AdmissionRules,
    delay_sources: DelaySources,
    /// The caller's deadline (nested schema only).
    deadline: Option<Deadline>,
    annotator: Annotator,
    /// Where the metadata and warnings are written before they are handed out.
    text: TextBuffer,
    /// What was decided, per tool.
    stats: StatsStore,
}

impl Pipeline {
    /// The pipeline of `config`: this is where every step is chosen.
    pub(crate) fn new(config: &PluginConfig) -> Self {
        let mut admission = AdmissionRules::default();
        let mut delay_sources = DelaySources::default();
        let mut deadline = None;
        let (classifier, annotator) = match config.schema() {
            Schema::Flat(flat) => (
                Classifier::ContextForge(flat.clone()),
                Annotator::ContextForge,
            ),
            Schema::Nested(nested) => {
                let conditions = nested.conditions();
                // A breaker that can neither refuse nor be reported keeps no state at all.
                if nested.breaker().enabled || nested.metadata().include_circuit_breaker_state {
                    admission.circuit_breaker = Some(CircuitBreaker::new(*nested.breaker()));
                }
                admission.repeat_safety = Some(RepeatSafety {
                    respect_annotations: conditions.respect_tool_annotations,
                    retry_on_status: conditions.non_idempotent_retry_on_status.clone(),
                });
                if let Some(budget) = nested.budget().filter(|budget| budget.enabled) {
                    admission.retry_budget = Some(RetryBudget::new(*budget));
                }
                if conditions.honor_retry_after {
                    delay_sources.server_hint = Some(ServerHint {
                        max_retry_after_ms: conditions.max_retry_after_ms,
                    });
                }
                deadline = Some(Deadline {
                    min_attempt_ms: conditions.min_attempt_ms,
                });
                (
                    Classifier::Layered(nested.clone()),
                    Annotator::Explained(*nested.metadata()),
                )
            }
        };
        Self {
            classifier,
            admission,
            delay_sources,
            deadline,
            annotator,
            text: TextBuffer::default(),
            stats: StatsStore::default(),
        }
    }

    /// Decides `call`, updating `requests` and the admission rules' state. The monotonic clock
    /// is read at most once, and only when a step needs it (a flat-schema success of an
    /// untracked request reads no clock at all).
    pub(crate) fn decide<R: ToolResultView + ?Sized>(
        &mut self,
        requests: &mut RequestStore,
        call: &ToolCall<'_, R>,
        clock: &dyn Clock,
        rng: &mut impl Rng,
    ) -> ToolDecision {
        let now = Now::new(clock);
        let verdict = self.classifier.classify(call.tool, call.result);
        let mut notes = AdmissionNotes::default();
        let attempt = Attempt {
            tool: call.tool,
            verdict: &verdict,
            now: &now,
            annotations: call.annotations.as_ref(),
        };
        let refusal = self.admission.admit(&attempt, &mut notes);
        let mut annotation = Annotation::new(&verdict, notes);
        let mut warning = None;
        match verdict.outcome {
            // Success and refusals end the request: its failures so far are taken and forgotten.
            Classification::Success => {
                annotation.attempt = requests.take(call.tool, call.request_id, || now.get());
            }
            _ if refusal.is_some() => {
                let previous = requests.take(call.tool, call.request_id, || now.get());
                annotation.decision = refusal.unwrap_or(Decision::CircuitOpen);
                annotation.attempt = previous.saturating_add(1);
                annotation.retry_count = annotation.attempt;
            }
            Classification::NotRetryable { .. } => {
                let previous = requests.take(call.tool, call.request_id, || now.get());
                annotation.decision = Decision::NotRetryable;
                annotation.attempt = previous.saturating_add(1);
            }
            Classification::Retryable { .. } => {
                let failures = requests.record_failure(call.tool, call.request_id, now.get());
                annotation.attempt = failures;
                annotation.retry_count = failures;
                let answer = if failures > verdict.policy.policy().max_retries() {
                    Err(Decision::GiveUp)
                } else {
                    let input = DelayInput {
                        verdict: &verdict,
                        failures,
                        clock,
                    };
                    self.delay_sources
                        .delay(&input, rng, &mut annotation.delay_notes)
                        .and_then(|delay| match self.deadline {
                            Some(deadline) if deadline.refuses(delay.ms, call.remaining_ms) => {
                                Err(Decision::DeadlineExceeded)
                            }
                            _ => Ok(delay),
                        })
                };
                match answer {
                    Ok(delay) => {
                        annotation.decision = Decision::Retry;
                        annotation.delay_ms = delay.ms;
                        annotation.delay_kind = Some(delay.kind);
                    }
                    Err(refusal) => {
                        requests.clear(call.tool, call.request_id);
                        annotation.decision = refusal;
                        if refusal == Decision::GiveUp {
                            warning = Some(self.text.text_of(&GiveUpWarning {
                                tool: call.tool,
                                request_id: call.request_id,
                                failures,
                            }));
                        }
                    }
                }
            }
        }
        self.stats.record(
            call.tool,
            Outcome {
                decision: annotation.decision,
                delay_ms: annotation.delay_ms,
                recovered: annotation.decision == Decision::Success && annotation.attempt > 0,
                breaker_opened: annotation.notes.breaker.is_some_and(|note| note.opened),
            },
        );
        ToolDecision {
            retry: annotation.decision == Decision::Retry,
            delay_ms: annotation.delay_ms,
            metadata: self
                .annotator
                .render(&annotation, call.trace_id, clock, &mut self.text),
            warning,
        }
    }
}

impl Pipeline {
    /// The statistics per tool as a JSON object (see [`crate::stats`]).
    pub(crate) fn stats_json(&self) -> String {
        self.stats.to_json()
    }

    /// Writes the steps' state (breakers, budgets, statistics) into `snapshot`.
    pub(crate) fn save(&self, snapshot: &mut Snapshot, now_ms: u64) {
        self.admission.save(snapshot, now_ms);
        snapshot.stats = self.stats.to_map();
    }

    /// Takes the steps' state back from `snapshot`.
    pub(crate) fn restore(&mut self, snapshot: &Snapshot, now_ms: u64) {
        self.admission.restore(snapshot, now_ms);
        self.stats.restore(&snapshot.stats);
    }
}

/// The warning of a give-up: `tool=T request_id=R exhausted after N failure(s)`.
struct GiveUpWarning<'a> {
    tool: &'a str,
    request_id: &'a str,
    failures: u32,
}

impl WriteText for GiveUpWarning<'_> {
    fn write_text(&self, sink: &mut String) {
        sink.text("tool=");
        sink.text(self.tool);
        sink.text(" request_id=");
        sink.text(self.request_id);
        sink.text(" exhausted after ");
        sink.unsigned(u64::from(self.failures));
        sink.text(" failure(s)");
    }
}

/// The monotonic time of one decision, read from the clock on first use.
pub(crate) struct Now<'c> {
    clock: &'c dyn Clock,
    read: Cell<Option<u64>>,
}

impl<'c> Now<'c> {
    fn new(clock: &'c dyn Clock) -> Self {
        Self {
            clock,
            read: Cell::new(None),
        }
    }

    /// Monotonic milliseconds.
    pub(crate) fn get(&self) -> u64 {
        if let Some(now) = self.read.get() {
            return now;
        }
        let now = self.clock.monotonic_ms();
        self.read.set(Some(now));
        now
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::call::{ToolAnnotations, ToolCall};
    use crate::clock::{FixedClock, SplitMix64};
    use crate::config::nested::tests::spec_example;
    use crate::plugin::Plugin;
    use crate::tool_result::OwnedToolResult as FakeResult;

    fn plugin(config: Value) -> Plugin {
        let mut plugin = Plugin::default();
        plugin.configure_json(&config.to_string()).unwrap();
        plugin
    }

    fn run(
        plugin: &mut Plugin,
        tool: &str,
        request: &str,
        result: &FakeResult,
        now_ms: u64,
    ) -> Value {
        run_with(plugin, tool, request, result, now_ms, None, None)
    }

    fn run_with(
        plugin: &mut Plugin,
        tool: &str,
        request: &str,
        result: &FakeResult,
        now_ms: u64,
        remaining_ms: Option<u64>,
        annotations: Option<ToolAnnotations>,
    ) -> Value {
        let call = ToolCall {
            tool,
            request_id: request,
            trace_id: None,
            result,
            remaining_ms,
            annotations,
        };
        let clock = FixedClock {
            monotonic_ms: now_ms,
            wall_ms: 1_767_225_600_000 + now_ms,
        };
        let decision = plugin.tool_post_invoke(&call, &clock, &mut SplitMix64::new(5));
        let metadata: Value = serde_json::from_str(&decision.metadata).unwrap();
        let inner = metadata["retry_with_backoff"].clone();
        assert_eq!(decision.retry, inner["decision"] == "retry");
        assert_eq!(decision.delay_ms, inner["retry_delay_ms"].as_u64().unwrap());
        inner
    }

    fn status(code: u16) -> FakeResult {
        FakeResult::structured(&format!(r#"{{"status_code": {code}}}"#)).with_error()
    }

    fn no_jitter(mut config: Value) -> Value {
        config["default_policy"]["jitter"] = json!(false);
        config
    }

    #[test]
    fn spec_example_429_uses_status_policy_with_proportional_jitter() {
        let mut plugin = plugin(spec_example());
        let meta = run(&mut plugin, "other", "r", &status(429), 0);
        assert_eq!(meta["decision"], "retry");
        let delay = meta["retry_delay_ms"].as_u64().unwrap();
        assert!((800..=1200).contains(&delay), "{delay}");
        assert_eq!(meta["max_retries"], 5);
        assert_eq!(meta["policy"]["source"], json!(["default", "status:429"]));
        assert_eq!(meta["reason"], "status:429");
    }

    #[test]
    fn never_retry_status_is_not_retryable_and_leaves_breaker_alone() {
        let mut plugin = plugin(no_jitter(spec_example()));
        let meta = run(&mut plugin, "t", "r", &status(404), 0);
        assert_eq!(meta["decision"], "not_retryable");
        assert_eq!(
            meta["circuit_breaker"],
            json!({"state": "closed", "consecutive_failures": 0})
        );
    }

    #[test]
    fn tool_policy_overrides_status_policy() {
        let mut plugin = plugin(no_jitter(spec_example()));
        let meta = run(&mut plugin, "web_scraper", "r", &status(503), 0);
        assert_eq!(meta["retry_delay_ms"], 1000);
        assert_eq!(meta["max_retries"], 3);
        assert_eq!(
            meta["policy"]["source"],
            json!(["default", "status:503", "tool:web_scraper"])
        );
    }

    #[test]
    fn timeout_class_follows_its_switch() {
        let timeout = FakeResult::text("upstream timed out").with_error();
        let mut on = plugin(no_jitter(spec_example()));
        assert_eq!(run(&mut on, "t", "r", &timeout, 0)["decision"], "retry");
        let mut config = no_jitter(spec_example());
        config["retry_conditions"]["retry_on_timeout"] = json!(false);
        let mut off = plugin(config);
        let meta = run(&mut off, "t", "r", &timeout, 0);
        assert_eq!(
            (meta["decision"].clone(), meta["reason"].clone()),
            (json!("not_retryable"), json!("timeout"))
        );
    }

    #[test]
    fn breaker_opens_at_threshold_and_refuses_until_recovery() {
        let mut config = no_jitter(spec_example());
        config["circuit_breaker"] =
            json!({"failure_threshold": 2, "recovery_timeout_ms": 1000, "half_open_max_calls": 1});
        let mut plugin = plugin(config);
        assert_eq!(
            run(&mut plugin, "t", "a", &status(503), 0)["decision"],
            "retry"
        );
        let opened = run(&mut plugin, "t", "b", &status(503), 10);
        assert_eq!(opened["decision"], "circuit_open");
        assert_eq!(opened["circuit_breaker"]["state"], "open");
        assert_eq!(
            run(&mut plugin, "other", "c", &status(503), 20)["decision"],
            "retry"
        );
        assert_eq!(
            run(&mut plugin, "t", "d", &status(503), 1009)["decision"],
            "circuit_open"
        );
        let probe = run(&mut plugin, "t", "e", &FakeResult::default(), 1010);
        assert_eq!(probe["circuit_breaker"]["state"], "closed");
        assert_eq!(
            run(&mut plugin, "t", "f", &status(503), 1011)["decision"],
            "retry"
        );
    }

    #[test]
    fn annotations_follow_flags_and_next_retry_time() {
        let mut config = no_jitter(spec_example());
        let mut plugin_all = plugin(config.clone());
        let meta = run(&mut plugin_all, "t", "r", &status(500), 1000);
        assert_eq!(meta["next_retry_at"], "2026-01-01T00:00:01.500Z");
        assert_eq!(meta["attempt"], 1);
        config["metadata"] = json!({"include_policy": false, "include_next_retry_time": false,
            "include_attempt_count": false, "include_circuit_breaker_state": false});
        let mut plugin_none = plugin(config);
        let meta = run(&mut plugin_none, "t", "r", &status(500), 1000);
        let keys: Vec<&str> = meta
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "decision",
                "delay_source",
                "reason",
                "retry_count",
                "retry_delay_ms"
            ]
        );
    }

    #[test]
    fn success_reports_previous_attempts_and_resets() {
        let mut plugin = plugin(no_jitter(spec_example()));
        run(&mut plugin, "t", "r", &status(500), 0);
        run(&mut plugin, "t", "r", &status(500), 1);
        let meta = run(&mut plugin, "t", "r", &FakeResult::default(), 2);
        assert_eq!(
            (
                meta["decision"].clone(),
                meta["attempt"].clone(),
                meta["retry_count"].clone()
            ),
            (json!("success"), json!(2), json!(0))
        );
        assert!(meta.get("next_retry_at").is_none());
    }

    #[test]
    fn give_up_after_status_budget() {
        let mut plugin = plugin(no_jitter(spec_example()));
        let decisions: Vec<Value> = (0..4)
            .map(|i| run(&mut plugin, "t", "r", &status(504), i)["decision"].clone())
            .collect();
        assert_eq!(
            decisions,
            [
                json!("retry"),
                json!("retry"),
                json!("give_up"),
                json!("retry")
            ]
        );
    }

    const NOT_IDEMPOTENT: ToolAnnotations = ToolAnnotations {
        read_only: Some(false),
        destructive: Some(false),
        idempotent: Some(false),
        open_world: None,
    };

    #[test]
    fn unsafe_calls_retry_only_what_the_server_refused_up_front() {
        let mut plugin = plugin(no_jitter(json!({})));
        let unsafe_call = |plugin: &mut Plugin, request, result: &FakeResult| {
            run_with(
                plugin,
                "mail",
                request,
                result,
                0,
                None,
                Some(NOT_IDEMPOTENT),
            )["decision"]
                .clone()
        };
        let timeout = FakeResult::text("timed out").with_error();
        assert_eq!(unsafe_call(&mut plugin, "a", &timeout), "unsafe_to_retry");
        assert_eq!(unsafe_call(&mut plugin, "b", &status(503)), "retry");
        assert_eq!(
            unsafe_call(&mut plugin, "c", &status(500)),
            "unsafe_to_retry"
        );
        let safe = ToolAnnotations {
            read_only: Some(true),
            ..NOT_IDEMPOTENT
        };
        let meta = run_with(&mut plugin, "search", "d", &timeout, 0, None, Some(safe));
        assert_eq!(meta["decision"], "retry");
    }

    #[test]
    fn a_tool_policy_overrides_annotations() {
        let config = no_jitter(json!({"tool_policies": {"mail": {"idempotent": true}}}));
        let mut plugin = plugin(config);
        let meta = run_with(
            &mut plugin,
            "mail",
            "a",
            &FakeResult::error(),
            0,
            None,
            Some(NOT_IDEMPOTENT),
        );
        assert_eq!(meta["decision"], "retry");
    }

    #[test]
    fn the_deadline_refuses_a_delay_that_reaches_the_remaining_time() {
        let config = no_jitter(json!({"default_policy": {"backoff_base_ms": 1000},
            "retry_conditions": {"min_attempt_ms": 100}}));
        let mut plugin = plugin(config);
        let failure = FakeResult::error();
        let decision = |plugin: &mut Plugin, request, remaining| {
            run_with(plugin, "t", request, &failure, 0, Some(remaining), None)["decision"].clone()
        };
        assert_eq!(decision(&mut plugin, "a", 1_101), "retry");
        assert_eq!(decision(&mut plugin, "b", 1_100), "deadline_exceeded");
    }

    #[test]
    fn a_server_hint_sets_the_delay_unless_it_is_too_long() {
        let config = no_jitter(json!({"retry_conditions": {"max_retry_after_ms": 5000}}));
        let mut plugin = plugin(config);
        let hinted = |ms: u64| {
            FakeResult::structured(&format!(
                r#"{{"status_code": 503, "retry_after_ms": {ms}}}"#
            ))
            .with_error()
        };
        let meta = run(&mut plugin, "t", "a", &hinted(4_000), 0);
        assert_eq!(
            (meta["retry_delay_ms"].clone(), meta["delay_source"].clone()),
            (json!(4000), json!("retry_after"))
        );
        let meta = run(&mut plugin, "t", "b", &hinted(6_000), 0);
        assert_eq!(meta["decision"], "retry_after_too_long");
        assert_eq!(meta["retry_after_ms"], 6000);
    }
}
