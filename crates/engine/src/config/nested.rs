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

use std::cell::RefCell;
use std::rc::Rc;

use foldhash::HashMap;

use serde_json::{Map, Value, json};

use super::effective::EffectivePolicy;
use super::layer::{
    DEFAULT_POLICY_BASE_MS, DEFAULT_POLICY_MAX_BACKOFF_MS, POLICY_KEYS, PolicyLayer,
};
use super::read::{self, Errors};
use crate::backoff::{Backoff, Fixed};
use crate::breaker::BreakerConfig;
use crate::error_text::BuiltinClass;
use crate::jitter::Jitter;
use crate::pattern::ErrorPattern;
use crate::policy::Policy;
use crate::status::{MAX_STATUS, MIN_STATUS, StatusSet};
use crate::text_scan::TextScanner;

/// Every top-level key of the nested schema.
pub(crate) const NESTED_KEYS: &[&str] = &[
    "default_policy",
    "status_code_policies",
    "tool_policies",
    "error_patterns",
    "circuit_breaker",
    "retry_conditions",
    "metadata",
];

/// Default `retry_conditions.retry_on_status`.
pub(crate) const DEFAULT_CONDITIONS_RETRY_ON_STATUS: [u16; 5] = [429, 500, 502, 503, 504];
/// Default `retry_conditions.never_retry_status`.
pub(crate) const DEFAULT_NEVER_RETRY_STATUS: [u16; 4] = [400, 401, 403, 404];
/// Default `retry_conditions.retry_on_timeout`.
pub(crate) const DEFAULT_RETRY_ON_TIMEOUT: bool = true;
/// Default `retry_conditions.retry_on_connection_error`.
pub(crate) const DEFAULT_RETRY_ON_CONNECTION_ERROR: bool = true;
/// Default of every `metadata.include_*` flag.
pub(crate) const DEFAULT_INCLUDE: bool = true;

/// Most `tool_policies` entries a config may have: twice the 20 000 overrides the ContextForge
/// plugin is known to take. Reading a config briefly holds its JSON tree (about 1 KiB per tool
/// policy), and 40 000 configure within 44 MiB of the component's 64 MiB.
pub(crate) const MAX_TOOL_POLICIES: usize = 40_000;
/// Most `error_patterns` entries a config may have.
pub(crate) const MAX_ERROR_PATTERNS: usize = 1_000;
/// Longest `error_patterns[i].pattern`, in bytes.
pub(crate) const MAX_PATTERN_BYTES: usize = 1_000;
/// Merged (tool, class) policies kept at once; the cache starts afresh when full.
const CELL_CACHE_CAPACITY: usize = 4_096;

const CONDITION_KEYS: &[&str] = &[
    "retry_on_status",
    "retry_on_timeout",
    "retry_on_connection_error",
    "never_retry_status",
];
const BREAKER_KEYS: &[&str] = &[
    "enabled",
    "failure_threshold",
    "recovery_timeout_ms",
    "half_open_max_calls",
];
const METADATA_KEYS: &[&str] = &[
    "include_policy",
    "include_next_retry_time",
    "include_attempt_count",
    "include_circuit_breaker_state",
];

/// `retry_conditions`: which failures may be retried at all.
///
/// # Default
/// - `retry_on_status`: [`DEFAULT_CONDITIONS_RETRY_ON_STATUS`]
/// - `retry_on_timeout`: [`DEFAULT_RETRY_ON_TIMEOUT`]
/// - `retry_on_connection_error`: [`DEFAULT_RETRY_ON_CONNECTION_ERROR`]
/// - `never_retry_status`: [`DEFAULT_NEVER_RETRY_STATUS`]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryConditions {
    /// Status codes that make a failure retryable (unless a tool policy lists its own).
    pub retry_on_status: StatusSet,
    /// Whether failures in the built-in timeout class are retried.
    pub retry_on_timeout: bool,
    /// Whether failures in the built-in connection class are retried.
    pub retry_on_connection_error: bool,
    /// Status codes that are never retried.
    pub never_retry_status: StatusSet,
}

impl Default for RetryConditions {
    fn default() -> Self {
        Self {
            retry_on_status: StatusSet::from_codes(&DEFAULT_CONDITIONS_RETRY_ON_STATUS),
            retry_on_timeout: DEFAULT_RETRY_ON_TIMEOUT,
            retry_on_connection_error: DEFAULT_RETRY_ON_CONNECTION_ERROR,
            never_retry_status: StatusSet::from_codes(&DEFAULT_NEVER_RETRY_STATUS),
        }
    }
}

