//! Property tests over arbitrary configs and tool results: no panic, delays within bounds,
//! never more retries than the budget, bad configs always rejected with a message.
//!
//! CI runs 256 cases per property; a long campaign is
//! `PROPTEST_CASES=100000 cargo test --release -p retry-engine --test properties`.

use proptest::prelude::*;
use retry_engine::backoff::{Backoff, Exponential, Fixed, Linear};
use retry_engine::{
    ConfigErrors, FixedClock, Jitter, OwnedToolResult, Plugin, PluginConfig, Rng, SplitMix64,
    ToolCall,
};
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &[
    "max_retries",
    "backoff_base_ms",
    "max_backoff_ms",
    "retry_on_status",
    "jitter",
    "check_text_content",
    "tool_overrides",
    "default_policy",
    "status_code_policies",
    "tool_policies",
    "error_patterns",
    "circuit_breaker",
    "retry_conditions",
    "metadata",
    "pattern",
    "backoff_strategy",
    "backoff_multiplier",
    "jitter_max_percent",
    "failure_threshold",
    "recovery_timeout_ms",
    "half_open_max_calls",
    "never_retry_status",
    "retry_on_timeout",
    "include_policy",
    "enabled",
    "429",
    "503",
    "t",
    "isError",
    "status_code",
    "error",
    "message",
];

/// Any JSON value, biased towards the keys and values the plugin reads.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(2),
            Just(10),
            Just(11),
            Just(200),
            Just(404),
            Just(503),
            Just(-1),
            any::<i64>()
        ]
        .prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just(0.5f64),
            Just(2.0),
            Just(1e308),
            Just(-0.0),
            any::<f64>()
        ]
        .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("exponential".to_owned()),
            Just("linear".to_owned()),
            Just("fixed".to_owned()),
            Just("timeout".to_owned()),
            Just("conn(".to_owned()),
            Just("connection.*reset".to_owned()),
            ".{0,12}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A tool result as a gateway might hand it over, malformed parts included.
fn any_result() -> impl Strategy<Value = OwnedToolResult> {
    (
        prop::option::of(any::<bool>()),
        prop::option::of(prop_oneof![
            any_json().prop_map(|v| v.to_string()),
            hostile_text(),
            ".{0,40}"
        ]),
        prop::collection::vec(
            prop_oneof![
                any_json().prop_map(|v| v.to_string()),
                hostile_text(),
                ".{0,60}",
                Just("connection reset by peer".to_owned()),
            ],
            0..3,
        ),
    )
        .prop_map(|(is_error, structured_content, texts)| OwnedToolResult {
            is_error,
            structured_content,
            texts,
        })
}

