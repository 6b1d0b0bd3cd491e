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

/// Calls `member` with each key (its bytes, between the quotes) and value of `json`, in
/// order, when `json` is a flat JSON object of plain scalars (the module's subset) with nothing
/// after it but whitespace. Returns `None` for any other text, possibly after some calls to
/// `member`: the caller must then discard what it collected.
///
/// The text is walked as a shrinking slice, which keeps the loop's live values few: in wasm,
/// every value more than the registers hold is a spill.
#[inline(always)]
pub(crate) fn read_flat_object<'a>(
    json: &'a str,
    mut member: impl FnMut(&'a [u8], JsonScalar<'a>),
) -> Option<()> {
    let mut rest = skip_whitespace(json.as_bytes());
    let [b'{', tail @ ..] = rest else {
        return None;
    };
    rest = skip_whitespace(tail);
    if let [b'}', tail @ ..] = rest {
        return at_end(tail);
    }
    loop {
        let [b'"', tail @ ..] = rest else {
            return None;
        };
        let (key, tail) = plain_string(tail)?;
        rest = skip_whitespace(tail);
        let [b':', tail @ ..] = rest else {
            return None;
        };
        rest = skip_whitespace(tail);
        let value;
        (value, rest) = match rest {
            [b'"', tail @ ..] => {
                let (text, tail) = plain_string(tail)?;
                (JsonScalar::Text(Cow::Borrowed(text_of(json, text)?)), tail)
            }
            [b'0'..=b'9', ..] => {
                let (value, tail) = integer(rest, json.as_bytes())?;
                (JsonScalar::Unsigned(value), tail)
            }
            [b't', b'r', b'u', b'e', tail @ ..] => (JsonScalar::Bool(true), tail),
            [b'f', b'a', b'l', b's', b'e', tail @ ..] => (JsonScalar::Bool(false), tail),
            [b'n', b'u', b'l', b'l', tail @ ..] => (JsonScalar::Other, tail),
            _ => return None,
        };
        member(key, value);
        rest = skip_whitespace(rest);
        match rest {
            [b'}', tail @ ..] => return at_end(tail),
            [b',', tail @ ..] => rest = skip_whitespace(tail),
            _ => return None,
        }
    }
}

/// `bytes` without its leading JSON whitespace. A gateway's serializer rarely writes any, so
/// the usual case is one comparison and no loop (in wasm every loop entry also checks for
/// interruption).
#[inline(always)]
fn skip_whitespace(bytes: &[u8]) -> &[u8] {
    match bytes.first() {
        Some(&byte) if byte <= b' ' => skip_whitespace_run(bytes),
        _ => bytes,
    }
}

/// [`skip_whitespace`] when `bytes` may start with whitespace.
#[inline(never)]
fn skip_whitespace_run(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\n' | b'\r', tail @ ..] = bytes {
        bytes = tail;
    }
    bytes
}

/// Only whitespace is left.
fn at_end(rest: &[u8]) -> Option<()> {
    skip_whitespace(rest).is_empty().then_some(())
}

/// `part` (a slice of `json`'s bytes from one ASCII quote to the next) as text.
fn text_of<'a>(json: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(json.as_ptr() as usize)?;
    json.get(start..start + part.len())
}

/// The plain string at the start of `bytes` (just after its opening quote) and what follows
/// its closing quote, if it has no escape or control character (which serde_json decodes or
/// rejects).
#[inline(always)]
fn plain_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len = 0;
    // Eight bytes at a time: the first special byte of a word is where the string ends (or
    // where it stops being plain); the last few bytes of the text one at a time.
    loop {
        if let Some(chunk) = bytes.get(len..len + 8) {
            let special = special_bytes(u64::from_le_bytes(chunk.try_into().ok()?));
            if special == 0 {
                len += 8;
                continue;
            }
            len += (special.trailing_zeros() / 8) as usize;
        } else {
            while let Some(byte) = bytes.get(len).filter(|&&byte| byte >= 0x20) {
                if matches!(byte, b'"' | b'\\') {
                    break;
                }
                len += 1;
            }
        }
        return match bytes.split_at_checked(len)? {
            (text, [b'"', tail @ ..]) => Some((text, tail)),
            _ => None,
        };
    }
}