/// `metadata`: which annotations to emit.
///
/// # Default
/// Every flag [`DEFAULT_INCLUDE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MetadataFlags {
    /// Emit `policy` (the effective policy and its `source`).
    pub include_policy: bool,
    /// Emit `next_retry_at` when retrying.
    pub include_next_retry_time: bool,
    /// Emit `attempt` and `max_retries`.
    pub include_attempt_count: bool,
    /// Emit `circuit_breaker`.
    pub include_circuit_breaker_state: bool,
}

impl Default for MetadataFlags {
    fn default() -> Self {
        Self {
            include_policy: DEFAULT_INCLUDE,
            include_next_retry_time: DEFAULT_INCLUDE,
            include_attempt_count: DEFAULT_INCLUDE,
            include_circuit_breaker_state: DEFAULT_INCLUDE,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct PatternLayer {
    matcher: ErrorPattern,
    layer: PolicyLayer,
}

/// A validated nested-schema configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NestedConfig {
    statuses: Vec<(u16, PolicyLayer)>,
    patterns: Vec<PatternLayer>,
    /// The built-in phrases and the patterns, compiled into one pass over the text.
    scanner: TextScanner,
    tools: HashMap<String, usize>,
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
        ToolSlot(self.tools.get(tool).map_or(0, |index| index + 1))
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
    pub(crate) fn scan_text<'t, I: Iterator<Item = &'t str>>(
        &self,
        parts: impl Fn() -> I,
        builtin: bool,
    ) -> (Option<BuiltinClass>, Option<ClassSlot>) {
        if !builtin && self.patterns.is_empty() {
            return (None, None);
        }
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

    /// The metadata flags.
    pub(crate) fn metadata(&self) -> &MetadataFlags {
        &self.metadata
    }

    /// The `resource_post_fetch` echo: the four ContextForge keys plus the other policy fields.
    pub(crate) fn retry_policy_echo(&self) -> Value {
        let default = self.effective(ToolSlot(0), ClassSlot::NONE).described();
        let mut echo = Map::new();
        for key in POLICY_KEYS {
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
            "retry_conditions": {
                "retry_on_status": self.conditions.retry_on_status.codes(),
                "retry_on_timeout": self.conditions.retry_on_timeout,
                "retry_on_connection_error": self.conditions.retry_on_connection_error,
                "never_retry_status": self.conditions.never_retry_status.codes(),
            },
            "circuit_breaker": {
                "enabled": self.breaker.enabled,
                "failure_threshold": self.breaker.failure_threshold,
                "recovery_timeout_ms": self.breaker.recovery_timeout_ms,
                "half_open_max_calls": self.breaker.half_open_max_calls,
            },
            "metadata": {
                "include_policy": self.metadata.include_policy,
                "include_next_retry_time": self.metadata.include_next_retry_time,
                "include_attempt_count": self.metadata.include_attempt_count,
                "include_circuit_breaker_state": self.metadata.include_circuit_breaker_state,
            },
        })
    }

    /// Reads the nested schema from `map`, recording every broken rule in `errors`. Unknown
    /// top-level keys are the caller's to report.
    pub(crate) fn read(map: &Map<String, Value>, errors: &mut Errors) -> Self {
        let default = match map.get("default_policy") {
            Some(value) => read::mapping(errors, "default_policy", value)
                .map(|m| PolicyLayer::read(m, "default_policy", &[], errors))
                .unwrap_or_default(),
            None => PolicyLayer::default(),
        }
        .over(&PolicyLayer::defaults());
        let statuses = read_statuses(map.get("status_code_policies"), errors);
        let patterns = read_patterns(map.get("error_patterns"), errors);
        let scanner = TextScanner::new(patterns.iter().map(|p| &p.matcher)).unwrap_or_else(|err| {
            errors.push(
                "error_patterns",
                format!("error_patterns cannot be compiled together: {err}"),
            );
            TextScanner::default()
        });
        let (tool_names, tool_layers) = read_tools(map.get("tool_policies"), errors);
        let conditions = read_conditions(
            map.get("retry_conditions"),
            &tool_names,
            &tool_layers,
            errors,
        );
        let breaker = read_breaker(map.get("circuit_breaker"), errors);
        let metadata = read_metadata(map.get("metadata"), errors);

        let mut class_layers = vec![(
            "default_policy".to_owned(),
            String::new(),
            PolicyLayer::default(),
        )];
        class_layers.extend(statuses.iter().map(|(code, layer)| {
            (
                format!("status_code_policies['{code}']"),
                format!("status:{code}"),
                layer.clone(),
            )
        }));
        class_layers.extend(patterns.iter().enumerate().map(|(i, p)| {
            (
                format!("error_patterns[{i}]"),
                format!("pattern:{}", p.matcher.as_str()),
                p.layer.clone(),
            )
        }));

        // The rows without a tool policy: built, and each broken one reported.
        let mut class_rows = Vec::with_capacity(class_layers.len());
        let mut bounds = Vec::with_capacity(class_layers.len());
        for (class_index, (class_key, class_source, class_layer)) in class_layers.iter().enumerate()
        {
            let merged = class_layer.over(&default);
            let source = [
                Some("default"),
                (class_index > 0).then_some(class_source.as_str()),
            ];
            let layers: Vec<&str> = [
                Some("default_policy"),
                (class_index > 0).then_some(class_key.as_str()),
            ]
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
            let tool_key = format!("tool_policies['{name}']");
            // A tool broken with the default alone is reported once, as the full table did.
            let reported: &[usize] = if failing.first() == Some(&0) {
                &failing[..1]
            } else {
                &failing
            };
            for &class_index in reported {
                let merged = tool_layer.over(&class_layers[class_index].2.over(&default));
                let class_key = class_layers[class_index].0.as_str();
                let layers: Vec<&str> = [
                    Some("default_policy"),
                    (class_index > 0).then_some(class_key),
                    Some(tool_key.as_str()),
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
            metadata,
        }
    }
}

/// The merged bounds of one class row, and whether that row is already broken.
struct ClassBounds {
    base_ms: u64,
    max_ms: u64,
    broken: bool,
}

/// The unbroken class slots, sorted by `key`.
fn sorted_classes<K: Ord>(bounds: &[ClassBounds], key: impl Fn(&ClassBounds) -> K) -> Vec<usize> {
    let mut slots: Vec<usize> = (0..bounds.len()).filter(|&i| !bounds[i].broken).collect();
    slots.sort_by_key(|&i| key(&bounds[i]));
    slots
}

/// The unbroken class slots whose combination with `tool` has `max_backoff_ms` below
/// `backoff_base_ms`, in slot order. Only the tool's own bounds can break a combination whose
/// class row is sound: a tool setting both breaks all of them or none, one setting only a base
/// breaks the classes whose maximum is below it, and one setting only a maximum those whose
/// base is above it.
fn failing_classes(
    tool: &PolicyLayer,
    bounds: &[ClassBounds],
    by_max: &[usize],
    by_base: &[usize],
) -> Vec<usize> {
    let mut failing: Vec<usize> = match (tool.base_ms, tool.max_ms) {
        (Some(base), Some(max)) if max < base => by_max.to_vec(),
        (Some(base), None) => by_max
            .iter()
            .copied()
            .take_while(|&i| bounds[i].max_ms < base)
            .collect(),
        (None, Some(max)) => by_base
            .iter()
            .copied()
            .take_while(|&i| bounds[i].base_ms > max)
            .collect(),
        _ => Vec::new(),
    };
    failing.sort_unstable();
    failing
}

/// Reports `merged` when its `max_backoff_ms` is below its `backoff_base_ms`, naming the
/// `layers` that made it (the key is the last one's); returns whether it was.
fn report_broken(merged: &PolicyLayer, layers: &[&str], errors: &mut Errors) -> bool {
    let Err((max, base)) = merged.to_policy() else {
        return false;
    };
    let path = layers.last().copied().unwrap_or_default();
    errors.push(
        &format!("{path}.max_backoff_ms"),
        format!(
            "{}: max_backoff_ms must be >= backoff_base_ms, but was {max} < {base}",
            layers.join(" + ")
        ),
    );
    true
}

/// One merged policy with its description; `source` names the layers that applied.
fn build_cell(
    merged: &PolicyLayer,
    source: &[Option<&str>],
    conditions: &RetryConditions,
) -> EffectivePolicy {
    let retry_on_status = merged
        .retry_on_status
        .clone()
        .unwrap_or_else(|| conditions.retry_on_status.clone());
    // A broken combination refuses the whole config, so its placeholder is never used.
    let policy = merged.to_policy().unwrap_or_else(|_| placeholder_policy());
    let mut described = merged.describe();
    described.insert("retry_on_status".to_owned(), json!(retry_on_status.codes()));
    described.insert(
        "source".to_owned(),
        json!(source.iter().flatten().collect::<Vec<_>>()),
    );
    EffectivePolicy::new(policy, retry_on_status, &Value::Object(described))
}

fn placeholder_policy() -> Policy {
    Policy::new(0, Backoff::Fixed(Fixed::new()), Jitter::None)
}

fn read_statuses(value: Option<&Value>, errors: &mut Errors) -> Vec<(u16, PolicyLayer)> {
    let Some(map) = value.and_then(|v| read::mapping(errors, "status_code_policies", v)) else {
        return Vec::new();
    };
    let mut statuses = Vec::new();
    for (key, value) in map {
        let prefix = format!("status_code_policies['{key}']");
        let code = key
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (MIN_STATUS..=MAX_STATUS).contains(c));
        let Some(code) = code else {
            errors.push(
                &prefix,
                format!("status_code_policies key {key:?} must be a status code within {MIN_STATUS}..={MAX_STATUS}"),
            );
            continue;
        };
        if let Some(entry) = read::mapping(errors, &prefix, value) {
            statuses.push((code, PolicyLayer::read(entry, &prefix, &[], errors)));
        }
    }
    statuses.sort_by_key(|&(code, _)| code);
    statuses
}

fn read_patterns(value: Option<&Value>, errors: &mut Errors) -> Vec<PatternLayer> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Value::Array(entries) = value else {
        errors.push(
            "error_patterns",
            format!(
                "error_patterns must be a list of mappings, but was {}",
                read::show(value)
            ),
        );
        return Vec::new();
    };
    if entries.len() > MAX_ERROR_PATTERNS {
        errors.push(
            "error_patterns",
            format!(
                "error_patterns must have at most {MAX_ERROR_PATTERNS} entries, but had {}",
                entries.len()
            ),
        );
        return Vec::new();
    }
    let mut patterns = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let prefix = format!("error_patterns[{index}]");
        let Some(entry) = read::mapping(errors, &prefix, entry) else {
            continue;
        };
        let layer = PolicyLayer::read(entry, &prefix, &["pattern"], errors);
        let key = format!("{prefix}.pattern");
        match entry.get("pattern") {
            Some(Value::String(pattern)) if pattern.len() > MAX_PATTERN_BYTES => errors.push(
                &key,
                format!(
                    "{key} must be at most {MAX_PATTERN_BYTES} bytes long, but was {}",
                    pattern.len()
                ),
            ),
            Some(Value::String(pattern)) => match ErrorPattern::new(pattern) {
                Ok(matcher) => patterns.push(PatternLayer { matcher, layer }),
                Err(err) => errors.push(
                    &key,
                    format!(
                        "{key} is not a valid regular expression: {pattern:?} ({})",
                        one_line(&err)
                    ),
                ),
            },
            Some(other) => errors.push(
                &key,
                format!("{key} must be a string, but was {}", read::show(other)),
            ),
            None => errors.push(&key, format!("{key} is required")),
        }
    }
    patterns
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn read_tools(value: Option<&Value>, errors: &mut Errors) -> (Vec<String>, Vec<PolicyLayer>) {
    let Some(map) = value.and_then(|v| read::mapping(errors, "tool_policies", v)) else {
        return (Vec::new(), Vec::new());
    };
    if map.len() > MAX_TOOL_POLICIES {
        errors.push(
            "tool_policies",
            format!(
                "tool_policies must have at most {MAX_TOOL_POLICIES} entries, but had {}",
                map.len()
            ),
        );
        return (Vec::new(), Vec::new());
    }
    let mut names = Vec::new();
    let mut layers = Vec::new();
    for (tool, value) in map {
        let prefix = format!("tool_policies['{tool}']");
        if let Some(entry) = read::mapping(errors, &prefix, value) {
            names.push(tool.clone());
            layers.push(PolicyLayer::read(
                entry,
                &prefix,
                &["retry_on_status"],
                errors,
            ));
        }
    }
    (names, layers)
}

fn read_conditions(
    value: Option<&Value>,
    tool_names: &[String],
    tool_layers: &[PolicyLayer],
    errors: &mut Errors,
) -> RetryConditions {
    let mut conditions = RetryConditions::default();
    if let Some(map) = value.and_then(|v| read::mapping(errors, "retry_conditions", v)) {
        read::reject_unknown_keys(errors, "retry_conditions", map, CONDITION_KEYS);
        let key = |name: &str| format!("retry_conditions.{name}");
        if let Some(v) = map.get("retry_on_status")
            && let Some(set) = read::status_list(errors, &key("retry_on_status"), v)
        {
            conditions.retry_on_status = set;
        }
        if let Some(v) = map.get("never_retry_status")
            && let Some(set) = read::status_list(errors, &key("never_retry_status"), v)
        {
            conditions.never_retry_status = set;
        }
        if let Some(flag) = map
            .get("retry_on_timeout")
            .and_then(|v| read::boolean(errors, &key("retry_on_timeout"), v))
        {
            conditions.retry_on_timeout = flag;
        }
        if let Some(flag) = map
            .get("retry_on_connection_error")
            .and_then(|v| read::boolean(errors, &key("retry_on_connection_error"), v))
        {
            conditions.retry_on_connection_error = flag;
        }
    }
    for code in conditions
        .retry_on_status
        .intersection(&conditions.never_retry_status)
    {
        errors.push(
            "retry_conditions.never_retry_status",
            format!(
                "retry_conditions: status {code} is in both retry_on_status and never_retry_status"
            ),
        );
    }
    for (name, layer) in tool_names.iter().zip(tool_layers) {
        if let Some(list) = &layer.retry_on_status {
            for code in list.intersection(&conditions.never_retry_status) {
                let key = format!("tool_policies['{name}'].retry_on_status");
                errors.push(
                    &key,
                    format!("{key}: status {code} is also in retry_conditions.never_retry_status"),
                );
            }
        }
    }
    conditions
}

fn read_breaker(value: Option<&Value>, errors: &mut Errors) -> BreakerConfig {
    let Some(value) = value else {
        return BreakerConfig::disabled();
    };
    let mut breaker = BreakerConfig::new();
    let Some(map) = read::mapping(errors, "circuit_breaker", value) else {
        return breaker;
    };
    read::reject_unknown_keys(errors, "circuit_breaker", map, BREAKER_KEYS);
    let key = |name: &str| format!("circuit_breaker.{name}");
    if let Some(flag) = map
        .get("enabled")
        .and_then(|v| read::boolean(errors, &key("enabled"), v))
    {
        breaker.enabled = flag;
    }
    let count = |errors: &mut Errors, name: &str| {
        map.get(name)
            .and_then(|v| read::integer_in(errors, &key(name), v, 1, Some(i128::from(u32::MAX))))
            .map(|n| n as u32)
    };
    if let Some(n) = count(errors, "failure_threshold") {
        breaker.failure_threshold = n;
    }
    if let Some(n) = count(errors, "half_open_max_calls") {
        breaker.half_open_max_calls = n;
    }
    if let Some(ms) = map
        .get("recovery_timeout_ms")
        .and_then(|v| read::integer_in(errors, &key("recovery_timeout_ms"), v, 0, None))
    {
        breaker.recovery_timeout_ms = ms;
    }
    breaker
}

fn read_metadata(value: Option<&Value>, errors: &mut Errors) -> MetadataFlags {
    let mut flags = MetadataFlags::default();
    let Some(map) = value.and_then(|v| read::mapping(errors, "metadata", v)) else {
        return flags;
    };
    read::reject_unknown_keys(errors, "metadata", map, METADATA_KEYS);
    let mut flag = |name: &str, target: &mut bool| {
        if let Some(value) = map
            .get(name)
            .and_then(|v| read::boolean(errors, &format!("metadata.{name}"), v))
        {
            *target = value;
        }
    };
    flag("include_policy", &mut flags.include_policy);
    flag(
        "include_next_retry_time",
        &mut flags.include_next_retry_time,
    );
    flag("include_attempt_count", &mut flags.include_attempt_count);
    flag(
        "include_circuit_breaker_state",
        &mut flags.include_circuit_breaker_state,
    );
    flags
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
