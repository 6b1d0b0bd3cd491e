//! Error patterns: regular expressions matched case-insensitively against the error text.
//!
//! # Why a literal fast path
//! `regex-lite` keeps the component small but runs a PikeVM: about 2 µs per pattern on a short
//! message, most of a pattern-matched decision (callgrind). Error patterns are nearly always
//! words joined by `.*` (`timeout`, `connection.*reset`, `temporary.*failure`); such a pattern
//! matches exactly when its words occur in order, without overlapping, within one line (`.`
//! does not match a newline), ASCII case-insensitively. Those are searched as substrings of the
//! lowercased text; every other pattern goes to the regex engine. The regex is compiled either
//! way, so validation is the same.

use regex_lite::{Regex, RegexBuilder};

/// Characters with a meaning in regex syntax; a piece holding one is not a plain literal.
const META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '#',
];

/// A compiled error pattern.
#[derive(Debug, Clone)]
pub struct ErrorPattern {
    source: String,
    regex: Regex,
    /// The lowercase words of a `word.*word...` pattern, when it is one.
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
    pub fn new(pattern: &str) -> Result<Self, String> {
        let regex = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .build()
            .map_err(|err| err.to_string())?;
        let words = pattern
            .split(".*")
            .map(|word| {
                (word.is_ascii() && !word.contains(META)).then(|| word.to_ascii_lowercase())
            })
            .collect();
        Ok(Self {
            source: pattern.to_owned(),
            regex,
            words,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches `text`; `ascii_lowercase` must be
    /// `text.to_ascii_lowercase()` (computed once per decision by the caller).
    pub fn is_match(&self, text: &str, ascii_lowercase: &str) -> bool {
        match &self.words {
            Some(words) => ascii_lowercase
                .split('\n')
                .any(|line| words_in_order(line, words)),
            None => self.regex.is_match(text),
        }
    }
}

fn words_in_order(line: &str, words: &[String]) -> bool {
    let mut rest = line.as_bytes();
    for word in words {
        match find(rest, word.as_bytes()) {
            Some(at) => rest = &rest[at + word.len()..],
            None => return false,
        }
    }
    true
}

/// The first position of `needle` in `haystack`. A plain scan: error texts are short (at most
/// 4 KiB) and words shorter still, where building a two-way searcher costs more than it saves.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some(&first) = needle.first() else {
        return Some(0);
    };
    haystack
        .iter()
        .enumerate()
        .find(|&(at, &byte)| byte == first && haystack[at..].starts_with(needle))
        .map(|(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(pattern: &str, text: &str) -> (bool, bool) {
        let compiled = ErrorPattern::new(pattern).unwrap();
        let fast = compiled.is_match(text, &text.to_ascii_lowercase());
        (fast, compiled.regex.is_match(text))
    }

    #[test]
    fn literal_patterns_take_the_fast_path() {
        assert!(
            ErrorPattern::new("connection.*reset")
                .unwrap()
                .words
                .is_some()
        );
        assert!(ErrorPattern::new("timeout").unwrap().words.is_some());
        assert!(ErrorPattern::new("5\\d\\d").unwrap().words.is_none());
        assert!(ErrorPattern::new("rate.?limit").unwrap().words.is_none());
    }

    #[test]
    fn fast_path_agrees_with_the_regex_engine() {
        let patterns = [
            "timeout",
            "connection.*reset",
            "temporary.*failure",
            "a.*a",
            ".*",
            "",
            "x.*",
            ".*y",
            "rate limit",
            "Time Out",
            "a.*b.*c",
        ];
        let texts = [
            "",
            "a",
            "aa",
            "TIMEOUT",
            "read timeout",
            "connection reset",
            "Connection was RESET",
            "reset connection",
            "connection\nreset",
            "connection reset\nnothing",
            "temporary failure",
            "temporary.failure",
            "Rate Limit exceeded",
            "time out",
            "abc",
            "acb",
            "a\nbc",
            "x",
            "yx",
            "ÉtimeoutÉ",
            "temporary \u{1F600} failure",
            "carriage\r\nreturn",
        ];
        for pattern in patterns {
            for text in texts {
                let (fast, regex) = both(pattern, text);
                assert_eq!(fast, regex, "pattern {pattern:?} on {text:?}");
            }
        }
    }

    #[test]
    fn regex_fallback_still_case_insensitive() {
        let compiled = ErrorPattern::new("HTTP 5\\d\\d").unwrap();
        assert!(compiled.is_match("http 503 upstream", "http 503 upstream"));
    }

    #[test]
    fn invalid_pattern_reports_the_engine_message() {
        assert!(!ErrorPattern::new("conn(").unwrap_err().is_empty());
    }
}
