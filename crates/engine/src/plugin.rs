//! The plugin: configuration plus state, answering the two hooks.
//!
//! `tool_post_invoke` composes three separate answers: classification (is this a retryable
//! failure?), admission (is there budget left?) and backoff (how long to wait?).

use std::borrow::Cow;

use crate::breaker::BreakerStore;
use crate::classify::{Classification, classify_flat};
use crate::clock::{Clock, Rng};
use crate::config::{FlatConfig, PluginConfig, Schema};
use crate::error::ConfigErrors;
use crate::nested_decision;
use crate::state::RequestStore;
use crate::tool_result::ToolResultView;

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

impl ToolDecision {
    fn no_retry(metadata: Cow<'static, str>) -> Self {
        Self {
            retry: false,
            delay_ms: 0,
            metadata,
            warning: None,
        }
    }
}

/// The retry plugin: a validated configuration and the state it keeps between calls.
#[derive(Debug, Clone, Default)]
pub struct Plugin {
    config: PluginConfig,
    requests: RequestStore,
    breakers: BreakerStore,
}

impl Plugin {
    /// A plugin with `config` and no state.
    pub fn new(config: PluginConfig) -> Self {
        let limits = *config.limits();
        Self {
            config,
            requests: RequestStore::new(limits.request_ttl_ms, limits.max_tracked_requests),
            breakers: BreakerStore::default(),
        }
    }

    /// Validates the JSON `config` and, if valid, puts it in force and drops all state. An
    /// invalid config leaves the plugin as it was.
    ///
    /// # Errors
    /// Every broken rule, as [`PluginConfig::from_json`] reports them.
    pub fn configure_json(&mut self, config: &str) -> Result<(), ConfigErrors> {
        *self = Self::new(PluginConfig::from_json(config)?);
        Ok(())
    }

    /// The configuration in force.
    pub fn config(&self) -> &PluginConfig {
        &self.config
    }

    /// How many (tool, request) pairs are tracked now.
    pub fn tracked_requests(&self) -> usize {
        self.requests.len()
    }

    /// Decides whether the gateway should retry `call`. Under the flat schema the clock is
    /// read only for failures; a random number is drawn only when a jittered retry is granted.
    pub fn tool_post_invoke<R: ToolResultView + ?Sized>(
        &mut self,
        call: &ToolCall<'_, R>,
        clock: &impl Clock,
        rng: &mut impl Rng,
    ) -> ToolDecision {
        match self.config.schema() {
            Schema::Flat(flat) => decide_flat(flat, &mut self.requests, call, clock, rng),
            Schema::Nested(nested) => nested_decision::decide(
                nested,
                &mut self.requests,
                &mut self.breakers,
                call,
                clock,
                rng,
            ),
        }
    }

    /// The metadata of `resource_post_fetch` (never a retry): the retry policy echo.
    pub fn resource_post_fetch(&self) -> &str {
        self.config.resource_metadata()
    }
}

/// Decides `call` under the flat schema, as the ContextForge plugin does.
fn decide_flat<R: ToolResultView + ?Sized>(
    flat: &FlatConfig,
    requests: &mut RequestStore,
    call: &ToolCall<'_, R>,
    clock: &impl Clock,
    rng: &mut impl Rng,
) -> ToolDecision {
    let rules = flat.rules_for(call.tool);
    let classification = classify_flat(
        call.result,
        rules.retry_on_status(),
        rules.check_text_content(),
    );
    let Classification::Retryable { .. } = classification else {
        requests.clear(call.tool, call.request_id);
        return ToolDecision::no_retry(flat_metadata(call.trace_id, 0, 0));
    };
    let failures = requests.record_failure(call.tool, call.request_id, clock.monotonic_ms());
    match rules.policy().next_delay(failures, rng) {
        Some(delay_ms) => ToolDecision {
            retry: true,
            delay_ms,
            metadata: flat_metadata(call.trace_id, failures, delay_ms),
            warning: None,
        },
        None => {
            requests.clear(call.tool, call.request_id);
            ToolDecision {
                warning: Some(exhausted_warning(call, failures)),
                ..ToolDecision::no_retry(flat_metadata(call.trace_id, failures, 0))
            }
        }
    }
}

/// The flat schema's metadata: written only for traced calls, as the ContextForge plugin does.
fn flat_metadata(trace_id: Option<&str>, retry_count: u32, delay_ms: u64) -> Cow<'static, str> {
    match trace_id {
        None => Cow::Borrowed("{}"),
        Some(_) => Cow::Owned(format!(
            r#"{{"retry_with_backoff":{{"retry_count":{retry_count},"retry_delay_ms":{delay_ms}}}}}"#
        )),
    }
}

