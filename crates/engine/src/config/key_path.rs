//! Where a value sits in the configuration, as error messages and error keys name it.

use std::fmt;

/// A path into the configuration: `max_retries`, `default_policy.jitter`,
/// `error_patterns[2].pattern`, `tool_policies['web_scraper'].max_backoff_ms`. The root is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(String);

impl KeyPath {
    /// The configuration itself.
    pub(crate) fn root() -> Self {
        Self::default()
    }

    /// The mapping key `key` below this path.
    pub(crate) fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            Self(key.to_owned())
        } else {
            Self(format!("{}.{key}", self.0))
        }
    }

    /// List item `index` below this path.
    pub(crate) fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The entry named `name` of the mapping at this path (a tool or a status code).
    pub(crate) fn entry(&self, name: &str) -> Self {
        Self(format!("{}['{name}']", self.0))
    }

    /// The path as text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_as_messages_write_them() {
        let root = KeyPath::root();
        assert_eq!(root.key("max_retries").as_str(), "max_retries");
        assert_eq!(
            root.key("error_patterns").index(2).key("pattern").as_str(),
            "error_patterns[2].pattern"
        );
        assert_eq!(
            root.key("tool_policies")
                .entry("web")
                .key("jitter")
                .to_string(),
            "tool_policies['web'].jitter"
        );
    }
}
