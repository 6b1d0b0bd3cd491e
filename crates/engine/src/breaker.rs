//! The circuit breaker: one explicit state machine per tool name.
//!
//! Admission answers "may this failure be retried now?", separately from classification and
//! backoff. Time only enters as `now_ms`; half-open is entered lazily when a call arrives after
//! the recovery timeout, so there are no timers.
//!
//! - closed: each retryable failure adds one to the tool's consecutive failures, a success
//!   resets them, a non-retryable failure changes nothing. Reaching `failure_threshold` opens
//!   the breaker, and that failure is not retried.
//! - open: every failure is refused until `recovery_timeout_ms` has passed since opening;
//!   failures are still counted but do not extend the break.
//! - half-open: a retryable failure opens it again; `half_open_max_calls` consecutive successes
//!   close it.

use crate::text_key::{Text, TextMap};

use crate::snapshot::SavedBreaker;
use crate::tool_event::{ToolEvent, make_room};

/// Default `circuit_breaker.enabled` when the section is present.
pub(crate) const DEFAULT_BREAKER_ENABLED: bool = true;
/// Default `circuit_breaker.failure_threshold`.
pub(crate) const DEFAULT_FAILURE_THRESHOLD: u32 = 5;
/// Default `circuit_breaker.recovery_timeout_ms`, in ms.
pub(crate) const DEFAULT_RECOVERY_TIMEOUT_MS: u64 = 30_000;
/// Default `circuit_breaker.half_open_max_calls`.
pub(crate) const DEFAULT_HALF_OPEN_MAX_CALLS: u32 = 3;

/// Breaker settings.
///
/// # Default
/// - `enabled`: [`DEFAULT_BREAKER_ENABLED`]
/// - `failure_threshold`: [`DEFAULT_FAILURE_THRESHOLD`]
/// - `recovery_timeout_ms`: [`DEFAULT_RECOVERY_TIMEOUT_MS`]
/// - `half_open_max_calls`: [`DEFAULT_HALF_OPEN_MAX_CALLS`]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct BreakerConfig {
    /// Whether breakers refuse anything at all.
    pub enabled: bool,
    /// Consecutive retryable failures that open a closed breaker (>= 1).
    pub failure_threshold: u32,
    /// How long an open breaker stays open, in ms.
    pub recovery_timeout_ms: u64,
    /// Consecutive successes that close a half-open breaker (>= 1).
    pub half_open_max_calls: u32,
}

impl BreakerConfig {
    /// The specification's example settings.
    pub(crate) const fn new() -> Self {
        Self {
            enabled: DEFAULT_BREAKER_ENABLED,
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            recovery_timeout_ms: DEFAULT_RECOVERY_TIMEOUT_MS,
            half_open_max_calls: DEFAULT_HALF_OPEN_MAX_CALLS,
        }
    }

    /// A breaker that never opens (the nested schema without a `circuit_breaker` section).
    pub(crate) const fn disabled() -> Self {
        let mut config = Self::new();
        config.enabled = false;
        config
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakerState {
    /// Failures are retried.
    Closed,
    /// Failures are refused until `until_ms`.
    Open {
        /// Monotonic ms at which it becomes half-open.
        until_ms: u64,
    },
    /// Probing: `successes` consecutive successes so far.
    HalfOpen {
        /// Consecutive successes since entering half-open.
        successes: u32,
    },
}

impl BreakerState {
    /// The stable name used in metadata: `closed`, `open` or `half_open`.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen { .. } => "half_open",
        }
    }
}

/// One tool's breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Breaker {
    state: BreakerState,
    consecutive_failures: u32,
    last_used_ms: u64,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            state: BreakerState::Closed,
            consecutive_failures: 0,
            last_used_ms: 0,
        }
    }
}

/// The breaker's answer to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The state before the event (after any lazy open -> half-open move).
    pub from: BreakerState,
    /// The state after it.
    pub to: BreakerState,
    /// Whether a failure may be retried (always true for successes).
    pub admitted: bool,
    /// Consecutive retryable failures of the tool after the event.
    pub consecutive_failures: u32,
}

impl Breaker {
    /// The state now.
    #[cfg(test)]
    pub(crate) fn state(&self) -> BreakerState {
        self.state
    }

