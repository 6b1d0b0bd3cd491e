//! The retry budget: a token bucket per tool, as gRPC throttles retries.
//!
//! Tokens start at `max_tokens`. Each retryable failure of the tool takes one (not below 0),
//! each success gives back `token_ratio` (not above `max_tokens`), a non-retryable failure
//! changes nothing. A retry is granted only while the tokens left after the failure's
//! deduction are above half of `max_tokens`: a tool that fails more than it succeeds soon stops
//! being retried at all, whatever each request's own budget says.
//!
//! Tokens are kept in thousandths (as gRPC does), so `token_ratio` counts to three decimals
//! and the tokens reported in metadata never show binary rounding (`9.1`, not
//! `9.099999999999998`).

use crate::text_key::{Text, TextMap};
use serde::Serialize;

use crate::snapshot::SavedBudget;
use crate::tool_event::{ToolEvent, make_room};

/// Default `retry_budget.max_tokens`.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 10;
/// Default `retry_budget.token_ratio`.
pub(crate) const DEFAULT_TOKEN_RATIO: f64 = 0.1;
/// The largest `retry_budget.max_tokens` accepted.
pub(crate) const MAX_TOKENS_LIMIT: u32 = 1_000;
/// Thousandths of a token per token.
const MILLI: u64 = 1_000;

/// Retry budget settings. Serializes with the config's key names.
///
/// # Default
/// - `enabled`: true (the section being present)
/// - `max_tokens`: [`DEFAULT_MAX_TOKENS`]
/// - `token_ratio`: [`DEFAULT_TOKEN_RATIO`]
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct BudgetConfig {
    /// Whether the budget refuses anything (`enabled: false` keeps the section inert).
    pub(crate) enabled: bool,
    /// Tokens a tool starts with and can hold at most (1..=1000).
    pub(crate) max_tokens: u32,
    /// Tokens a success gives back, in (0, 1].
    pub(crate) token_ratio: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_tokens: DEFAULT_MAX_TOKENS,
            token_ratio: DEFAULT_TOKEN_RATIO,
        }
    }
}

impl BudgetConfig {
    fn max_milli(&self) -> u64 {
        u64::from(self.max_tokens) * MILLI
    }

    /// `token_ratio` in thousandths, at least one.
    fn ratio_milli(&self) -> u64 {
        ((self.token_ratio * MILLI as f64).round() as u64).max(1)
    }
}

/// The tokens of one tool after an event, and whether a retry may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BudgetAnswer {
    /// Tokens left, in thousandths.
    pub(crate) milli_tokens: u64,
    /// Whether tokens are above half of `max_tokens`.
    pub(crate) admitted: bool,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    milli_tokens: u64,
    last_used: u64,
}

/// The buckets of every tool seen failing, bounded to
/// [`MAX_TRACKED_TOOLS`](crate::tool_event::MAX_TRACKED_TOOLS) (a forgotten tool
/// starts full again).
#[derive(Debug, Clone)]
pub(crate) struct BudgetStore {
    /// A bucket's size, in thousandths of a token (from the config, worked out once).
    max_milli: u64,
    /// What a success gives back, in thousandths of a token (likewise).
    ratio_milli: u64,
    buckets: TextMap<Box<str>, Bucket>,
    /// A counter standing for recency: eviction drops the least recently used bucket.
    uses: u64,
}

impl BudgetStore {
    /// No bucket yet, under `config`.
    pub(crate) fn new(config: &BudgetConfig) -> Self {
        Self {
            max_milli: config.max_milli(),
            ratio_milli: config.ratio_milli(),
            buckets: TextMap::default(),
            uses: 0,
        }
    }

