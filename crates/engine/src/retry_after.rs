//! Server hints: how long the server asked the caller to wait, as a failed tool result may
//! carry it in `structuredContent`.
//!
//! The probe of `structuredContent` reads each field as it goes (see
//! [`crate::tool_result::ErrorProbe`]); the first well-formed hint wins, in this order: `retry_after_ms` (whole milliseconds >= 0);
//! `retry_after` (seconds >= 0, as a number or a numeric string, or an HTTP-date); `headers`
//! with a case-insensitive `retry-after-ms` or `retry-after` key (the same forms). A malformed
//! hint is skipped, as HTTP clients skip a malformed `Retry-After`.

use serde_json::{Map, Value};

use crate::json_scalar::JsonScalar;

/// A server's hint, as read from the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryHint {
    /// Wait this many milliseconds.
    Millis(u64),
    /// Wait until this wall-clock time (Unix ms), from an HTTP-date.
    Until(u64),
}

impl RetryHint {
    /// The wait in ms, `now_wall_ms` giving the wall-clock time (asked only for a date; a date
    /// in the past is no wait).
    pub(crate) fn wait_ms(self, now_wall_ms: impl FnOnce() -> u64) -> u64 {
        match self {
            Self::Millis(ms) => ms,
            Self::Until(at_ms) => at_ms.saturating_sub(now_wall_ms()),
        }
    }
}

/// The hint of a `headers` object: its case-insensitive `retry-after-ms`, else `retry-after`.
pub(crate) fn header_hint(headers: &Value) -> Option<RetryHint> {
    let headers = headers.as_object()?;
    let header = |name: &str| header_value(headers, name).map(JsonScalar::from);
    header("retry-after-ms")
        .and_then(|value| millis(&value))
        .or_else(|| header("retry-after").and_then(|value| seconds_or_date(&value)))
}

/// The value of header `name` (matched ASCII case-insensitively).
fn header_value<'v>(headers: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Whole milliseconds >= 0, as a JSON number or a string of digits.
///
/// The usual hint, a plain integer, is taken inline; [`millis_of_any_form`] reads every form,
/// out of line.
#[inline(always)]
pub(crate) fn millis(value: &JsonScalar) -> Option<RetryHint> {
    match value {
        JsonScalar::Unsigned(ms) => Some(RetryHint::Millis(*ms)),
        other => millis_of_any_form(other),
    }
}

/// [`millis`], for any form of the value.
#[inline(never)]
fn millis_of_any_form(value: &JsonScalar) -> Option<RetryHint> {
    let ms = match value {
        JsonScalar::Unsigned(ms) => *ms,
        JsonScalar::Number(ms) if ms.fract() == 0.0 && (0.0..1e15).contains(ms) => *ms as u64,
        JsonScalar::Text(text) => digits(text.trim())?,
        _ => return None,
    };
    Some(RetryHint::Millis(ms))
}

/// Seconds >= 0 (a JSON number or a numeric string, fractions allowed, rounded up to whole
/// ms), or an HTTP-date.
pub(crate) fn seconds_or_date(value: &JsonScalar) -> Option<RetryHint> {
    let seconds = match value {
        JsonScalar::Unsigned(seconds) => *seconds as f64,
        JsonScalar::Signed(seconds) => *seconds as f64,
        JsonScalar::Number(seconds) => *seconds,
        JsonScalar::Text(text) => {
            let text = text.trim();
            if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                text.parse().ok()?
            } else {
                return parse_http_date(text).map(RetryHint::Until);
            }
        }
        JsonScalar::Bool(_) | JsonScalar::Other => return None,
    };
    (seconds.is_finite() && (0.0..1e12).contains(&seconds))
        .then(|| RetryHint::Millis((seconds * 1000.0).ceil() as u64))
}

