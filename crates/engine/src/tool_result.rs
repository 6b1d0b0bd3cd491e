//! What the engine reads of a tool result, and a cheap probe of JSON error payloads.
//!
//! The engine does not own a tool-result type: hosts hand it a view over theirs (the component
//! over its WIT record, the native harness over its own), so nothing is copied. JSON payloads
//! (`structuredContent`, text items when `check_text_content` is on) are scanned for the few
//! keys that matter without building a `serde_json::Value` tree.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::flat_json::read_flat_object;
use crate::json_scalar::JsonScalar;
use crate::retry_after::{RetryHint, header_hint, millis, seconds_or_date};
use crate::text_key::same_bytes;

/// A host's tool result, as the engine reads it.
pub trait ToolResultView {
    /// `isError`, only when the result carried a real boolean.
    fn is_error(&self) -> Option<bool>;
    /// `structuredContent` as JSON text, when present and not null.
    fn structured_content(&self) -> Option<&str>;
    /// The text of each `type: text` content item, in order.
    fn text_items(&self) -> impl Iterator<Item = &str>;
}

/// An owned tool result: for hosts that link the engine directly, and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedToolResult {
    /// `isError`, when it is a real boolean.
    pub is_error: Option<bool>,
    /// `structuredContent` as JSON text, when present and not null.
    pub structured_content: Option<String>,
    /// The text of each text content item.
    pub texts: Vec<String>,
}

impl OwnedToolResult {
    /// A result with `isError: true` and nothing else.
    pub fn error() -> Self {
        Self {
            is_error: Some(true),
            ..Self::default()
        }
    }

    /// A result whose `structuredContent` is the JSON text `json`.
    pub fn structured(json: &str) -> Self {
        Self {
            structured_content: Some(json.to_owned()),
            ..Self::default()
        }
    }

    /// A result with one text item.
    pub fn text(text: &str) -> Self {
        Self {
            texts: vec![text.to_owned()],
            ..Self::default()
        }
    }

    /// The same result with `isError: true`.
    pub fn with_error(mut self) -> Self {
        self.is_error = Some(true);
        self
    }
}

impl ToolResultView for OwnedToolResult {
    fn is_error(&self) -> Option<bool> {
        self.is_error
    }

    fn structured_content(&self) -> Option<&str> {
        self.structured_content.as_deref()
    }

    fn text_items(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(String::as_str)
    }
}

/// A `status_code` value as found in a payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StatusValue {
    /// A JSON integer.
    Integer(i64),
    /// A JSON number written with a fraction or exponent (`503.0`).
    Float(f64),
    /// Anything else (a string, a boolean, an object...).
    Other,
}

impl StatusValue {
    fn from_scalar(value: JsonScalar<'_>) -> Self {
        match value {
            JsonScalar::Unsigned(int) => {
                i64::try_from(int).map_or(Self::Float(int as f64), Self::Integer)
            }
            JsonScalar::Signed(int) => Self::Integer(int),
            JsonScalar::Number(float) => Self::Float(float),
            _ => Self::Other,
        }
    }

    /// The value as a whole number, if it is one (`503` and `503.0` both are).
    pub(crate) fn as_whole(&self) -> Option<i64> {
        match *self {
            Self::Integer(int) => Some(int),
            Self::Float(float) if float.fract() == 0.0 && float.abs() < 1e15 => Some(float as i64),
            _ => None,
        }
    }
}

/// The error signals of one JSON object: `isError`, `status_code`, `error` and `message`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ErrorProbe {
    /// `isError` is the JSON boolean `true`.
    pub is_error: bool,
    /// `status_code`, when present.
    pub status: Option<StatusValue>,
    /// `error`, when it is a string.
    pub error: Option<String>,
    /// `message`, when it is a string.
    pub message: Option<String>,
    /// The hints of `retry_after_ms`, `retry_after` and `headers`, in that order of
    /// precedence, each when well-formed.
    pub hints: [Option<RetryHint>; 3],
}

