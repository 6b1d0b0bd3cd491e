//! The specification's nested schema: a default policy, per-status, per-error-pattern and
//! per-tool layers, retry conditions, a circuit breaker and metadata flags.
//!
//! # Why combinations are resolved on first use
//! A failure's policy is `default_policy`, then its error-class layer (a status code policy or
//! the first matching error pattern), then its tool's policy. A gateway may configure thousands
//! of tools and hundreds of classes, so the (tool, class) combinations are not all built: the
//! combinations without a tool policy are built here, and a tool's are merged when a call first
//! needs them and kept in a bounded cache. Every combination is still validated here, once (a
//! `max_backoff_ms` below its `backoff_base_ms` is a configuration error, not a surprise on the
//! hot path), in time linear in tools and classes: only a tool's own `backoff_base_ms` or
//! `max_backoff_ms` can break a combination the class rows do not, and each is compared with
//! the classes sorted by the other bound.

mod classes;
mod combinations;
mod settings;
mod tools;

use std::cell::RefCell;
use std::rc::Rc;

use foldhash::HashMap;

use crate::text_key::{Text, TextMap};

use serde_json::{Map, Value, json};

use classes::{PatternLayer, read_patterns, read_statuses};
use combinations::{ClassBounds, build_cell, failing_classes, report_broken, sorted_classes};
pub(crate) use settings::{MetadataFlags, RetryConditions};
use settings::{read_breaker, read_budget, read_conditions, read_metadata, report_conflicts};
use tools::read_tools;

use super::effective::EffectivePolicy;
use super::key_path::KeyPath;
use super::layer::{
    DEFAULT_POLICY_BASE_MS, DEFAULT_POLICY_MAX_BACKOFF_MS, PolicyKeys, PolicyLayer,
};
use super::read::{self, Errors, Field, section};
use crate::breaker::BreakerConfig;
use crate::budget::BudgetConfig;
use crate::error_text::BuiltinClass;
use crate::text_scan::TextScanner;

section!(
    /// Every top-level key of the nested schema.
    struct NestedKeys {
        default_policy,
        status_code_policies,
        tool_policies,
        error_patterns,
        circuit_breaker,
        retry_budget,
        retry_conditions,
        metadata,
    }
);

/// Merged (tool, class) policies kept at once; the cache starts afresh when full.
const CELL_CACHE_CAPACITY: usize = 4_096;

/// A validated nested-schema configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NestedConfig {
    statuses: Vec<(u16, PolicyLayer)>,
    patterns: Vec<PatternLayer>,
    /// The built-in phrases and the patterns, compiled into one pass over the text.
    scanner: TextScanner,
    tools: TextMap<String, usize>,
    tool_names: Vec<String>,
    tool_layers: Vec<PolicyLayer>,
    /// `default_policy` over the built-in defaults.
    default: PolicyLayer,
    /// Per class slot: its `source` name and its layer (slot 0: no class, an empty layer).
    class_layers: Vec<(String, PolicyLayer)>,
    /// Per class slot, the merged policy without a tool policy.
    class_rows: Vec<Rc<EffectivePolicy>>,
    /// Merged (tool, class) policies of tools with a policy, built on first use.
    cells: CellCache,
    conditions: RetryConditions,
    breaker: BreakerConfig,
    /// `retry_budget`, when the section is present.
    budget: Option<BudgetConfig>,
    metadata: MetadataFlags,
}

/// The bounded cache of merged (tool slot, class slot) policies. It is derived data: clones
/// start empty and it takes no part in comparisons.
#[derive(Default)]
struct CellCache(RefCell<HashMap<(usize, usize), Rc<EffectivePolicy>>>);

impl Clone for CellCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for CellCache {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for CellCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CellCache({} cells)", self.0.borrow().len())
    }
}

/// Which tool policy applies: 0 for none, `1 + index` for a `tool_policies` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ToolSlot(usize);

/// Which error-class layer applies: 0 for none, then status policies, then error patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClassSlot(usize);

impl ClassSlot {
    /// No error-class layer.
    pub(crate) const NONE: Self = Self(0);
}

impl NestedConfig {
    /// The slot of `tool`'s policy.
    pub(crate) fn tool_slot(&self, tool: &str) -> ToolSlot {
        if self.tools.is_empty() {
            return ToolSlot(0);
        }
        ToolSlot(self.tools.get(&Text(tool)).map_or(0, |index| index + 1))
    }

