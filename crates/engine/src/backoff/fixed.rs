//! Fixed backoff: every retry waits the base.

/// The same delay for every failure.
///
/// # Default
/// - `base_ms`: 200
/// - `max_ms`: 5000
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    /// The delay, in ms (> 0).
    pub base_ms: u64,
    /// The cap, in ms (>= `base_ms`); bounds jitter.
    pub max_ms: u64,
}

impl Fixed {
    /// 200 ms, capped at 5 s.
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

    /// The ceiling for any failure: the base, within the cap.
    pub fn ceiling_ms(&self, _failure: u32) -> u64 {
        self.base_ms.min(self.max_ms)
    }
}

impl Default for Fixed {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_is_constant() {
        let curve = Fixed::new().with_base_ms(3000).with_max_ms(5000);
        assert_eq!(curve.ceiling_ms(1), 3000);
        assert_eq!(curve.ceiling_ms(u32::MAX), 3000);
    }
}