/// Huge strings, deep nesting, huge and non-finite-looking numbers, and JSON objects wrapping
/// them: what a hostile or broken upstream might send. (WIT strings are UTF-8 by contract, so
/// invalid UTF-8 cannot reach the engine.)
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..300_000).prop_map(|n| "x".repeat(n)),
        (1usize..20_000).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        (1usize..20_000).prop_map(|depth| format!(
            "{}1{}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        )),
        (1usize..100_000)
            .prop_map(|n| format!("{{\"isError\": true, \"error\": \"{}\"}}", "e".repeat(n))),
        Just(r#"{"status_code": 1e400}"#.to_owned()),
        Just(r#"{"status_code": -0, "isError": true}"#.to_owned()),
        Just(r#"{"status_code": 18446744073709551616}"#.to_owned()),
        Just("NaN".to_owned()),
    ]
}

/// A valid config of either schema with a known retry budget and delay cap.
fn any_valid_config() -> impl Strategy<Value = (Value, u32, u64)> {
    (0u32..=10, 1u64..1000, 0u64..100_000, any::<bool>(), any::<bool>(), 1u32..4).prop_map(
        |(retries, base, extra, jitter, nested, threshold)| {
            let max = base + extra;
            let config = if nested {
                json!({
                    "default_policy": {"max_retries": retries, "backoff_base_ms": base, "max_backoff_ms": max, "jitter": jitter},
                    "status_code_policies": {"503": {"backoff_strategy": "linear"}, "429": {"backoff_strategy": "fixed"}},
                    "error_patterns": [{"pattern": "conn.*reset"}, {"pattern": "5\\d\\d"}],
                    "circuit_breaker": {"failure_threshold": threshold, "recovery_timeout_ms": 50},
                })
            } else {
                json!({"max_retries": retries, "backoff_base_ms": base, "max_backoff_ms": max, "jitter": jitter, "check_text_content": true})
            };
            (config, retries, max)
        },
    )
}

proptest! {
    #[test]
    fn curves_never_exceed_the_cap_for_any_failure_number(
        base in 1u64..=u64::MAX / 2, extra in 0u64..=u64::MAX / 2, multiplier in 1.0f64..1000.0, failure in any::<u32>()
    ) {
        let max = base + extra;
        let curves = [
            Backoff::Exponential(Exponential::new().with_base_ms(base).with_multiplier(multiplier).with_max_ms(max)),
            Backoff::Linear(Linear::new().with_base_ms(base).with_max_ms(max)),
            Backoff::Fixed(Fixed::new().with_base_ms(base).with_max_ms(max)),
        ];
        for curve in curves {
            let ceiling = curve.ceiling_ms(failure);
            prop_assert!(ceiling <= max && ceiling >= base.min(max));
        }
    }

    #[test]
    fn jitter_stays_within_its_documented_range(ceiling in 0u64..=u64::MAX, extra in 0u64..1000, percent in 0.0f64..=100.0, seed in any::<u64>()) {
        let max = ceiling.saturating_add(extra).max(1);
        let mut rng = SplitMix64::new(seed);
        let full = Jitter::Full.apply(ceiling, max, &mut rng);
        prop_assert!(full >= 1 && full <= ceiling.max(1));
        let proportional = Jitter::Proportional { percent }.apply(ceiling, max, &mut rng);
        prop_assert!(proportional >= 1 && proportional <= max);
        prop_assert!(rng.next_f64() < 1.0);
    }

    #[test]
    fn any_config_is_accepted_or_rejected_with_messages(config in any_json()) {
        match PluginConfig::from_value(&config) {
            Ok(valid) => prop_assert!(valid.describe().is_object()),
            Err(ConfigErrors::Malformed(message)) => prop_assert!(!message.is_empty()),
            Err(ConfigErrors::Invalid(errors)) => {
                prop_assert!(!errors.is_empty());
                for error in errors {
                    prop_assert!(!error.key.is_empty() && !error.message.is_empty());
                }
            }
        }
    }

    #[test]
    fn decisions_keep_their_promises_on_any_results(
        (config, budget, max) in any_valid_config(),
        results in prop::collection::vec(any_result(), 1..40),
        seed in any::<u64>(),
        step_ms in 0u64..100,
    ) {
        let mut plugin = Plugin::default();
        plugin.configure_json(&config.to_string()).unwrap();
        let mut rng = SplitMix64::new(seed);
        let mut retries_in_a_row = 0;
        for (index, result) in results.iter().enumerate() {
            let clock = FixedClock { monotonic_ms: index as u64 * step_ms, wall_ms: 0 };
            let call = ToolCall { tool: "t", request_id: "r", trace_id: Some("x"), result, remaining_ms: None, annotations: None };
            let decision = plugin.tool_post_invoke(&call, &clock, &mut rng);
            prop_assert_eq!(decision.retry, decision.delay_ms >= 1);
            prop_assert!(decision.delay_ms <= max);
            let metadata: Value = serde_json::from_str(&decision.metadata).unwrap();
            prop_assert!(metadata.is_object());
            retries_in_a_row = if decision.retry { retries_in_a_row + 1 } else { 0 };
            prop_assert!(retries_in_a_row <= budget, "{} retries in a row, budget {}", retries_in_a_row, budget);
        }
    }
}