    /// The slot of the status code policy for `code`, if there is one.
    pub(crate) fn status_slot(&self, code: i64) -> Option<ClassSlot> {
        self.statuses
            .iter()
            .position(|&(status, _)| i64::from(status) == code)
            .map(|index| ClassSlot(1 + index))
    }

    /// One pass over the error text whose parts `parts` yields: its built-in class (looked
    /// for only when `builtin` is set) and the slot of the first error pattern it matches.
    /// Without patterns and without `builtin`, the text is not read at all.
    #[inline(always)]
    pub(crate) fn scan_text<'t, I: Iterator<Item = &'t str>>(
        &self,
        parts: impl Fn() -> I,
        builtin: bool,
    ) -> (Option<BuiltinClass>, Option<ClassSlot>) {
        if !builtin && self.patterns.is_empty() {
            return (None, None);
        }
        self.scan_text_now(parts, builtin)
    }

    /// [`NestedConfig::scan_text`] once there is something to look for (kept out of line: a
    /// status code failure with no error patterns configured skips it).
    #[inline(never)]
    fn scan_text_now<'t, I: Iterator<Item = &'t str>>(
        &self,
        parts: impl Fn() -> I,
        builtin: bool,
    ) -> (Option<BuiltinClass>, Option<ClassSlot>) {
        let findings = self.scanner.scan(parts, builtin);
        let slot = findings
            .pattern
            .map(|index| ClassSlot(1 + self.statuses.len() + index));
        (findings.builtin, slot)
    }

    /// The merged policy for a tool and an error class.
    pub(crate) fn effective(&self, tool: ToolSlot, class: ClassSlot) -> Rc<EffectivePolicy> {
        if tool.0 == 0 {
            return Rc::clone(&self.class_rows[class.0]);
        }
        let key = (tool.0, class.0);
        if let Some(cell) = self.cells.0.borrow().get(&key) {
            return Rc::clone(cell);
        }
        let (class_source, class_layer) = &self.class_layers[class.0];
        let tool_index = tool.0 - 1;
        let merged = self.tool_layers[tool_index].over(&class_layer.over(&self.default));
        let source = [
            Some("default"),
            (class.0 > 0).then_some(class_source.as_str()),
            Some(&format!("tool:{}", self.tool_names[tool_index])),
        ];
        let cell = Rc::new(build_cell(&merged, &source, &self.conditions));
        let mut cells = self.cells.0.borrow_mut();
        if cells.len() >= CELL_CACHE_CAPACITY {
            cells.clear();
        }
        cells.insert(key, Rc::clone(&cell));
        cell
    }

    /// The retry conditions.
    pub(crate) fn conditions(&self) -> &RetryConditions {
        &self.conditions
    }

    /// The circuit breaker settings.
    pub(crate) fn breaker(&self) -> &BreakerConfig {
        &self.breaker
    }

    /// The retry budget settings, when the config has a `retry_budget` section.
    pub(crate) fn budget(&self) -> Option<&BudgetConfig> {
        self.budget.as_ref()
    }

    /// The metadata flags.
    pub(crate) fn metadata(&self) -> &MetadataFlags {
        &self.metadata
    }

    /// The `resource_post_fetch` echo: the four ContextForge keys plus the other policy fields.
    pub(crate) fn retry_policy_echo(&self) -> Value {
        let default = self.effective(ToolSlot(0), ClassSlot::NONE).described();
        let mut echo = Map::new();
        for key in PolicyKeys::KEYS {
            echo.insert((*key).to_owned(), default[*key].clone());
        }
        echo.insert(
            "retry_on_status".to_owned(),
            json!(self.conditions.retry_on_status.codes()),
        );
        Value::Object(echo)
    }

