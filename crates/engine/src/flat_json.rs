//! A reader for the usual shape of an error payload: one JSON object whose values are plain
//! scalars, such as `{"status_code": 503, "retry_after_ms": 1500}`.
//!
//! It is a fast path, not a parser. It takes only objects whose values are strings without
//! escapes, integers >= 0 of up to 19 digits without fraction or exponent, `true`, `false` and
//! `null`, and says "not mine" (`None`) at the first byte of anything else: a nested value, an
//! escape, a negative, decimal or longer number, invalid JSON. The caller then runs serde_json on the whole text,
//! so every input gets the answer serde_json would give, and the common payload is read
//! without serde's visitor machinery (about a third of a failure's decision in wasm).

use std::borrow::Cow;

use crate::json_scalar::JsonScalar;

/// Calls `member` with each key and value of `json`, in order, when `json` is a flat JSON
/// object of plain scalars (the module's subset) with nothing after it but whitespace.
/// Returns `None` for any other text, possibly after some calls to `member`: the caller must
/// then discard what it collected.
pub(crate) fn read_flat_object<'a>(
    json: &'a str,
    mut member: impl FnMut(&'a str, JsonScalar<'a>),
) -> Option<()> {
    let bytes = json.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    at = expect(bytes, at, b'{')?;
    at = skip_whitespace(bytes, at);
    if bytes.get(at) == Some(&b'}') {
        return at_end(bytes, at + 1);
    }
    loop {
        at = expect(bytes, at, b'"')?;
        let key_end = string_end(bytes, at)?;
        let key = json.get(at..key_end)?;
        at = skip_whitespace(bytes, key_end + 1);
        at = expect(bytes, at, b':')?;
        at = skip_whitespace(bytes, at);
        let value;
        (value, at) = scalar(json, at)?;
        member(key, value);
        at = skip_whitespace(bytes, at);
        match bytes.get(at) {
            Some(b'}') => return at_end(bytes, at + 1),
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            _ => return None,
        }
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The position after `byte`, if it is at `at`.
fn expect(bytes: &[u8], at: usize, byte: u8) -> Option<usize> {
    (bytes.get(at) == Some(&byte)).then_some(at + 1)
}

/// Only whitespace is left from `at`.
fn at_end(bytes: &[u8], at: usize) -> Option<()> {
    (skip_whitespace(bytes, at) == bytes.len()).then_some(())
}

/// Where the string starting at `start` (after its opening quote) ends: the position of its
/// closing quote, if it has no escape or control character before it (which serde_json
/// decodes or rejects). Both ends are at ASCII quotes, so slicing there is on character
/// boundaries.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    // Eight bytes at a time: the first special byte of a word is where the string ends (or
    // where it stops being plain); the last few bytes of the text one at a time.
    while let Some(chunk) = bytes.get(at..at + 8) {
        let special = special_bytes(u64::from_le_bytes(chunk.try_into().ok()?));
        if special != 0 {
            at += (special.trailing_zeros() / 8) as usize;
            return (bytes.get(at) == Some(&b'"')).then_some(at);
        }
        at += 8;
    }
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at),
            b'\\' | 0..0x20 => return None,
            _ => at += 1,
        }
    }
}

/// The scalar at `at` and the position after it.
fn scalar(json: &str, at: usize) -> Option<(JsonScalar<'_>, usize)> {
    let bytes = json.as_bytes();
    match *bytes.get(at)? {
        b'"' => {
            let end = string_end(bytes, at + 1)?;
            let text = json.get(at + 1..end)?;
            Some((JsonScalar::Text(Cow::Borrowed(text)), end + 1))
        }
        b'0'..=b'9' => integer(bytes, at).map(|(value, at)| (JsonScalar::Unsigned(value), at)),
        b't' => word(bytes, at, b"true", JsonScalar::Bool(true)),
        b'f' => word(bytes, at, b"false", JsonScalar::Bool(false)),
        b'n' => word(bytes, at, b"null", JsonScalar::Other),
        _ => None,
    }
}

fn word<'a>(
    bytes: &[u8],
    at: usize,
    word: &[u8],
    value: JsonScalar<'a>,
) -> Option<(JsonScalar<'a>, usize)> {
    bytes
        .get(at..)?
        .starts_with(word)
        .then_some((value, at + word.len()))
}

