//! Drives one engine path in a loop, for profilers (`valgrind --tool=callgrind`, `perf`):
//! `cargo run --release -p retry-engine --example hot_paths -- PATH [CALLS]`, where PATH is one
//! of `flat-success`, `flat-retry`, `flat-retry-fresh` (a new request id on every call, as a
//! gateway's first failures are), `nested-success`, `nested-status`, `nested-pattern`,
//! `nested-hint` (a 503 with `retry_after_ms`, annotations off), `nested-4k-text`.

use retry_engine::{FixedClock, OwnedToolResult, Plugin, SplitMix64, ToolCall};

const NESTED: &str = r#"{"default_policy": {"max_retries": 10},
  "status_code_policies": {"429": {"max_retries": 10, "backoff_base_ms": 1000, "max_backoff_ms": 30000}},
  "error_patterns": [{"pattern": "timeout"}, {"pattern": "connection.*reset"}, {"pattern": "temporary.*failure"}]}"#;

/// Annotations limited to the decision, as `bench`'s issue 10 rows.
const LEAN: &str = r#"{"default_policy": {"max_retries": 10, "jitter": false},
  "metadata": {"include_policy": false, "include_next_retry_time": false,
    "include_attempt_count": false, "include_circuit_breaker_state": false,
    "include_budget_state": false}}"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "nested-status".to_owned());
    let calls: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let with_text = |result: OwnedToolResult, text: &str| OwnedToolResult {
        texts: vec![text.to_owned()],
        ..result
    };
    let flat = r#"{"max_retries": 10}"#;
    let (config, result) = match path.as_str() {
        "flat-success" => (flat, OwnedToolResult::text("ok")),
        "flat-retry" | "flat-retry-fresh" => (
            flat,
            with_text(
                OwnedToolResult::structured(r#"{"status_code":503}"#).with_error(),
                "unavailable",
            ),
        ),
        "nested-success" => (NESTED, OwnedToolResult::text("ok")),
        "nested-status" => (
            NESTED,
            with_text(
                OwnedToolResult::structured(r#"{"status_code":429}"#).with_error(),
                "rate limited",
            ),
        ),
        "nested-pattern" => (
            NESTED,
            OwnedToolResult::text("read: connection was reset by peer").with_error(),
        ),
        "nested-hint" => (
            LEAN,
            OwnedToolResult::structured(r#"{"status_code":503,"retry_after_ms":1500}"#)
                .with_error(),
        ),
        "nested-4k-text" => (
            NESTED,
            OwnedToolResult::text(&"x".repeat(4096)).with_error(),
        ),
        other => panic!("unknown path {other}"),
    };
    let mut plugin = Plugin::default();
    plugin.configure_json(config).expect("valid config");
    let clock = FixedClock {
        monotonic_ms: 1,
        wall_ms: 1_767_225_600_000,
    };
    let mut rng = SplitMix64::new(1);
    let fresh = path.ends_with("-fresh");
    let request_ids: Vec<String> = (0..if fresh { calls } else { 1 })
        .map(|index| format!("req-{index}"))
        .collect();
    let start = std::time::Instant::now();
    let mut retries = 0u32;
    for index in 0..calls {
        let call = ToolCall {
            tool: "api_caller",
            request_id: &request_ids[if fresh { index as usize } else { 0 }],
            trace_id: None,
            result: &result,
            remaining_ms: None,
            annotations: None,
        };
        retries += u32::from(plugin.tool_post_invoke(&call, &clock, &mut rng).retry);
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(calls);
    println!("{path}: {ns:.0} ns/call ({retries} retries)");
}