    /// Applies `event` at `now_ms` under `config`. Every state change goes through here.
    pub(crate) fn transition(
        &mut self,
        event: ToolEvent,
        now_ms: u64,
        config: &BreakerConfig,
    ) -> Transition {
        self.last_used_ms = now_ms;
        if let BreakerState::Open { until_ms } = self.state
            && now_ms >= until_ms
        {
            self.state = BreakerState::HalfOpen { successes: 0 };
        }
        let from = self.state;
        let reopen = BreakerState::Open {
            until_ms: now_ms.saturating_add(config.recovery_timeout_ms),
        };
        let (to, admitted) = match (from, event) {
            (_, ToolEvent::NonRetryableFailure) => {
                (from, !matches!(from, BreakerState::Open { .. }))
            }
            (BreakerState::Closed, ToolEvent::Success) => {
                self.consecutive_failures = 0;
                (from, true)
            }
            (BreakerState::Closed, ToolEvent::RetryableFailure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                if config.enabled && self.consecutive_failures >= config.failure_threshold {
                    (reopen, false)
                } else {
                    (from, true)
                }
            }
            (BreakerState::Open { .. }, ToolEvent::Success) => (from, true),
            (BreakerState::Open { .. }, ToolEvent::RetryableFailure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                (from, false)
            }
            (BreakerState::HalfOpen { successes }, ToolEvent::Success) => {
                let successes = successes.saturating_add(1);
                if successes >= config.half_open_max_calls {
                    self.consecutive_failures = 0;
                    (BreakerState::Closed, true)
                } else {
                    (BreakerState::HalfOpen { successes }, true)
                }
            }
            (BreakerState::HalfOpen { .. }, ToolEvent::RetryableFailure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                (reopen, false)
            }
        };
        self.state = to;
        Transition {
            from,
            to,
            admitted,
            consecutive_failures: self.consecutive_failures,
        }
    }
}

/// The breakers of every tool seen failing, bounded to [`MAX_TRACKED_TOOLS`].
#[derive(Debug, Clone, Default)]
pub(crate) struct BreakerStore {
    breakers: TextMap<Box<str>, Breaker>,
}

impl BreakerStore {
    /// Applies `event` to `tool`'s breaker. A success of a tool with no breaker creates none.
    pub(crate) fn record(
        &mut self,
        tool: &str,
        event: ToolEvent,
        now_ms: u64,
        config: &BreakerConfig,
    ) -> Transition {
        if let Some(breaker) = self.breakers.get_mut(&Text(tool)) {
            return breaker.transition(event, now_ms, config);
        }
        let mut breaker = Breaker::default();
        let transition = breaker.transition(event, now_ms, config);
        if event == ToolEvent::RetryableFailure {
            make_room(&mut self.breakers, |breaker| breaker.last_used_ms);
            self.breakers.insert(tool.into(), breaker);
        }
        transition
    }

    /// Every breaker at `now_ms`, for a snapshot.
    pub(crate) fn save(&self, now_ms: u64) -> Vec<SavedBreaker> {
        self.breakers
            .iter()
            .map(|(tool, breaker)| {
                let (remaining_ms, successes) = match breaker.state {
                    BreakerState::Open { until_ms } => (until_ms.saturating_sub(now_ms), 0),
                    BreakerState::HalfOpen { successes } => (0, successes),
                    BreakerState::Closed => (0, 0),
                };
                SavedBreaker {
                    tool: tool.to_string(),
                    state: breaker.state.as_str().to_owned(),
                    remaining_ms,
                    successes,
                    consecutive_failures: breaker.consecutive_failures,
                }
            })
            .collect()
    }

    /// Puts back the breakers of a snapshot at `now_ms` (an unknown state is skipped).
    pub(crate) fn restore(&mut self, saved: &[SavedBreaker], now_ms: u64) {
        for breaker in saved {
            let state = match breaker.state.as_str() {
                "closed" => BreakerState::Closed,
                "open" => BreakerState::Open {
                    until_ms: now_ms.saturating_add(breaker.remaining_ms),
                },
                "half_open" => BreakerState::HalfOpen {
                    successes: breaker.successes,
                },
                _ => continue,
            };
            make_room(&mut self.breakers, |breaker| breaker.last_used_ms);
            self.breakers.insert(
                breaker.tool.as_str().into(),
                Breaker {
                    state,
                    consecutive_failures: breaker.consecutive_failures,
                    last_used_ms: now_ms,
                },
            );
        }
    }

