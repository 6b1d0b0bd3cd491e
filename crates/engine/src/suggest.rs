//! "Did you mean" for misspelt configuration keys.
//!
//! Operators write keys by hand (`maxRetries`, `backof_base_ms`); naming the closest known key
//! turns a silent misconfiguration into a one-line fix.

/// The known key closest to `unknown`, if one is close enough to be a plausible typo.
///
/// Keys are compared case- and separator-insensitively first (`maxRetries` ~ `max_retries`),
/// then by edit distance, allowing about one edit per three characters.
pub(crate) fn closest_key<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let wanted = normalise(unknown);
    let mut best: Option<(usize, &'a str)> = None;
    for &candidate in known {
        let distance = strsim::levenshtein(&wanted, &normalise(candidate));
        if best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    let limit = wanted.chars().count().div_ceil(3).max(1);
    best.filter(|&(distance, _)| distance <= limit)
        .map(|(_, key)| key)
}

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["max_retries", "backoff_base_ms", "max_backoff_ms", "jitter"];

    #[test]
    fn closest_key_camel_case_suggests_snake_case() {
        assert_eq!(closest_key("maxRetries", KEYS), Some("max_retries"));
    }

    #[test]
    fn closest_key_one_typo_suggests_key() {
        assert_eq!(closest_key("backof_base_ms", KEYS), Some("backoff_base_ms"));
        assert_eq!(closest_key("jiter", KEYS), Some("jitter"));
    }

    #[test]
    fn closest_key_unrelated_word_suggests_nothing() {
        assert_eq!(closest_key("bogus", KEYS), None);
    }
}
