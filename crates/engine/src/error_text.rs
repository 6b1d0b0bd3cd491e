//! The error text of a failed tool result, and the built-in error classes matched against it.
//!
//! The text is the result's text content items plus any string `error` or `message` field of
//! `structuredContent`, joined by newlines; only the first [`MAX_ERROR_TEXT_BYTES`] are kept, so
//! a megabyte of output costs no more to classify than a short message.

use std::sync::OnceLock;

use crate::tool_result::{ErrorProbe, ToolResultView};

/// How much of the error text is inspected, in bytes.
pub const MAX_ERROR_TEXT_BYTES: usize = 4096;

/// Phrases of the built-in timeout class (matched case-insensitively as substrings).
pub const TIMEOUT_PHRASES: &[&str] = &[
    "timed out",
    "timeout",
    "time out",
    "time-out",
    "deadline exceeded",
    "deadline_exceeded",
    "etimedout",
];

/// Phrases of the built-in connection class (matched case-insensitively as substrings).
pub const CONNECTION_PHRASES: &[&str] = &[
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

/// Every built-in phrase grouped by its first byte, so the text is scanned once and each byte
/// is compared only with the phrases that can start there.
struct PhraseIndex {
    by_first_byte: [Vec<(&'static [u8], BuiltinClass)>; 256],
}

impl PhraseIndex {
    fn get() -> &'static Self {
        static INDEX: OnceLock<PhraseIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            let mut by_first_byte: [Vec<(&'static [u8], BuiltinClass)>; 256] =
                std::array::from_fn(|_| Vec::new());
            let classes = [
                (TIMEOUT_PHRASES, BuiltinClass::Timeout),
                (CONNECTION_PHRASES, BuiltinClass::Connection),
            ];
            for (phrases, class) in classes {
                for phrase in phrases {
                    let bytes = phrase.as_bytes();
                    by_first_byte[usize::from(bytes[0])].push((bytes, class));
                }
            }
            Self { by_first_byte }
        })
    }
}

/// A built-in class of failures without a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinClass {
    /// Timeouts: retried iff `retry_conditions.retry_on_timeout`.
    Timeout,
    /// Connection errors: retried iff `retry_conditions.retry_on_connection_error`.
    Connection,
}

impl BuiltinClass {
    /// The class of `lowercase_text` (ASCII-lowercased), timeouts first.
    pub fn of(lowercase_text: &str) -> Option<Self> {
        let index = PhraseIndex::get();
        let bytes = lowercase_text.as_bytes();
        let mut connection = false;
        for (start, &byte) in bytes.iter().enumerate() {
            let candidates = &index.by_first_byte[usize::from(byte)];
            if candidates.is_empty() {
                continue;
            }
            let rest = &bytes[start..];
            for &(phrase, class) in candidates {
                // Phrases are at least two bytes long; the second byte rules out most of them
                // before a full comparison.
                if rest.get(1) == phrase.get(1) && rest.starts_with(phrase) {
                    match class {
                        Self::Timeout => return Some(Self::Timeout),
                        Self::Connection => connection = true,
                    }
                }
            }
        }
        connection.then_some(Self::Connection)
    }

    /// The name used in metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
        }
    }
}

/// The bounded error text of `result`, given the already-probed `structuredContent`.
pub fn error_text(
    result: &(impl ToolResultView + ?Sized),
    structured: Option<&ErrorProbe>,
) -> String {
    let mut text = String::new();
    let parts = result
        .text_items()
        .chain(structured.and_then(|p| p.error.as_deref()))
        .chain(structured.and_then(|p| p.message.as_deref()));
    for part in parts {
        if text.len() >= MAX_ERROR_TEXT_BYTES {
            break;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        let room = MAX_ERROR_TEXT_BYTES.saturating_sub(text.len());
        text.push_str(prefix_within(part, room));
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
    use crate::classify::tests::FakeResult;

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
    fn builtin_classes_match_phrases() {
        assert_eq!(
            BuiltinClass::of("request timed out after 30s"),
            Some(BuiltinClass::Timeout)
        );
        assert_eq!(
            BuiltinClass::of("grpc: deadline exceeded"),
            Some(BuiltinClass::Timeout)
        );
        assert_eq!(
            BuiltinClass::of("connection reset by peer"),
            Some(BuiltinClass::Connection)
        );
        assert_eq!(
            BuiltinClass::of("write: broken pipe"),
            Some(BuiltinClass::Connection)
        );
        assert_eq!(
            BuiltinClass::of("temporary name resolution failure"),
            Some(BuiltinClass::Connection)
        );
        assert_eq!(BuiltinClass::of("invalid argument"), None);
    }

    #[test]
    fn every_phrase_is_found_alone_and_inside_text() {
        for phrase in TIMEOUT_PHRASES {
            assert_eq!(
                BuiltinClass::of(phrase),
                Some(BuiltinClass::Timeout),
                "{phrase}"
            );
        }
        for phrase in CONNECTION_PHRASES {
            let text = format!("error: {phrase}!");
            assert_eq!(
                BuiltinClass::of(&text),
                Some(BuiltinClass::Connection),
                "{phrase}"
            );
        }
    }

    #[test]
    fn builtin_classes_agree_with_plain_substring_search() {
        let texts = [
            "",
            "t",
            "timeou",
            "the connection was reset at time of day",
            "deadline",
            "ename resolution",
            "é timed out é",
        ];
        for text in texts {
            let naive = if TIMEOUT_PHRASES.iter().any(|p| text.contains(p)) {
                Some(BuiltinClass::Timeout)
            } else if CONNECTION_PHRASES.iter().any(|p| text.contains(p)) {
                Some(BuiltinClass::Connection)
            } else {
                None
            };
            assert_eq!(BuiltinClass::of(text), naive, "{text}");
        }
    }

    #[test]
    fn builtin_timeout_wins_over_connection() {
        assert_eq!(
            BuiltinClass::of("connection timeout"),
            Some(BuiltinClass::Timeout)
        );
    }
}