    /// Every effective policy: the default, per status code, per pattern and per tool, with
    /// the conditions, breaker and metadata flags.
    pub(crate) fn describe(&self) -> Value {
        let none = ToolSlot(0);
        let statuses: Map<String, Value> = self
            .statuses
            .iter()
            .enumerate()
            .map(|(i, (code, _))| {
                (
                    code.to_string(),
                    self.effective(none, ClassSlot(1 + i)).described(),
                )
            })
            .collect();
        let patterns: Vec<Value> = self
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut value = self
                    .effective(none, ClassSlot(1 + self.statuses.len() + i))
                    .described();
                value["pattern"] = json!(p.matcher.as_str());
                value
            })
            .collect();
        let tools: Map<String, Value> = self
            .tool_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.clone(),
                    self.effective(ToolSlot(1 + i), ClassSlot::NONE).described(),
                )
            })
            .collect();
        json!({
            "schema": "nested",
            "default_policy": self.effective(none, ClassSlot::NONE).described(),
            "status_code_policies": statuses,
            "error_patterns": patterns,
            "tool_policies": tools,
            "retry_conditions": self.conditions,
            "circuit_breaker": self.breaker,
            "retry_budget": self.budget,
            "metadata": self.metadata,
        })
    }

    /// Reads the nested schema from `map`, recording every broken rule in `errors`. Unknown
    /// top-level keys are the caller's to report.
    pub(crate) fn read(map: &Map<String, Value>, errors: &mut Errors) -> Self {
        let root = KeyPath::root();
        let keys = NestedKeys::of(map, &root);
        let located = |field, key| located(field, &root, key);
        let (default_path, default_value) = located(keys.default_policy, "default_policy");
        let default = default_value
            .and_then(|value| read::mapping(errors, &default_path, value))
            .map(|m| PolicyLayer::read(m, &default_path, false, &[], errors))
            .unwrap_or_default()
            .over(&PolicyLayer::defaults());
        let (statuses_path, statuses_value) =
            located(keys.status_code_policies, "status_code_policies");
        let statuses = read_statuses(statuses_value, &statuses_path, errors);
        let (patterns_path, patterns_value) = located(keys.error_patterns, "error_patterns");
        let patterns = read_patterns(patterns_value, &patterns_path, errors);
        let scanner = TextScanner::new(patterns.iter().map(|p| &p.matcher)).unwrap_or_else(|err| {
            errors.push(
                &patterns_path,
                format!("{patterns_path} cannot be compiled together: {err}"),
            );
            TextScanner::default()
        });
        let (tools_path, tools_value) = located(keys.tool_policies, "tool_policies");
        let (tool_names, tool_layers) = read_tools(tools_value, &tools_path, errors);
        let (conditions_path, conditions_value) =
            located(keys.retry_conditions, "retry_conditions");
        let conditions = read_conditions(conditions_value, &conditions_path, errors);
        report_conflicts(
            &conditions,
            &conditions_path,
            tool_names
                .iter()
                .map(|name| tools_path.entry(name))
                .zip(&tool_layers),
            errors,
        );
        let (breaker_path, breaker_value) = located(keys.circuit_breaker, "circuit_breaker");
        let breaker = read_breaker(breaker_value, &breaker_path, errors);
        let (budget_path, budget_value) = located(keys.retry_budget, "retry_budget");
        let budget = read_budget(budget_value, &budget_path, errors);
        let (metadata_path, metadata_value) = located(keys.metadata, "metadata");
        let metadata = read_metadata(metadata_value, &metadata_path, errors);

        // Per class slot: the layer's path, its `source` name and the layer.
        let mut class_layers = vec![(default_path.clone(), String::new(), PolicyLayer::default())];
        class_layers.extend(statuses.iter().map(|(code, layer)| {
            (
                statuses_path.entry(&code.to_string()),
                format!("status:{code}"),
                layer.clone(),
            )
        }));
        class_layers.extend(patterns.iter().enumerate().map(|(i, p)| {
            (
                patterns_path.index(i),
                format!("pattern:{}", p.matcher.as_str()),
                p.layer.clone(),
            )
        }));

        // The rows without a tool policy: built, and each broken one reported.
        let mut class_rows = Vec::with_capacity(class_layers.len());
        let mut bounds = Vec::with_capacity(class_layers.len());
        for (class_index, (class_path, class_source, class_layer)) in
            class_layers.iter().enumerate()
        {
            let merged = class_layer.over(&default);
            let source = [
                Some("default"),
                (class_index > 0).then_some(class_source.as_str()),
            ];
            let layers: Vec<&KeyPath> =
                [Some(&default_path), (class_index > 0).then_some(class_path)]
                    .into_iter()
                    .flatten()
                    .collect();
            let broken = report_broken(&merged, &layers, errors);
            bounds.push(ClassBounds {
                base_ms: merged.base_ms.unwrap_or(DEFAULT_POLICY_BASE_MS),
                max_ms: merged.max_ms.unwrap_or(DEFAULT_POLICY_MAX_BACKOFF_MS),
                broken,
            });
            class_rows.push(Rc::new(build_cell(&merged, &source, &conditions)));
        }
        // Each tool policy against every class, without building the combinations.
        let by_max = sorted_classes(&bounds, |b| b.max_ms);
        let by_base = sorted_classes(&bounds, |b| std::cmp::Reverse(b.base_ms));
        for (name, tool_layer) in tool_names.iter().zip(&tool_layers) {
            let failing = failing_classes(tool_layer, &bounds, &by_max, &by_base);
            let tool_path = tools_path.entry(name);
            // A tool broken with the default alone is reported once, as the full table did.
            let reported: &[usize] = if failing.first() == Some(&0) {
                &failing[..1]
            } else {
                &failing
            };
            for &class_index in reported {
                let (class_path, _, class_layer) = &class_layers[class_index];
                let merged = tool_layer.over(&class_layer.over(&default));
                let layers: Vec<&KeyPath> = [
                    Some(&default_path),
                    (class_index > 0).then_some(class_path),
                    Some(&tool_path),
                ]
                .into_iter()
                .flatten()
                .collect();
                report_broken(&merged, &layers, errors);
            }
        }
        let tools = tool_names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), i))
            .collect();
        Self {
            statuses,
            patterns,
            scanner,
            tools,
            tool_names,
            tool_layers,
            default,
            class_layers: class_layers
                .into_iter()
                .map(|(_, source, layer)| (source, layer))
                .collect(),
            class_rows,
            cells: CellCache::default(),
            conditions,
            breaker,
            budget,
            metadata,
        }
    }
}

