//! Typed reading of JSON configuration values that records every broken rule instead of
//! stopping at the first, with messages that name the key, the rule and the bad value.
//!
//! Each section of the configuration is declared once with [`section!`]: its key names, in the
//! order the documentation lists them. The declaration gives the section's known keys (for
//! unknown-key errors and their suggestions) and a view of a mapping holding each known key's
//! value with its [`KeyPath`], so no reader spells a key or builds a path by hand.

use std::str::FromStr;

use serde_json::{Map, Value};

use super::key_path::KeyPath;
use crate::error::ConfigError;
use crate::status::{MAX_STATUS, MIN_STATUS, StatusSet};
use crate::suggest::closest_key;

/// Declares a configuration section: `struct Name { key_a, key_b }` becomes a view of a mapping
/// with an `Option<Field>` per key, the section's `KEYS`, and `Name::of(map, path)`.
macro_rules! section {
    ($(#[$meta:meta])* struct $name:ident { $($(#[$key_meta:meta])* $key:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        pub(crate) struct $name<'v> {
            $($(#[$key_meta])* pub(crate) $key: Option<$crate::config::read::Field<'v>>,)+
        }

        impl<'v> $name<'v> {
            /// The section's keys, as configurations write them.
            pub(crate) const KEYS: &'static [&'static str] = &[$(stringify!($key)),+];

            /// The section's keys found in `map`, the mapping at `path`.
            pub(crate) fn of(
                map: &'v serde_json::Map<String, serde_json::Value>,
                path: &$crate::config::key_path::KeyPath,
            ) -> Self {
                Self {
                    $($key: map.get(stringify!($key)).map(|value| $crate::config::read::Field {
                        path: path.key(stringify!($key)),
                        value,
                    }),)+
                }
            }
        }
    };
}
pub(crate) use section;

/// Collects configuration errors while a config is read.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub(crate) Vec<ConfigError>);

impl Errors {
    /// Records that the value at `path` breaks a rule; `message` must name the path itself.
    pub(crate) fn push(&mut self, path: &KeyPath, message: String) {
        self.0.push(ConfigError::new(path.as_str(), message));
    }

    /// How many errors have been recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// One configured value and where it sits.
#[derive(Debug, Clone)]
pub(crate) struct Field<'v> {
    /// Where the value sits.
    pub(crate) path: KeyPath,
    /// The value as configured.
    pub(crate) value: &'v Value,
}

impl<'v> Field<'v> {
    /// The value at `path`.
    #[cfg(test)]
    pub(crate) fn new(path: KeyPath, value: &'v Value) -> Self {
        Self { path, value }
    }

    /// Records that this value breaks `rule` (`must be ...`), quoting it.
    fn refuse(&self, errors: &mut Errors, rule: &str) {
        errors.push(
            &self.path,
            format!("{} {rule}, but was {}", self.path, show(self.value)),
        );
    }

    /// An integer in `min..=max`.
    pub(crate) fn integer_in(
        &self,
        errors: &mut Errors,
        min: i128,
        max: Option<i128>,
    ) -> Option<u64> {
        let Some(int) = as_integer(self.value) else {
            self.refuse(errors, "must be an integer");
            return None;
        };
        let path = &self.path;
        if int < min {
            let rule = if min == 1 {
                "must be > 0".to_owned()
            } else {
                format!("must be >= {min}")
            };
            errors.push(path, format!("{path} {rule}, but was {int}"));
            return None;
        }
        let max = max
            .unwrap_or(i128::from(u64::MAX))
            .min(i128::from(u64::MAX));
        if int > max {
            errors.push(path, format!("{path} cannot exceed {max}, but was {int}"));
            return None;
        }
        u64::try_from(int).ok()
    }

    /// A real JSON boolean (`1` and `"yes"` are refused).
    pub(crate) fn boolean(&self, errors: &mut Errors) -> Option<bool> {
        let flag = self.value.as_bool();
        if flag.is_none() {
            self.refuse(errors, "must be a boolean");
        }
        flag
    }

    /// A finite number.
    pub(crate) fn number(&self, errors: &mut Errors) -> Option<f64> {
        match self.value.as_f64() {
            Some(float) if float.is_finite() => Some(float),
            _ => {
                self.refuse(errors, "must be a number");
                None
            }
        }
    }

    /// A number within `range`, described as `rule` (`must be >= 1.0`).
    pub(crate) fn number_in(
        &self,
        errors: &mut Errors,
        range: impl std::ops::RangeBounds<f64>,
        rule: &str,
    ) -> Option<f64> {
        let number = self.number(errors)?;
        if range.contains(&number) {
            return Some(number);
        }
        let path = &self.path;
        errors.push(path, format!("{path} {rule}, but was {number}"));
        None
    }

    /// A value named by a string, parsed by `T`'s `FromStr`, whose error is the rule
    /// (`must be one of ...`).
    pub(crate) fn parse<T: FromStr<Err = String>>(&self, errors: &mut Errors) -> Option<T> {
        // A value that is not a string fails to parse as its JSON text would.
        let parsed = match self.value.as_str() {
            Some(name) => T::from_str(name),
            None => T::from_str(&self.value.to_string()),
        };
        match parsed {
            Ok(value) => Some(value),
            Err(rule) => {
                self.refuse(errors, &rule);
                None
            }
        }
    }

    /// A list of HTTP status codes within 100..=599.
    pub(crate) fn status_list(&self, errors: &mut Errors) -> Option<StatusSet> {
        let path = &self.path;
        let Value::Array(items) = self.value else {
            self.refuse(errors, "must be a list of integers");
            return None;
        };
        let before = errors.len();
        let mut codes = Vec::with_capacity(items.len());
        for item in items {
            match as_integer(item) {
                None => errors.push(
                    path,
                    format!("{path} must be a list of integers, but had {}", show(item)),
                ),
                Some(code) => match u16::try_from(code) {
                    Ok(code) if (MIN_STATUS..=MAX_STATUS).contains(&code) => codes.push(code),
                    _ => errors.push(
                        path,
                        format!(
                            "{path} must hold status codes within {MIN_STATUS}..={MAX_STATUS}, but had {code}"
                        ),
                    ),
                },
            }
        }
        (errors.len() == before).then(|| StatusSet::from_codes(&codes))
    }

    /// A JSON object (a YAML mapping), naming the Python type of anything else.
    pub(crate) fn mapping(&self, errors: &mut Errors) -> Option<&'v Map<String, Value>> {
        mapping(errors, &self.path, self.value)
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

/// Reads the JSON object at `path` (a YAML mapping), naming the Python type of anything else.
pub(crate) fn mapping<'v>(
    errors: &mut Errors,
    path: &KeyPath,
    value: &'v Value,
) -> Option<&'v Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => {
            errors.push(
                path,
                format!("{path}: expected a dict, got {}", type_name(other)),
            );
            None
        }
    }
}

