//! Backoff curves: how long to wait before retry number n. One strategy per file.
//!
//! A curve gives the *ceiling* for failure number n (1-based), already capped at the policy's
//! `max_backoff_ms`; [`crate::Jitter`] then spreads it. Every curve saturates instead of
//! overflowing, so any `n` (up to `u32::MAX`) and any base give a value within the cap.

mod exponential;
mod fixed;
mod linear;

pub use exponential::Exponential;
pub use fixed::Fixed;
pub use linear::Linear;

/// A backoff curve with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// `base * multiplier^(n-1)`, capped.
    Exponential(Exponential),
    /// `base * n`, capped.
    Linear(Linear),
    /// `base`, capped.
    Fixed(Fixed),
}

impl Backoff {
    /// The delay ceiling in ms for failure number `failure` (1-based; 0 is treated as 1).
    pub fn ceiling_ms(&self, failure: u32) -> u64 {
        match self {
            Self::Exponential(curve) => curve.ceiling_ms(failure),
            Self::Linear(curve) => curve.ceiling_ms(failure),
            Self::Fixed(curve) => curve.ceiling_ms(failure),
        }
    }

    /// The largest delay the curve may give (`max_backoff_ms`).
    pub fn max_ms(&self) -> u64 {
        match self {
            Self::Exponential(curve) => curve.max_ms,
            Self::Linear(curve) => curve.max_ms,
            Self::Fixed(curve) => curve.max_ms,
        }
    }

    /// The configuration name of the strategy.
    pub fn strategy_name(&self) -> &'static str {
        match self {
            Self::Exponential(_) => "exponential",
            Self::Linear(_) => "linear",
            Self::Fixed(_) => "fixed",
        }
    }
}