impl ErrorProbe {
    /// Probes `json` if it is a JSON object; anything else (another JSON type, invalid JSON,
    /// nesting deeper than serde_json's limit) gives `None`. When a key repeats, the last wins.
    /// A flat object of plain scalars (the usual error payload) is read by
    /// [`read_flat_object`], anything else by serde_json, with the same result.
    pub(crate) fn parse(json: &str) -> Option<Self> {
        let mut probe = Self::default();
        if read_flat_object(json, |key, value| {
            probe.take_scalar(ProbeKey::of(key), value);
        })
        .is_some()
        {
            return Some(probe);
        }
        Self::parse_any(json)
    }

    /// [`ErrorProbe::parse`] by serde_json: kept out of line, so that the flat reader's
    /// function stays small (the usual payload never comes here).
    #[cold]
    #[inline(never)]
    fn parse_any(json: &str) -> Option<Self> {
        if !json.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str(json).ok()
    }

    /// The first well-formed server hint the object carries.
    pub(crate) fn retry_hint(&self) -> Option<RetryHint> {
        self.hints.iter().flatten().next().copied()
    }

    /// Takes the scalar `value` of a member `key` (a `headers` scalar is a malformed hint).
    #[inline(always)]
    fn take_scalar(&mut self, key: ProbeKey, value: JsonScalar<'_>) {
        match key {
            ProbeKey::IsError => self.is_error = value == JsonScalar::Bool(true),
            ProbeKey::StatusCode => self.status = Some(StatusValue::from_scalar(value)),
            ProbeKey::Error => self.error = string_value(value),
            ProbeKey::Message => self.message = string_value(value),
            ProbeKey::RetryAfterMs => self.hints[0] = millis(&value),
            ProbeKey::RetryAfter => self.hints[1] = seconds_or_date(&value),
            ProbeKey::Headers => self.hints[2] = None,
            ProbeKey::Other => {}
        }
    }
}

/// The members the probe reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeKey {
    IsError,
    StatusCode,
    Error,
    Message,
    RetryAfterMs,
    RetryAfter,
    Headers,
    Other,
}

impl ProbeKey {
    /// The member `key` names. Dispatched on the length first, then compared word-wise: a
    /// `str` comparison is a byte-loop `memcmp` call in wasm, and this runs per member.
    #[inline(always)]
    fn of(key: &[u8]) -> Self {
        let is = |name: &str| same_bytes(key, name.as_bytes());
        match key.len() {
            5 if is("error") => Self::Error,
            7 if is("isError") => Self::IsError,
            7 if is("message") => Self::Message,
            7 if is("headers") => Self::Headers,
            11 if is("status_code") => Self::StatusCode,
            11 if is("retry_after") => Self::RetryAfter,
            14 if is("retry_after_ms") => Self::RetryAfterMs,
            _ => Self::Other,
        }
    }
}

impl<'de> Deserialize<'de> for ProbeKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = ProbeKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<ProbeKey, E> {
                Ok(ProbeKey::of(key.as_bytes()))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for ErrorProbe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ProbeVisitor;
        impl<'de> Visitor<'de> for ProbeVisitor {
            type Value = ErrorProbe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorProbe, A::Error> {
                let mut probe = ErrorProbe::default();
                while let Some(key) = map.next_key::<ProbeKey>()? {
                    match key {
                        ProbeKey::Headers => {
                            probe.hints[2] = header_hint(&map.next_value::<Value>()?);
                        }
                        ProbeKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => probe.take_scalar(key, map.next_value()?),
                    }
                }
                Ok(probe)
            }
        }
        deserializer.deserialize_map(ProbeVisitor)
    }
}

