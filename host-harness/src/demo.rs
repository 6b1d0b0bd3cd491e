//! The demo: a short story of tool calls replayed through the component, printed as a table.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{Value, json};

use retry_host::bindings::{ConfigError, PluginContext, ToolPostInvokePayload};
use retry_host::guest_env::{DEFAULT_START_WALL_MS, GuestEnv, VirtualClock};
use retry_host::hook::{Configure, ResourcePostFetch, ToolPostInvoke};
use retry_host::{PluginRuntime, payload};

/// The seed of the demo's random source, so the demo prints the same table every time.
pub const DEMO_SEED: u64 = 42;

/// Which story the demo tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Story {
    /// Retries, a success, a non-retryable failure, a give-up: under the manifest defaults.
    #[default]
    Basics,
    /// Server hints, idempotency, deadlines and the retry budget, under a nested config of its
    /// own: every decision beyond retry and give-up.
    Safety,
}

struct Call {
    tool: &'static str,
    request: &'static str,
    trace: Option<&'static str>,
    outcome: &'static str,
    result: Value,
    remaining_ms: Option<u64>,
    annotations: Option<Value>,
}

/// The config the safety story runs under (unless one is given).
pub fn safety_config() -> Value {
    json!({
        "default_policy": {"max_retries": 3, "jitter": false, "backoff_base_ms": 500},
        "retry_conditions": {"max_retry_after_ms": 30000, "min_attempt_ms": 200},
        "retry_budget": {"max_tokens": 6, "token_ratio": 0.5},
        "metadata": {"include_policy": false, "include_next_retry_time": false,
                     "include_circuit_breaker_state": false},
    })
}

fn safety_story() -> Vec<Call> {
    let call = |tool, request, outcome, result: Value| Call {
        tool,
        request,
        trace: None,
        outcome,
        result,
        remaining_ms: None,
        annotations: None,
    };
    let read_only = json!({"readOnlyHint": true});
    let not_idempotent = json!({"readOnlyHint": false, "idempotentHint": false});
    let error = json!({"isError": true});
    let mut calls = vec![
        Call {
            annotations: Some(read_only.clone()),
            ..call(
                "search",
                "req-1",
                "429+hint",
                json!({"isError": true,
                "structuredContent": {"status_code": 429, "retry_after": 2}}),
            )
        },
        Call {
            annotations: Some(read_only),
            ..call(
                "search",
                "req-2",
                "503+hint",
                json!({"isError": true,
                "structuredContent": {"status_code": 503, "headers": {"Retry-After": "120"}}}),
            )
        },
        Call {
            annotations: Some(not_idempotent.clone()),
            ..call(
                "send_email",
                "req-3",
                "timeout",
                json!({"isError": true,
                "content": [{"type": "text", "text": "upstream timed out"}]}),
            )
        },
        Call {
            annotations: Some(not_idempotent),
            ..call(
                "send_email",
                "req-4",
                "503",
                json!({"isError": true,
                "structuredContent": {"status_code": 503}}),
            )
        },
        Call {
            remaining_ms: Some(600),
            ..call("report", "req-5", "error", error.clone())
        },
    ];
    // One flaky tool failing on new requests: the budget (6 tokens, retries above 3) runs out.
    calls.extend(
        ["req-6", "req-7", "req-8"]
            .into_iter()
            .map(|request| call("flaky_api", request, "error", error.clone())),
    );
    calls.push(call("flaky_api", "req-9", "ok", json!({})));
    calls
}

