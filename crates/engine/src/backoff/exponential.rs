//! Exponential backoff: `base * multiplier^(n-1)`, capped at `max_ms`.

/// Exponential growth from `base_ms` by `multiplier` per failure.
///
/// # Default
/// - `base_ms`: 200
/// - `multiplier`: 2.0
/// - `max_ms`: 5000
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    /// The first delay, in ms (> 0).
    pub base_ms: u64,
    /// The growth factor per failure (>= 1.0, finite).
    pub multiplier: f64,
    /// The cap, in ms (>= `base_ms`).
    pub max_ms: u64,
}

impl Exponential {
    /// The specification's default curve: 200 ms doubling up to 5 s.
    pub const fn new() -> Self {
        Self {
            base_ms: 200,
            multiplier: 2.0,
            max_ms: 5000,
        }
    }

    /// The same curve with another base.
    pub const fn with_base_ms(mut self, base_ms: u64) -> Self {
        self.base_ms = base_ms;
        self
    }

    /// The same curve with another multiplier.
    pub const fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// The same curve with another cap.
    pub const fn with_max_ms(mut self, max_ms: u64) -> Self {
        self.max_ms = max_ms;
        self
    }

    /// The ceiling for failure number `failure` (1-based), truncated to whole ms.
    pub fn ceiling_ms(&self, failure: u32) -> u64 {
        let exponent = failure.max(1) - 1;
        let raw = if self.multiplier == 2.0 {
            // Exact integer doubling for the common case (and the flat schema's only case).
            1u64.checked_shl(exponent)
                .and_then(|factor| self.base_ms.checked_mul(factor))
                .unwrap_or(u64::MAX)
        } else {
            let exponent = i32::try_from(exponent).unwrap_or(i32::MAX);
            let value = self.base_ms as f64 * self.multiplier.powi(exponent);
            // `as` saturates: NaN becomes 0 (then lifted by the floor below), +inf becomes MAX.
            value as u64
        };
        raw.clamp(self.base_ms.min(self.max_ms), self.max_ms)
    }
}

impl Default for Exponential {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURVE: Exponential = Exponential::new().with_base_ms(100).with_max_ms(1000);

    #[test]
    fn exponential_doubles_then_caps() {
        let delays: Vec<u64> = (1..=6).map(|n| CURVE.ceiling_ms(n)).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn exponential_other_multiplier_truncates() {
        let curve = CURVE.with_multiplier(1.5);
        let delays: Vec<u64> = (1..=4).map(|n| curve.ceiling_ms(n)).collect();
        assert_eq!(delays, vec![100, 150, 225, 337]);
    }

    #[test]
    fn exponential_multiplier_one_is_constant() {
        let curve = CURVE.with_multiplier(1.0);
        assert_eq!(curve.ceiling_ms(1), 100);
        assert_eq!(curve.ceiling_ms(50), 100);
    }

    #[test]
    fn exponential_huge_failure_number_saturates_at_cap() {
        assert_eq!(CURVE.ceiling_ms(u32::MAX), 1000);
        assert_eq!(CURVE.with_multiplier(3.7).ceiling_ms(u32::MAX), 1000);
        let huge = Exponential::new()
            .with_base_ms(u64::MAX / 2)
            .with_max_ms(u64::MAX);
        assert_eq!(huge.ceiling_ms(3), u64::MAX);
    }

    #[test]
    fn exponential_failure_zero_is_first_failure() {
        assert_eq!(CURVE.ceiling_ms(0), 100);
    }
}