fn string_value(value: JsonScalar<'_>) -> Option<String> {
    match value {
        JsonScalar::Text(text) => Some(text.into_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reads_signals_and_ignores_the_rest() {
        let probe = ErrorProbe::parse(
            r#"{"data": [1, {"x": 2}], "isError": true, "status_code": 503, "error": "boom"}"#,
        )
        .unwrap();
        assert!(probe.is_error);
        assert_eq!(probe.status, Some(StatusValue::Integer(503)));
        assert_eq!(probe.error.as_deref(), Some("boom"));
        assert_eq!(probe.message, None);
    }

    #[test]
    fn probe_is_error_must_be_real_boolean() {
        assert!(
            !ErrorProbe::parse(r#"{"isError": "true"}"#)
                .unwrap()
                .is_error
        );
        assert!(!ErrorProbe::parse(r#"{"isError": 1}"#).unwrap().is_error);
    }

    #[test]
    fn probe_non_objects_and_garbage_give_none() {
        for text in ["[true, 503]", "503", "\"x\"", "null", "{", "", "not json"] {
            assert_eq!(ErrorProbe::parse(text), None, "{text}");
        }
    }

    #[test]
    fn probe_repeated_key_last_wins() {
        let probe = ErrorProbe::parse(r#"{"status_code": 503, "status_code": 404}"#).unwrap();
        assert_eq!(probe.status, Some(StatusValue::Integer(404)));
    }

    #[test]
    fn probe_deep_nesting_does_not_panic() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(ErrorProbe::parse(&deep).is_none_or(|probe| probe == ErrorProbe::default()));
    }

    /// The fast path must agree with serde_json wherever it answers: random objects of
    /// the probe's keys and values of every kind, well-formed or broken.
    #[test]
    fn flat_reading_agrees_with_serde() {
        use crate::clock::{Rng, SplitMix64};
        const KEYS: [&str; 9] = [
            "isError",
            "status_code",
            "error",
            "message",
            "retry_after_ms",
            "retry_after",
            "headers",
            "other",
            "é",
        ];
        const VALUES: [&str; 22] = [
            "true",
            "false",
            "null",
            "503",
            "0",
            "01",
            "-1",
            "-0",
            "1.5",
            "1e3",
            "\"2\"",
            "\"1.5\"",
            "\"Thu, 01 Jan 2026 00:00:10 GMT\"",
            "\"boom\"",
            "\"a\\\"b\"",
            "{}",
            "{\"Retry-After\":\"4\"}",
            "[1]",
            "18446744073709551615",
            "18446744073709551616",
            "tru",
            "\"\"",
        ];
        const SPACES: [&str; 4] = ["", " ", "\n\t", "\u{a0}"];
        let mut rng = SplitMix64::new(7);
        let mut pick = |len: usize| (rng.next_u64() % len as u64) as usize;
        let mut answered = 0;
        for _ in 0..20_000 {
            let mut json = String::from(SPACES[pick(4)]);
            json.push('{');
            for index in 0..pick(5) {
                if index > 0 {
                    json.push(',');
                }
                json.push_str(SPACES[pick(4)]);
                json.push_str(&format!("\"{}\"", KEYS[pick(KEYS.len())]));
                json.push_str(SPACES[pick(4)]);
                json.push(':');
                json.push_str(VALUES[pick(VALUES.len())]);
                json.push_str(SPACES[pick(4)]);
            }
            json.push('}');
            match pick(8) {
                0 => json.push(','),
                1 => json.push_str(" x"),
                2 => {
                    json.pop();
                }
                _ => json.push_str(SPACES[pick(4)]),
            }
            let by_serde = if json.trim_start().starts_with('{') {
                serde_json::from_str::<ErrorProbe>(&json).ok()
            } else {
                None
            };
            answered += usize::from(read_flat_object(&json, |_, _| {}).is_some());
            assert_eq!(ErrorProbe::parse(&json), by_serde, "{json}");
        }
        // Both paths were exercised.
        assert!((1_000..19_000).contains(&answered), "{answered}");
    }

    #[test]
    fn status_value_whole_numbers() {
        assert_eq!(StatusValue::Float(503.0).as_whole(), Some(503));
        assert_eq!(StatusValue::Float(503.5).as_whole(), None);
        assert_eq!(StatusValue::Other.as_whole(), None);
    }
}