/// The path and value of the top-level section `key`: absent sections still have a path,
/// since messages name them (a default `never_retry_status` can conflict with a tool's list).
fn located<'v>(
    field: Option<Field<'v>>,
    root: &KeyPath,
    key: &str,
) -> (KeyPath, Option<&'v Value>) {
    match field {
        Some(field) => (field.path, Some(field.value)),
        None => (root.key(key), None),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::backoff::Backoff;
    use crate::config::PluginConfig;
    use crate::error::ConfigErrors;

    /// The specification's example config (issue #1002), as a gateway passes it.
    pub(crate) fn spec_example() -> Value {
        json!({
            "default_policy": {"max_retries": 2, "backoff_strategy": "exponential",
                "backoff_base_ms": 200, "backoff_multiplier": 2.0, "max_backoff_ms": 5000,
                "jitter": true, "jitter_max_percent": 20},
            "status_code_policies": {
                "429": {"max_retries": 5, "backoff_strategy": "exponential", "backoff_base_ms": 1000, "max_backoff_ms": 30000},
                "500": {"max_retries": 3, "backoff_strategy": "exponential", "backoff_base_ms": 500},
                "502": {"max_retries": 3, "backoff_strategy": "linear", "backoff_base_ms": 1000},
                "503": {"max_retries": 5, "backoff_strategy": "exponential", "backoff_base_ms": 2000},
                "504": {"max_retries": 2, "backoff_strategy": "fixed", "backoff_base_ms": 3000}
            },
            "tool_policies": {
                "web_scraper": {"max_retries": 3, "backoff_base_ms": 1000, "retry_on_status": [429, 500, 502, 503, 504]},
                "api_caller": {"max_retries": 5, "backoff_strategy": "exponential", "backoff_base_ms": 500},
                "database_query": {"max_retries": 2, "backoff_strategy": "linear", "backoff_base_ms": 1000}
            },
            "error_patterns": [
                {"pattern": "timeout", "max_retries": 3, "backoff_base_ms": 2000},
                {"pattern": "connection.*reset", "max_retries": 2, "backoff_base_ms": 1000},
                {"pattern": "temporary.*failure", "max_retries": 4, "backoff_base_ms": 500}
            ],
            "circuit_breaker": {"enabled": true, "failure_threshold": 5, "recovery_timeout_ms": 30000, "half_open_max_calls": 3},
            "retry_conditions": {"retry_on_status": [429, 500, 502, 503, 504], "retry_on_timeout": true,
                "retry_on_connection_error": true, "never_retry_status": [400, 401, 403, 404]},
            "metadata": {"include_policy": true, "include_next_retry_time": true,
                "include_attempt_count": true, "include_circuit_breaker_state": true}
        })
    }

    fn nested(value: Value) -> NestedConfig {
        match PluginConfig::from_value(&value).unwrap().schema() {
            crate::config::Schema::Nested(nested) => NestedConfig::clone(nested),
            other => panic!("not nested: {other:?}"),
        }
    }

    fn errors(value: Value) -> Vec<String> {
        match PluginConfig::from_value(&value) {
            Err(ConfigErrors::Invalid(errors)) => errors.into_iter().map(|e| e.message).collect(),
            other => panic!("expected errors, got {other:?}"),
        }
    }

    #[test]
    fn spec_example_is_accepted_verbatim() {
        let config = nested(spec_example());
        assert_eq!(config.statuses.len(), 5);
        assert_eq!(config.patterns.len(), 3);
        assert_eq!(config.tool_names.len(), 3);
        assert!(config.breaker().enabled);
    }

    #[test]
    fn layers_merge_default_then_class_then_tool() {
        let config = nested(spec_example());
        let tool = config.tool_slot("web_scraper");
        let status = config.status_slot(429).unwrap();
        let effective = config.effective(tool, status);
        assert_eq!(effective.policy().max_retries(), 3);
        let Backoff::Exponential(curve) = effective.policy().backoff() else {
            panic!()
        };
        assert_eq!((curve.base_ms, curve.max_ms), (1000, 30000));
        assert_eq!(
            effective.described()["source"],
            json!(["default", "status:429", "tool:web_scraper"])
        );
    }

    #[test]
    fn status_policy_strategies_apply() {
        let config = nested(spec_example());
        let none = config.tool_slot("other");
        let linear = config.effective(none, config.status_slot(502).unwrap());
        assert_eq!(linear.policy().backoff().strategy_name(), "linear");
        let fixed = config.effective(none, config.status_slot(504).unwrap());
        assert_eq!(fixed.policy().backoff().ceiling_ms(2), 3000);
    }

    #[test]
    fn first_matching_pattern_wins_case_insensitively() {
        let config = nested(spec_example());
        let scan = |text: &'static str| config.scan_text(|| std::iter::once(text), true);
        let (builtin, slot) = scan("Connection was RESET by peer");
        assert_eq!(
            builtin, None,
            "\"connection was reset\" is no built-in phrase"
        );
        assert_eq!(
            config
                .effective(ToolSlot(0), slot.unwrap())
                .policy()
                .max_retries(),
            2
        );
        assert_eq!(scan("all good"), (None, None));
    }

    #[test]
    fn status_keys_may_be_integers_or_strings() {
        let config = nested(json!({"status_code_policies": {" 503": {"max_retries": 1}}}));
        assert!(config.status_slot(503).is_some());
        assert_eq!(
            errors(json!({"status_code_policies": {"abc": {}}})),
            ["status_code_policies key \"abc\" must be a status code within 100..=599"]
        );
    }

    #[test]
    fn mixing_schemas_is_rejected_naming_the_keys() {
        assert_eq!(
            errors(json!({"max_retries": 3, "default_policy": {}})),
            [
                "config mixes the flat (ContextForge) keys max_retries with the nested keys default_policy; use one schema (in the nested schema, policy keys go under default_policy or tool_policies)"
            ]
        );
    }

    #[test]
    fn status_in_both_lists_is_rejected_naming_the_code() {
        assert_eq!(
            errors(json!({"retry_conditions": {"retry_on_status": [404, 503]}})),
            ["retry_conditions: status 404 is in both retry_on_status and never_retry_status"]
        );
        assert_eq!(
            errors(json!({"tool_policies": {"t": {"retry_on_status": [401]}}})),
            [
                "tool_policies['t'].retry_on_status: status 401 is also in retry_conditions.never_retry_status"
            ]
        );
    }

    #[test]
    fn invalid_pattern_is_rejected_quoting_it() {
        let messages = errors(json!({"error_patterns": [{"pattern": "conn("}]}));
        assert!(
            messages[0].starts_with(
                "error_patterns[0].pattern is not a valid regular expression: \"conn(\""
            ),
            "{messages:?}"
        );
        assert_eq!(
            errors(json!({"error_patterns": [{"max_retries": 1}]})),
            ["error_patterns[0].pattern is required"]
        );
    }

    #[test]
    fn combination_below_base_is_rejected_once() {
        let messages = errors(json!({
            "status_code_policies": {"503": {"backoff_base_ms": 8000}},
            "tool_policies": {"a": {}, "b": {}}
        }));
        assert_eq!(
            messages,
            [
                "default_policy + status_code_policies['503']: max_backoff_ms must be >= backoff_base_ms, but was 5000 < 8000"
            ]
        );
        let messages = errors(json!({
            "status_code_policies": {"429": {"max_backoff_ms": 30000}},
            "tool_policies": {"slow": {"backoff_base_ms": 10000}}
        }));
        assert_eq!(
            messages,
            [
                "default_policy + tool_policies['slow']: max_backoff_ms must be >= backoff_base_ms, but was 5000 < 10000"
            ]
        );
    }

    #[test]
    fn combination_tool_bound_reports_every_class_it_breaks_in_order() {
        let messages = errors(json!({
            "default_policy": {"max_backoff_ms": 60000},
            "status_code_policies": {"429": {"max_backoff_ms": 900}, "503": {"max_backoff_ms": 800}, "502": {}},
            "error_patterns": [{"pattern": "x", "backoff_base_ms": 5000}],
            "tool_policies": {"fast": {"max_backoff_ms": 1000}, "slow": {"backoff_base_ms": 1000}}
        }));
        assert_eq!(
            messages,
            [
                "default_policy + error_patterns[0] + tool_policies['fast']: max_backoff_ms must be >= backoff_base_ms, but was 1000 < 5000",
                "default_policy + status_code_policies['429'] + tool_policies['slow']: max_backoff_ms must be >= backoff_base_ms, but was 900 < 1000",
                "default_policy + status_code_policies['503'] + tool_policies['slow']: max_backoff_ms must be >= backoff_base_ms, but was 800 < 1000",
            ]
        );
    }

    #[test]
    fn lazy_tool_cells_match_the_layers_and_survive_a_full_cache() {
        let tools: serde_json::Map<String, Value> = (0..5000)
            .map(|i| (format!("t{i}"), json!({"backoff_base_ms": 100 + i})))
            .collect();
        let config = nested(json!({
            "default_policy": {"max_backoff_ms": 60000},
            "status_code_policies": {"429": {"max_retries": 7}},
            "tool_policies": tools
        }));
        let status = config.status_slot(429).unwrap();
        for i in (0..5000).rev() {
            let cell = config.effective(config.tool_slot(&format!("t{i}")), status);
            assert_eq!(cell.policy().max_retries(), 7);
            assert_eq!(cell.described()["backoff_base_ms"], json!(100 + i));
        }
        let again = config.effective(config.tool_slot("t0"), status);
        assert_eq!(
            again.described()["source"],
            json!(["default", "status:429", "tool:t0"])
        );
    }

    #[test]
    fn breaker_absent_is_disabled_present_is_enabled() {
        assert!(!nested(json!({"default_policy": {}})).breaker().enabled);
        let breaker = *nested(json!({"circuit_breaker": {"failure_threshold": 2}})).breaker();
        assert!(
            breaker.enabled && breaker.failure_threshold == 2 && breaker.half_open_max_calls == 3
        );
        assert_eq!(
            errors(json!({"circuit_breaker": {"failure_threshold": 0}})),
            ["circuit_breaker.failure_threshold must be > 0, but was 0"]
        );
    }

    #[test]
    fn unknown_nested_keys_are_rejected_with_suggestions() {
        assert_eq!(
            errors(json!({"default_policy": {"max_retry": 1}})),
            ["default_policy.max_retry is not a known key (did you mean max_retries?)"]
        );
        assert_eq!(
            errors(json!({"metadata": {"include_polcy": false}})),
            ["metadata.include_polcy is not a known key (did you mean include_policy?)"]
        );
        assert_eq!(
            errors(json!({"status_code_policy": {}})),
            ["status_code_policy is not a known key (did you mean status_code_policies?)"]
        );
    }

    #[test]
    fn resource_echo_has_four_keys_and_policy_fields() {
        let echo = nested(spec_example()).retry_policy_echo();
        assert_eq!(echo["max_retries"], 2);
        assert_eq!(echo["retry_on_status"], json!([429, 500, 502, 503, 504]));
        assert_eq!(echo["backoff_strategy"], "exponential");
        assert_eq!(echo["jitter_max_percent"], 20.0);
    }
}
