//! What per-tool admission state (breakers, retry budgets) learns from each call, and the bound
//! every per-tool map keeps.

use crate::text_key::TextMap;

/// How many tools' state a per-tool map keeps at most; past it the least recently used is
/// forgotten.
pub(crate) const MAX_TRACKED_TOOLS: usize = 10_000;

/// What happened to a tool, as its per-tool state sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolEvent {
    /// A success.
    Success,
    /// A failure that may be retried.
    RetryableFailure,
    /// A failure that must not be retried (e.g. a 404): neutral.
    NonRetryableFailure,
}

/// Makes room in a per-tool map that has reached [`MAX_TRACKED_TOOLS`] by dropping the entry
/// `last_used` says is oldest. Rare (only past that many distinct failing tools), so a scan.
pub(crate) fn make_room<V>(tools: &mut TextMap<Box<str>, V>, last_used: impl Fn(&V) -> u64) {
    if tools.len() < MAX_TRACKED_TOOLS {
        return;
    }
    if let Some(oldest) = tools
        .iter()
        .min_by_key(|(_, state)| last_used(state))
        .map(|(tool, _)| tool.clone())
    {
        tools.remove(&oldest);
    }
}