/// A non-empty string of ASCII digits, as a number.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP-date (RFC 9110 section 5.6.7) as Unix ms: the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms recipients must accept,
/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub(crate) fn parse_http_date(text: &str) -> Option<u64> {
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let (day, month, year, time) = match fields.as_slice() {
        [weekday, day, month, year, time, "GMT"] if weekday.ends_with(',') => {
            (*day, *month, year.parse::<u64>().ok()?, *time)
        }
        [weekday, date, time, "GMT"] if weekday.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            // Two-digit years: 70-99 are 1970-1999, the rest 2000-2069.
            let year: u64 = year.parse().ok()?;
            (
                day,
                month,
                if year >= 70 { 1900 } else { 2000 } + year,
                *time,
            )
        }
        [_, month, day, time, year] => (*day, *month, year.parse::<u64>().ok()?, *time),
        _ => return None,
    };
    let month = MONTHS.iter().position(|name| *name == month)? as u64 + 1;
    let day: u64 = day.parse().ok()?;
    let mut clock = time.split(':').map(str::parse::<u64>);
    let (hour, minute, second) = (
        clock.next()?.ok()?,
        clock.next()?.ok()?,
        clock.next()?.ok()?,
    );
    if clock.next().is_some()
        || !(1970..=9999).contains(&year)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second.min(59) * 1000)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian, year >= 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    // Count from 0000-03-01 so that leap days fall at the end of each 400-year era.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year % 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NEW_YEAR_2026_MS: u64 = 1_767_225_600_000;

    #[test]
    fn http_dates_in_all_three_forms() {
        let at = NEW_YEAR_2026_MS + 10_000;
        assert_eq!(parse_http_date("Thu, 01 Jan 2026 00:00:10 GMT"), Some(at));
        assert_eq!(
            parse_http_date("Thursday, 01-Jan-26 00:00:10 GMT"),
            Some(at)
        );
        assert_eq!(parse_http_date("Thu Jan  1 00:00:10 2026"), Some(at));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT").map(|_| ()),
            Some(())
        );
    }

    #[test]
    fn malformed_dates_are_refused() {
        for text in [
            "",
            "soon",
            "Thu, 01 Jan 2026 00:00:10 UTC",
            "Thu, 32 Jan 2026 00:00:10 GMT",
            "Thu, 29 Feb 2025 00:00:10 GMT",
            "Thu, 01 Foo 2026 00:00:10 GMT",
            "Thu, 01 Jan 2026 24:00:00 GMT",
            "Thu, 01 Jan 2026 00:00 GMT",
        ] {
            assert_eq!(parse_http_date(text), None, "{text}");
        }
    }

    fn first(fields: [Option<RetryHint>; 3]) -> Option<RetryHint> {
        fields.into_iter().flatten().next()
    }

    #[test]
    fn first_well_formed_hint_wins() {
        let headers = json!({"Retry-After": "4", "retry-after-ms": "750"});
        let (minus_five, two) = (json!(-5), json!("2"));
        assert_eq!(
            first([
                millis(&JsonScalar::from(&minus_five)),
                seconds_or_date(&JsonScalar::from(&two)),
                header_hint(&headers)
            ]),
            Some(RetryHint::Millis(2000))
        );
        assert_eq!(header_hint(&headers), Some(RetryHint::Millis(750)));
        assert_eq!(
            header_hint(&json!({"RETRY-AFTER": 1.5})),
            Some(RetryHint::Millis(1500))
        );
        assert_eq!(millis(&JsonScalar::from(&json!(2.5))), None);
        assert_eq!(header_hint(&json!("x")), None);
    }

    #[test]
    fn dates_wait_until_then_and_never_negative() {
        let date = JsonScalar::Text("Thu, 01 Jan 2026 00:00:10 GMT".into());
        let hint = seconds_or_date(&date).unwrap();
        assert_eq!(hint.wait_ms(|| NEW_YEAR_2026_MS), 10_000);
        assert_eq!(hint.wait_ms(|| NEW_YEAR_2026_MS + 60_000), 0);
    }
}
