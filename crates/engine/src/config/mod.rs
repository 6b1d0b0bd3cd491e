//! Plugin configuration: parsing and validation, in two stages (JSON value, then validated
//! types). A [`PluginConfig`] can only be obtained through validation, so every rule holds for
//! the rest of the engine.

mod flat;
mod read;

pub use flat::{
    DEFAULT_BACKOFF_BASE_MS, DEFAULT_CHECK_TEXT_CONTENT, DEFAULT_JITTER, DEFAULT_MAX_BACKOFF_MS,
    DEFAULT_MAX_RETRIES, DEFAULT_RETRY_ON_STATUS, FlatConfig, FlatRules,
};

use serde_json::{Value, json};

use crate::error::ConfigErrors;
use read::Errors;

/// A validated plugin configuration.
///
/// # Default
/// The flat schema with every default, the same as `plugin-manifest.yaml`'s `default_configs`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    schema: Schema,
    resource_metadata: String,
}

/// Which schema a configuration was written in, with its validated content.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    /// The ContextForge plugin's flat keys.
    Flat(FlatConfig),
}

impl Default for Schema {
    fn default() -> Self {
        Self::Flat(FlatConfig::default())
    }
}

impl Default for PluginConfig {
    fn default() -> Self {
        Self::with_schema(Schema::default())
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
    /// defaults.
    ///
    /// # Errors
    /// [`ConfigErrors::Malformed`] when `value` is not an object (or null). Otherwise
    /// [`ConfigErrors::Invalid`] with one entry per broken rule:
    /// - an unknown key (the closest known key is suggested);
    /// - `max_retries` not an integer in 0..=10;
    /// - `backoff_base_ms` or `max_backoff_ms` not an integer > 0;
    /// - `max_backoff_ms` below `backoff_base_ms` (after merging, for overrides);
    /// - `retry_on_status` not a list of integers within 100..=599;
    /// - `jitter` or `check_text_content` not a boolean;
    /// - `tool_overrides`, or one of its entries, not a mapping; any rule above inside an
    ///   entry.
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
        let schema = Schema::Flat(FlatConfig::read(map, &mut errors));
        if !errors.0.is_empty() {
            return Err(ConfigErrors::Invalid(errors.0));
        }
        Ok(Self::with_schema(schema))
    }

    fn with_schema(schema: Schema) -> Self {
        let echo = match &schema {
            Schema::Flat(flat) => flat.global().retry_policy_echo(),
        };
        let resource_metadata = json!({ "retry_policy": echo }).to_string();
        Self {
            schema,
            resource_metadata,
        }
    }

    /// The validated content.
    pub fn schema(&self) -> &Schema {
        &self.schema
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
