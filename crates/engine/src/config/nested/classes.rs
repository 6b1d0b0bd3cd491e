//! The error-class layers of the nested schema: `status_code_policies` and `error_patterns`.

use serde_json::{Map, Value};

use super::super::key_path::KeyPath;
use super::super::layer::PolicyLayer;
use super::super::read::{self, Errors, Field, section};
use crate::pattern::ErrorPattern;
use crate::status::{MAX_STATUS, MIN_STATUS};

/// Most `error_patterns` entries a config may have.
pub(crate) const MAX_ERROR_PATTERNS: usize = 1_000;
/// Longest `error_patterns[i].pattern`, in bytes.
pub(crate) const MAX_PATTERN_BYTES: usize = 1_000;
/// Most bytes of all `error_patterns` patterns together: they are compiled into one automaton
/// (and each into a regex), whose size must stay well within the component's memory.
pub(crate) const MAX_PATTERNS_TOTAL_BYTES: usize = 64 * 1024;

section!(
    /// The key an `error_patterns` entry sets beside the policy keys.
    struct PatternKeys { pattern }
);

/// One `error_patterns` entry: its compiled pattern and its policy layer.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PatternLayer {
    pub(super) matcher: ErrorPattern,
    pub(super) layer: PolicyLayer,
}

/// Reads `status_code_policies` (at `path`), sorted by status code.
pub(super) fn read_statuses(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> Vec<(u16, PolicyLayer)> {
    let Some(map) = value.and_then(|v| read::mapping(errors, path, v)) else {
        return Vec::new();
    };
    let mut statuses = Vec::new();
    for (key, value) in map {
        let entry_path = path.entry(key);
        let code = key
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (MIN_STATUS..=MAX_STATUS).contains(c));
        let Some(code) = code else {
            errors.push(
                &entry_path,
                format!(
                    "{path} key {key:?} must be a status code within {MIN_STATUS}..={MAX_STATUS}"
                ),
            );
            continue;
        };
        if let Some(entry) = read::mapping(errors, &entry_path, value) {
            statuses.push((
                code,
                PolicyLayer::read(entry, &entry_path, false, &[], errors),
            ));
        }
    }
    statuses.sort_by_key(|&(code, _)| code);
    statuses
}

/// Reads `error_patterns` (at `path`), in order.
pub(super) fn read_patterns(
    value: Option<&Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> Vec<PatternLayer> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Value::Array(entries) = value else {
        errors.push(
            path,
            format!(
                "{path} must be a list of mappings, but was {}",
                read::show(value)
            ),
        );
        return Vec::new();
    };
    if entries.len() > MAX_ERROR_PATTERNS {
        errors.push(
            path,
            format!(
                "{path} must have at most {MAX_ERROR_PATTERNS} entries, but had {}",
                entries.len()
            ),
        );
        return Vec::new();
    }
    let total: usize = entries
        .iter()
        .filter_map(|entry| entry.get("pattern").and_then(Value::as_str))
        .map(str::len)
        .sum();
    if total > MAX_PATTERNS_TOTAL_BYTES {
        errors.push(
            path,
            format!(
                "{path} must hold at most {MAX_PATTERNS_TOTAL_BYTES} bytes of patterns in all, but held {total}"
            ),
        );
        return Vec::new();
    }
    let mut patterns = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let entry_path = path.index(index);
        let Some(entry) = read::mapping(errors, &entry_path, entry) else {
            continue;
        };
        let layer = PolicyLayer::read(entry, &entry_path, false, PatternKeys::KEYS, errors);
        if let Some(matcher) = read_pattern(entry, &entry_path, errors) {
            patterns.push(PatternLayer { matcher, layer });
        }
    }
    patterns
}

/// The compiled `pattern` of the entry `entry` at `path`.
fn read_pattern(
    entry: &Map<String, Value>,
    path: &KeyPath,
    errors: &mut Errors,
) -> Option<ErrorPattern> {
    let Some(Field { path: key, value }) = PatternKeys::of(entry, path).pattern else {
        let key = path.key("pattern");
        errors.push(&key, format!("{key} is required"));
        return None;
    };
    let Value::String(pattern) = value else {
        errors.push(
            &key,
            format!("{key} must be a string, but was {}", read::show(value)),
        );
        return None;
    };
    if pattern.len() > MAX_PATTERN_BYTES {
        errors.push(
            &key,
            format!(
                "{key} must be at most {MAX_PATTERN_BYTES} bytes long, but was {}",
                pattern.len()
            ),
        );
        return None;
    }
    ErrorPattern::new(pattern)
        .map_err(|err| {
            let reason = err.split_whitespace().collect::<Vec<_>>().join(" ");
            errors.push(
                &key,
                format!("{key} is not a valid regular expression: {pattern:?} ({reason})"),
            );
        })
        .ok()
}
