//! Error patterns: regular expressions matched case-insensitively against the error text.
//!
//! # Literal patterns
//! `regex-lite` keeps the component small but runs a PikeVM: about 2 µs per pattern on a short
//! message (callgrind). Error patterns are nearly always words joined by `.*` (`timeout`,
//! `connection.*reset`, `temporary.*failure`); such a pattern matches exactly when its words
//! occur in order, without overlapping, within one line (`.` does not match a line break),
//! ASCII case-insensitively. [`crate::text_scan`] finds those words for every pattern in one
//! pass; every other pattern goes to the regex engine. The regex is compiled either way, so
//! validation is the same.

use regex_lite::{Regex, RegexBuilder};

/// Characters with a meaning in regex syntax; a piece holding one is not a plain literal.
const META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '#', '\n',
];

/// A compiled error pattern.
#[derive(Debug, Clone)]
pub(crate) struct ErrorPattern {
    source: String,
    regex: Regex,
    /// The non-empty words of a `word.*word...` pattern, when it is one.
    words: Option<Vec<String>>,
}

impl PartialEq for ErrorPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl ErrorPattern {
    /// Compiles `pattern` case-insensitively.
    ///
    /// # Errors
    /// The regex engine's message when `pattern` is not a valid regular expression.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let regex = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .build()
            .map_err(|err| err.to_string())?;
        let words = pattern
            .split(".*")
            .filter(|word| !word.is_empty())
            .map(|word| (word.is_ascii() && !word.contains(META)).then(|| word.to_owned()))
            .collect();
        Ok(Self {
            source: pattern.to_owned(),
            regex,
            words,
        })
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// The words of a literal pattern (`w1.*w2...` with plain ASCII words), in order; empty
    /// for a pattern that matches any text (`""`, `.*`). `None` for any other pattern.
    pub(crate) fn literal_words(&self) -> Option<&[String]> {
        self.words.as_deref()
    }

    /// The compiled regular expression (case-insensitive).
    pub(crate) fn regex(&self) -> &Regex {
        &self.regex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_are_split_into_words() {
        let words = |p: &str| ErrorPattern::new(p).unwrap().words;
        assert_eq!(
            words("connection.*reset"),
            Some(vec!["connection".to_owned(), "reset".to_owned()])
        );
        assert_eq!(words("timeout"), Some(vec!["timeout".to_owned()]));
        assert_eq!(words(".*"), Some(vec![]));
        assert_eq!(words("5\\d\\d"), None);
        assert_eq!(words("rate.?limit"), None);
        assert_eq!(words("line\nbreak"), None);
        assert_eq!(words("É"), None);
    }

    #[test]
    fn regex_stays_case_insensitive() {
        let compiled = ErrorPattern::new("HTTP 5\\d\\d").unwrap();
        assert!(compiled.regex().is_match("http 503 upstream"));
    }

    #[test]
    fn invalid_pattern_reports_the_engine_message() {
        assert!(!ErrorPattern::new("conn(").unwrap_err().is_empty());
    }
}