fn basics_story() -> Vec<Call> {
    let unavailable = json!({"isError": true, "structuredContent": {"status_code": 503},
                             "content": [{"type": "text", "text": "503 Service Unavailable"}]});
    let ok = json!({"content": [{"type": "text", "text": "<html>...</html>"}]});
    let call = |tool, request, trace, outcome, result: &Value| Call {
        tool,
        request,
        trace,
        outcome,
        result: result.clone(),
        remaining_ms: None,
        annotations: None,
    };
    let not_found = json!({"isError": true, "structuredContent": {"status_code": 404},
                           "content": [{"type": "text", "text": "no such index"}]});
    let error = json!({"isError": true});
    let mut calls = vec![
        call("web_scraper", "req-1", None, "503", &unavailable),
        call("web_scraper", "req-1", None, "503", &unavailable),
        call("web_scraper", "req-1", None, "ok", &ok),
        call("search", "req-2", None, "404", &not_found),
    ];
    // Six failures of one request: two retries, give up, then a fresh budget for the same id.
    calls.extend((0..6).map(|_| call("flaky_api", "req-3", None, "error", &error)));
    calls.push(call(
        "web_scraper",
        "req-4",
        Some("trace-7"),
        "503",
        &unavailable,
    ));
    calls
}

/// Replays `story` under `config` (JSON; `None` keeps the story's own: the manifest defaults,
/// or [`safety_config`]) and returns the table. Time advances by each requested delay, as a
/// gateway would sleep.
///
/// # Errors
/// A config the plugin refuses, or a trap.
pub fn run(runtime: &PluginRuntime, config: Option<&Value>, story: Story) -> Result<String> {
    let own_config = (story == Story::Safety).then(safety_config);
    let config = config.or(own_config.as_ref());
    let calls = match story {
        Story::Basics => basics_story(),
        Story::Safety => safety_story(),
    };
    let clock = VirtualClock::new(DEFAULT_START_WALL_MS);
    let env = GuestEnv::with_clock(clock.clone(), DEMO_SEED);
    let mut instance = runtime.instantiate(&env)?;
    if let Some(config) = config {
        instance
            .call(&Configure(&config.to_string()))?
            .map_err(|err: ConfigError| {
                anyhow::anyhow!("the plugin refused the config: {}", err.text())
            })?;
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<4} {:>7}  {:<12} {:<6} {:<8} {:<20} {:>8}  metadata",
        "step", "t (ms)", "tool", "req", "outcome", "decision", "delay"
    );
    let mut now = 0u64;
    let mut step = 0;
    let mut warnings = Vec::new();
    for call in calls {
        step += 1;
        clock.set_ms(now);
        let context = PluginContext {
            remaining_ms: call.remaining_ms,
            ..payload::context(call.request, call.trace, None)
        };
        let tool_payload = ToolPostInvokePayload {
            annotations: call
                .annotations
                .as_ref()
                .and_then(payload::tool_annotations),
            ..payload::tool_payload(call.tool, &call.result)
        };
        let answer = instance.call(&ToolPostInvoke {
            payload: &tool_payload,
            context: &context,
        })?;
        // The nested schema names its decision; the flat one only says retry or not.
        let decision = answer
            .decision()
            .unwrap_or_else(|| if answer.retry { "retry" } else { "no retry" }.to_owned());
        let _ = writeln!(
            table,
            "{step:<4} {now:>7}  {:<12} {:<6} {:<8} {decision:<20} {:>8}  {}",
            call.tool,
            call.request,
            call.outcome,
            format!("{} ms", answer.retry_delay_ms),
            answer.metadata
        );
        now += answer.retry_delay_ms.max(10);
        if let Some(warning) = answer.warning {
            warnings.push(format!("step {step}: {warning}"));
        }
    }
    step += 1;
    clock.set_ms(now);
    let fetch = instance.call(&ResourcePostFetch {
        payload: &payload::resource_payload("file:///data.txt", None::<&serde_json::Value>),
        context: &payload::context("req-0", None, None),
    })?;
    let _ = writeln!(
        table,
        "{step:<4} {now:>7}  {:<12} {:<6} {:<8} {:<20} {:>8}  {}",
        "(resource)", "req-0", "fetched", "no retry", "0 ms", fetch.metadata
    );
    for warning in warnings {
        let _ = writeln!(table, "warning (for the host's log) at {warning}");
    }
    Ok(table)
}
