//! The flat schema of the ContextForge `cpex-retry-with-backoff` plugin: seven keys, with
//! per-tool overrides of any of the first six.
//!
//! Unlike that plugin, overrides are validated and merged here, at configure time, so a bad
//! override is reported before the first call rather than raised on the hot path.

use std::rc::Rc;

use crate::text_key::{Text, TextMap};

use serde_json::{Map, Value, json};

use super::effective::EffectivePolicy;
use super::key_path::KeyPath;
use super::read::{self, Errors, section};
use crate::backoff::{Backoff, Exponential};
use crate::jitter::Jitter;
use crate::policy::{MAX_RETRIES_LIMIT, Policy};
use crate::status::StatusSet;

/// Default `max_retries`: retries per request.
pub(super) const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default `backoff_base_ms`, in ms.
pub(super) const DEFAULT_BACKOFF_BASE_MS: u64 = 200;
/// Default `max_backoff_ms`, in ms.
pub(super) const DEFAULT_MAX_BACKOFF_MS: u64 = 5000;
/// Default `retry_on_status`.
pub(crate) const DEFAULT_RETRY_ON_STATUS: [u16; 5] = [429, 500, 502, 503, 504];
/// Default `jitter` (full jitter).
pub(super) const DEFAULT_JITTER: bool = true;
/// Default `check_text_content`.
pub(super) const DEFAULT_CHECK_TEXT_CONTENT: bool = false;

section!(
    /// Every top-level key of the flat schema (the ContextForge plugin's, in its order).
    struct FlatKeys {
        max_retries,
        backoff_base_ms,
        max_backoff_ms,
        retry_on_status,
        jitter,
        check_text_content,
        tool_overrides,
    }
);

/// The keys a `tool_overrides` entry may set: every flat key but `tool_overrides` itself.
const OVERRIDE_KEYS: &[&str] = FlatKeys::KEYS.split_at(FlatKeys::KEYS.len() - 1).0;

/// The rules in force for one tool under the flat schema.
///
/// # Default
/// - `max_retries`: [`DEFAULT_MAX_RETRIES`]
/// - `backoff_base_ms`: [`DEFAULT_BACKOFF_BASE_MS`]
/// - `max_backoff_ms`: [`DEFAULT_MAX_BACKOFF_MS`]
/// - `retry_on_status`: [`DEFAULT_RETRY_ON_STATUS`]
/// - `jitter`: [`DEFAULT_JITTER`] (full jitter)
/// - `check_text_content`: [`DEFAULT_CHECK_TEXT_CONTENT`]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FlatRules {
    max_retries: u32,
    base_ms: u64,
    max_ms: u64,
    retry_on_status: StatusSet,
    jitter: bool,
    check_text_content: bool,
    effective: Rc<EffectivePolicy>,
}

impl FlatRules {
    fn new(
        max_retries: u32,
        base_ms: u64,
        max_ms: u64,
        retry_on_status: StatusSet,
        jitter: bool,
        check_text_content: bool,
    ) -> Self {
        let curve = Exponential::new().with_base_ms(base_ms).with_max_ms(max_ms);
        let jitter_kind = if jitter { Jitter::Full } else { Jitter::None };
        let policy = Policy::new(max_retries, Backoff::Exponential(curve), jitter_kind);
        let described = describe(
            max_retries,
            base_ms,
            max_ms,
            &retry_on_status,
            jitter,
            check_text_content,
        );
        Self {
            max_retries,
            base_ms,
            max_ms,
            effective: Rc::new(EffectivePolicy::new(
                policy,
                retry_on_status.clone(),
                &described,
            )),
            retry_on_status,
            jitter,
            check_text_content,
        }
    }

    /// The policy the decision pipeline applies: exponential doubling from the base, full
    /// jitter or none, and the status codes that make a failure retryable.
    pub(crate) fn effective(&self) -> &Rc<EffectivePolicy> {
        &self.effective
    }

    /// The status codes that make a failure retryable.
    pub(crate) fn retry_on_status(&self) -> &StatusSet {
        &self.retry_on_status
    }

    /// Whether text content items are inspected for JSON-encoded errors.
    pub(crate) fn check_text_content(&self) -> bool {
        self.check_text_content
    }

    /// The policy echo of `resource_post_fetch`: the four keys the ContextForge plugin emits.
    pub(crate) fn retry_policy_echo(&self) -> Value {
        echo(
            self.max_retries,
            self.base_ms,
            self.max_ms,
            &self.retry_on_status,
        )
    }

    /// Every setting, with the config's key names.
    pub(crate) fn describe(&self) -> Value {
        self.effective.described()
    }
}

/// The four keys the ContextForge plugin echoes.
fn echo(max_retries: u32, base_ms: u64, max_ms: u64, retry_on_status: &StatusSet) -> Value {
    json!({
        "max_retries": max_retries,
        "backoff_base_ms": base_ms,
        "max_backoff_ms": max_ms,
        "retry_on_status": retry_on_status.codes(),
    })
}

