//! A gateway-scale configuration: 10 000 tool policies, 100 status code policies, 100 error
//! patterns and a breaker. Configuring it must not trap (the component's memory is capped at
//! 64 MiB and every call is time-bounded), and decisions for the last tool, status and pattern
//! must be those of their layers. Prints the configure time and the component's memory.

use std::time::Instant;

use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, ToolPostInvoke};
use retry_host::{PluginRuntime, payload};
use serde_json::{Map, Value, json};

const TOOLS: usize = 10_000;
const STATUSES: u16 = 100;
const PATTERNS: usize = 100;

fn gateway_config() -> Value {
    let tools: Map<String, Value> = (0..TOOLS)
        .map(|i| {
            (
                format!("tool-{i}"),
                json!({"backoff_base_ms": 100 + i % 50, "max_retries": 3}),
            )
        })
        .collect();
    let statuses: Map<String, Value> = (500..500 + STATUSES)
        .map(|code| {
            (
                code.to_string(),
                json!({"max_backoff_ms": 60_000 + u64::from(code)}),
            )
        })
        .collect();
    let patterns: Vec<Value> = (0..PATTERNS)
        .map(|i| json!({"pattern": format!("failure code {i}\\b"), "max_retries": 1 + i % 5}))
        .collect();
    json!({
        "default_policy": {"jitter": false, "backoff_strategy": "fixed"},
        "retry_conditions": {"retry_on_status": (500..500 + STATUSES).collect::<Vec<_>>()},
        "status_code_policies": statuses,
        "error_patterns": patterns,
        "tool_policies": tools,
        "circuit_breaker": {"failure_threshold": 1000},
    })
}

#[test]
fn gateway_scale_config_configures_and_decides_for_the_last_entries() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = runtime.instantiate(&GuestEnv::new(0, 1)).unwrap();
    let config = gateway_config().to_string();
    let start = Instant::now();
    plugin.call(&Configure(&config)).unwrap().unwrap();
    let configure_ms = start.elapsed().as_secs_f64() * 1e3;

    let last_tool = format!("tool-{}", TOOLS - 1);
    let decide = |plugin: &mut retry_host::PluginInstance, result: Value, request: &str| {
        let answer = plugin
            .call(&ToolPostInvoke {
                payload: &payload::tool_payload(&last_tool, &result),
                context: &payload::context(request, None, None),
            })
            .unwrap();
        let metadata: Value = serde_json::from_str(&answer.metadata).unwrap();
        (answer, metadata["retry_with_backoff"]["policy"].clone())
    };

    let last_status = 500 + STATUSES - 1;
    let (answer, policy) = decide(
        &mut plugin,
        json!({"isError": true, "structuredContent": {"status_code": last_status}}),
        "status",
    );
    assert!(answer.retry);
    assert_eq!(answer.retry_delay_ms, 100 + (TOOLS as u64 - 1) % 50);
    assert_eq!(
        policy["max_backoff_ms"],
        json!(60_000 + u64::from(last_status))
    );
    assert_eq!(
        policy["source"],
        json!([
            "default",
            format!("status:{last_status}"),
            format!("tool:{last_tool}")
        ])
    );

    let text = format!("upstream failure code {}", PATTERNS - 1);
    let (answer, policy) = decide(
        &mut plugin,
        json!({"isError": true, "content": [{"type": "text", "text": text}]}),
        "pattern",
    );
    assert!(answer.retry);
    assert_eq!(
        policy["max_retries"],
        json!(3),
        "the tool's layer wins over the pattern's"
    );
    let source = policy["source"].as_array().unwrap();
    assert_eq!(
        source[1],
        json!(format!("pattern:failure code {}\\b", PATTERNS - 1))
    );

    let memory_mib = plugin.memory_bytes() as f64 / f64::from(1 << 20);
    println!(
        "scale: {TOOLS} tool policies, {STATUSES} status policies, {PATTERNS} patterns: configure {configure_ms:.0} ms, component memory {memory_mib:.1} MiB"
    );
}

#[test]
fn the_most_tool_policies_allowed_configure_and_one_more_is_refused() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = runtime.instantiate(&GuestEnv::new(0, 1)).unwrap();
    let config = |tools: usize| {
        let map: Map<String, Value> = (0..tools)
            .map(|i| (format!("t{i}"), json!({"max_retries": 1 + i % 9})))
            .collect();
        json!({"default_policy": {"jitter": false}, "tool_policies": map}).to_string()
    };
    let start = Instant::now();
    plugin.call(&Configure(&config(40_000))).unwrap().unwrap();
    println!(
        "scale: 40000 tool policies: configure {:.0} ms, component memory {:.1} MiB",
        start.elapsed().as_secs_f64() * 1e3,
        plugin.memory_bytes() as f64 / f64::from(1 << 20)
    );
    let answer = plugin
        .call(&ToolPostInvoke {
            payload: &payload::tool_payload("t39999", &json!({"isError": true})),
            context: &payload::context("r", None, None),
        })
        .unwrap();
    assert!(answer.retry);
    let refused = plugin
        .call(&Configure(&config(40_001)))
        .unwrap()
        .unwrap_err();
    assert!(
        refused
            .text()
            .contains("tool_policies must have at most 40000 entries, but had 40001"),
        "{}",
        refused.text()
    );
}

#[test]
fn the_most_pattern_text_allowed_configures_and_more_is_refused() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = runtime.instantiate(&GuestEnv::new(0, 1)).unwrap();
    // Distinct literal patterns (the largest automaton): `count` of `bytes` bytes each.
    let config = |count: usize, bytes: usize| {
        let patterns: Vec<Value> = (0..count)
            .map(|i| {
                let word = format!("w{i:04}");
                let mut text = word.repeat(bytes.div_ceil(word.len()));
                text.truncate(bytes);
                json!({"pattern": text, "max_retries": 1 + i % 5})
            })
            .collect();
        json!({"default_policy": {"jitter": false}, "error_patterns": patterns}).to_string()
    };
    // 1 000 patterns of 65 bytes: 65 000 bytes, within the 65 536 allowed.
    let start = Instant::now();
    plugin
        .call(&Configure(&config(1_000, 65)))
        .unwrap()
        .unwrap();
    println!(
        "scale: 1000 patterns of 65 bytes: configure {:.0} ms, component memory {:.1} MiB",
        start.elapsed().as_secs_f64() * 1e3,
        plugin.memory_bytes() as f64 / f64::from(1 << 20)
    );
    let text = format!("upstream said {}", "w0999".repeat(13));
    let answer = plugin
        .call(&ToolPostInvoke {
            payload: &payload::tool_payload(
                "t",
                &json!({"isError": true, "content": [{"type": "text", "text": text}]}),
            ),
            context: &payload::context("r", None, None),
        })
        .unwrap();
    let metadata: Value = serde_json::from_str(&answer.metadata).unwrap();
    assert_eq!(
        metadata["retry_with_backoff"]["policy"]["max_retries"],
        json!(5)
    );
    // 66 patterns of 1 000 bytes: each within its own bound, too much together.
    let refused = plugin
        .call(&Configure(&config(66, 1_000)))
        .unwrap()
        .unwrap_err();
    assert!(
        refused
            .text()
            .contains("error_patterns must hold at most 65536 bytes")
    );
}
