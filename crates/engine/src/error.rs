//! Configuration errors: every broken rule, each naming its key.

use std::fmt;

/// One broken configuration rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending key as a path: `max_retries`, `tool_overrides['t'].jitter`, ...
    pub key: String,
    /// What is wrong, in lowercase with no trailing period, naming the key, the rule and the
    /// bad value, e.g. `max_retries cannot exceed 10, but was 11`.
    pub message: String,
}

impl ConfigError {
    /// An error for `key` with the full `message`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrors {
    /// The text is not JSON, or not a JSON object.
    Malformed(String),
    /// The object breaks these rules (never empty).
    Invalid(Vec<ConfigError>),
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(message) => f.write_str(message),
            Self::Invalid(errors) => {
                for (index, error) in errors.iter().enumerate() {
                    if index > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{error}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigErrors {}
