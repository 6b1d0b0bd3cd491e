//! No trap, no panic and no broken promise, whatever the config or tool result: generated
//! and hand-picked hostile inputs against the live component, plus per-instance state.

use retry_engine::{Rng, SplitMix64};
use retry_host::bindings::{PluginContext, ToolPostInvokeResult};
use retry_host::guest_env::GuestEnv;
use retry_host::hook::{Configure, ResourcePostFetch, ToolPostInvoke};
use retry_host::{PluginInstance, PluginRuntime, payload};
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &[
    "max_retries",
    "backoff_base_ms",
    "max_backoff_ms",
    "retry_on_status",
    "jitter",
    "check_text_content",
    "tool_overrides",
    "isError",
    "structuredContent",
    "status_code",
    "content",
    "type",
    "text",
    "t",
    "",
    "maxRetries",
    "\u{1F600}",
];

/// A random JSON value, biased towards the keys and shapes the plugin reads.
fn random_value(rng: &mut SplitMix64, depth: u32) -> Value {
    let pick = rng.next_u64() % if depth == 0 { 6 } else { 8 };
    match pick {
        0 => Value::Null,
        1 => Value::Bool(rng.next_u64().is_multiple_of(2)),
        2 => {
            let choices = [
                0i64,
                1,
                -1,
                2,
                10,
                11,
                200,
                404,
                503,
                5000,
                i64::MAX,
                i64::MIN,
                99_999,
            ];
            json!(choices[(rng.next_u64() % choices.len() as u64) as usize])
        }
        3 => json!([1e308, -0.0, 2.5, 503.0, 1e-300][(rng.next_u64() % 5) as usize]),
        4 => json!(
            [
                "",
                "true",
                "503",
                "{\"isError\": true}",
                "{\"status_code\": 503}",
                "x"
            ][(rng.next_u64() % 6) as usize]
        ),
        5 => json!(u64::MAX),
        6 => Value::Array(
            (0..rng.next_u64() % 4)
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.next_u64() % 5 {
                let key = KEYS[(rng.next_u64() % KEYS.len() as u64) as usize];
                map.insert(key.to_owned(), random_value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

fn instance(runtime: &PluginRuntime, seed: u64) -> PluginInstance {
    runtime.instantiate(&GuestEnv::new(0, seed)).unwrap()
}

fn call(
    instance: &mut PluginInstance,
    tool: &str,
    request: &str,
    result: &Value,
) -> ToolPostInvokeResult {
    let context = PluginContext {
        trace_id: Some("trace".into()),
        ..PluginContext::for_request(request)
    };
    instance
        .call(&ToolPostInvoke {
            payload: &payload::tool_payload(tool, result),
            context: &context,
        })
        .expect("the component must never trap")
}

fn assert_consistent(answer: &ToolPostInvokeResult, max_backoff_ms: u64) {
    assert_eq!(answer.retry, answer.retry_delay_ms > 0, "{answer:?}");
    assert!(answer.retry_delay_ms <= max_backoff_ms, "{answer:?}");
    let metadata: Value = serde_json::from_str(&answer.metadata).unwrap();
    assert!(metadata.is_object());
}

#[test]
fn random_configs_never_trap_and_errors_always_say_why() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 1);
    let mut rng = SplitMix64::new(2024);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..3000 {
        let config = random_value(&mut rng, 3);
        match plugin
            .call(&Configure(&config.to_string()))
            .expect("configure must never trap")
        {
            Ok(()) => accepted += 1,
            Err(err) => {
                rejected += 1;
                assert!(!err.text().is_empty(), "{config}");
            }
        }
        call(&mut plugin, "t", "r", &json!({"isError": true}));
    }
    assert!(
        accepted > 0 && rejected > 0,
        "accepted {accepted}, rejected {rejected}"
    );
}

#[test]
fn random_results_never_trap_and_keep_the_promises() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 3);
    plugin
        .call(&Configure(r#"{"max_retries": 3, "backoff_base_ms": 10, "max_backoff_ms": 50, "check_text_content": true}"#))
        .unwrap()
        .unwrap();
    drive_random_results(&mut plugin, 99, 50, |_| {});
}

#[test]
fn random_results_under_nested_policies_keep_the_promises() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 11);
    let config = json!({
        "default_policy": {"max_retries": 3, "backoff_base_ms": 10, "max_backoff_ms": 80},
        "status_code_policies": {"503": {"backoff_strategy": "linear"}, "429": {"backoff_strategy": "fixed"}},
        "error_patterns": [{"pattern": "time.*out", "backoff_base_ms": 20}, {"pattern": "x"}],
        "tool_policies": {"t": {"backoff_multiplier": 3.0}},
        "circuit_breaker": {"failure_threshold": 4, "recovery_timeout_ms": 0, "half_open_max_calls": 1}
    });
    plugin
        .call(&Configure(&config.to_string()))
        .unwrap()
        .unwrap();
    drive_random_results(&mut plugin, 123, 80, |metadata| {
        let decision = metadata["retry_with_backoff"]["decision"].as_str().unwrap();
        let known = [
            "retry",
            "give_up",
            "not_retryable",
            "circuit_open",
            "success",
        ];
        assert!(known.contains(&decision), "{metadata}");
    });
}

/// Feeds 5000 generated results for one request and checks every answer: consistent, delay
/// within [1, max_backoff_ms], never more than 3 retries in a row (max_retries is 3 or less).
fn drive_random_results(
    plugin: &mut PluginInstance,
    seed: u64,
    max_backoff_ms: u64,
    check_metadata: impl Fn(&Value),
) {
    let mut rng = SplitMix64::new(seed);
    let mut retries_in_a_row = 0;
    for _ in 0..5000 {
        let result = random_value(&mut rng, 4);
        let answer = call(plugin, "t", "r", &result);
        assert_consistent(&answer, max_backoff_ms);
        check_metadata(&serde_json::from_str(&answer.metadata).unwrap());
        retries_in_a_row = if answer.retry {
            retries_in_a_row + 1
        } else {
            0
        };
        assert!(
            retries_in_a_row <= 3,
            "more retries than max_retries in a row"
        );
    }
}

#[test]
fn hostile_results_never_trap() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 4);
    plugin
        .call(&Configure(r#"{"check_text_content": true}"#))
        .unwrap()
        .unwrap();
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let huge = "x".repeat(1 << 20);
    let results = [
        json!({"isError": true, "structuredContent": {"status_code": 1e308}}),
        json!({"isError": true, "structuredContent": {"status_code": u64::MAX}}),
        json!({"isError": true, "structuredContent": {"status_code": i64::MIN}}),
        json!({"structuredContent": {"status_code": -503}}),
        json!({"content": [{"type": "text", "text": deep}]}),
        json!({"content": [{"type": "text", "text": huge}], "isError": true}),
        json!({"content": [{"type": "text", "text": format!("{{\"status_code\": 503, \"pad\": \"{huge}\"}}")}]}),
        json!({"structuredContent": {"a": {"b": {"c": {"d": [[[[[[[[[[{"isError": true}]]]]]]]]]]}}}}}),
        json!({"content": [{"type": "text", "text": "\u{0}\u{FFFF}\u{1F600}"}]}),
    ];
    for result in &results {
        assert_consistent(&call(&mut plugin, "t", "r", result), 5000);
    }
    let long_name = "n".repeat(1 << 16);
    assert_consistent(
        &call(
            &mut plugin,
            &long_name,
            &long_name,
            &json!({"isError": true}),
        ),
        5000,
    );
    assert_consistent(&call(&mut plugin, "", "", &json!({"isError": true})), 5000);
}

#[test]
fn hostile_configs_never_trap() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 5);
    let configs = [
        "",
        "{",
        "null",
        "[]",
        "\"text\"",
        "1e999",
        r#"{"max_retries": 1e308}"#,
        r#"{"backoff_base_ms": 18446744073709551615, "max_backoff_ms": 18446744073709551615, "max_retries": 10}"#,
        r#"{"backoff_base_ms": 18446744073709551616}"#,
        r#"{"tool_overrides": {"": {}, "a:b": {"max_retries": 0}}}"#,
        r#"{"retry_on_status": [100, 599, 100, 599]}"#,
    ];
    for config in configs {
        let _ = plugin
            .call(&Configure(config))
            .expect("configure must never trap");
        let answer = call(&mut plugin, "t", "r", &json!({"isError": true}));
        assert_eq!(answer.retry, answer.retry_delay_ms > 0);
    }
    plugin
        .call(&Configure(r#"{"backoff_base_ms": 18446744073709551615, "max_backoff_ms": 18446744073709551615, "max_retries": 10, "jitter": false}"#))
        .unwrap()
        .unwrap();
    for _ in 0..10 {
        let answer = call(&mut plugin, "big", "r", &json!({"isError": true}));
        assert!(answer.retry && answer.retry_delay_ms == u64::MAX);
    }
}

#[test]
fn instances_keep_separate_state() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut first = instance(&runtime, 6);
    let mut second = instance(&runtime, 6);
    for plugin in [&mut first, &mut second] {
        plugin
            .call(&Configure(r#"{"jitter": false, "max_retries": 5}"#))
            .unwrap()
            .unwrap();
    }
    let failure = json!({"isError": true});
    assert_eq!(call(&mut first, "t", "r", &failure).retry_delay_ms, 200);
    assert_eq!(call(&mut first, "t", "r", &failure).retry_delay_ms, 400);
    assert_eq!(call(&mut second, "t", "r", &failure).retry_delay_ms, 200);
    assert_eq!(call(&mut first, "t", "r", &failure).retry_delay_ms, 800);
}

#[test]
fn refused_config_keeps_the_previous_one_and_its_state() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 7);
    plugin
        .call(&Configure(r#"{"jitter": false, "max_retries": 5}"#))
        .unwrap()
        .unwrap();
    assert_eq!(
        call(&mut plugin, "t", "r", &json!({"isError": true})).retry_delay_ms,
        200
    );
    assert!(
        plugin
            .call(&Configure(r#"{"max_retries": 50}"#))
            .unwrap()
            .is_err()
    );
    assert_eq!(
        call(&mut plugin, "t", "r", &json!({"isError": true})).retry_delay_ms,
        400
    );
}

#[test]
fn give_up_returns_the_warning_for_the_host_log() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 12);
    plugin
        .call(&Configure(r#"{"max_retries": 1}"#))
        .unwrap()
        .unwrap();
    let failure = json!({"isError": true});
    assert_eq!(call(&mut plugin, "t", "r-9", &failure).warning, None);
    assert_eq!(
        call(&mut plugin, "t", "r-9", &failure).warning.as_deref(),
        Some("tool=t request_id=r-9 exhausted after 2 failure(s)")
    );
    assert_eq!(call(&mut plugin, "t", "r-9", &json!({})).warning, None);
}

#[test]
fn new_config_drops_state() {
    let runtime = PluginRuntime::plugin().unwrap();
    let mut plugin = instance(&runtime, 8);
    plugin
        .call(&Configure(r#"{"jitter": false}"#))
        .unwrap()
        .unwrap();
    assert_eq!(
        call(&mut plugin, "t", "r", &json!({"isError": true})).retry_delay_ms,
        200
    );
    plugin
        .call(&Configure(r#"{"jitter": false}"#))
        .unwrap()
        .unwrap();
    assert_eq!(
        call(&mut plugin, "t", "r", &json!({"isError": true})).retry_delay_ms,
        200
    );
}

#[test]
fn manifest_defaults_are_the_component_defaults() {
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugin-manifest.yaml"
    ))
    .unwrap();
    let document = host_harness::yaml::parse(&manifest).unwrap();
    let defaults = document["default_configs"].to_string();
    let runtime = PluginRuntime::plugin().unwrap();
    let fetch = |plugin: &mut PluginInstance| {
        plugin
            .call(&ResourcePostFetch {
                payload: &payload::resource_payload("u", None::<&serde_json::Value>),
                context: &PluginContext::for_request("r"),
            })
            .unwrap()
            .metadata
    };
    let mut unconfigured = instance(&runtime, 9);
    let mut configured = instance(&runtime, 9);
    configured.call(&Configure(&defaults)).unwrap().unwrap();
    assert_eq!(fetch(&mut unconfigured), fetch(&mut configured));
    let engine_defaults = retry_engine::PluginConfig::default().describe();
    let manifest_config =
        retry_engine::PluginConfig::from_value(&document["default_configs"]).unwrap();
    assert_eq!(engine_defaults, manifest_config.describe());
}

#[test]
fn component_imports_nothing_beyond_what_rust_std_uses() {
    let runtime = PluginRuntime::plugin().unwrap();
    let imports = runtime.imports();
    // wasi:clocks and wasi:random feed the engine; wasi:cli and wasi:io are std's stdio,
    // environment and exit; the contract's own types interface declares types only.
    let allowed = [
        "wasi:clocks/",
        "wasi:random/",
        "wasi:cli/",
        "wasi:io/",
        "mcp-plugins:retry-with-backoff/types@",
    ];
    for import in &imports {
        assert!(
            allowed.iter().any(|prefix| import.starts_with(prefix)),
            "unexpected import {import}: {imports:?}"
        );
    }
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("wasi:clocks/monotonic-clock"))
    );
    assert!(imports.iter().any(|i| i.starts_with("wasi:random/random")));
}
