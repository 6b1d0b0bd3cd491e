//! Linear backoff: `base * n`, capped at `max_ms`.

/// Linear growth: the n-th failure waits n times the base.
///
/// # Default
/// - `base_ms`: 200
/// - `max_ms`: 5000
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linear {
    /// The first delay and the step, in ms (> 0).
    pub base_ms: u64,
    /// The cap, in ms (>= `base_ms`).
    pub max_ms: u64,
}

impl Linear {
    /// 200 ms steps up to 5 s.
    pub const fn new() -> Self {
        Self {
            base_ms: 200,
            max_ms: 5000,
        }
    }

    /// The same curve with another base.
    pub const fn with_base_ms(mut self, base_ms: u64) -> Self {
        self.base_ms = base_ms;
        self
    }

    /// The same curve with another cap.
    pub const fn with_max_ms(mut self, max_ms: u64) -> Self {
        self.max_ms = max_ms;
        self
    }

    /// The ceiling for failure number `failure` (1-based).
    pub fn ceiling_ms(&self, failure: u32) -> u64 {
        self.base_ms
            .saturating_mul(u64::from(failure.max(1)))
            .min(self.max_ms)
    }
}

impl Default for Linear {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_grows_by_base_then_caps() {
        let curve = Linear::new().with_base_ms(1000).with_max_ms(3500);
        let delays: Vec<u64> = (1..=5).map(|n| curve.ceiling_ms(n)).collect();
        assert_eq!(delays, vec![1000, 2000, 3000, 3500, 3500]);
    }

    #[test]
    fn linear_huge_failure_number_saturates_at_cap() {
        let curve = Linear::new()
            .with_base_ms(u64::MAX / 2)
            .with_max_ms(u64::MAX);
        assert_eq!(curve.ceiling_ms(u32::MAX), u64::MAX);
    }
}
