//! Limits on the state the plugin keeps, valid in either schema (they are this component's
//! additions; the ContextForge plugin hard-codes a 300 s TTL and has no cap).

use serde_json::{Map, Value};

use super::key_path::KeyPath;
use super::read::{Errors, section};
use crate::state::{DEFAULT_MAX_TRACKED_REQUESTS, DEFAULT_REQUEST_TTL_MS};

section!(
    /// The keys of the limits, accepted beside either schema's keys.
    struct LimitKeys { max_tracked_requests, request_ttl_ms }
);

/// The largest `max_tracked_requests` accepted.
pub(super) const MAX_TRACKED_REQUESTS_LIMIT: u64 = 10_000_000;

/// How much per-request state is kept.
///
/// # Default
/// - `max_tracked_requests`: [`DEFAULT_MAX_TRACKED_REQUESTS`]
/// - `request_ttl_ms`: [`DEFAULT_REQUEST_TTL_MS`]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateLimits {
    /// (tool, request) pairs tracked at most; past it the least recently failed is evicted.
    pub max_tracked_requests: usize,
    /// How long a pair is remembered after its last failure, in ms.
    pub request_ttl_ms: u64,
}

impl Default for StateLimits {
    fn default() -> Self {
        Self {
            max_tracked_requests: DEFAULT_MAX_TRACKED_REQUESTS,
            request_ttl_ms: DEFAULT_REQUEST_TTL_MS,
        }
    }
}

impl StateLimits {
    /// Reads the limit keys of the top-level `map`.
    pub(crate) fn read(map: &Map<String, Value>, errors: &mut Errors) -> Self {
        let keys = LimitKeys::of(map, &KeyPath::root());
        let mut limits = Self::default();
        let cap_limit = Some(i128::from(MAX_TRACKED_REQUESTS_LIMIT));
        if let Some(cap) = keys
            .max_tracked_requests
            .and_then(|f| f.integer_in(errors, 1, cap_limit))
        {
            limits.max_tracked_requests = usize::try_from(cap).unwrap_or(usize::MAX);
        }
        if let Some(ttl) = keys
            .request_ttl_ms
            .and_then(|f| f.integer_in(errors, 1, None))
        {
            limits.request_ttl_ms = ttl;
        }
        limits
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::PluginConfig;
    use crate::error::ConfigErrors;

    #[test]
    fn limits_are_accepted_beside_either_schema() {
        let flat = PluginConfig::from_value(
            &json!({"max_retries": 1, "max_tracked_requests": 5, "request_ttl_ms": 1000}),
        )
        .unwrap();
        assert_eq!(flat.limits().max_tracked_requests, 5);
        let nested =
            PluginConfig::from_value(&json!({"default_policy": {}, "request_ttl_ms": 10})).unwrap();
        assert_eq!(nested.limits().request_ttl_ms, 10);
    }

    #[test]
    fn limits_out_of_range_are_rejected() {
        let Err(ConfigErrors::Invalid(errors)) =
            PluginConfig::from_value(&json!({"max_tracked_requests": 0}))
        else {
            panic!()
        };
        assert_eq!(
            errors[0].message,
            "max_tracked_requests must be > 0, but was 0"
        );
    }
}
