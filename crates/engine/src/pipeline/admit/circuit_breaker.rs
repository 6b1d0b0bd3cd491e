//! The circuit breaker as an admission rule: one breaker per tool, fed every outcome.

use super::{AdmissionNotes, AdmissionRule, Attempt, BreakerNote};
use crate::breaker::{BreakerConfig, BreakerState, BreakerStore};
use crate::pipeline::Decision;
use crate::snapshot::Snapshot;

/// Refuses retries of a tool whose breaker is open (or whose half-open probe failed).
#[derive(Debug, Clone, Default)]
pub(crate) struct CircuitBreaker {
    config: BreakerConfig,
    breakers: BreakerStore,
}

impl CircuitBreaker {
    /// A breaker per tool under `config`, all closed.
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            breakers: BreakerStore::default(),
        }
    }
}

impl AdmissionRule for CircuitBreaker {
    fn admit(&mut self, attempt: &Attempt<'_>, notes: &mut AdmissionNotes) -> Option<Decision> {
        let transition = self.breakers.record(
            attempt.tool,
            attempt.event(),
            attempt.now.get(),
            &self.config,
        );
        notes.breaker = Some(BreakerNote {
            state: transition.to,
            consecutive_failures: transition.consecutive_failures,
            enabled: self.config.enabled,
            opened: matches!(transition.to, BreakerState::Open { .. })
                && !matches!(transition.from, BreakerState::Open { .. }),
        });
        (!transition.admitted).then_some(Decision::CircuitOpen)
    }

    fn save(&self, snapshot: &mut Snapshot, now_ms: u64) {
        snapshot.breakers = self.breakers.save(now_ms);
    }

    fn restore(&mut self, snapshot: &Snapshot, now_ms: u64) {
        self.breakers.restore(&snapshot.breakers, now_ms);
    }
}
