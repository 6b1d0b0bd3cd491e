//! Reading YAML (or JSON, which is YAML) into JSON values, as a gateway would hand them to the
//! plugin: mapping keys become strings (`429:` becomes `"429"`), tags are dropped, and numbers
//! JSON cannot hold (NaN, infinities) become null.

use anyhow::{Result, bail};
use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

/// Converts a YAML value to JSON.
///
/// # Errors
/// A mapping key that is itself a list or a mapping.
pub fn to_json(yaml: &Yaml) -> Result<Value> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(*flag),
        Yaml::Number(number) => number_to_json(number),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_>>()?),
        Yaml::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                map.insert(key_to_string(key)?, to_json(value)?);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => to_json(&tagged.value)?,
    })
}

fn number_to_json(number: &serde_yaml_ng::Number) -> Value {
    if let Some(int) = number.as_i64() {
        Value::Number(int.into())
    } else if let Some(int) = number.as_u64() {
        Value::Number(int.into())
    } else {
        number
            .as_f64()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number)
    }
}

fn key_to_string(key: &Yaml) -> Result<String> {
    Ok(match key {
        Yaml::String(text) => text.clone(),
        Yaml::Number(number) => number.to_string(),
        Yaml::Bool(flag) => flag.to_string(),
        Yaml::Null => "null".to_owned(),
        Yaml::Tagged(tagged) => key_to_string(&tagged.value)?,
        Yaml::Sequence(_) | Yaml::Mapping(_) => bail!("a mapping key must be a scalar"),
    })
}

/// Parses YAML (or JSON) text into a JSON value.
///
/// # Errors
/// Invalid YAML (the message gives line and column) or a non-scalar mapping key.
pub fn parse(text: &str) -> Result<Value> {
    let yaml: Yaml = serde_yaml_ng::from_str(text)?;
    to_json(&yaml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_integer_keys_become_strings() {
        let value = parse("status_code_policies:\n  429:\n    max_retries: 5\n").unwrap();
        assert_eq!(
            value,
            json!({"status_code_policies": {"429": {"max_retries": 5}}})
        );
    }

    #[test]
    fn parse_json_is_yaml() {
        assert_eq!(
            parse(r#"{"a": [1, 2.5, null]}"#).unwrap(),
            json!({"a": [1, 2.5, null]})
        );
    }

    #[test]
    fn parse_nan_becomes_null() {
        assert_eq!(parse("x: .nan").unwrap(), json!({"x": null}));
    }

    #[test]
    fn parse_invalid_yaml_reports_line() {
        let err = parse("a: [1,\nb: }").unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
    }
}
