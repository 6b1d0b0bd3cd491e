//! Writing text by hand on hot paths (the metadata's JSON, the give-up warning), returned in a
//! string of exactly the text's size.
//!
//! # Why a reused buffer, copied out
//! The text is written into a [`TextBuffer`] kept from call to call (its capacity stays), then
//! copied into a string of exactly its length. A returned string with spare capacity costs a
//! `realloc` when the component hands it over (the WIT lowering shrinks it to a boxed slice),
//! and measuring the text first, to allocate it at its size, cost more than the copy (about
//! 180 instructions a decision). Integers are written digit by digit rather than through
//! `core::fmt` (whose machinery cost more than the rest of a decision) or a digit buffer
//! appended at once (in wasm, a copy of unknown length is a `memory.copy` call into the host).

use crate::rfc3339::push_utc_ms;

/// Hand-written text appended to a `String` (the one place it is written: see
/// [`TextBuffer`]).
pub(crate) trait TextSink {
    /// Appends `text` as it is.
    fn text(&mut self, text: &str);

    /// Appends one ASCII character.
    fn ascii(&mut self, byte: u8);

    /// Appends the decimal digits of `value`.
    fn unsigned(&mut self, value: u64);

    /// Appends `unix_ms` as an RFC 3339 UTC time with milliseconds (always 24 characters).
    fn utc_ms(&mut self, unix_ms: u64);

    /// Appends `value` as a signed decimal integer.
    fn signed(&mut self, value: i64) {
        if value < 0 {
            self.ascii(b'-');
        }
        self.unsigned(value.unsigned_abs());
    }

    /// Appends `thousandths / 1000` as a JSON number with at most three decimals and no
    /// trailing zeros (`9100` is `9.1`, `10000` is `10`).
    fn thousandths(&mut self, thousandths: u64) {
        self.unsigned(thousandths / 1000);
        let mut fraction = thousandths % 1000;
        if fraction == 0 {
            return;
        }
        self.ascii(b'.');
        let mut divisor = 100;
        while fraction > 0 {
            self.ascii(b'0' + (fraction / divisor) as u8);
            fraction %= divisor;
            divisor /= 10;
        }
    }
}

impl TextSink for String {
    fn text(&mut self, text: &str) {
        self.push_str(text);
    }

    fn ascii(&mut self, byte: u8) {
        debug_assert!(byte.is_ascii());
        self.push(char::from(byte));
    }

    #[inline(always)]
    fn unsigned(&mut self, value: u64) {
        // Two digits at a time from a table, most significant first, each a one-byte push of
        // a value visibly below 0x80 (a digit buffer appended at once would be a copy of
        // unknown length). Inline below 100; 100 to 9 999 share one function (LLVM keeps it
        // out of line, and forcing it inline measured the same), and 10 000 and more another:
        // a call for every number cost 40-130 instructions a decision more.
        match value {
            0..10 => self.push(char::from(b'0' + value as u8)),
            10..100 => push_pair(self, value as usize),
            100..10_000 => push_up_to_four_digits(self, value as usize),
            _ => push_large(self, value),
        }
    }

    fn utc_ms(&mut self, unix_ms: u64) {
        push_utc_ms(self, unix_ms);
    }
}

/// Appends `value` (100 to 9 999): three or four digits.
fn push_up_to_four_digits(out: &mut String, value: usize) {
    let (high, low) = (value / 100, value % 100);
    if high < 10 {
        out.push(char::from(b'0' + high as u8));
    } else {
        push_pair(out, high);
    }
    push_pair(out, low);
}

/// Appends `value` (10 000 or more): the digits above the last four, then those four.
#[inline(never)]
fn push_large(out: &mut String, value: u64) {
    out.unsigned(value / 10_000);
    let low = (value % 10_000) as usize;
    push_pair(out, low / 100);
    push_pair(out, low % 100);
}

/// "00" to "99".
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Appends the two digits of `pair` (below 100).
fn push_pair(out: &mut String, pair: usize) {
    for &digit in DIGIT_PAIRS.get(2 * pair..2 * pair + 2).unwrap_or(b"00") {
        out.push(char::from(digit & 0x7f));
    }
}

/// Something written as text by hand.
pub(crate) trait WriteText {
    /// Appends the text to `sink`.
    fn write_text(&self, sink: &mut String);
}

/// A buffer for text written by hand, reused from call to call: it holds as much as the longest
/// text written into it, which the config bounds (the metadata's policy is the longest part).
#[derive(Debug, Clone, Default)]
pub(crate) struct TextBuffer(String);

impl TextBuffer {
    /// The text of `value`, in a string of exactly its size.
    pub(crate) fn text_of(&mut self, value: &impl WriteText) -> String {
        self.0.clear();
        value.write_text(&mut self.0);
        String::from(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text `$body` writes into a string.
    macro_rules! written {
        (|$sink:ident| $body:expr) => {{
            let mut text = String::new();
            {
                let $sink = &mut text;
                $body;
            }
            text
        }};
    }

    #[test]
    fn a_buffer_hands_out_text_of_exactly_its_size_and_is_reused() {
        struct Number(u64);
        impl WriteText for Number {
            fn write_text(&self, sink: &mut String) {
                sink.text("n=");
                sink.unsigned(self.0);
            }
        }
        let mut buffer = TextBuffer::default();
        for (value, expected) in [(123_456, "n=123456"), (7, "n=7")] {
            let text = buffer.text_of(&Number(value));
            assert_eq!(text, expected);
            assert_eq!(text.capacity(), text.len());
        }
        assert!(buffer.0.capacity() >= "n=123456".len(), "kept its capacity");
    }

    #[test]
    fn unsigned_matches_display_at_the_edges() {
        for value in [
            0,
            1,
            9,
            10,
            99,
            100,
            999,
            1000,
            9999,
            10_000,
            12345,
            99_999_999,
            100_000_000,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            9_999_999_999_999_999_999,
            10_000_000_000_000_000_000,
            u64::MAX,
        ] {
            assert_eq!(written!(|sink| sink.unsigned(value)), value.to_string());
        }
    }

    #[test]
    fn thousandths_trims_trailing_zeros() {
        for (value, text) in [
            (0, "0"),
            (10_000, "10"),
            (9_100, "9.1"),
            (1, "0.001"),
            (5_050, "5.05"),
        ] {
            assert_eq!(written!(|sink| sink.thousandths(value)), text);
        }
    }

    #[test]
    fn signed_handles_signs() {
        for value in [0, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(written!(|sink| sink.signed(value)), value.to_string());
        }
    }

    #[test]
    fn text_ascii_and_times_are_written() {
        let text = written!(|sink| {
            sink.text("{\"at\":\"é");
            sink.utc_ms(1_767_225_600_200);
            sink.ascii(b'"')
        });
        assert_eq!(text, "{\"at\":\"é2026-01-01T00:00:00.200Z\"");
    }
}
