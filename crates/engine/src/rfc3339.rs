//! Formatting wall-clock times as RFC 3339 UTC with milliseconds (`2026-01-01T00:00:00.200Z`),
//! without a date-time dependency: the civil-from-days conversion is a few lines.

/// `unix_ms` (milliseconds since 1970-01-01T00:00:00Z) as `YYYY-MM-DDTHH:MM:SS.mmmZ`. Times past
/// year 9999 are clamped to 9999-12-31T23:59:59.999Z.
#[cfg(test)]
pub(crate) fn format_utc_ms(unix_ms: u64) -> String {
    let mut out = String::with_capacity(24);
    push_utc_ms(&mut out, unix_ms);
    out
}

/// Appends [`format_utc_ms`]`(unix_ms)` to `out`. The 24 characters are written into a buffer
/// and appended at once: this runs on every nested-schema retry.
pub(crate) fn push_utc_ms(out: &mut String, unix_ms: u64) {
    const MAX_MS: u64 = 253_402_300_799_999;
    let unix_ms = unix_ms.min(MAX_MS);
    let ms_of_day = unix_ms % 86_400_000;
    let (year, month, day) = civil_from_days(unix_ms / 86_400_000);
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let fields = [
        (0..4, year),
        (5..7, month),
        (8..10, day),
        (11..13, ms_of_day / 3_600_000),
        (14..16, ms_of_day / 60_000 % 60),
        (17..19, ms_of_day / 1000 % 60),
        (20..23, ms_of_day % 1000),
    ];
    for (range, mut value) in fields {
        for digit in text[range].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// (year, month, day) of the day `days` after 1970-01-01, in the proleptic Gregorian calendar.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_epoch_and_known_dates() {
        assert_eq!(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_ms(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
        assert_eq!(format_utc_ms(1_767_225_600_200), "2026-01-01T00:00:00.200Z");
        assert_eq!(format_utc_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_utc_ms(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
    }

    #[test]
    fn format_far_future_is_clamped() {
        assert_eq!(format_utc_ms(u64::MAX), "9999-12-31T23:59:59.999Z");
    }
}
