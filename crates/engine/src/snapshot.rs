//! The plugin's state as a versioned, clock-independent value, so that a host can replace an
//! instance (an upgrade, a recovery after a trap) without forgetting open breakers, budgets,
//! request counters and statistics.
//!
//! Times are saved relative to the moment of the export (a failure's age, an open breaker's
//! remaining time) and re-anchored to the importing instance's clock, since two instances'
//! monotonic clocks need not share an origin. An import is bounded like the live state (the
//! same caps apply) and all-or-nothing: a snapshot that does not parse leaves the state as it
//! was.

use serde::{Deserialize, Serialize};

/// The snapshot format this engine writes and reads.
pub(crate) const SNAPSHOT_VERSION: u32 = 1;

/// Everything a plugin remembers between calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// [`SNAPSHOT_VERSION`].
    pub(crate) version: u32,
    /// Requests with failures, oldest first.
    #[serde(default)]
    pub(crate) requests: Vec<SavedRequest>,
    /// Circuit breakers.
    #[serde(default)]
    pub(crate) breakers: Vec<SavedBreaker>,
    /// Retry budgets.
    #[serde(default)]
    pub(crate) budgets: Vec<SavedBudget>,
    /// Statistics per tool, as the `stats` export reports them.
    #[serde(default)]
    pub(crate) stats: serde_json::Map<String, serde_json::Value>,
}

/// A request's consecutive failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedRequest {
    /// The tool.
    pub(crate) tool: String,
    /// The request id.
    pub(crate) request: String,
    /// Consecutive failures.
    pub(crate) failures: u32,
    /// How long ago the last one was, in ms.
    pub(crate) age_ms: u64,
}

/// One tool's breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedBreaker {
    /// The tool.
    pub(crate) tool: String,
    /// `closed`, `open` or `half_open`.
    pub(crate) state: String,
    /// For an open breaker: how long until it turns half-open, in ms.
    #[serde(default)]
    pub(crate) remaining_ms: u64,
    /// For a half-open breaker: its successes so far.
    #[serde(default)]
    pub(crate) successes: u32,
    /// Consecutive retryable failures.
    pub(crate) consecutive_failures: u32,
}

/// One tool's retry budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedBudget {
    /// The tool.
    pub(crate) tool: String,
    /// Tokens left, in thousandths.
    pub(crate) milli_tokens: u64,
}

impl Snapshot {
    /// Parses and checks a snapshot.
    ///
    /// # Errors
    /// Text that is not a snapshot, or one of another version.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let snapshot: Self =
            serde_json::from_str(text).map_err(|err| format!("not a state snapshot: {err}"))?;
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(format!(
                "state snapshot version {} is not supported (this component reads version {SNAPSHOT_VERSION})",
                snapshot.version
            ));
        }
        Ok(snapshot)
    }
}
