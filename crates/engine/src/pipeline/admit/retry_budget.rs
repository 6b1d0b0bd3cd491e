//! The retry budget as an admission rule: a token bucket per tool, fed every outcome.

use super::{AdmissionNotes, AdmissionRule, Attempt, BudgetNote};
use crate::budget::{BudgetConfig, BudgetStore};
use crate::pipeline::Decision;
use crate::snapshot::Snapshot;

/// Refuses retries of a tool whose tokens have fallen to half of `max_tokens` or below.
#[derive(Debug, Clone)]
pub(crate) struct RetryBudget {
    config: BudgetConfig,
    buckets: BudgetStore,
}

impl RetryBudget {
    /// A full bucket per tool under `config`.
    pub(crate) fn new(config: BudgetConfig) -> Self {
        Self {
            config,
            buckets: BudgetStore::new(&config),
        }
    }
}

impl AdmissionRule for RetryBudget {
    fn admit(&mut self, attempt: &Attempt<'_>, notes: &mut AdmissionNotes) -> Option<Decision> {
        let answer = self.buckets.record(attempt.tool, attempt.event());
        notes.budget = Some(BudgetNote {
            milli_tokens: answer.milli_tokens,
            max_tokens: self.config.max_tokens,
        });
        (!answer.admitted).then_some(Decision::BudgetExhausted)
    }

    fn save(&self, snapshot: &mut Snapshot, _now_ms: u64) {
        snapshot.budgets = self.buckets.save();
    }

    fn restore(&mut self, snapshot: &Snapshot, _now_ms: u64) {
        self.buckets.restore(&snapshot.budgets);
    }
}
