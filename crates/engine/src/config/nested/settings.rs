//! The nested schema's settings sections: `retry_conditions`, `circuit_breaker` and
//! `metadata`.

use std::ops::Bound;

use serde::Serialize;
use serde_json::Value;

use super::super::key_path::KeyPath;
use super::super::layer::PolicyLayer;
use super::super::read::{self, Errors, section};
use crate::breaker::BreakerConfig;
use crate::budget::{BudgetConfig, MAX_TOKENS_LIMIT};
use crate::status::StatusSet;

/// Default `retry_conditions.retry_on_status`.
pub(crate) const DEFAULT_CONDITIONS_RETRY_ON_STATUS: [u16; 5] = [429, 500, 502, 503, 504];
/// Default `retry_conditions.never_retry_status`.
pub(crate) const DEFAULT_NEVER_RETRY_STATUS: [u16; 4] = [400, 401, 403, 404];
/// Default `retry_conditions.retry_on_timeout`.
pub(crate) const DEFAULT_RETRY_ON_TIMEOUT: bool = true;
/// Default `retry_conditions.retry_on_connection_error`.
pub(crate) const DEFAULT_RETRY_ON_CONNECTION_ERROR: bool = true;
/// Default `retry_conditions.honor_retry_after`.
pub(crate) const DEFAULT_HONOR_RETRY_AFTER: bool = true;
/// Default `retry_conditions.max_retry_after_ms`, in ms.
pub(crate) const DEFAULT_MAX_RETRY_AFTER_MS: u64 = 60_000;
/// Default `retry_conditions.respect_tool_annotations`.
pub(crate) const DEFAULT_RESPECT_TOOL_ANNOTATIONS: bool = true;
/// Default `retry_conditions.non_idempotent_retry_on_status`.
pub(crate) const DEFAULT_NON_IDEMPOTENT_RETRY_ON_STATUS: [u16; 2] = [429, 503];
/// Default `retry_conditions.min_attempt_ms`, in ms.
pub(crate) const DEFAULT_MIN_ATTEMPT_MS: u64 = 0;
/// Default of every `metadata.include_*` flag.
pub(crate) const DEFAULT_INCLUDE: bool = true;

section!(
    /// `retry_conditions`.
    struct ConditionKeys {
        retry_on_status,
        retry_on_timeout,
        retry_on_connection_error,
        never_retry_status,
        honor_retry_after,
        max_retry_after_ms,
        respect_tool_annotations,
        non_idempotent_retry_on_status,
        min_attempt_ms,
    }
);

section!(
    /// `circuit_breaker`.
    struct BreakerKeys {
        enabled,
        failure_threshold,
        recovery_timeout_ms,
        half_open_max_calls,
    }
);

section!(
    /// `metadata`.
    struct MetadataKeys {
        include_policy,
        include_next_retry_time,
        include_attempt_count,
        include_circuit_breaker_state,
        include_budget_state,
    }
);

section!(
    /// `retry_budget`.
    struct BudgetKeys {
        enabled,
        max_tokens,
        token_ratio,
    }
);

/// `retry_conditions`: which failures may be retried at all. Serializes with the config's key
/// names (for `describe`).
///
/// # Default
/// - `retry_on_status`: [`DEFAULT_CONDITIONS_RETRY_ON_STATUS`]
/// - `retry_on_timeout`: [`DEFAULT_RETRY_ON_TIMEOUT`]
/// - `retry_on_connection_error`: [`DEFAULT_RETRY_ON_CONNECTION_ERROR`]
/// - `never_retry_status`: [`DEFAULT_NEVER_RETRY_STATUS`]
/// - `honor_retry_after`: [`DEFAULT_HONOR_RETRY_AFTER`]
/// - `max_retry_after_ms`: [`DEFAULT_MAX_RETRY_AFTER_MS`]
/// - `respect_tool_annotations`: [`DEFAULT_RESPECT_TOOL_ANNOTATIONS`]
/// - `non_idempotent_retry_on_status`: [`DEFAULT_NON_IDEMPOTENT_RETRY_ON_STATUS`]
/// - `min_attempt_ms`: [`DEFAULT_MIN_ATTEMPT_MS`]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct RetryConditions {
    /// Status codes that make a failure retryable (unless a tool policy lists its own).
    pub retry_on_status: StatusSet,
    /// Whether failures in the built-in timeout class are retried.
    pub retry_on_timeout: bool,
    /// Whether failures in the built-in connection class are retried.
    pub retry_on_connection_error: bool,
    /// Status codes that are never retried.
    pub never_retry_status: StatusSet,
    /// Whether a server's hint (`retry_after_ms`, `retry_after`, `Retry-After`) sets the delay.
    pub honor_retry_after: bool,
    /// The longest hinted wait accepted; a longer one refuses the retry.
    pub max_retry_after_ms: u64,
    /// Whether a tool's MCP annotations decide if a call is safe to repeat.
    pub respect_tool_annotations: bool,
    /// The status codes for which a call that is not safe to repeat is still retried (the
    /// server refused it before doing anything).
    pub non_idempotent_retry_on_status: StatusSet,
    /// The least time an attempt needs: a retry whose delay plus this reaches the caller's
    /// remaining time is refused.
    pub min_attempt_ms: u64,
}

