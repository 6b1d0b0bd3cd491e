//! The plugin: a configuration, the decision pipeline built from it, and the state it keeps
//! between calls.

use crate::call::{ToolCall, ToolDecision};
use crate::clock::{Clock, Rng};
use crate::config::PluginConfig;
use crate::error::ConfigErrors;
use crate::pipeline::Pipeline;
use crate::snapshot::{SNAPSHOT_VERSION, Snapshot};
use crate::state::RequestStore;
use crate::tool_result::ToolResultView;

/// The retry plugin: a validated configuration and the state it keeps between calls.
#[derive(Debug)]
pub struct Plugin {
    config: PluginConfig,
    pipeline: Pipeline,
    requests: RequestStore,
}

impl Default for Plugin {
    fn default() -> Self {
        Self::new(PluginConfig::default())
    }
}

impl Plugin {
    /// A plugin with `config` and no state.
    pub fn new(config: PluginConfig) -> Self {
        let limits = *config.limits();
        Self {
            pipeline: Pipeline::new(&config),
            config,
            requests: RequestStore::new(limits.request_ttl_ms, limits.max_tracked_requests),
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

    /// Decides whether the gateway should retry `call`. The clock is read only when a step
    /// needs it; a random number is drawn only when a jittered retry is granted.
    pub fn tool_post_invoke<R: ToolResultView + ?Sized>(
        &mut self,
        call: &ToolCall<'_, R>,
        clock: &impl Clock,
        rng: &mut impl Rng,
    ) -> ToolDecision {
        self.pipeline.decide(&mut self.requests, call, clock, rng)
    }

    /// The retry statistics per tool since the config was put in force, as a JSON object:
    /// calls, successes, failures by decision, retries granted, recovered requests, total delay
    /// asked and breaker opens.
    pub fn stats_json(&self) -> String {
        self.pipeline.stats_json()
    }

    /// Everything the plugin remembers (request counters, breakers, budgets, statistics) as a
    /// versioned JSON snapshot whose times are relative to now, for another instance under the
    /// same config to take over (see [`Plugin::import_state`]).
    pub fn export_state(&self, clock: &impl Clock) -> String {
        let now_ms = clock.monotonic_ms();
        let mut snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            requests: self.requests.save(now_ms),
            ..Snapshot::default()
        };
        self.pipeline.save(&mut snapshot, now_ms);
        serde_json::to_string(&snapshot).unwrap_or_default()
    }

    /// Takes over the state of [`Plugin::export_state`]'s snapshot, re-anchored to `clock`, on
    /// top of the state in force (the config is not part of it: configure first). State the
    /// config has no place for (a budget where none is configured) is skipped; the usual
    /// bounds apply.
    ///
    /// # Errors
    /// Text that is not a snapshot of a version this engine reads; the state is then unchanged.
    pub fn import_state(&mut self, state: &str, clock: &impl Clock) -> Result<(), String> {
        let snapshot = Snapshot::parse(state)?;
        let now_ms = clock.monotonic_ms();
        self.requests.restore(&snapshot.requests, now_ms);
        self.pipeline.restore(&snapshot, now_ms);
        Ok(())
    }

    /// The metadata of `resource_post_fetch` (never a retry): the retry policy echo.
    pub fn resource_post_fetch(&self) -> &str {
        self.config.resource_metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedClock, SplitMix64};
    use crate::tool_result::OwnedToolResult as FakeResult;

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
            remaining_ms: None,
            annotations: None,
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

    /// One failure of tool `t`, request `r`.
    fn fail_once(plugin: &mut Plugin) {
        let failure = FakeResult::error();
        plugin.tool_post_invoke(
            &call("t", "r", &failure),
            &FixedClock::default(),
            &mut SplitMix64::new(1),
        );
    }

    #[test]
    fn configure_resets_the_statistics() {
        let mut plugin = plugin(r#"{"max_retries": 5}"#);
        fail_once(&mut plugin);
        assert!(plugin.stats_json().contains(r#""calls":1"#));
        plugin.configure_json(r#"{"max_retries": 4}"#).unwrap();
        assert_eq!(plugin.stats_json(), "{}");
    }

    #[test]
    fn an_exported_state_carries_open_breakers_budgets_counters_and_stats_to_a_new_plugin() {
        let config = r#"{"default_policy": {"max_retries": 5, "jitter": false},
            "circuit_breaker": {"failure_threshold": 2, "recovery_timeout_ms": 10000},
            "retry_budget": {"max_tokens": 100}}"#;
        let at = |monotonic_ms| FixedClock {
            monotonic_ms,
            wall_ms: 0,
        };
        let mut rng = SplitMix64::new(1);
        let failure = FakeResult::error();
        let mut old = plugin(config);
        old.tool_post_invoke(&call("t", "r", &failure), &at(1_000), &mut rng);
        let opened = old.tool_post_invoke(&call("t", "s", &failure), &at(2_000), &mut rng);
        assert!(opened.metadata.contains("circuit_open"));
        let state = old.export_state(&at(3_000));
        // The new instance's clock has another origin: the breaker stays open for the 9 s left.
        let mut new = plugin(config);
        new.import_state(&state, &at(500)).unwrap();
        let refused = new.tool_post_invoke(&call("t", "u", &failure), &at(9_000), &mut rng);
        assert!(
            refused.metadata.contains("circuit_open"),
            "{}",
            refused.metadata
        );
        assert!(
            refused.metadata.contains(r#""tokens":97"#),
            "{}",
            refused.metadata
        );
        assert!(new.stats_json().contains(r#""calls":3"#));
        assert_eq!(new.tracked_requests(), 1, "request r's failure came along");
        let probe = new.tool_post_invoke(
            &call("t", "v", &FakeResult::default()),
            &at(9_501),
            &mut rng,
        );
        assert!(probe.metadata.contains("half_open"), "{}", probe.metadata);
    }

    #[test]
    fn a_broken_or_foreign_snapshot_is_refused_and_changes_nothing() {
        let mut plugin = plugin(r#"{"max_retries": 5}"#);
        fail_once(&mut plugin);
        let clock = FixedClock::default();
        assert!(plugin.import_state("{", &clock).is_err());
        let foreign = plugin
            .import_state(r#"{"version": 9}"#, &clock)
            .unwrap_err();
        assert!(foreign.contains("version 9"), "{foreign}");
        assert_eq!(plugin.tracked_requests(), 1);
    }

    #[test]
    fn invalid_configure_keeps_previous_config_and_state() {
        let mut plugin = plugin(r#"{"max_retries": 5}"#);
        fail_once(&mut plugin);
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
