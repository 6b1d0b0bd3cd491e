//! The caller's deadline: a retry that could not finish before the caller gives up is refused.

/// Refuses a delay that, with the least time an attempt needs, reaches the time the caller has
/// left (`retry_conditions.min_attempt_ms`; without a remaining time, nothing is refused).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// `retry_conditions.min_attempt_ms`.
    pub(crate) min_attempt_ms: u64,
}

impl Deadline {
    /// Whether a retry after `delay_ms` cannot finish within `remaining_ms`.
    pub(crate) fn refuses(&self, delay_ms: u64, remaining_ms: Option<u64>) -> bool {
        remaining_ms
            .is_some_and(|remaining| delay_ms.saturating_add(self.min_attempt_ms) >= remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_when_delay_and_attempt_reach_the_remaining_time() {
        let deadline = Deadline {
            min_attempt_ms: 100,
        };
        assert!(!deadline.refuses(500, None));
        assert!(!deadline.refuses(500, Some(601)));
        assert!(deadline.refuses(500, Some(600)));
        assert!(deadline.refuses(u64::MAX, Some(u64::MAX)));
    }
}