/// Every setting of one tool's rules, with the config's key names.
fn describe(
    max_retries: u32,
    base_ms: u64,
    max_ms: u64,
    retry_on_status: &StatusSet,
    jitter: bool,
    check_text_content: bool,
) -> Value {
    let mut value = echo(max_retries, base_ms, max_ms, retry_on_status);
    value["jitter"] = json!(jitter);
    value["check_text_content"] = json!(check_text_content);
    value
}

impl Default for FlatRules {
    fn default() -> Self {
        Self::new(
            DEFAULT_MAX_RETRIES,
            DEFAULT_BACKOFF_BASE_MS,
            DEFAULT_MAX_BACKOFF_MS,
            StatusSet::from_codes(&DEFAULT_RETRY_ON_STATUS),
            DEFAULT_JITTER,
            DEFAULT_CHECK_TEXT_CONTENT,
        )
    }
}

/// A validated flat-schema configuration: global rules plus merged per-tool rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct FlatConfig {
    global: FlatRules,
    tools: TextMap<String, FlatRules>,
}

impl FlatConfig {
    /// The rules in force for `tool`: its override merged over the global rules, or the global
    /// rules.
    pub(crate) fn rules_for(&self, tool: &str) -> &FlatRules {
        if self.tools.is_empty() {
            return &self.global;
        }
        self.tools.get(&Text(tool)).unwrap_or(&self.global)
    }

    /// The global rules.
    pub(crate) fn global(&self) -> &FlatRules {
        &self.global
    }

    /// The merged rules of every tool with an override, sorted by tool name.
    pub(crate) fn tools(&self) -> Vec<(&str, &FlatRules)> {
        let mut tools: Vec<_> = self
            .tools
            .iter()
            .map(|(name, rules)| (name.as_str(), rules))
            .collect();
        tools.sort_by_key(|&(name, _)| name);
        tools
    }

    /// Reads the flat schema from `map`, recording every broken rule in `errors`. Unknown
    /// top-level keys are the caller's to report.
    pub(crate) fn read(map: &Map<String, Value>, errors: &mut Errors) -> Self {
        let keys = FlatKeys::of(map, &KeyPath::root());
        let global = read_rules(&keys, &KeyPath::root(), &FlatRules::default(), errors);
        let mut tools = TextMap::default();
        if let Some(overrides) = keys.tool_overrides.as_ref().and_then(|f| f.mapping(errors)) {
            let overrides_path = KeyPath::root().key("tool_overrides");
            for (tool, value) in overrides {
                let path = overrides_path.entry(tool);
                if let Some(entry) = read::mapping(errors, &path, value) {
                    read::reject_unknown_keys(errors, &path, entry, OVERRIDE_KEYS);
                    let keys = FlatKeys::of(entry, &path);
                    tools.insert(tool.clone(), read_rules(&keys, &path, &global, errors));
                }
            }
        }
        Self { global, tools }
    }
}

