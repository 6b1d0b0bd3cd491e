//! The backoff step: how long to wait before a granted retry.
//!
//! Each [`DelaySource`] may propose a delay for the failure; the longest proposal wins, and no
//! proposal at all means the budget is spent. The policy's own curve is the first source. To
//! add one (a server's hint, say): a module implementing [`DelaySource`], pushed in
//! [`super::Pipeline::new`].

use super::classify::Verdict;
use crate::clock::Rng;

/// A source of retry delays.
pub(crate) trait DelaySource: std::fmt::Debug {
    /// The delay this source asks for before retry number `failures` of `verdict`, or `None`
    /// when it would not retry.
    fn delay_ms(&self, verdict: &Verdict, failures: u32, rng: &mut dyn Rng) -> Option<u64>;
}

/// The effective policy's budget and curve (with its jitter).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyCurve;

impl DelaySource for PolicyCurve {
    fn delay_ms(&self, verdict: &Verdict, failures: u32, rng: &mut dyn Rng) -> Option<u64> {
        verdict.policy.policy().next_delay(failures, rng)
    }
}

/// The delay before retry number `failures`: the longest any source asks for, `None` when the
/// first source (the policy) gives up.
pub(crate) fn next_delay(
    sources: &[Box<dyn DelaySource>],
    verdict: &Verdict,
    failures: u32,
    rng: &mut dyn Rng,
) -> Option<u64> {
    let (first, rest) = sources.split_first()?;
    let base = first.delay_ms(verdict, failures, rng)?;
    Some(
        rest.iter()
            .filter_map(|source| source.delay_ms(verdict, failures, rng))
            .fold(base, u64::max),
    )
}