/// Records an error for every key of `map` (the mapping at `path`) not in `known`, suggesting
/// the closest known key.
pub(crate) fn reject_unknown_keys(
    errors: &mut Errors,
    path: &KeyPath,
    map: &Map<String, Value>,
    known: &[&str],
) {
    for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
        let path = path.key(key);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_int(value: Value, min: i128, max: Option<i128>) -> (Option<u64>, Vec<String>) {
        let mut errors = Errors::default();
        let out = Field::new(KeyPath::root().key("k"), &value).integer_in(&mut errors, min, max);
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
        assert_eq!(
            read_int(json!(1e20), 0, None).1,
            ["k cannot exceed 18446744073709551615, but was 100000000000000000000"]
        );
    }

    #[test]
    fn status_list_rejects_out_of_range_and_non_integers() {
        let mut errors = Errors::default();
        let value = json!([500, -1, 99999, "x"]);
        let field = Field::new(KeyPath::root().key("s"), &value);
        assert!(field.status_list(&mut errors).is_none());
        assert_eq!(errors.len(), 3);
        assert!(errors.0[0].message.contains("within 100..=599, but had -1"));
    }

    #[test]
    fn mapping_names_python_type() {
        let mut errors = Errors::default();
        let path = KeyPath::root().key("tool_overrides").entry("t");
        assert!(mapping(&mut errors, &path, &json!(5)).is_none());
        assert_eq!(
            errors.0[0].message,
            "tool_overrides['t']: expected a dict, got int"
        );
    }

    #[test]
    fn unknown_keys_suggest_closest() {
        let mut errors = Errors::default();
        let map = json!({"maxRetries": 1, "bogus": 2});
        reject_unknown_keys(
            &mut errors,
            &KeyPath::root(),
            map.as_object().unwrap(),
            &["max_retries"],
        );
        assert_eq!(errors.0[0].key, "bogus");
        assert_eq!(
            errors.0[1].message,
            "maxRetries is not a known key (did you mean max_retries?)"
        );
    }

    section!(
        /// A section for the tests.
        struct Sample { alpha, beta }
    );

    #[test]
    fn section_lists_its_keys_and_paths_each_value() {
        assert_eq!(Sample::KEYS, ["alpha", "beta"]);
        let map = json!({"beta": 2});
        let sample = Sample::of(map.as_object().unwrap(), &KeyPath::root().key("s"));
        assert!(sample.alpha.is_none());
        assert_eq!(sample.beta.unwrap().path.as_str(), "s.beta");
    }
}
