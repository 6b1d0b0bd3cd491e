//! Retry statistics per tool: what the plugin decided, for metrics and for operators choosing
//! settings. Bounded like the breakers: past [`MAX_TRACKED_TOOLS`] tools, the counts of new
//! tools are summed under [`OTHER_TOOLS`].

use crate::text_key::{Text, TextMap, same_text};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::pipeline::Decision;
use crate::tool_event::MAX_TRACKED_TOOLS;

/// The entry that sums the tools past the bound.
pub(crate) const OTHER_TOOLS: &str = "(other tools)";

/// One tool's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ToolStats {
    /// Results seen.
    pub(crate) calls: u64,
    /// Results that were not failures.
    pub(crate) successes: u64,
    /// Failures, by the decision taken (every decision but `success`).
    pub(crate) failures: Map<String, Value>,
    /// Retries granted.
    pub(crate) retries_granted: u64,
    /// Requests that succeeded after at least one retry.
    pub(crate) recovered: u64,
    /// Delay asked over all retries granted, in ms.
    pub(crate) total_delay_ms: u64,
    /// Times the tool's breaker opened.
    pub(crate) breaker_opens: u64,
}

/// What one decision adds to its tool's counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// The decision.
    pub(crate) decision: Decision,
    /// The delay asked (0 unless retrying).
    pub(crate) delay_ms: u64,
    /// Whether a success ended a request that had been retried.
    pub(crate) recovered: bool,
    /// Whether the tool's breaker opened on this call.
    pub(crate) breaker_opened: bool,
}

/// The counts of every tool, bounded.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatsStore {
    /// Each tool's slot in `names` and `counts`.
    slots: TextMap<Box<str>, usize>,
    names: Vec<Box<str>>,
    counts: Vec<Counts>,
    /// The slot recorded last: calls come in runs of one tool (a request and its retries), so
    /// comparing the name is cheaper than hashing it again.
    last: Option<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    calls: u64,
    failures: [u64; Decision::ALL.len()],
    retries_granted: u64,
    recovered: u64,
    total_delay_ms: u64,
    breaker_opens: u64,
}

impl StatsStore {
    /// Adds `outcome` to `tool`'s counts.
    pub(crate) fn record(&mut self, tool: &str, outcome: Outcome) {
        let slot = match self.last {
            Some(slot) if same_text(&self.names[slot], tool) => slot,
            _ => self.slot(tool),
        };
        self.last = Some(slot);
        let counts = &mut self.counts[slot];
        counts.calls += 1;
        counts.failures[outcome.decision.index()] += 1;
        if outcome.decision == Decision::Retry {
            counts.retries_granted += 1;
            counts.total_delay_ms = counts.total_delay_ms.saturating_add(outcome.delay_ms);
        }
        counts.recovered += u64::from(outcome.recovered);
        counts.breaker_opens += u64::from(outcome.breaker_opened);
    }

    /// The slot of `tool`, made when new (past the bound, the shared [`OTHER_TOOLS`] slot).
    fn slot(&mut self, tool: &str) -> usize {
        if let Some(&slot) = self.slots.get(&Text(tool)) {
            return slot;
        }
        let name = if self.slots.len() < MAX_TRACKED_TOOLS {
            tool
        } else {
            OTHER_TOOLS
        };
        if let Some(&slot) = self.slots.get(&Text(name)) {
            return slot;
        }
        self.slots.insert(name.into(), self.names.len());
        self.names.push(name.into());
        self.counts.push(Counts::default());
        self.names.len() - 1
    }

    /// Puts back the counts of a snapshot (as [`StatsStore::to_json`] wrote them), bounded
    /// like live counts; an entry that does not read as counts is skipped.
    pub(crate) fn restore(&mut self, saved: &Map<String, Value>) {
        for (tool, described) in saved {
            let Some(counts) = Counts::read(described) else {
                continue;
            };
            if self.slots.len() >= MAX_TRACKED_TOOLS && !self.slots.contains_key(&Text(tool)) {
                continue;
            }
            let slot = self.slot(tool);
            self.counts[slot] = counts;
        }
    }

