//! Finding the plugin's config in a file an operator already has: a bare config mapping, a
//! ContextForge plugins file (`plugins:` list), or this plugin's manifest (`default_configs`).

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value};

use crate::yaml;

/// Where in the file the config was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The whole document is the config mapping.
    Bare,
    /// The `config` of the named entry of a `plugins:` list.
    PluginsEntry(String),
    /// The `default_configs` of a plugin manifest.
    Manifest,
}

/// Reads `path` (YAML or JSON) and returns the plugin config in it.
///
/// # Errors
/// An unreadable file, invalid YAML, or a `plugins:` list without this plugin.
pub fn load(path: &Path) -> Result<(Value, ConfigSource)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let document =
        yaml::parse(&text).with_context(|| format!("{} is not valid YAML", path.display()))?;
    extract(document)
}

/// Picks the plugin config out of a parsed document.
///
/// # Errors
/// A `plugins:` value that is not a list, or a list without this plugin.
pub fn extract(document: Value) -> Result<(Value, ConfigSource)> {
    let Value::Object(mut map) = document else {
        return Ok((document, ConfigSource::Bare));
    };
    if let Some(plugins) = map.remove("plugins") {
        let Value::Array(entries) = plugins else {
            bail!("`plugins` must be a list of plugin entries");
        };
        let mut names = Vec::new();
        for entry in entries {
            let Value::Object(mut entry) = entry else {
                continue;
            };
            let name = text_of(&entry, "name");
            if is_this_plugin(&name) || is_this_plugin(&text_of(&entry, "kind")) {
                let config = entry.remove("config").unwrap_or(Value::Null);
                return Ok((config, ConfigSource::PluginsEntry(name)));
            }
            names.push(name);
        }
        bail!(
            "no RetryWithBackoff plugin in the `plugins` list (found: {})",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    if map.contains_key("available_hooks") && map.contains_key("default_configs") {
        let config = map.remove("default_configs").unwrap_or(Value::Null);
        return Ok((config, ConfigSource::Manifest));
    }
    Ok((Value::Object(map), ConfigSource::Bare))
}

fn text_of(entry: &Map<String, Value>, key: &str) -> String {
    entry
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Whether a plugin name or kind designates this plugin (`RetryWithBackoff`,
/// `retry_with_backoff`, `plugins.retry_with_backoff.retry.RetryWithBackoffPlugin`, ...).
fn is_this_plugin(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    folded.contains("retrywithbackoff")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extract_bare_mapping() {
        let (config, source) = extract(json!({"max_retries": 3})).unwrap();
        assert_eq!(
            (config, source),
            (json!({"max_retries": 3}), ConfigSource::Bare)
        );
    }

    #[test]
    fn extract_plugins_entry_by_name_or_kind() {
        let doc = json!({"plugins": [
            {"name": "Other", "config": {}},
            {"name": "RetryWithBackoff", "config": {"max_retries": 4}}
        ]});
        assert_eq!(extract(doc).unwrap().0, json!({"max_retries": 4}));
        let doc = json!({"plugins": [{"name": "retry", "kind": "plugins.retry_with_backoff.retry.RetryWithBackoffPlugin"}]});
        assert_eq!(extract(doc).unwrap().0, Value::Null);
    }

    #[test]
    fn extract_plugins_without_this_plugin_names_the_others() {
        let err = extract(json!({"plugins": [{"name": "PIIFilter"}]})).unwrap_err();
        assert!(err.to_string().contains("PIIFilter"));
    }

    #[test]
    fn extract_manifest_default_configs() {
        let doc = json!({"available_hooks": [], "default_configs": {"jitter": false}});
        assert_eq!(
            extract(doc).unwrap(),
            (json!({"jitter": false}), ConfigSource::Manifest)
        );
    }
}