/// The warning logged when a request exhausts its budget.
pub(crate) fn exhausted_warning<R: ?Sized>(call: &ToolCall<'_, R>, failures: u32) -> String {
    format!(
        "tool={} request_id={} exhausted after {failures} failure(s)",
        call.tool, call.request_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::tests::FakeResult;
    use crate::clock::{FixedClock, SplitMix64};

    fn plugin(config: &str) -> Plugin {
        let mut plugin = Plugin::default();
        plugin.configure_json(config).unwrap();
        plugin
    }

    fn call<'a>(
        tool: &'a str,
        request: &'a str,
        result: &'a FakeResult,
    ) -> ToolCall<'a, FakeResult> {
        ToolCall {
            tool,
            request_id: request,
            trace_id: Some("trace"),
            result,
        }
    }

    fn delays(plugin: &mut Plugin, results: &[FakeResult]) -> Vec<u64> {
        let mut rng = SplitMix64::new(1);
        results
            .iter()
            .map(|r| {
                plugin
                    .tool_post_invoke(&call("t", "r", r), &FixedClock::default(), &mut rng)
                    .delay_ms
            })
            .collect()
    }

    #[test]
    fn failures_in_a_row_follow_reference_sequence() {
        let mut plugin = plugin(r#"{"max_retries": 3, "jitter": false}"#);
        let failures = vec![FakeResult::error(); 9];
        assert_eq!(
            delays(&mut plugin, &failures),
            [200, 400, 800, 0, 200, 400, 800, 0, 200]
        );
    }

    #[test]
    fn success_resets_the_counter() {
        let mut plugin = plugin(r#"{"jitter": false}"#);
        let results = [
            FakeResult::error(),
            FakeResult::default(),
            FakeResult::error(),
        ];
        assert_eq!(delays(&mut plugin, &results), [200, 0, 200]);
        assert_eq!(plugin.tracked_requests(), 1);
    }

    #[test]
    fn not_retryable_failure_resets_the_counter() {
        let mut plugin = plugin(r#"{"jitter": false}"#);
        let not_found = FakeResult::structured(r#"{"status_code": 404}"#).with_error();
        let results = [FakeResult::error(), not_found, FakeResult::error()];
        assert_eq!(delays(&mut plugin, &results), [200, 0, 200]);
    }

    #[test]
    fn give_up_reports_count_and_warning() {
        let mut plugin = plugin(r#"{"max_retries": 0}"#);
        let failure = FakeResult::error();
        let decision = plugin.tool_post_invoke(
            &call("t", "r", &failure),
            &FixedClock::default(),
            &mut SplitMix64::new(1),
        );
        assert!(!decision.retry);
        assert_eq!(
            decision.metadata,
            r#"{"retry_with_backoff":{"retry_count":1,"retry_delay_ms":0}}"#
        );
        assert_eq!(
            decision.warning.as_deref(),
            Some("tool=t request_id=r exhausted after 1 failure(s)")
        );
        assert_eq!(plugin.tracked_requests(), 0);
    }

    #[test]
    fn jittered_retry_delay_is_never_zero() {
        let mut plugin =
            plugin(r#"{"backoff_base_ms": 1, "max_backoff_ms": 1, "max_retries": 10}"#);
        let failure = FakeResult::error();
        let mut rng = SplitMix64::new(3);
        for i in 0..1000 {
            let request = format!("r{i}");
            let decision = plugin.tool_post_invoke(
                &call("t", &request, &failure),
                &FixedClock::default(),
                &mut rng,
            );
            assert!(decision.retry && decision.delay_ms == 1);
        }
    }

    #[test]
    fn metadata_is_empty_without_trace() {
        let mut plugin = Plugin::default();
        let failure = FakeResult::error();
        let untraced = ToolCall {
            trace_id: None,
            ..call("t", "r", &failure)
        };
        let decision =
            plugin.tool_post_invoke(&untraced, &FixedClock::default(), &mut SplitMix64::new(1));
        assert!(decision.retry);
        assert_eq!(decision.metadata, "{}");
    }

    #[test]
    fn invalid_configure_keeps_previous_config_and_state() {
        let mut plugin = plugin(r#"{"max_retries": 5}"#);
        let failure = FakeResult::error();
        plugin.tool_post_invoke(
            &call("t", "r", &failure),
            &FixedClock::default(),
            &mut SplitMix64::new(1),
        );
        assert!(plugin.configure_json(r#"{"max_retries": 50}"#).is_err());
        assert_eq!(plugin.tracked_requests(), 1);
        assert!(
            plugin
                .config()
                .resource_metadata()
                .contains(r#""max_retries":5"#)
        );
    }
}
