//! The effective retry policy for one failure: how many retries it allows and how long each
//! waits. Produced by the configuration layer, already validated.

use crate::backoff::Backoff;
use crate::clock::Rng;
use crate::jitter::Jitter;

/// The largest `max_retries` any configuration may set.
pub(crate) const MAX_RETRIES_LIMIT: u32 = 10;

/// A validated retry policy: retry budget, backoff curve and jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Policy {
    max_retries: u32,
    backoff: Backoff,
    jitter: Jitter,
}

impl Policy {
    /// A policy; `max_retries` is clamped to [`MAX_RETRIES_LIMIT`] (the config layer rejects
    /// larger values before this is called).
    pub(crate) const fn new(max_retries: u32, backoff: Backoff, jitter: Jitter) -> Self {
        let max_retries = if max_retries > MAX_RETRIES_LIMIT {
            MAX_RETRIES_LIMIT
        } else {
            max_retries
        };
        Self {
            max_retries,
            backoff,
            jitter,
        }
    }

    /// How many retries one request may make.
    pub(crate) fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The backoff curve.
    #[cfg(test)]
    pub(crate) fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// The delay before retrying after failure number `failure` (1-based), or `None` when the
    /// budget is spent (`failure > max_retries`): stop. A returned delay is always >= 1 ms.
    pub(crate) fn next_delay(&self, failure: u32, rng: &mut (impl Rng + ?Sized)) -> Option<u64> {
        if failure > self.max_retries {
            return None;
        }
        let ceiling = self.backoff.ceiling_ms(failure);
        Some(self.jitter.apply(ceiling, self.backoff.max_ms(), rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Exponential;
    use crate::clock::SplitMix64;

    const POLICY: Policy = Policy::new(
        3,
        Backoff::Exponential(Exponential::new().with_base_ms(200).with_max_ms(5000)),
        Jitter::None,
    );

    #[test]
    fn next_delay_sequence_ends_with_none() {
        let mut rng = SplitMix64::new(1);
        let delays: Vec<Option<u64>> = (1..=4).map(|n| POLICY.next_delay(n, &mut rng)).collect();
        assert_eq!(delays[..3], [Some(200), Some(400), Some(800)]);
        assert_eq!(None, delays[3]);
    }

    #[test]
    fn next_delay_zero_budget_stops_at_once() {
        let policy = Policy::new(0, *POLICY.backoff(), Jitter::None);
        assert_eq!(None, policy.next_delay(1, &mut SplitMix64::new(1)));
    }

    #[test]
    fn new_clamps_budget_to_limit() {
        assert_eq!(
            Policy::new(99, *POLICY.backoff(), Jitter::None).max_retries(),
            10
        );
    }
}
