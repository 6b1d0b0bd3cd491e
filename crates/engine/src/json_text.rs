//! Writing JSON text by hand on hot paths: integers without `core::fmt`, whose machinery cost
//! more than everything else in a decision (measured with callgrind).

/// The decimal digits of `value`, right-aligned in a stack buffer, and where they start.
fn digits(mut value: u64) -> ([u8; 20], usize) {
    let mut buffer = [b'0'; 20];
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return (buffer, start);
        }
    }
}

/// Appends the decimal digits of `value`.
pub(crate) fn push_u64(out: &mut String, value: u64) {
    let (buffer, start) = digits(value);
    push_ascii_digits(out, &buffer[start..]);
}

fn push_ascii_digits(out: &mut String, digits: &[u8]) {
    for &digit in digits {
        out.push(char::from(digit));
    }
}

/// Appends `value` as a signed decimal integer.
pub(crate) fn push_i64(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    push_u64(out, value.unsigned_abs());
}

/// Appends `value` zero-padded to `width` digits (at most 20; for dates and times).
pub(crate) fn push_padded(out: &mut String, value: u64, width: usize) {
    let (buffer, start) = digits(value);
    let start = start.min(buffer.len().saturating_sub(width));
    push_ascii_digits(out, &buffer[start..]);
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
    fn push_i64_handles_signs() {
        for value in [0, -1, 42, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_i64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    #[test]
    fn push_padded_pads_and_never_truncates() {
        let mut out = String::new();
        push_padded(&mut out, 7, 3);
        push_padded(&mut out, 12345, 2);
        assert_eq!(out, "00712345");
    }
}
