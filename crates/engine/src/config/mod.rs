//! Plugin configuration: parsing and validation, in two stages (JSON value, then validated
//! types). A [`PluginConfig`] can only be obtained through validation, so every rule holds for
//! the rest of the engine.

mod effective;
mod flat;
mod key_path;
mod layer;
mod limits;
pub(crate) mod nested;
mod read;

pub(crate) use effective::EffectivePolicy;
#[cfg(test)]
pub(crate) use flat::DEFAULT_RETRY_ON_STATUS;
pub(crate) use flat::FlatConfig;
pub(crate) use limits::StateLimits;
pub(crate) use nested::{ClassSlot, MetadataFlags, NestedConfig};

use std::rc::Rc;

use serde_json::{Value, json};

use crate::error::ConfigErrors;
use key_path::KeyPath;
use read::Errors;

/// A validated plugin configuration.
///
/// # Default
/// The flat schema with every default, the same as `plugin-manifest.yaml`'s `default_configs`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    schema: Schema,
    limits: StateLimits,
    resource_metadata: String,
}

/// Which schema a configuration was written in, with its validated content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Schema {
    /// The ContextForge plugin's flat keys.
    Flat(Rc<FlatConfig>),
    /// The specification's nested policy model.
    Nested(Rc<NestedConfig>),
}

impl Default for Schema {
    fn default() -> Self {
        Self::Flat(Rc::default())
    }
}

impl Default for PluginConfig {
    fn default() -> Self {
        Self::with_schema(Schema::default(), StateLimits::default())
    }
}

impl PluginConfig {
    /// Parses and validates a configuration given as JSON text. `null` and `{}` give the
    /// defaults.
    ///
    /// # Errors
    /// [`ConfigErrors::Malformed`] when the text is not JSON or not an object; otherwise
    /// [`ConfigErrors::Invalid`] listing every rule of [`PluginConfig::from_value`] it breaks.
    pub fn from_json(text: &str) -> Result<Self, ConfigErrors> {
        let value: Value = serde_json::from_str(text)
            .map_err(|err| ConfigErrors::Malformed(format!("config is not valid JSON: {err}")))?;
        Self::from_value(&value)
    }

