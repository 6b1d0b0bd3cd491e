//! Subset matching of metadata, as the conformance format defines it: every key given must be
//! present and equal, recursively; `null` asserts that a key is absent; lists are compared
//! whole and in order; numbers compare by value (1 == 1.0).

use serde_json::Value;

/// The first difference between `expected` (a subset) and `actual`, as `path: what`, or `None`
/// when `actual` matches.
pub fn subset_mismatch(expected: &Value, actual: &Value) -> Option<String> {
    mismatch_at("metadata", expected, actual)
}

fn mismatch_at(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(wanted), Value::Object(got)) => wanted.iter().find_map(|(key, value)| {
            let path = format!("{path}.{key}");
            match (value, got.get(key)) {
                (Value::Null, None) => None,
                (Value::Null, Some(present)) => {
                    Some(format!("{path}: expected absent, got {present}"))
                }
                (_, None) => Some(format!("{path}: expected {value}, but it is absent")),
                (_, Some(present)) => mismatch_at(&path, value, present),
            }
        }),
        _ if values_equal(expected, actual) => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// Whole equality with numbers compared by value.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| values_equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| values_equal(x, y)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_extra_keys_in_actual_match() {
        let actual = json!({"a": {"b": 1, "c": 2}, "d": 3});
        assert_eq!(subset_mismatch(&json!({"a": {"b": 1}}), &actual), None);
        assert_eq!(subset_mismatch(&json!({}), &actual), None);
    }

    #[test]
    fn subset_numbers_compare_by_value() {
        assert_eq!(subset_mismatch(&json!({"a": 1.0}), &json!({"a": 1})), None);
    }

    #[test]
    fn subset_null_asserts_absence() {
        assert_eq!(subset_mismatch(&json!({"a": null}), &json!({"b": 1})), None);
        assert_eq!(
            subset_mismatch(&json!({"a": null}), &json!({"a": 1})),
            Some("metadata.a: expected absent, got 1".into())
        );
    }

    #[test]
    fn subset_lists_compare_whole_and_in_order() {
        let actual = json!({"l": [1, 2, 3]});
        assert!(subset_mismatch(&json!({"l": [1, 2]}), &actual).is_some());
        assert!(subset_mismatch(&json!({"l": [3, 2, 1]}), &actual).is_some());
        assert_eq!(subset_mismatch(&json!({"l": [1, 2, 3.0]}), &actual), None);
    }

    #[test]
    fn subset_missing_key_is_reported_with_path() {
        assert_eq!(
            subset_mismatch(&json!({"a": {"b": 1}}), &json!({"a": {}})),
            Some("metadata.a.b: expected 1, but it is absent".into())
        );
    }
}
