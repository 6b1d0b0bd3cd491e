//! Jitter: spreading a delay ceiling so that many clients do not retry in lockstep.
//!
//! Every variant returns at least 1 ms: a retry with a 0 ms delay reads as "do not retry" to a
//! gateway that only looks at the delay (the ContextForge plugin's defect).

use crate::clock::Rng;

/// How a delay ceiling is randomised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// No randomness: the delay is the ceiling `c` (at least 1).
    None,
    /// Full jitter (the ContextForge flat schema): uniform integer in the closed range
    /// `[1, c]`, i.e. `1 + floor(u * c)` for `u` in `[0, 1)`.
    Full,
    /// Proportional jitter (the specification's `jitter_max_percent` = p): `c` times a factor in
    /// `[1 - p/100, 1 + p/100)`, rounded to the nearest ms and kept within the closed range
    /// `[1, max_ms]`.
    Proportional {
        /// The largest relative deviation, in percent (0..=100).
        percent: f64,
    },
}

impl Jitter {
    /// The delay for `ceiling_ms`, never below 1 and never above `max(ceiling_ms, 1)` or, for
    /// [`Jitter::Proportional`], `max_ms`. Draws one random number unless `self` is `None`.
    pub fn apply(&self, ceiling_ms: u64, max_ms: u64, rng: &mut (impl Rng + ?Sized)) -> u64 {
        let ceiling_ms = ceiling_ms.max(1);
        match *self {
            Self::None => ceiling_ms,
            Self::Full => {
                let offset = (rng.next_f64() * ceiling_ms as f64) as u64;
                1 + offset.min(ceiling_ms - 1)
            }
            Self::Proportional { percent } => {
                let spread = percent.clamp(0.0, 100.0) / 100.0;
                let factor = 1.0 - spread + rng.next_f64() * 2.0 * spread;
                let delay = (ceiling_ms as f64 * factor).round() as u64;
                delay.clamp(1, max_ms.max(1))
            }
        }
    }

    /// Whether the delay is randomised at all.
    pub fn is_enabled(&self) -> bool {
        match self {
            Self::None => false,
            Self::Full => true,
            Self::Proportional { percent } => *percent > 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stub(u64);
    impl Rng for Stub {
        fn next_u64(&mut self) -> u64 {
            self.0
        }
    }
    const LOW: Stub = Stub(0);
    const HIGH: Stub = Stub(u64::MAX);

    #[test]
    fn jitter_none_returns_ceiling() {
        assert_eq!(Jitter::None.apply(800, 5000, &mut Stub(0)), 800);
        assert_eq!(Jitter::None.apply(0, 5000, &mut Stub(0)), 1);
    }

    #[test]
    fn jitter_full_hits_both_ends_of_one_to_ceiling() {
        assert_eq!(Jitter::Full.apply(800, 5000, &mut { LOW }), 1);
        assert_eq!(Jitter::Full.apply(800, 5000, &mut { HIGH }), 800);
    }

    #[test]
    fn jitter_full_ceiling_one_never_zero() {
        assert_eq!(Jitter::Full.apply(1, 5000, &mut { LOW }), 1);
        assert_eq!(Jitter::Full.apply(1, 5000, &mut { HIGH }), 1);
    }

    #[test]
    fn jitter_proportional_hits_both_ends_of_factor_range() {
        let jitter = Jitter::Proportional { percent: 20.0 };
        assert_eq!(jitter.apply(1000, 5000, &mut { LOW }), 800);
        assert_eq!(jitter.apply(1000, 5000, &mut { HIGH }), 1200);
    }

    #[test]
    fn jitter_proportional_stays_within_one_and_max() {
        let jitter = Jitter::Proportional { percent: 100.0 };
        assert_eq!(jitter.apply(5000, 5000, &mut { HIGH }), 5000);
        assert_eq!(jitter.apply(1, 5000, &mut { LOW }), 1);
    }

    #[test]
    fn jitter_proportional_zero_percent_is_exact() {
        let jitter = Jitter::Proportional { percent: 0.0 };
        assert_eq!(jitter.apply(1234, 5000, &mut { HIGH }), 1234);
        assert!(!jitter.is_enabled());
    }
}