impl Default for RetryConditions {
    fn default() -> Self {
        Self {
            retry_on_status: StatusSet::from_codes(&DEFAULT_CONDITIONS_RETRY_ON_STATUS),
            retry_on_timeout: DEFAULT_RETRY_ON_TIMEOUT,
            retry_on_connection_error: DEFAULT_RETRY_ON_CONNECTION_ERROR,
            never_retry_status: StatusSet::from_codes(&DEFAULT_NEVER_RETRY_STATUS),
            honor_retry_after: DEFAULT_HONOR_RETRY_AFTER,
            max_retry_after_ms: DEFAULT_MAX_RETRY_AFTER_MS,
            respect_tool_annotations: DEFAULT_RESPECT_TOOL_ANNOTATIONS,
            non_idempotent_retry_on_status: StatusSet::from_codes(
                &DEFAULT_NON_IDEMPOTENT_RETRY_ON_STATUS,
            ),
            min_attempt_ms: DEFAULT_MIN_ATTEMPT_MS,
        }
    }
}

/// `metadata`: which annotations to emit. Serializes with the config's key names.
///
/// # Default
/// Every flag [`DEFAULT_INCLUDE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct MetadataFlags {
    /// Emit `policy` (the effective policy and its `source`).
    pub include_policy: bool,
    /// Emit `next_retry_at` when retrying.
    pub include_next_retry_time: bool,
    /// Emit `attempt` and `max_retries`.
    pub include_attempt_count: bool,
    /// Emit `circuit_breaker`.
    pub include_circuit_breaker_state: bool,
    /// Emit `retry_budget` (when a budget is configured).
    pub include_budget_state: bool,
}

impl Default for MetadataFlags {
    fn default() -> Self {
        Self {
            include_policy: DEFAULT_INCLUDE,
            include_next_retry_time: DEFAULT_INCLUDE,
            include_attempt_count: DEFAULT_INCLUDE,
            include_circuit_breaker_state: DEFAULT_INCLUDE,
            include_budget_state: DEFAULT_INCLUDE,
        }
    }
}

