//! Typed reading of JSON configuration values that records every broken rule instead of
//! stopping at the first, with messages that name the key, the rule and the bad value.

use serde_json::{Map, Value};

use crate::error::ConfigError;
use crate::status::{MAX_STATUS, MIN_STATUS, StatusSet};
use crate::suggest::closest_key;

/// Collects configuration errors while a config is read.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub(crate) Vec<ConfigError>);

impl Errors {
    /// Records that `key` breaks a rule; `message` must name the key itself.
    pub(crate) fn push(&mut self, key: &str, message: String) {
        self.0.push(ConfigError::new(key, message));
    }

    /// How many errors have been recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The Python type name of a JSON value, as the ContextForge plugin's messages use them.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A short rendering of a bad value for an error message.
pub(crate) fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// An integer read from JSON, kept signed so that range errors can quote negative values.
pub(crate) fn as_integer(value: &Value) -> Option<i128> {
    let Value::Number(number) = value else {
        return None;
    };
    if let Some(int) = number.as_i64() {
        return Some(i128::from(int));
    }
    if let Some(int) = number.as_u64() {
        return Some(i128::from(int));
    }
    let float = number.as_f64()?;
    // YAML and JSON writers sometimes emit 3.0 for 3; accept whole numbers within range.
    (float.is_finite() && float.fract() == 0.0 && float.abs() < 1e30).then_some(float as i128)
}

/// Reads an integer in `min..=max`, recording an error that names `key` otherwise.
pub(crate) fn integer_in(
    errors: &mut Errors,
    key: &str,
    value: &Value,
    min: i128,
    max: Option<i128>,
) -> Option<u64> {
    let Some(int) = as_integer(value) else {
        errors.push(
            key,
            format!("{key} must be an integer, but was {}", show(value)),
        );
        return None;
    };
    if int < min {
        let rule = if min == 1 {
            "must be > 0".to_owned()
        } else {
            format!("must be >= {min}")
        };
        errors.push(key, format!("{key} {rule}, but was {int}"));
        return None;
    }
    if let Some(max) = max
        && int > max
    {
        errors.push(key, format!("{key} cannot exceed {max}, but was {int}"));
        return None;
    }
    match u64::try_from(int) {
        Ok(int) => Some(int),
        Err(_) => {
            errors.push(
                key,
                format!("{key} cannot exceed {}, but was {int}", u64::MAX),
            );
            None
        }
    }
}

/// Reads a real JSON boolean (`1` and `"yes"` are refused).
pub(crate) fn boolean(errors: &mut Errors, key: &str, value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        other => {
            errors.push(
                key,
                format!("{key} must be a boolean, but was {}", show(other)),
            );
            None
        }
    }
}

/// Reads a finite number.
pub(crate) fn number(errors: &mut Errors, key: &str, value: &Value) -> Option<f64> {
    match value.as_f64() {
        Some(float) if float.is_finite() && value.is_number() => Some(float),
        _ => {
            errors.push(
                key,
                format!("{key} must be a number, but was {}", show(value)),
            );
            None
        }
    }
}

/// Reads a list of HTTP status codes within 100..=599.
pub(crate) fn status_list(errors: &mut Errors, key: &str, value: &Value) -> Option<StatusSet> {
    let Value::Array(items) = value else {
        errors.push(
            key,
            format!("{key} must be a list of integers, but was {}", show(value)),
        );
        return None;
    };
    let before = errors.len();
    let mut codes = Vec::with_capacity(items.len());
    for item in items {
        match as_integer(item) {
            None => errors.push(
                key,
                format!("{key} must be a list of integers, but had {}", show(item)),
            ),
            Some(code) => match u16::try_from(code) {
                Ok(code) if (MIN_STATUS..=MAX_STATUS).contains(&code) => codes.push(code),
                _ => errors.push(
                    key,
                    format!(
                        "{key} must hold status codes within {MIN_STATUS}..={MAX_STATUS}, but had {code}"
                    ),
                ),
            },
        }
    }
    (errors.len() == before).then(|| StatusSet::from_codes(&codes))
}

/// Reads a JSON object (a YAML mapping), naming the Python type of anything else.
pub(crate) fn mapping<'v>(
    errors: &mut Errors,
    key: &str,
    value: &'v Value,
) -> Option<&'v Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => {
            errors.push(
                key,
                format!("{key}: expected a dict, got {}", type_name(other)),
            );
            None
        }
    }
}

/// Records an error for every key of `map` not in `known`, suggesting the closest known key.
pub(crate) fn reject_unknown_keys(
    errors: &mut Errors,
    prefix: &str,
    map: &Map<String, Value>,
    known: &[&str],
) {
    for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
        let path = join(prefix, key);
        let message = match closest_key(key, known) {
            Some(close) => format!("{path} is not a known key (did you mean {close}?)"),
            None => format!(
                "{path} is not a known key (known keys: {})",
                known.join(", ")
            ),
        };
        errors.push(&path, message);
    }
}

/// The path of `key` below `prefix` (`prefix.key`, or `key` at the top level).
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_int(value: Value, min: i128, max: Option<i128>) -> (Option<u64>, Vec<String>) {
        let mut errors = Errors::default();
        let out = integer_in(&mut errors, "k", &value, min, max);
        (out, errors.0.into_iter().map(|e| e.message).collect())
    }

    #[test]
    fn integer_in_accepts_whole_floats_and_rejects_fractions_and_strings() {
        assert_eq!(read_int(json!(3.0), 0, None).0, Some(3));
        assert_eq!(
            read_int(json!(2.5), 0, None).1,
            ["k must be an integer, but was 2.5"]
        );
        assert_eq!(
            read_int(json!("3"), 0, None).1,
            ["k must be an integer, but was \"3\""]
        );
        assert_eq!(
            read_int(json!(true), 0, None).1,
            ["k must be an integer, but was true"]
        );
    }

    #[test]
    fn integer_in_range_messages_name_rule_and_value() {
        assert_eq!(read_int(json!(0), 1, None).1, ["k must be > 0, but was 0"]);
        assert_eq!(
            read_int(json!(-1), 0, None).1,
            ["k must be >= 0, but was -1"]
        );
        assert_eq!(
            read_int(json!(11), 0, Some(10)).1,
            ["k cannot exceed 10, but was 11"]
        );
    }

    #[test]
    fn status_list_rejects_out_of_range_and_non_integers() {
        let mut errors = Errors::default();
        assert!(status_list(&mut errors, "s", &json!([500, -1, 99999, "x"])).is_none());
        assert_eq!(errors.len(), 3);
        assert!(errors.0[0].message.contains("within 100..=599, but had -1"));
    }

    #[test]
    fn mapping_names_python_type() {
        let mut errors = Errors::default();
        assert!(mapping(&mut errors, "tool_overrides['t']", &json!(5)).is_none());
        assert_eq!(
            errors.0[0].message,
            "tool_overrides['t']: expected a dict, got int"
        );
    }

    #[test]
    fn unknown_keys_suggest_closest() {
        let mut errors = Errors::default();
        let map = json!({"maxRetries": 1, "bogus": 2});
        reject_unknown_keys(&mut errors, "", map.as_object().unwrap(), &["max_retries"]);
        assert_eq!(errors.0[0].key, "bogus");
        assert_eq!(
            errors.0[1].message,
            "maxRetries is not a known key (did you mean max_retries?)"
        );
    }
}