    /// Every tool's counts as a JSON object.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.names
            .iter()
            .zip(&self.counts)
            .map(|(tool, counts)| (tool.to_string(), counts.describe()))
            .collect()
    }

    /// Every tool's counts as a JSON object keyed by tool name.
    pub(crate) fn to_json(&self) -> String {
        Value::Object(self.to_map()).to_string()
    }
}

impl Counts {
    /// The counts [`Counts::describe`] wrote.
    fn read(described: &Value) -> Option<Self> {
        let number = |key: &str| described.get(key)?.as_u64();
        let mut failures = [0; Decision::ALL.len()];
        for (slot, decision) in failures.iter_mut().zip(Decision::ALL) {
            *slot = if decision == Decision::Success {
                number("successes")?
            } else {
                described["failures"].get(decision.as_str())?.as_u64()?
            };
        }
        Some(Self {
            calls: number("calls")?,
            failures,
            retries_granted: number("retries_granted")?,
            recovered: number("recovered")?,
            total_delay_ms: number("total_delay_ms")?,
            breaker_opens: number("breaker_opens")?,
        })
    }

    fn describe(&self) -> Value {
        let failures = Decision::ALL
            .iter()
            .zip(self.failures)
            .filter(|(decision, _)| **decision != Decision::Success)
            .map(|(decision, count)| (decision.as_str().to_owned(), Value::from(count)))
            .collect();
        let stats = ToolStats {
            calls: self.calls,
            successes: self.failures[Decision::Success.index()],
            failures,
            retries_granted: self.retries_granted,
            recovered: self.recovered,
            total_delay_ms: self.total_delay_ms,
            breaker_opens: self.breaker_opens,
        };
        serde_json::to_value(stats).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(decision: Decision) -> Outcome {
        Outcome {
            decision,
            delay_ms: 0,
            recovered: false,
            breaker_opened: false,
        }
    }

    #[test]
    fn counts_every_decision_and_the_retries() {
        let mut store = StatsStore::default();
        store.record(
            "t",
            Outcome {
                delay_ms: 200,
                ..outcome(Decision::Retry)
            },
        );
        store.record(
            "t",
            Outcome {
                recovered: true,
                ..outcome(Decision::Success)
            },
        );
        store.record("t", outcome(Decision::GiveUp));
        let stats: Value = serde_json::from_str(&store.to_json()).unwrap();
        let t = &stats["t"];
        assert_eq!(t["calls"], 3);
        assert_eq!(t["successes"], 1);
        assert_eq!(t["retries_granted"], 1);
        assert_eq!(t["total_delay_ms"], 200);
        assert_eq!(t["recovered"], 1);
        assert_eq!(t["failures"]["give_up"], 1);
        assert_eq!(t["failures"]["retry"], 1);
        assert_eq!(t["failures"]["deadline_exceeded"], 0);
        assert!(t["failures"].get("success").is_none());
    }

    #[test]
    fn decisions_index_their_place_in_all() {
        for (index, decision) in Decision::ALL.into_iter().enumerate() {
            assert_eq!(decision.index(), index, "{}", decision.as_str());
        }
    }

    #[test]
    fn tools_past_the_bound_are_summed_under_one_entry() {
        let mut store = StatsStore::default();
        for index in 0..MAX_TRACKED_TOOLS + 5 {
            store.record(&format!("tool-{index}"), outcome(Decision::Success));
        }
        let stats: Value = serde_json::from_str(&store.to_json()).unwrap();
        assert_eq!(stats.as_object().unwrap().len(), MAX_TRACKED_TOOLS + 1);
        assert_eq!(stats[OTHER_TOOLS]["calls"], 5);
    }
}
