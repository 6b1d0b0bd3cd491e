//! Classification: is this tool result a failure, and may it be retried?
//!
//! The rules are the ContextForge plugin's, in its order (see `reference-behaviour.md`):
//! 1. top-level `isError: true` is a failure, unless `structuredContent.status_code` is an
//!    integer outside `retry_on_status` (then it is not retryable);
//! 2. `structuredContent.isError: true`, or a `structuredContent.status_code` in
//!    `retry_on_status`, is a failure (a top-level `status_code` is ignored);
//! 3. only with `check_text_content` and no `structuredContent`: a text item whose text is a
//!    JSON object with `isError: true` or a retryable `status_code` is a failure.
//!
//! Everything else is a success.

use crate::status::StatusSet;
use crate::tool_result::{ErrorProbe, StatusValue, ToolResultView};

/// What a tool result means for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// Not a failure.
    Success,
    /// A failure the policy may retry.
    Retryable {
        /// The status code the result carried, if any.
        status: Option<i64>,
    },
    /// A failure that must not be retried (its status code says so).
    NotRetryable {
        /// The status code that made it so.
        status: Option<i64>,
    },
}

/// Classifies `result` by the flat schema's rules.
pub fn classify_flat(
    result: &(impl ToolResultView + ?Sized),
    retry_on_status: &StatusSet,
    check_text_content: bool,
) -> Classification {
    let structured = result.structured_content();
    let probe = structured.and_then(ErrorProbe::parse);
    let status = probe.as_ref().and_then(|p| p.status);
    let whole_status = status.and_then(|s| s.as_whole());

    if result.is_error() == Some(true) {
        return match status {
            Some(StatusValue::Integer(code)) if !retry_on_status.contains(code) => {
                Classification::NotRetryable { status: Some(code) }
            }
            _ => Classification::Retryable {
                status: whole_status,
            },
        };
    }
    if let Some(probe) = &probe
        && signals_failure(probe, retry_on_status)
    {
        return Classification::Retryable {
            status: whole_status,
        };
    }
    if check_text_content && structured.is_none_or(|text| text.trim() == "null") {
        for text in result.text_items() {
            if let Some(probe) = ErrorProbe::parse(text)
                && signals_failure(&probe, retry_on_status)
            {
                return Classification::Retryable {
                    status: probe.status.and_then(|s| s.as_whole()),
                };
            }
        }
    }
    Classification::Success
}

fn signals_failure(probe: &ErrorProbe, retry_on_status: &StatusSet) -> bool {
    probe.is_error
        || probe
            .status
            .and_then(|s| s.as_whole())
            .is_some_and(|code| retry_on_status.contains(code))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::DEFAULT_RETRY_ON_STATUS;

    /// A tool result for tests.
    #[derive(Debug, Default, Clone)]
    pub(crate) struct FakeResult {
        pub(crate) is_error: Option<bool>,
        pub(crate) structured: Option<String>,
        pub(crate) texts: Vec<String>,
    }

    impl FakeResult {
        pub(crate) fn error() -> Self {
            Self {
                is_error: Some(true),
                ..Self::default()
            }
        }
        pub(crate) fn structured(json: &str) -> Self {
            Self {
                structured: Some(json.to_owned()),
                ..Self::default()
            }
        }
        pub(crate) fn text(text: &str) -> Self {
            Self {
                texts: vec![text.to_owned()],
                ..Self::default()
            }
        }
        pub(crate) fn with_error(mut self) -> Self {
            self.is_error = Some(true);
            self
        }
    }

    impl ToolResultView for FakeResult {
        fn is_error(&self) -> Option<bool> {
            self.is_error
        }
        fn structured_content(&self) -> Option<&str> {
            self.structured.as_deref()
        }
        fn text_items(&self) -> impl Iterator<Item = &str> {
            self.texts.iter().map(String::as_str)
        }
    }

    fn classify(result: &FakeResult, check_text: bool) -> Classification {
        classify_flat(
            result,
            &StatusSet::from_codes(&DEFAULT_RETRY_ON_STATUS),
            check_text,
        )
    }

    const RETRYABLE: Classification = Classification::Retryable { status: None };

    #[test]
    fn classify_is_error_true_is_retryable() {
        assert_eq!(classify(&FakeResult::error(), false), RETRYABLE);
    }

    #[test]
    fn classify_is_error_with_non_retryable_status_is_not_retryable() {
        let result = FakeResult::structured(r#"{"status_code": 404}"#).with_error();
        assert_eq!(
            classify(&result, false),
            Classification::NotRetryable { status: Some(404) }
        );
    }

    #[test]
    fn classify_is_error_with_retryable_status_is_retryable() {
        let result = FakeResult::structured(r#"{"status_code": 503}"#).with_error();
        assert_eq!(
            classify(&result, false),
            Classification::Retryable { status: Some(503) }
        );
    }

    #[test]
    fn classify_is_error_with_float_status_stays_retryable() {
        let result = FakeResult::structured(r#"{"status_code": 404.0}"#).with_error();
        assert_eq!(
            classify(&result, false),
            Classification::Retryable { status: Some(404) }
        );
    }

    #[test]
    fn classify_structured_is_error_is_retryable() {
        let result = FakeResult::structured(r#"{"isError": true, "status_code": 404}"#);
        assert_eq!(
            classify(&result, false),
            Classification::Retryable { status: Some(404) }
        );
    }

    #[test]
    fn classify_structured_retryable_status_without_is_error_is_retryable() {
        let result = FakeResult::structured(r#"{"status_code": 503}"#);
        assert_eq!(
            classify(&result, false),
            Classification::Retryable { status: Some(503) }
        );
    }

    #[test]
    fn classify_structured_other_status_is_success() {
        assert_eq!(
            classify(&FakeResult::structured(r#"{"status_code": 404}"#), false),
            Classification::Success
        );
        assert_eq!(
            classify(&FakeResult::structured(r#"{"status_code": "503"}"#), false),
            Classification::Success
        );
    }

    #[test]
    fn classify_string_is_error_is_success() {
        assert_eq!(
            classify(&FakeResult::structured(r#"{"isError": "true"}"#), false),
            Classification::Success
        );
    }

    #[test]
    fn classify_text_json_needs_check_text_content() {
        let result = FakeResult::text(r#"{"status_code": 503}"#);
        assert_eq!(classify(&result, false), Classification::Success);
        assert_eq!(
            classify(&result, true),
            Classification::Retryable { status: Some(503) }
        );
        assert_eq!(
            classify(&FakeResult::text(r#"{"isError": true}"#), true),
            RETRYABLE
        );
    }

    #[test]
    fn classify_text_json_ignored_when_structured_present() {
        let mut result = FakeResult::text(r#"{"status_code": 503}"#);
        result.structured = Some(r#"{"ok": 1}"#.into());
        assert_eq!(classify(&result, true), Classification::Success);
    }

    #[test]
    fn classify_text_non_object_json_is_success() {
        assert_eq!(
            classify(&FakeResult::text("[503]"), true),
            Classification::Success
        );
        assert_eq!(
            classify(&FakeResult::text("upstream 503"), true),
            Classification::Success
        );
    }

    #[test]
    fn classify_empty_result_is_success() {
        assert_eq!(
            classify(&FakeResult::default(), true),
            Classification::Success
        );
    }
}