    /// Applies `event` to `tool`'s bucket. A success of a tool with a full bucket creates
    /// nothing.
    pub(crate) fn record(&mut self, tool: &str, event: ToolEvent) -> BudgetAnswer {
        self.uses += 1;
        let max = self.max_milli;
        let bucket = match self.buckets.get_mut(&Text(tool)) {
            Some(bucket) => bucket,
            None if event == ToolEvent::RetryableFailure => {
                make_room(&mut self.buckets, |bucket| bucket.last_used);
                self.buckets.entry(tool.into()).or_insert(Bucket {
                    milli_tokens: max,
                    last_used: 0,
                })
            }
            None => {
                return BudgetAnswer {
                    milli_tokens: max,
                    admitted: true,
                };
            }
        };
        bucket.last_used = self.uses;
        bucket.milli_tokens = match event {
            ToolEvent::Success => (bucket.milli_tokens + self.ratio_milli).min(max),
            ToolEvent::RetryableFailure => bucket.milli_tokens.saturating_sub(MILLI),
            ToolEvent::NonRetryableFailure => bucket.milli_tokens,
        };
        BudgetAnswer {
            milli_tokens: bucket.milli_tokens,
            admitted: bucket.milli_tokens * 2 > max,
        }
    }

    /// Every bucket, for a snapshot.
    pub(crate) fn save(&self) -> Vec<SavedBudget> {
        self.buckets
            .iter()
            .map(|(tool, bucket)| SavedBudget {
                tool: tool.to_string(),
                milli_tokens: bucket.milli_tokens,
            })
            .collect()
    }

    /// Puts back the buckets of a snapshot (tokens capped by the bucket size).
    pub(crate) fn restore(&mut self, saved: &[SavedBudget]) {
        for budget in saved {
            make_room(&mut self.buckets, |bucket| bucket.last_used);
            self.uses += 1;
            self.buckets.insert(
                budget.tool.as_str().into(),
                Bucket {
                    milli_tokens: budget.milli_tokens.min(self.max_milli),
                    last_used: self.uses,
                },
            );
        }
    }

    /// How many tools have a bucket.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ToolEvent::{NonRetryableFailure, RetryableFailure as Failure, Success};

    const CONFIG: BudgetConfig = BudgetConfig {
        enabled: true,
        max_tokens: 10,
        token_ratio: 0.1,
    };

    #[test]
    fn failures_spend_tokens_until_half_is_left() {
        let mut store = BudgetStore::new(&CONFIG);
        let answers: Vec<(u64, bool)> = (0..7)
            .map(|_| store.record("t", Failure))
            .map(|a| (a.milli_tokens, a.admitted))
            .collect();
        assert_eq!(
            answers,
            [
                (9_000, true),
                (8_000, true),
                (7_000, true),
                (6_000, true),
                (5_000, false),
                (4_000, false),
                (3_000, false)
            ]
        );
    }

    #[test]
    fn successes_refill_by_the_ratio_up_to_the_maximum() {
        let mut store = BudgetStore::new(&CONFIG);
        for _ in 0..5 {
            store.record("t", Failure);
        }
        let refilled = store.record("t", Success);
        assert_eq!(refilled.milli_tokens, 5_100);
        assert!(refilled.admitted);
        for _ in 0..100 {
            store.record("t", Success);
        }
        assert_eq!(store.record("t", Success).milli_tokens, 10_000);
    }

    #[test]
    fn tokens_never_go_below_zero_and_neutral_failures_change_nothing() {
        let mut store = BudgetStore::new(&CONFIG);
        for _ in 0..20 {
            store.record("t", Failure);
        }
        assert_eq!(store.record("t", Failure).milli_tokens, 0);
        assert_eq!(store.record("t", NonRetryableFailure).milli_tokens, 0);
    }

    #[test]
    fn tools_are_independent_and_successes_create_nothing() {
        let mut store = BudgetStore::new(&CONFIG);
        store.record("a", Success);
        assert_eq!(store.len(), 0);
        store.record("a", Failure);
        assert_eq!(store.record("b", Failure).milli_tokens, 9_000);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn small_ratios_still_refill() {
        let config = BudgetConfig {
            token_ratio: 0.0001,
            ..CONFIG
        };
        let mut store = BudgetStore::new(&config);
        store.record("t", Failure);
        assert_eq!(store.record("t", Success).milli_tokens, 9_001);
    }
}
