//! A JSON scalar read straight from JSON text, without building a `serde_json::Value` tree:
//! the probe of a failure's `structuredContent` reads its few fields this way on every failure.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A JSON value as far as a probe cares: a number (keeping whether it was an integer), a
/// string (borrowed from the JSON text when it has no escapes), a boolean, or anything else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonScalar<'a> {
    /// An integer >= 0.
    Unsigned(u64),
    /// A negative integer.
    Signed(i64),
    /// A number written with a fraction or an exponent.
    Number(f64),
    /// A string.
    Text(Cow<'a, str>),
    /// `true` or `false`.
    Bool(bool),
    /// `null`, a list or an object.
    Other,
}

impl<'a> From<&'a Value> for JsonScalar<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Number(number) => number
                .as_u64()
                .map(Self::Unsigned)
                .or_else(|| number.as_i64().map(Self::Signed))
                .or_else(|| number.as_f64().map(Self::Number))
                .unwrap_or(Self::Other),
            Value::String(text) => Self::Text(Cow::Borrowed(text)),
            Value::Bool(flag) => Self::Bool(*flag),
            _ => Self::Other,
        }
    }
}

impl<'de> Deserialize<'de> for JsonScalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = JsonScalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Unsigned(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<JsonScalar<'de>, E> {
                Ok(u64::try_from(value).map_or(JsonScalar::Signed(value), JsonScalar::Unsigned))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Number(value))
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                value: &'de str,
            ) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Text(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Text(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Text(Cow::Owned(value)))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Bool(value))
            }
            fn visit_unit<E: de::Error>(self) -> Result<JsonScalar<'de>, E> {
                Ok(JsonScalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonScalar<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(JsonScalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonScalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(JsonScalar::Other)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_from_text_as_from_a_value() {
        for text in [
            "1500",
            "-3",
            "2.5",
            "1e3",
            "-0",
            "18446744073709551615",
            "\"7\"",
            "true",
            "null",
            "[1, [2]]",
            "{\"a\": {\"b\": 1}}",
        ] {
            let read: JsonScalar = serde_json::from_str(text).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(read, JsonScalar::from(&value), "{text}");
        }
    }
}
