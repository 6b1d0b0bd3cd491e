//! Drives one engine path in a loop, for profilers (`valgrind --tool=callgrind`, `perf`):
//! `cargo run --release -p retry-engine --example hot_paths -- PATH [CALLS]`, where PATH is one
//! of `flat-success`, `flat-retry`, `nested-success`, `nested-status`, `nested-pattern`.

use retry_engine::{FixedClock, Plugin, SplitMix64, ToolCall, ToolResultView};

struct Result {
    is_error: Option<bool>,
    structured: Option<&'static str>,
    text: &'static str,
}

impl ToolResultView for Result {
    fn is_error(&self) -> Option<bool> {
        self.is_error
    }
    fn structured_content(&self) -> Option<&str> {
        self.structured
    }
    fn text_items(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text)
    }
}

const NESTED: &str = r#"{"default_policy": {"max_retries": 10},
  "status_code_policies": {"429": {"max_retries": 10, "backoff_base_ms": 1000, "max_backoff_ms": 30000}},
  "error_patterns": [{"pattern": "timeout"}, {"pattern": "connection.*reset"}, {"pattern": "temporary.*failure"}]}"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "nested-status".to_owned());
    let calls: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let (config, result) = match path.as_str() {
        "flat-success" => (
            r#"{"max_retries": 10}"#,
            Result {
                is_error: None,
                structured: None,
                text: "ok",
            },
        ),
        "flat-retry" => (
            r#"{"max_retries": 10}"#,
            Result {
                is_error: Some(true),
                structured: Some(r#"{"status_code":503}"#),
                text: "unavailable",
            },
        ),
        "nested-success" => (
            NESTED,
            Result {
                is_error: None,
                structured: None,
                text: "ok",
            },
        ),
        "nested-status" => (
            NESTED,
            Result {
                is_error: Some(true),
                structured: Some(r#"{"status_code":429}"#),
                text: "rate limited",
            },
        ),
        "nested-pattern" => (
            NESTED,
            Result {
                is_error: Some(true),
                structured: None,
                text: "read: connection was reset by peer",
            },
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
    let call = ToolCall {
        tool: "api_caller",
        request_id: "req-1",
        trace_id: None,
        result: &result,
    };
    let start = std::time::Instant::now();
    let mut retries = 0u32;
    for _ in 0..calls {
        retries += u32::from(plugin.tool_post_invoke(&call, &clock, &mut rng).retry);
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(calls);
    println!("{path}: {ns:.0} ns/call ({retries} retries)");
}
