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

use std::rc::Rc;

use crate::config::{ClassSlot, EffectivePolicy, FlatConfig, NestedConfig};
use crate::error_text::{BuiltinClass, error_text_parts};
use crate::retry_after::RetryHint;
use crate::status::StatusSet;
use crate::tool_result::{ErrorProbe, StatusValue, ToolResultView};

/// The classify step, built from the config: which rules tell failures apart.
#[derive(Debug, Clone)]
pub(crate) enum Classifier {
    /// The flat schema: the ContextForge plugin's rules, per-tool `retry_on_status` and
    /// `check_text_content`.
    ContextForge(Rc<FlatConfig>),
    /// The nested schema: status codes, the built-in classes and error patterns, each class
    /// with its own policy layer.
    Layered(Rc<NestedConfig>),
}

/// What the classify step found: the outcome, why, and the policy that applies to it.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    /// Success, retryable or not.
    pub(crate) outcome: Classification,
    /// Why (reported by the nested schema's metadata).
    pub(crate) reason: Reason,
    /// The merged policy for the tool and the failure's class.
    pub(crate) policy: Rc<EffectivePolicy>,
    /// The server's hint of how long to wait, when a failure's `structuredContent` carries one
    /// (nested schema only).
    pub(crate) hint: Option<RetryHint>,
}

impl Classifier {
    /// Classifies `result` of `tool`.
    pub(crate) fn classify(&self, tool: &str, result: &(impl ToolResultView + ?Sized)) -> Verdict {
        match self {
            Self::ContextForge(flat) => {
                let rules = flat.rules_for(tool);
                let outcome =
                    classify_flat(result, rules.retry_on_status(), rules.check_text_content());
                let reason = match outcome {
                    Classification::Success => Reason::Success,
                    Classification::Retryable { status: Some(code) }
                    | Classification::NotRetryable { status: Some(code) } => Reason::Status(code),
                    _ => Reason::Error,
                };
                Verdict {
                    outcome,
                    reason,
                    policy: Rc::clone(rules.effective()),
                    hint: None,
                }
            }
            Self::Layered(nested) => classify_nested(result, nested, tool),
        }
    }
}

/// What a tool result means for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Classification {
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
pub(crate) fn classify_flat(
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

/// Why a result was classified as it was (reported in nested-schema metadata as `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// Not a failure.
    Success,
    /// A failure carrying this status code.
    Status(i64),
    /// A status-less failure in the built-in timeout class.
    Timeout,
    /// A status-less failure in the built-in connection class.
    Connection,
    /// A status-less failure matching an `error_patterns` entry.
    Pattern,
    /// Any other failure.
    Error,
}

impl Reason {
    /// The metadata text: `success`, `timeout`, `connection`, `pattern`, `error`, and `status`
    /// for [`Reason::Status`] (whose code the annotation appends as `status:503`).
    pub(crate) fn as_static_str(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Status(_) => "status",
            Self::Timeout => BuiltinClass::Timeout.as_str(),
            Self::Connection => BuiltinClass::Connection.as_str(),
            Self::Pattern => "pattern",
            Self::Error => "error",
        }
    }
}

/// Classifies `result` for `tool` under the nested schema.
///
/// A result is a failure when it has `isError: true` (top level or in `structuredContent`) or
/// a `structuredContent.status_code` in the tool's effective `retry_on_status`. A failure with
/// a status code is retryable when the code is in that list and not in `never_retry_status`.
/// One without: the built-in timeout and connection classes follow their switches; anything
/// else (a matching error pattern included) is retryable.
fn classify_nested(
    result: &(impl ToolResultView + ?Sized),
    config: &NestedConfig,
    tool_name: &str,
) -> Verdict {
    let tool = config.tool_slot(tool_name);
    let probe = result.structured_content().and_then(ErrorProbe::parse);
    let status = probe
        .as_ref()
        .and_then(|p| p.status)
        .and_then(|s| s.as_whole());
    let row = config.effective(tool, ClassSlot::NONE);
    let retry_on_status = row.retry_on_status();
    let failed = result.is_error() == Some(true)
        || probe.as_ref().is_some_and(|p| p.is_error)
        || status.is_some_and(|code| retry_on_status.contains(code));
    if !failed {
        return Verdict {
            outcome: Classification::Success,
            reason: Reason::Success,
            policy: row,
            hint: None,
        };
    }
    let hint = probe.as_ref().and_then(ErrorProbe::retry_hint);
    let verdict = |outcome, reason, class: ClassSlot| Verdict {
        outcome,
        reason,
        policy: if class == ClassSlot::NONE {
            Rc::clone(&row)
        } else {
            config.effective(tool, class)
        },
        hint,
    };
    let parts = || error_text_parts(result, probe.as_ref());
    if let Some(code) = status {
        // A status policy decides the class without reading the text.
        let class = config
            .status_slot(code)
            .or_else(|| config.scan_text(parts, false).1)
            .unwrap_or(ClassSlot::NONE);
        let retryable = retry_on_status.contains(code)
            && !config.conditions().never_retry_status.contains(code);
        let classification = if retryable {
            Classification::Retryable { status: Some(code) }
        } else {
            Classification::NotRetryable { status: Some(code) }
        };
        return verdict(classification, Reason::Status(code), class);
    }
    let (builtin, pattern) = config.scan_text(parts, true);
    let conditions = config.conditions();
    let (reason, retryable) = match builtin {
        Some(BuiltinClass::Timeout) => (Reason::Timeout, conditions.retry_on_timeout),
        Some(BuiltinClass::Connection) => {
            (Reason::Connection, conditions.retry_on_connection_error)
        }
        None if pattern.is_some() => (Reason::Pattern, true),
        None => (Reason::Error, true),
    };
    let outcome = if retryable {
        Classification::Retryable { status: None }
    } else {
        Classification::NotRetryable { status: None }
    };
    verdict(outcome, reason, pattern.unwrap_or(ClassSlot::NONE))
}

fn signals_failure(probe: &ErrorProbe, retry_on_status: &StatusSet) -> bool {
    probe.is_error
        || probe
            .status
            .and_then(|s| s.as_whole())
            .is_some_and(|code| retry_on_status.contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_RETRY_ON_STATUS;

    use crate::tool_result::OwnedToolResult as FakeResult;

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
        result.structured_content = Some(r#"{"ok": 1}"#.into());
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
