//! The error text of a failed tool result, and the built-in error classes matched against it.
//!
//! The text is the result's text content items plus any string `error` or `message` field of
//! `structuredContent`, joined by newlines; only the first [`MAX_ERROR_TEXT_BYTES`] are kept, so
//! a megabyte of output costs no more to classify than a short message.

use crate::tool_result::{ErrorProbe, ToolResultView};

/// How much of the error text is inspected, in bytes.
pub(crate) const MAX_ERROR_TEXT_BYTES: usize = 4096;

/// Phrases of the built-in timeout class (matched case-insensitively as substrings).
pub(crate) const TIMEOUT_PHRASES: &[&str] = &[
    "timed out",
    "timeout",
    "time out",
    "time-out",
    "deadline exceeded",
    "deadline_exceeded",
    "etimedout",
];

/// Phrases of the built-in connection class (matched case-insensitively as substrings).
pub(crate) const CONNECTION_PHRASES: &[&str] = &[
    "connection refused",
    "connection reset",
    "connection closed",
    "connection aborted",
    "connection error",
    "connection failed",
    "failed to connect",
    "could not connect",
    "broken pipe",
    "network unreachable",
    "network is unreachable",
    "host unreachable",
    "no route to host",
    "name resolution",
    "name or service not known",
    "could not resolve",
    "dns error",
    "econnrefused",
    "econnreset",
    "econnaborted",
    "enetunreach",
    "ehostunreach",
    "eai_again",
];

/// A built-in class of failures without a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BuiltinClass {
    /// Timeouts: retried iff `retry_conditions.retry_on_timeout`.
    Timeout,
    /// Connection errors: retried iff `retry_conditions.retry_on_connection_error`.
    Connection,
}

impl BuiltinClass {
    /// The name used in metadata.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
        }
    }
}

/// The bounded error text of `result`, given the already-probed `structuredContent`: its parts
/// in order, cut so that, joined by [`join_lines`], they stay within [`MAX_ERROR_TEXT_BYTES`].
/// Nothing is copied.
pub(crate) fn error_text_parts<'r, R: ToolResultView + ?Sized>(
    result: &'r R,
    structured: Option<&'r ErrorProbe>,
) -> impl Iterator<Item = &'r str> {
    result
        .text_items()
        .chain(structured.and_then(|p| p.error.as_deref()))
        .chain(structured.and_then(|p| p.message.as_deref()))
        .scan(0, |joined_len: &mut usize, part| {
            if *joined_len >= MAX_ERROR_TEXT_BYTES {
                return None;
            }
            if *joined_len > 0 {
                *joined_len += 1;
            }
            let kept = prefix_within(part, MAX_ERROR_TEXT_BYTES.saturating_sub(*joined_len));
            *joined_len += kept.len();
            Some(kept)
        })
}

/// The error text as one string: the parts joined by line breaks (none before the first
/// non-empty text).
pub(crate) fn join_lines<'t>(parts: impl Iterator<Item = &'t str>) -> String {
    let mut text = String::new();
    for part in parts {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(part);
    }
    text
}

/// The longest prefix of `text` of at most `bytes` bytes that ends on a character boundary.
fn prefix_within(text: &str, bytes: usize) -> &str {
    if text.len() <= bytes {
        return text;
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool_result::OwnedToolResult as FakeResult;

    fn error_text(result: &FakeResult, probe: Option<&ErrorProbe>) -> String {
        join_lines(error_text_parts(result, probe))
    }

    #[test]
    fn error_text_joins_texts_and_structured_fields() {
        let mut result = FakeResult::text("upstream said no");
        result.structured_content = Some(r#"{"error": "E1", "message": "M1"}"#.into());
        let probe = ErrorProbe::parse(result.structured_content.as_deref().unwrap());
        assert_eq!(
            error_text(&result, probe.as_ref()),
            "upstream said no\nE1\nM1"
        );
    }

    #[test]
    fn error_text_is_bounded_on_a_char_boundary() {
        let long = "é".repeat(10_000);
        let text = error_text(&FakeResult::text(&long), None);
        assert!(text.len() <= MAX_ERROR_TEXT_BYTES && text.len() >= MAX_ERROR_TEXT_BYTES - 1);
        let probe = ErrorProbe {
            error: Some("late".into()),
            ..ErrorProbe::default()
        };
        assert!(!error_text(&FakeResult::text(&long), Some(&probe)).contains("late"));
    }

    #[test]
    fn error_text_bound_counts_line_breaks() {
        let mut result = FakeResult::text(&"a".repeat(MAX_ERROR_TEXT_BYTES - 3));
        result.texts.insert(0, String::new());
        result.texts.push("bcdef".into());
        let text = error_text(&result, None);
        assert_eq!(text.len(), MAX_ERROR_TEXT_BYTES);
        assert!(text.ends_with("\nbc"));
    }
}