/// Reads `retry_conditions` (at `path`; absent gives the defaults).
pub(super) fn read_conditions(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> RetryConditions {
    let mut conditions = RetryConditions::default();
    let Some(map) = value.and_then(|v| read::mapping(errors, path, v)) else {
        return conditions;
    };
    read::reject_unknown_keys(errors, path, map, ConditionKeys::KEYS);
    let keys = ConditionKeys::of(map, path);
    if let Some(set) = keys.retry_on_status.and_then(|f| f.status_list(errors)) {
        conditions.retry_on_status = set;
    }
    if let Some(flag) = keys.retry_on_timeout.and_then(|f| f.boolean(errors)) {
        conditions.retry_on_timeout = flag;
    }
    if let Some(flag) = keys
        .retry_on_connection_error
        .and_then(|f| f.boolean(errors))
    {
        conditions.retry_on_connection_error = flag;
    }
    if let Some(set) = keys.never_retry_status.and_then(|f| f.status_list(errors)) {
        conditions.never_retry_status = set;
    }
    if let Some(flag) = keys.honor_retry_after.and_then(|f| f.boolean(errors)) {
        conditions.honor_retry_after = flag;
    }
    if let Some(ms) = keys
        .max_retry_after_ms
        .and_then(|f| f.integer_in(errors, 1, None))
    {
        conditions.max_retry_after_ms = ms;
    }
    if let Some(flag) = keys
        .respect_tool_annotations
        .and_then(|f| f.boolean(errors))
    {
        conditions.respect_tool_annotations = flag;
    }
    if let Some(set) = keys
        .non_idempotent_retry_on_status
        .and_then(|f| f.status_list(errors))
    {
        conditions.non_idempotent_retry_on_status = set;
    }
    if let Some(ms) = keys
        .min_attempt_ms
        .and_then(|f| f.integer_in(errors, 0, None))
    {
        conditions.min_attempt_ms = ms;
    }
    conditions
}

/// Reports every status code both retried and never retried: in `conditions`, and in each
/// tool's own `retry_on_status` (`tools` holds the tool entries' paths and layers).
pub(super) fn report_conflicts<'t>(
    conditions: &RetryConditions,
    path: &KeyPath,
    tools: impl Iterator<Item = (KeyPath, &'t PolicyLayer)>,
    errors: &mut Errors,
) {
    let never = &conditions.never_retry_status;
    for code in conditions.retry_on_status.intersection(never) {
        errors.push(
            &path.key("never_retry_status"),
            format!("{path}: status {code} is in both retry_on_status and never_retry_status"),
        );
    }
    for (tool_path, layer) in tools {
        let Some(list) = &layer.retry_on_status else {
            continue;
        };
        let key = tool_path.key("retry_on_status");
        for code in list.intersection(never) {
            errors.push(
                &key,
                format!("{key}: status {code} is also in {path}.never_retry_status"),
            );
        }
    }
}

/// Reads `circuit_breaker` (at `path`). No section means no breaker; a section enables it
/// unless it says `enabled: false`.
pub(super) fn read_breaker(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> BreakerConfig {
    let Some(value) = value else {
        return BreakerConfig::disabled();
    };
    let mut breaker = BreakerConfig::new();
    let Some(map) = read::mapping(errors, path, value) else {
        return breaker;
    };
    read::reject_unknown_keys(errors, path, map, BreakerKeys::KEYS);
    let keys = BreakerKeys::of(map, path);
    let count_max = Some(i128::from(u32::MAX));
    if let Some(flag) = keys.enabled.and_then(|f| f.boolean(errors)) {
        breaker.enabled = flag;
    }
    if let Some(n) = keys
        .failure_threshold
        .and_then(|f| f.integer_in(errors, 1, count_max))
    {
        breaker.failure_threshold = n as u32;
    }
    if let Some(ms) = keys
        .recovery_timeout_ms
        .and_then(|f| f.integer_in(errors, 0, None))
    {
        breaker.recovery_timeout_ms = ms;
    }
    if let Some(n) = keys
        .half_open_max_calls
        .and_then(|f| f.integer_in(errors, 1, count_max))
    {
        breaker.half_open_max_calls = n as u32;
    }
    breaker
}

/// Reads `retry_budget` (at `path`). No section means no budget; a section enables it unless
/// it says `enabled: false`.
pub(super) fn read_budget(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> Option<BudgetConfig> {
    let map = read::mapping(errors, path, value?)?;
    read::reject_unknown_keys(errors, path, map, BudgetKeys::KEYS);
    let keys = BudgetKeys::of(map, path);
    let mut budget = BudgetConfig::default();
    if let Some(flag) = keys.enabled.and_then(|f| f.boolean(errors)) {
        budget.enabled = flag;
    }
    let most = Some(i128::from(MAX_TOKENS_LIMIT));
    if let Some(tokens) = keys.max_tokens.and_then(|f| f.integer_in(errors, 1, most)) {
        budget.max_tokens = tokens as u32;
    }
    let above_zero = (Bound::Excluded(0.0), Bound::Included(1.0));
    if let Some(ratio) = keys
        .token_ratio
        .and_then(|f| f.number_in(errors, above_zero, "must be within (0, 1]"))
    {
        budget.token_ratio = ratio;
    }
    Some(budget)
}

/// Reads `metadata` (at `path`; absent gives every flag on).
pub(super) fn read_metadata(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> MetadataFlags {
    let mut flags = MetadataFlags::default();
    let Some(map) = value.and_then(|v| read::mapping(errors, path, v)) else {
        return flags;
    };
    read::reject_unknown_keys(errors, path, map, MetadataKeys::KEYS);
    let keys = MetadataKeys::of(map, path);
    let targets = [
        (keys.include_policy, &mut flags.include_policy),
        (
            keys.include_next_retry_time,
            &mut flags.include_next_retry_time,
        ),
        (keys.include_attempt_count, &mut flags.include_attempt_count),
        (
            keys.include_circuit_breaker_state,
            &mut flags.include_circuit_breaker_state,
        ),
        (keys.include_budget_state, &mut flags.include_budget_state),
    ];
    for (field, target) in targets {
        if let Some(flag) = field.and_then(|f| f.boolean(errors)) {
            *target = flag;
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use serde_json::to_value;

    use super::*;

    fn keys_of(value: impl Serialize) -> Vec<String> {
        let Ok(Value::Object(map)) = to_value(value) else {
            panic!("a section serializes to a mapping")
        };
        let mut keys: Vec<String> = map.keys().cloned().collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn descriptions_use_exactly_the_section_keys() {
        assert_eq!(
            keys_of(RetryConditions::default()),
            sorted(ConditionKeys::KEYS)
        );
        assert_eq!(keys_of(BreakerConfig::new()), sorted(BreakerKeys::KEYS));
        assert_eq!(
            keys_of(MetadataFlags::default()),
            sorted(MetadataKeys::KEYS)
        );
    }

    #[test]
    fn sections_report_every_broken_key() {
        let mut errors = Errors::default();
        let value = serde_json::json!({"enabled": 1, "failure_threshold": 0, "recovery": 5});
        read_breaker(
            Some(&value),
            &KeyPath::root().key("circuit_breaker"),
            &mut errors,
        );
        let keys: Vec<&str> = errors.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "circuit_breaker.recovery",
                "circuit_breaker.enabled",
                "circuit_breaker.failure_threshold"
            ]
        );
    }
}
