//! The demo: a short story of tool calls replayed through the component, printed as a table.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{Value, json};

use retry_host::bindings::ConfigError;
use retry_host::guest_env::{DEFAULT_START_WALL_MS, GuestEnv, VirtualClock};
use retry_host::hook::{Configure, ResourcePostFetch, ToolPostInvoke};
use retry_host::{PluginRuntime, payload};

/// The seed of the demo's random source, so the demo prints the same table every time.
pub const DEMO_SEED: u64 = 42;

struct Call {
    tool: &'static str,
    request: &'static str,
    trace: Option<&'static str>,
    outcome: &'static str,
    result: Value,
}

fn story() -> Vec<Call> {
    let unavailable = json!({"isError": true, "structuredContent": {"status_code": 503},
                             "content": [{"type": "text", "text": "503 Service Unavailable"}]});
    let ok = json!({"content": [{"type": "text", "text": "<html>...</html>"}]});
    let call = |tool, request, trace, outcome, result: &Value| Call {
        tool,
        request,
        trace,
        outcome,
        result: result.clone(),
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

/// Replays the story under `config` (JSON; `None` keeps the manifest defaults) and returns the
/// table. Time advances by each requested delay, as a gateway would sleep.
///
/// # Errors
/// A config the plugin refuses, or a trap.
pub fn run(runtime: &PluginRuntime, config: Option<&Value>) -> Result<String> {
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
        "{:<4} {:>7}  {:<12} {:<6} {:<7} {:<9} {:>8}  metadata",
        "step", "t (ms)", "tool", "req", "outcome", "decision", "delay"
    );
    let mut now = 0u64;
    let mut step = 0;
    let mut warnings = Vec::new();
    for call in story() {
        step += 1;
        clock.set_ms(now);
        let context = payload::context(call.request, call.trace, None);
        let answer = instance.call(&ToolPostInvoke {
            payload: &payload::tool_payload(call.tool, &call.result),
            context: &context,
        })?;
        let decision = if answer.retry { "retry" } else { "no retry" };
        let _ = writeln!(
            table,
            "{step:<4} {now:>7}  {:<12} {:<6} {:<7} {decision:<9} {:>8}  {}",
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
        context: &payload::context("req-5", None, None),
    })?;
    let _ = writeln!(
        table,
        "{step:<4} {now:>7}  {:<12} {:<6} {:<7} {:<9} {:>8}  {}",
        "(resource)", "req-5", "fetched", "no retry", "0 ms", fetch.metadata
    );
    for warning in warnings {
        let _ = writeln!(table, "warning (for the host's log) at {warning}");
    }
    Ok(table)
}