/// Reads the rule keys of one mapping (global or one override) over `inherited`.
fn read_rules(
    keys: &FlatKeys<'_>,
    path: &KeyPath,
    inherited: &FlatRules,
    errors: &mut Errors,
) -> FlatRules {
    let before = errors.len();
    let limit = i128::from(MAX_RETRIES_LIMIT);
    let max_retries = keys
        .max_retries
        .as_ref()
        .and_then(|f| f.integer_in(errors, 0, Some(limit)))
        .map_or(inherited.max_retries, |n| n as u32);
    let base_ms = keys
        .backoff_base_ms
        .as_ref()
        .and_then(|f| f.integer_in(errors, 1, None))
        .unwrap_or(inherited.base_ms);
    let max_ms = keys
        .max_backoff_ms
        .as_ref()
        .and_then(|f| f.integer_in(errors, 1, None))
        .unwrap_or(inherited.max_ms);
    let retry_on_status = keys
        .retry_on_status
        .as_ref()
        .and_then(|f| f.status_list(errors))
        .unwrap_or_else(|| inherited.retry_on_status.clone());
    let jitter = keys
        .jitter
        .as_ref()
        .and_then(|f| f.boolean(errors))
        .unwrap_or(inherited.jitter);
    let check_text_content = keys
        .check_text_content
        .as_ref()
        .and_then(|f| f.boolean(errors))
        .unwrap_or(inherited.check_text_content);
    if errors.len() == before && max_ms < base_ms {
        let path = path.key("max_backoff_ms");
        errors.push(
            &path,
            format!("{path} must be >= backoff_base_ms, but was {max_ms} < {base_ms}"),
        );
    }
    FlatRules::new(
        max_retries,
        base_ms,
        max_ms,
        retry_on_status,
        jitter,
        check_text_content,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Value) -> Result<FlatConfig, Vec<String>> {
        match crate::config::PluginConfig::from_value(&value) {
            Ok(config) => match config.schema() {
                crate::config::Schema::Flat(flat) => Ok(FlatConfig::clone(flat)),
                other => panic!("not flat: {other:?}"),
            },
            Err(crate::error::ConfigErrors::Invalid(errors)) => {
                Err(errors.into_iter().map(|e| e.message).collect())
            }
            Err(other) => panic!("{other}"),
        }
    }

    fn one_error(value: Value) -> String {
        let errors = read(value).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn read_empty_gives_defaults() {
        let config = read(json!({})).unwrap();
        assert_eq!(config, FlatConfig::default());
        assert_eq!(
            config.global().retry_policy_echo(),
            json!({"max_retries": 2, "backoff_base_ms": 200, "max_backoff_ms": 5000,
                   "retry_on_status": [429, 500, 502, 503, 504]})
        );
    }

    #[test]
    fn read_max_retries_above_ten_is_rejected() {
        assert_eq!(
            one_error(json!({"max_retries": 11})),
            "max_retries cannot exceed 10, but was 11"
        );
    }

    #[test]
    fn read_max_retries_negative_is_rejected() {
        assert_eq!(
            one_error(json!({"max_retries": -1})),
            "max_retries must be >= 0, but was -1"
        );
    }

    #[test]
    fn read_base_zero_is_rejected() {
        assert_eq!(
            one_error(json!({"backoff_base_ms": 0})),
            "backoff_base_ms must be > 0, but was 0"
        );
    }

    #[test]
    fn read_max_below_base_is_rejected() {
        assert_eq!(
            one_error(json!({"backoff_base_ms": 200, "max_backoff_ms": 100})),
            "max_backoff_ms must be >= backoff_base_ms, but was 100 < 200"
        );
    }

    #[test]
    fn read_non_boolean_jitter_is_rejected() {
        assert_eq!(
            one_error(json!({"jitter": 1})),
            "jitter must be a boolean, but was 1"
        );
        assert_eq!(
            one_error(json!({"jitter": "yes"})),
            "jitter must be a boolean, but was \"yes\""
        );
    }

    #[test]
    fn read_non_boolean_check_text_content_is_rejected() {
        assert!(
            one_error(json!({"check_text_content": "no"}))
                .starts_with("check_text_content must be a boolean")
        );
    }

    #[test]
    fn read_retry_on_status_not_list_is_rejected() {
        assert_eq!(
            one_error(json!({"retry_on_status": 503})),
            "retry_on_status must be a list of integers, but was 503"
        );
    }

    #[test]
    fn read_status_out_of_range_is_rejected() {
        let errors = read(json!({"retry_on_status": [-1, 99999]})).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[1].contains("within 100..=599, but had 99999"));
    }

    #[test]
    fn read_unknown_key_is_rejected_with_suggestion() {
        assert_eq!(
            one_error(json!({"maxRetries": 3})),
            "maxRetries is not a known key (did you mean max_retries?)"
        );
    }

    #[test]
    fn read_override_not_dict_is_rejected() {
        assert_eq!(
            one_error(json!({"tool_overrides": {"t": 5}})),
            "tool_overrides['t']: expected a dict, got int"
        );
        assert_eq!(
            one_error(json!({"tool_overrides": [1]})),
            "tool_overrides: expected a dict, got list"
        );
    }

    #[test]
    fn read_override_invalid_value_is_rejected_at_configure_time() {
        assert_eq!(
            one_error(json!({"tool_overrides": {"t": {"max_retries": 11}}})),
            "tool_overrides['t'].max_retries cannot exceed 10, but was 11"
        );
        assert_eq!(
            one_error(json!({"tool_overrides": {"t": {"backoff_base_ms": 0}}})),
            "tool_overrides['t'].backoff_base_ms must be > 0, but was 0"
        );
    }

    #[test]
    fn read_override_unknown_key_is_rejected() {
        assert_eq!(
            one_error(json!({"tool_overrides": {"t": {"bogus": 1}}})),
            "tool_overrides['t'].bogus is not a known key (known keys: max_retries, backoff_base_ms, \
             max_backoff_ms, retry_on_status, jitter, check_text_content)"
        );
    }

    #[test]
    fn read_override_merged_base_above_global_max_is_rejected() {
        assert_eq!(
            one_error(json!({"tool_overrides": {"t": {"backoff_base_ms": 9000}}})),
            "tool_overrides['t'].max_backoff_ms must be >= backoff_base_ms, but was 5000 < 9000"
        );
    }

    #[test]
    fn read_reports_every_error_at_once() {
        let errors = read(json!({"max_retries": 11, "jitter": 1, "bogus": 0})).unwrap_err();
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn rules_for_merges_override_over_global() {
        let config = read(json!({"max_retries": 4, "jitter": false,
                                 "tool_overrides": {"t": {"backoff_base_ms": 50}}}))
        .unwrap();
        let rules = config.rules_for("t");
        assert_eq!(rules.effective().policy().max_retries(), 4);
        assert_eq!(rules.describe()["backoff_base_ms"], 50);
        assert_eq!(rules.describe()["jitter"], false);
        assert_eq!(config.rules_for("other").describe()["backoff_base_ms"], 200);
    }
}