    /// Validates a configuration value (the plugin's `config` mapping). `null` gives the
    /// defaults. A config is *nested* when it has any of `default_policy`,
    /// `status_code_policies`, `tool_policies`, `error_patterns`, `circuit_breaker`,
    /// `retry_conditions` or `metadata`, and *flat* otherwise.
    ///
    /// # Errors
    /// [`ConfigErrors::Malformed`] when `value` is not an object (or null). Otherwise
    /// [`ConfigErrors::Invalid`] with one entry per broken rule:
    /// - flat and nested top-level keys mixed in one config;
    /// - an unknown key (the closest known key is suggested);
    /// - `max_retries` not an integer in 0..=10;
    /// - `backoff_base_ms` or `max_backoff_ms` not an integer > 0;
    /// - `max_backoff_ms` below `backoff_base_ms` (after merging, for overrides);
    /// - `retry_on_status` not a list of integers within 100..=599;
    /// - `jitter` or `check_text_content` not a boolean;
    /// - `tool_overrides`, or one of its entries, not a mapping; any rule above inside an
    ///   entry;
    /// - nested: `backoff_strategy` not one of exponential, linear, fixed;
    ///   `backoff_multiplier` below 1.0; `jitter_max_percent` outside 0..=100; a
    ///   `status_code_policies` key that is not a status code; an `error_patterns` entry
    ///   without a valid regular expression `pattern`; a status code in both
    ///   `retry_on_status` (of `retry_conditions` or a tool policy) and `never_retry_status`;
    ///   `failure_threshold` or `half_open_max_calls` below 1; any combination of layers whose
    ///   `max_backoff_ms` falls below its `backoff_base_ms`.
    pub fn from_value(value: &Value) -> Result<Self, ConfigErrors> {
        let empty = serde_json::Map::new();
        let map = match value {
            Value::Null => &empty,
            Value::Object(map) => map,
            other => {
                return Err(ConfigErrors::Malformed(format!(
                    "config: expected a dict, got {}",
                    read::type_name(other)
                )));
            }
        };
        let mut errors = Errors::default();
        let nested: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| nested::NestedKeys::KEYS.contains(k))
            .collect();
        let flat: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| flat::FlatKeys::KEYS.contains(k))
            .collect();
        if !nested.is_empty() && !flat.is_empty() {
            let message = format!(
                "config mixes the flat (ContextForge) keys {} with the nested keys {}; use one schema (in the nested schema, policy keys go under default_policy or tool_policies)",
                flat.join(", "),
                nested.join(", ")
            );
            return Err(ConfigErrors::Invalid(vec![crate::error::ConfigError::new(
                flat.join(", "),
                message,
            )]));
        }
        // Suggest from both schemas: a misspelt nested key may arrive in an otherwise flat config.
        let top_level_keys: Vec<&str> = flat::FlatKeys::KEYS
            .iter()
            .chain(nested::NestedKeys::KEYS)
            .chain(limits::LimitKeys::KEYS)
            .copied()
            .collect();
        read::reject_unknown_keys(&mut errors, &KeyPath::root(), map, &top_level_keys);
        let schema = if nested.is_empty() {
            Schema::Flat(Rc::new(FlatConfig::read(map, &mut errors)))
        } else {
            Schema::Nested(Rc::new(NestedConfig::read(map, &mut errors)))
        };
        let limits = StateLimits::read(map, &mut errors);
        if !errors.0.is_empty() {
            return Err(ConfigErrors::Invalid(errors.0));
        }
        Ok(Self::with_schema(schema, limits))
    }

    fn with_schema(schema: Schema, limits: StateLimits) -> Self {
        let echo = match &schema {
            Schema::Flat(flat) => flat.global().retry_policy_echo(),
            Schema::Nested(nested) => nested.retry_policy_echo(),
        };
        let resource_metadata = json!({ "retry_policy": echo }).to_string();
        Self {
            schema,
            limits,
            resource_metadata,
        }
    }

    /// The validated content.
    pub(crate) fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The state limits.
    pub(crate) fn limits(&self) -> &StateLimits {
        &self.limits
    }

    /// The metadata `resource_post_fetch` returns, as JSON text (computed once, here).
    pub fn resource_metadata(&self) -> &str {
        &self.resource_metadata
    }

    /// The effective policy: global settings and each tool's merged settings.
    pub fn describe(&self) -> Value {
        match &self.schema {
            Schema::Flat(flat) => {
                let tools: serde_json::Map<String, Value> = flat
                    .tools()
                    .into_iter()
                    .map(|(name, rules)| (name.to_owned(), rules.describe()))
                    .collect();
                json!({ "schema": "flat", "default": flat.global().describe(), "tools": tools })
            }
            Schema::Nested(nested) => nested.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_json_null_and_empty_give_defaults() {
        assert_eq!(
            PluginConfig::from_json("null").unwrap(),
            PluginConfig::default()
        );
        assert_eq!(
            PluginConfig::from_json("{}").unwrap(),
            PluginConfig::default()
        );
    }

    #[test]
    fn from_json_non_object_is_malformed() {
        let err = PluginConfig::from_json("[1]").unwrap_err();
        assert_eq!(
            err,
            ConfigErrors::Malformed("config: expected a dict, got list".into())
        );
        assert!(matches!(
            PluginConfig::from_json("{"),
            Err(ConfigErrors::Malformed(_))
        ));
    }

    #[test]
    fn default_resource_metadata_echoes_four_keys() {
        let value: Value =
            serde_json::from_str(PluginConfig::default().resource_metadata()).unwrap();
        assert_eq!(
            value,
            json!({"retry_policy": {"max_retries": 2, "backoff_base_ms": 200,
                   "max_backoff_ms": 5000, "retry_on_status": [429, 500, 502, 503, 504]}})
        );
    }
}
