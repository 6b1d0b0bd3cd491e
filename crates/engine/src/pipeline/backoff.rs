//! The backoff step: how long to wait before a retry the policy and the admission rules allow.
//!
//! The [`DelaySource`]s are asked in order; the first that answers decides, with a delay or a
//! refusal. The server's hint (when the config honours hints) comes first, the policy's curve
//! last: it always answers. To add a source: a type implementing [`DelaySource`], a field of
//! [`DelaySources`] (asked in field order), and a line in [`super::Pipeline::new`].

use super::Decision;
use super::classify::Verdict;
use crate::clock::{Clock, Rng};

/// Where a retry's delay came from (reported as `delay_source`, named in the annotate step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DelayKind {
    /// The policy's curve and jitter.
    Backoff,
    /// The server's hint.
    RetryAfter,
}

/// A source's answer: a delay, or the decision that refuses the retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delay {
    /// How long to wait, >= 1 ms.
    pub(crate) ms: u64,
    /// Where it came from.
    pub(crate) kind: DelayKind,
}

/// What one failure offers the delay sources.
pub(crate) struct DelayInput<'a> {
    /// What the classify step found (the policy, the server's hint).
    pub(crate) verdict: &'a Verdict,
    /// The request's failures so far, this one included (within the policy's budget).
    pub(crate) failures: u32,
    /// The wall clock, for hints given as dates.
    pub(crate) clock: &'a dyn Clock,
}

/// Everything a source may report beside its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DelayNotes {
    /// The server's hint, in ms, when one was read.
    pub(crate) retry_after_ms: Option<u64>,
}

/// A source of retry delays.
pub(crate) trait DelaySource: std::fmt::Debug {
    /// This source's answer for `input`, or `None` to leave it to the next source.
    fn delay(
        &self,
        input: &DelayInput<'_>,
        rng: &mut dyn Rng,
        notes: &mut DelayNotes,
    ) -> Option<Result<Delay, Decision>>;
}

/// The effective policy's curve (with its jitter): always answers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PolicyCurve;

impl DelaySource for PolicyCurve {
    fn delay(
        &self,
        input: &DelayInput<'_>,
        rng: &mut dyn Rng,
        _notes: &mut DelayNotes,
    ) -> Option<Result<Delay, Decision>> {
        let ms = input
            .verdict
            .policy
            .policy()
            .next_delay(input.failures, rng)?;
        Some(Ok(Delay {
            ms,
            kind: DelayKind::Backoff,
        }))
    }
}

/// The server's hint (`Retry-After` and its kin): the hint itself, at least 1 ms, without
/// jitter and not capped by `max_backoff_ms`; a hint above `max_retry_after_ms` refuses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerHint {
    /// `retry_conditions.max_retry_after_ms`.
    pub(crate) max_retry_after_ms: u64,
}

impl DelaySource for ServerHint {
    fn delay(
        &self,
        input: &DelayInput<'_>,
        _rng: &mut dyn Rng,
        notes: &mut DelayNotes,
    ) -> Option<Result<Delay, Decision>> {
        let hint_ms = input.verdict.hint?.wait_ms(|| input.clock.wall_ms());
        notes.retry_after_ms = Some(hint_ms);
        if hint_ms > self.max_retry_after_ms {
            return Some(Err(Decision::RetryAfterTooLong));
        }
        Some(Ok(Delay {
            ms: hint_ms.max(1),
            kind: DelayKind::RetryAfter,
        }))
    }
}

/// The backoff step's sources, in the order they are asked: the server's hint, when the config
/// honours hints, then the policy's curve, which always answers. Held as fields rather than a
/// list so that each source is called directly, with no loop or dispatch between them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DelaySources {
    /// The server's hint.
    pub(crate) server_hint: Option<ServerHint>,
    /// The policy's curve.
    pub(crate) policy_curve: PolicyCurve,
}

impl DelaySources {
    /// The first answer of the sources (the policy's curve always answers, so the give-up
    /// fallback is never taken).
    #[inline(always)]
    pub(crate) fn delay(
        &self,
        input: &DelayInput<'_>,
        rng: &mut dyn Rng,
        notes: &mut DelayNotes,
    ) -> Result<Delay, Decision> {
        self.server_hint
            .and_then(|source| source.delay(input, rng, notes))
            .or_else(|| self.policy_curve.delay(input, rng, notes))
            .unwrap_or(Err(Decision::GiveUp))
    }
}