/// An integer >= 0 in JSON's form (no leading zero), not followed by a fraction or an
/// exponent, of at most 19 digits (so it fits in a `u64` without overflow checks, which cost a
/// 128-bit multiplication in wasm; longer ones are left to serde_json); and the position
/// after it.
fn integer(bytes: &[u8], start: usize) -> Option<(u64, usize)> {
    const MAX_DIGITS: usize = 19;
    let mut at = start;
    let mut value: u64 = 0;
    while let Some(&digit @ b'0'..=b'9') = bytes.get(at) {
        if at - start == MAX_DIGITS {
            return None;
        }
        value = value * 10 + u64::from(digit - b'0');
        at += 1;
    }
    let leading_zero = bytes.get(start) == Some(&b'0') && at - start > 1;
    let continues = matches!(bytes.get(at), Some(b'.' | b'e' | b'E'));
    (!leading_zero && !continues).then_some((value, at))
}

/// A word (read little-endian) with the high bit set in each byte that is a quote, a backslash
/// or a control character, and possibly in bytes after the first such byte (the borrow of the
/// subtraction runs upwards), never before it: the lowest set bit marks the first special
/// byte, and zero means all eight bytes are plain string text.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(json: &str) -> Option<Vec<(&str, JsonScalar<'_>)>> {
        let mut found = Vec::new();
        read_flat_object(json, |key, value| found.push((key, value)))?;
        Some(found)
    }

    #[test]
    fn reads_plain_scalars_in_order() {
        let found = members(
            " {\"status_code\": 503,\n\"retry_after\":\"2\" ,\"ok\":true,\"x\":false,\"n\":null}\t",
        )
        .unwrap();
        assert_eq!(
            found,
            vec![
                ("status_code", JsonScalar::Unsigned(503)),
                ("retry_after", JsonScalar::Text("2".into())),
                ("ok", JsonScalar::Bool(true)),
                ("x", JsonScalar::Bool(false)),
                ("n", JsonScalar::Other),
            ]
        );
        assert_eq!(members("{}"), Some(vec![]));
        assert_eq!(members("{ \"é\": \"ü\" }").unwrap()[0].0, "é");
    }

    #[test]
    fn leaves_everything_else_to_a_parser() {
        for text in [
            "",
            "[]",
            "{",
            "{,}",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{\"a\":1}x",
            "{\"a\":1}{}",
            "{\"a\":{}}",
            "{\"a\":[1]}",
            "{\"a\":-1}",
            "{\"a\":1.5}",
            "{\"a\":1e3}",
            "{\"a\":01}",
            "{\"a\":18446744073709551616}",
            "{\"a\\n\":1}",
            "{\"a\":\"b\\\"c\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":tru}",
            "{\"a\":truex}",
            "{\"a\":nul}",
            "{a:1}",
        ] {
            assert_eq!(members(text), None, "{text}");
        }
    }

    #[test]
    fn word_scan_finds_every_special_byte() {
        for special in [b'"', b'\\', 0, 0x1f] {
            for position in 0..8 {
                // Plain bytes before it, anything after it (other special bytes included).
                for after in [*b"abcdefgh", [0, b'"', 0x1f, b'\\', 0xff, 0x20, 0x80, 1]] {
                    let mut bytes = *b"abcdefgh";
                    bytes[position] = special;
                    bytes[position + 1..].copy_from_slice(&after[position + 1..]);
                    let found = special_bytes(u64::from_le_bytes(bytes));
                    assert_eq!(found.trailing_zeros() / 8, position as u32, "{bytes:?}");
                }
            }
        }
        for plain in [
            *b"abcdefgh",
            *b"  ~\x7f\xc3\xa9!#",
            [0x20, 0xff, 0x80, 0x21, 0x5b, 0x5d, 0x7b, 0x7d],
        ] {
            assert_eq!(special_bytes(u64::from_le_bytes(plain)), 0, "{plain:?}");
        }
        let long = format!("{{\"{}\":\"{}\\n\"}}", "k".repeat(20), "v".repeat(17));
        assert_eq!(members(&long), None);
        let long = format!("{{\"{}\":\"{}\"}}", "k".repeat(20), "v".repeat(17));
        assert_eq!(members(&long).unwrap()[0].0.len(), 20);
    }

    #[test]
    fn integers_of_up_to_19_digits() {
        assert_eq!(
            members("{\"a\":9999999999999999999}").unwrap()[0].1,
            JsonScalar::Unsigned(9_999_999_999_999_999_999)
        );
        assert_eq!(members("{\"a\":18446744073709551615}"), None);
        assert_eq!(members("{\"a\":0}").unwrap()[0].1, JsonScalar::Unsigned(0));
    }
}