    /// How many tools have a breaker.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.breakers.len()
    }

    /// Whether no tool has a breaker.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.breakers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ToolEvent::{NonRetryableFailure as NotRetryable, RetryableFailure as Failure, Success};

    const CONFIG: BreakerConfig = BreakerConfig {
        enabled: true,
        failure_threshold: 2,
        recovery_timeout_ms: 1000,
        half_open_max_calls: 2,
    };

    fn at(state: BreakerState, failures: u32) -> Breaker {
        Breaker {
            state,
            consecutive_failures: failures,
            last_used_ms: 0,
        }
    }

    const OPEN: BreakerState = BreakerState::Open { until_ms: 1000 };

    #[test]
    fn transition_table_covers_every_state_and_event() {
        use BreakerState::{Closed, HalfOpen};
        let reopened = BreakerState::Open { until_ms: 1500 };
        // (state, failures, event, now) -> (next state, admitted, failures after)
        let table = [
            (Closed, 0, Success, 500, Closed, true, 0),
            (Closed, 1, Success, 500, Closed, true, 0),
            (Closed, 0, Failure, 500, Closed, true, 1),
            (Closed, 1, Failure, 500, reopened, false, 2),
            (Closed, 1, NotRetryable, 500, Closed, true, 1),
            (OPEN, 2, Success, 500, OPEN, true, 2),
            (OPEN, 2, Failure, 500, OPEN, false, 3),
            (OPEN, 2, NotRetryable, 500, OPEN, false, 2),
            (
                OPEN,
                2,
                Failure,
                1000,
                BreakerState::Open { until_ms: 2000 },
                false,
                3,
            ),
            (OPEN, 2, Success, 1000, HalfOpen { successes: 1 }, true, 2),
            (
                HalfOpen { successes: 0 },
                2,
                Success,
                500,
                HalfOpen { successes: 1 },
                true,
                2,
            ),
            (HalfOpen { successes: 1 }, 2, Success, 500, Closed, true, 0),
            (
                HalfOpen { successes: 1 },
                2,
                Failure,
                500,
                reopened,
                false,
                3,
            ),
            (
                HalfOpen { successes: 1 },
                2,
                NotRetryable,
                500,
                HalfOpen { successes: 1 },
                true,
                2,
            ),
        ];
        for (state, failures, event, now, next, admitted, after) in table {
            let mut breaker = at(state, failures);
            let transition = breaker.transition(event, now, &CONFIG);
            let case = format!("{state:?} + {event:?} at {now}");
            assert_eq!(transition.to, next, "{case}");
            assert_eq!(transition.admitted, admitted, "{case}");
            assert_eq!(transition.consecutive_failures, after, "{case}");
        }
    }

    #[test]
    fn flow_closed_open_half_open_open_half_open_closed() {
        let mut breaker = Breaker::default();
        let mut names = Vec::new();
        let mut step = |event, now| names.push(breaker.transition(event, now, &CONFIG).to.as_str());
        step(Failure, 0);
        step(Failure, 10);
        step(Failure, 500);
        step(Success, 1010);
        step(Failure, 1020);
        step(Success, 2020);
        step(Success, 2030);
        assert_eq!(
            names,
            [
                "closed",
                "open",
                "open",
                "half_open",
                "open",
                "half_open",
                "closed"
            ]
        );
    }

    #[test]
    fn failures_while_open_do_not_extend_the_break() {
        let mut breaker = at(OPEN, 2);
        breaker.transition(Failure, 900, &CONFIG);
        assert_eq!(breaker.state(), OPEN);
    }

    #[test]
    fn disabled_breaker_never_opens() {
        let mut breaker = Breaker::default();
        for now in 0..100 {
            assert!(
                breaker
                    .transition(Failure, now, &BreakerConfig::disabled())
                    .admitted
            );
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn store_keeps_tools_independent_and_success_creates_nothing() {
        let mut store = BreakerStore::default();
        store.record("a", Success, 0, &CONFIG);
        assert!(store.is_empty());
        store.record("a", Failure, 0, &CONFIG);
        let opened = store.record("a", Failure, 1, &CONFIG);
        assert!(!opened.admitted);
        assert!(store.record("b", Failure, 2, &CONFIG).admitted);
        assert_eq!(store.len(), 2);
    }
}
