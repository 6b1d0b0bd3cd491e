//! Conversions between the WIT records and the engine's types.

use retry_engine::{ConfigErrors, ToolAnnotations, ToolDecision, ToolResultView};

use crate::bindings::mcp_plugins::retry_with_backoff::types::{
    CallToolResult, ConfigError, ConfigIssue, ContentBlock, ToolAnnotations as WitAnnotations,
    ToolPostInvokeResult,
};

impl From<WitAnnotations> for ToolAnnotations {
    fn from(annotations: WitAnnotations) -> Self {
        Self {
            read_only: annotations.read_only_hint,
            destructive: annotations.destructive_hint,
            idempotent: annotations.idempotent_hint,
            open_world: annotations.open_world_hint,
        }
    }
}

impl ToolResultView for CallToolResult {
    fn is_error(&self) -> Option<bool> {
        self.is_error
    }

    fn structured_content(&self) -> Option<&str> {
        self.structured_content.as_deref()
    }

    fn text_items(&self) -> impl Iterator<Item = &str> {
        self.content.iter().filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.text.as_str()),
            _ => None,
        })
    }
}

impl From<ToolDecision> for ToolPostInvokeResult {
    fn from(decision: ToolDecision) -> Self {
        Self {
            retry: decision.retry,
            retry_delay_ms: decision.delay_ms,
            metadata: decision.metadata.into_owned(),
            warning: decision.warning,
        }
    }
}

impl From<ConfigErrors> for ConfigError {
    fn from(errors: ConfigErrors) -> Self {
        match errors {
            ConfigErrors::Malformed(message) => Self::Malformed(message),
            ConfigErrors::Invalid(errors) => Self::Invalid(
                errors
                    .into_iter()
                    .map(|error| ConfigIssue {
                        key: error.key,
                        message: error.message,
                    })
                    .collect(),
            ),
        }
    }
}
