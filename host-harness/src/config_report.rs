//! The effective policy of a validated config as a readable table, for `check-config`.

use serde_json::Value;

const HEADER: [&str; 8] = [
    "layer",
    "retries",
    "strategy",
    "base ms",
    "mult",
    "max ms",
    "jitter",
    "retry_on_status",
];

/// Renders [`retry_engine::PluginConfig::describe`]'s value as text.
pub fn render(described: &Value) -> String {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if described["schema"] == "flat" {
        rows.push(flat_row("default", &described["default"]));
        if let Some(tools) = described["tools"].as_object() {
            rows.extend(
                tools
                    .iter()
                    .map(|(name, rules)| flat_row(&format!("tool {name}"), rules)),
            );
        }
        notes.push(format!(
            "schema: flat (ContextForge); jitter is full jitter; check_text_content: {}",
            described["default"]["check_text_content"]
        ));
    } else {
        rows.push(nested_row("default", &described["default_policy"]));
        for (code, policy) in described["status_code_policies"]
            .as_object()
            .into_iter()
            .flatten()
        {
            rows.push(nested_row(&format!("status {code}"), policy));
        }
        for policy in described["error_patterns"].as_array().into_iter().flatten() {
            rows.push(nested_row(
                &format!("pattern {}", policy["pattern"]),
                policy,
            ));
        }
        for (name, policy) in described["tool_policies"].as_object().into_iter().flatten() {
            rows.push(nested_row(&format!("tool {name}"), policy));
        }
        let conditions = &described["retry_conditions"];
        let breaker = &described["circuit_breaker"];
        notes.push("schema: nested; a status or pattern row is default + that layer, a tool row default + the tool's policy".to_owned());
        notes.push(format!(
            "retry_conditions: never_retry_status {}, retry_on_timeout {}, retry_on_connection_error {}",
            codes(&conditions["never_retry_status"]),
            conditions["retry_on_timeout"],
            conditions["retry_on_connection_error"]
        ));
        notes.push(if conditions["honor_retry_after"] == true {
            format!(
                "server hints: honoured up to {} ms (a longer one refuses the retry)",
                conditions["max_retry_after_ms"]
            )
        } else {
            "server hints: ignored".to_owned()
        });
        notes.push(format!(
            "idempotency: tool annotations {}; an unsafe call is retried only for {}; deadlines: an attempt needs {} ms",
            if conditions["respect_tool_annotations"] == true {
                "respected"
            } else {
                "ignored"
            },
            codes(&conditions["non_idempotent_retry_on_status"]),
            conditions["min_attempt_ms"]
        ));
        notes.push(if breaker["enabled"] == true {
            format!(
                "circuit_breaker: opens after {} consecutive failures of a tool, half-open after {} ms, closes after {} successes",
                breaker["failure_threshold"], breaker["recovery_timeout_ms"], breaker["half_open_max_calls"]
            )
        } else {
            "circuit_breaker: off".to_owned()
        });
        let budget = &described["retry_budget"];
        notes.push(if budget["enabled"] == true {
            format!(
                "retry_budget: {} tokens per tool, a retryable failure takes 1, a success gives back {}; retries stop at half",
                budget["max_tokens"], budget["token_ratio"]
            )
        } else {
            "retry_budget: off".to_owned()
        });
        let on: Vec<&str> = described["metadata"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, on)| **on == true)
            .map(|(flag, _)| flag.as_str())
            .collect();
        notes.push(format!(
            "metadata: {}",
            if on.is_empty() {
                "no optional fields".to_owned()
            } else {
                on.join(", ")
            }
        ));
    }
    crate::table::render(&HEADER, &[], &rows) + &notes.join("\n") + "\n"
}

fn flat_row(layer: &str, rules: &Value) -> [String; 8] {
    [
        layer.to_owned(),
        rules["max_retries"].to_string(),
        "exponential".to_owned(),
        rules["backoff_base_ms"].to_string(),
        "2".to_owned(),
        rules["max_backoff_ms"].to_string(),
        if rules["jitter"] == true {
            "full"
        } else {
            "none"
        }
        .to_owned(),
        codes(&rules["retry_on_status"]),
    ]
}

fn nested_row(layer: &str, policy: &Value) -> [String; 8] {
    let jitter = if policy["jitter"] == true {
        format!("±{}%", policy["jitter_max_percent"])
    } else {
        "none".to_owned()
    };
    let multiplier = if policy["backoff_strategy"] == "exponential" {
        policy["backoff_multiplier"].to_string()
    } else {
        "-".to_owned()
    };
    [
        layer.to_owned(),
        policy["max_retries"].to_string(),
        policy["backoff_strategy"]
            .as_str()
            .unwrap_or("?")
            .to_owned(),
        policy["backoff_base_ms"].to_string(),
        multiplier,
        policy["max_backoff_ms"].to_string(),
        jitter,
        codes(&policy["retry_on_status"]),
    ]
}

fn codes(list: &Value) -> String {
    let codes: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(Value::to_string)
        .collect();
    if codes.is_empty() {
        "-".to_owned()
    } else {
        codes.join(",")
    }
}
