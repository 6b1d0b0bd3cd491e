//! Writing text by hand on hot paths (the metadata's JSON, the give-up warning), into a string
//! of exactly the text's size.
//!
//! # Why a sink, measured then written
//! The metadata is written twice through the same code: once into a [`Measure`] that only
//! counts bytes, then into a `String` of exactly that capacity. A string with spare capacity
//! costs a `realloc` when the component returns it (the WIT lowering shrinks it to a boxed
//! slice), which was dearer than counting. Integers are written digit by digit rather than
//! through `core::fmt` (whose machinery cost more than the rest of a decision) or a digit
//! buffer appended at once (in wasm, a copy of unknown length is a `memory.copy` call into the
//! host).

use crate::rfc3339::push_utc_ms;

/// Where hand-written text goes.
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

/// A sink that counts the bytes written to it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Measure(pub usize);

/// 10, 100, ... 10^19: a number has one digit more than the powers it reaches.
const POWERS_OF_TEN: [u64; 19] = {
    let mut powers = [0; 19];
    let mut index = 0;
    let mut power: u64 = 10;
    while index < 19 {
        powers[index] = power;
        power = power.wrapping_mul(10);
        index += 1;
    }
    powers
};

impl TextSink for Measure {
    fn text(&mut self, text: &str) {
        self.0 += text.len();
    }

    fn ascii(&mut self, _byte: u8) {
        self.0 += 1;
    }

    fn unsigned(&mut self, value: u64) {
        self.0 += 1 + POWERS_OF_TEN
            .iter()
            .take_while(|&&power| value >= power)
            .count();
    }

    fn utc_ms(&mut self, _unix_ms: u64) {
        self.0 += 24;
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

    fn unsigned(&mut self, value: u64) {
        // Two digits at a time from a table, most significant first, each a one-byte push of
        // a value visibly below 0x80 (a digit buffer appended at once would be a copy of
        // unknown length).
        match value {
            0..10 => self.push(char::from(b'0' + value as u8)),
            10..100 => push_pair(self, value as usize),
            100..10_000 => {
                let (high, low) = ((value / 100) as usize, (value % 100) as usize);
                if high < 10 {
                    self.push(char::from(b'0' + high as u8));
                } else {
                    push_pair(self, high);
                }
                push_pair(self, low);
            }
            _ => {
                self.unsigned(value / 10_000);
                let low = (value % 10_000) as usize;
                push_pair(self, low / 100);
                push_pair(self, low % 100);
            }
        }
    }

    fn utc_ms(&mut self, unix_ms: u64) {
        push_utc_ms(self, unix_ms);
    }
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
    /// Writes the text into `sink` (the same text whatever the sink).
    fn write_text<S: TextSink>(&self, sink: &mut S);
}

/// The text of `value`, in a string of exactly its size.
pub(crate) fn exact_text(value: &impl WriteText) -> String {
    let mut measure = Measure::default();
    value.write_text(&mut measure);
    let mut out = String::with_capacity(measure.0);
    value.write_text(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the writing `$body` on a [`Measure`] and then on a string of that size.
    macro_rules! both {
        (|$sink:ident| $body:expr) => {{
            let mut measure = Measure::default();
            {
                let $sink = &mut measure;
                $body;
            }
            let mut text = String::with_capacity(measure.0);
            {
                let $sink = &mut text;
                $body;
            }
            assert_eq!(text.capacity(), text.len(), "{text}");
            text
        }};
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
            assert_eq!(both!(|sink| sink.unsigned(value)), value.to_string());
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
            assert_eq!(both!(|sink| sink.thousandths(value)), text);
        }
    }

    #[test]
    fn signed_handles_signs() {
        for value in [0, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(both!(|sink| sink.signed(value)), value.to_string());
        }
    }

    #[test]
    fn text_ascii_and_times_are_measured_exactly() {
        let text = both!(|sink| {
            sink.text("{\"at\":\"é");
            sink.utc_ms(1_767_225_600_200);
            sink.ascii(b'"')
        });
        assert_eq!(text, "{\"at\":\"é2026-01-01T00:00:00.200Z\"");
    }
}