/// An integer >= 0 in JSON's form (no leading zero), not followed by a fraction or an
/// exponent, of at most 19 digits (so it fits in a `u64` without overflow checks, which cost a
/// 128-bit multiplication in wasm; longer ones are left to serde_json); and what follows it.
///
/// `bytes` must be the end of `text`. Up to seven digits are read from one eight-byte word
/// without a loop (near the end of the text, the text's last eight bytes moved down); longer
/// numbers, and any in a text shorter than eight bytes, digit by digit.
#[inline(always)]
fn integer<'a>(bytes: &'a [u8], text: &[u8]) -> Option<(u64, &'a [u8])> {
    debug_assert!(text.ends_with(bytes));
    let word = match bytes.first_chunk::<8>() {
        Some(chunk) => Some(u64::from_le_bytes(*chunk)),
        // The bytes past the text's end read as zeros, which are not digits.
        None => text
            .last_chunk::<8>()
            .and_then(|last| u64::from_le_bytes(*last).checked_shr(8 * (8 - bytes.len() as u32))),
    };
    if let Some(word) = word {
        let digits = word ^ ASCII_ZEROS;
        let count = leading_digits(digits);
        if (1..8).contains(&count) {
            let value = digits_value(digits << (64 - 8 * count));
            let (number, rest) = bytes.split_at_checked(count as usize)?;
            return plain_integer(number, rest).then_some((value, rest));
        }
    }
    integer_by_digit(bytes)
}

/// [`integer`] one digit at a time.
#[inline(never)]
fn integer_by_digit(bytes: &[u8]) -> Option<(u64, &[u8])> {
    const MAX_DIGITS: usize = 19;
    let mut value: u64 = 0;
    let mut rest = bytes;
    while let [digit @ b'0'..=b'9', tail @ ..] = rest {
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
        rest = tail;
    }
    let number = &bytes[..bytes.len() - rest.len()];
    (number.len() <= MAX_DIGITS && plain_integer(number, rest)).then_some((value, rest))
}

/// The digits `number` followed by `rest` are a whole JSON integer: no leading zero, and no
/// fraction or exponent after it.
#[inline(always)]
fn plain_integer(number: &[u8], rest: &[u8]) -> bool {
    let leading_zero = number.len() > 1 && number.first() == Some(&b'0');
    let continues = matches!(rest.first(), Some(b'.' | b'e' | b'E'));
    !leading_zero && !continues
}

/// Eight ASCII zeros; a word of text XOR this has digits as the byte values 0 to 9.
const ASCII_ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);

/// How many of the word's bytes, from the lowest, are digit values (0 to 9) after
/// [`ASCII_ZEROS`] was XORed in: 0 to 8. A byte is a digit when it and it plus 6 are both
/// below 16; a carry out of the addition only reaches bytes after a non-digit.
fn leading_digits(digits: u64) -> u32 {
    const SIXES: u64 = u64::from_ne_bytes([6; 8]);
    const HIGH_NIBBLES: u64 = u64::from_ne_bytes([0xf0; 8]);
    let not_digit = (digits | digits.wrapping_add(SIXES)) & HIGH_NIBBLES;
    not_digit.trailing_zeros() / 8
}

/// The number whose eight decimal digits are the word's bytes, the most significant lowest:
/// digits combined in pairs, then fours, then all eight, each step one multiplication.
fn digits_value(digits: u64) -> u64 {
    let pairs = (digits.wrapping_mul(10 * 256 + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs.wrapping_mul(100 * 65_536 + 1) >> 16) & 0x0000_ffff_0000_ffff;
    fours.wrapping_mul(10_000 * (1 << 32) + 1) >> 32
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
        read_flat_object(json, |key, value| {
            found.push((std::str::from_utf8(key).unwrap(), value));
        })?;
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
    fn word_read_integers_agree_with_digit_by_digit() {
        let mut texts = vec![String::new()];
        for number in [
            "0", "7", "42", "503", "1500", "65535", "999999", "1234567", "12345678",
        ] {
            for after in [
                "",
                "}",
                ",\"a\":1}",
                ".5}",
                "e3}",
                "x",
                "0",
                "00000000",
                "\u{e9}",
            ] {
                texts.push(format!("{number}{after}"));
                texts.push(format!("0{number}{after}"));
            }
        }
        for text in &texts {
            let bytes = text.as_bytes();
            for before in ["", "{\"a\":", "{\"retry_after_ms\":"] {
                let whole = format!("{before}{text}");
                let end = &whole.as_bytes()[before.len()..];
                assert_eq!(
                    integer(end, whole.as_bytes()),
                    integer_by_digit(bytes),
                    "{whole:?}"
                );
            }
        }
        let text = b"{\"a\":503,\"b\":2}";
        assert_eq!(integer(&text[5..], text), Some((503, &text[8..])));
        let text = b"{\"retry_after_ms\":1500}";
        assert_eq!(integer(&text[18..], text), Some((1500, &b"}"[..])));
        let text = b"{\"a\":01}";
        assert_eq!(integer(&text[5..], text), None);
    }

    #[test]
    fn leading_digits_stop_at_the_first_other_byte() {
        for other in [b'/', b':', b' ', b'"', 0, 0x80, 0xff, b'a'] {
            for position in 0..8 {
                let mut bytes = *b"98765432";
                bytes[position] = other;
                let digits = u64::from_le_bytes(bytes) ^ ASCII_ZEROS;
                assert_eq!(leading_digits(digits), position as u32, "{bytes:?}");
            }
        }
        assert_eq!(
            leading_digits(u64::from_le_bytes(*b"98765432") ^ ASCII_ZEROS),
            8
        );
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
