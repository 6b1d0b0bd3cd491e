//! Writing JSON text by hand on hot paths: integers through `itoa` (already linked by
//! serde_json) rather than `core::fmt`, whose machinery cost more than everything else in a
//! decision (measured with callgrind).

/// Appends the decimal digits of `value`.
pub(crate) fn push_u64(out: &mut String, value: u64) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// Appends `value` as a signed decimal integer.
pub(crate) fn push_i64(out: &mut String, value: i64) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// Appends `thousandths / 1000` as a JSON number with at most three decimals and no trailing
/// zeros (`9100` is `9.1`, `10000` is `10`).
pub(crate) fn push_thousandths(out: &mut String, thousandths: u64) {
    push_u64(out, thousandths / 1000);
    let mut fraction = thousandths % 1000;
    if fraction == 0 {
        return;
    }
    out.push('.');
    let mut divisor = 100;
    while fraction > 0 {
        out.push(char::from(b'0' + (fraction / divisor) as u8));
        fraction %= divisor;
        divisor /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_u64_matches_display_at_the_edges() {
        for value in [0, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    #[test]
    fn push_thousandths_trims_trailing_zeros() {
        for (value, text) in [
            (0, "0"),
            (10_000, "10"),
            (9_100, "9.1"),
            (1, "0.001"),
            (5_050, "5.05"),
        ] {
            let mut out = String::new();
            push_thousandths(&mut out, value);
            assert_eq!(out, text);
        }
    }

    #[test]
    fn push_i64_handles_signs() {
        for value in [0, -1, 42, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_i64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }
}
