//! Per-request retry state: consecutive failures per (tool, request id), bounded in time and
//! in size.
//!
//! # Why a nested map and an age index
//! The pair is a real pair: tools are looked up first, then requests within the tool, so tool
//! `a:b` with request `c` and tool `a` with request `b:c` never share a counter (the ContextForge
//! plugin joined them with `:` into one string). Lookups borrow the caller's `&str`s, so the
//! success path allocates nothing. An index ordered by last failure time makes both bounds
//! cheap: entries idle for longer than the TTL are dropped from its front on every write, and
//! when the store is full the least recently failed entry is evicted.

use std::collections::BTreeMap;

use foldhash::HashMap;

/// How long a pair's failures are remembered after its last failure, in ms.
pub const DEFAULT_REQUEST_TTL_MS: u64 = 300_000;
/// How many (tool, request) pairs are tracked at most.
pub const DEFAULT_MAX_TRACKED_REQUESTS: usize = 10_000;

/// The retry state of one request: a small value, separate from any per-tool state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestState {
    /// Consecutive failures so far.
    pub failures: u32,
    /// Monotonic ms of the last failure.
    pub last_failure_ms: u64,
    sequence: u64,
}

/// The bounded store of [`RequestState`] keyed by (tool, request id).
///
/// # Default
/// - TTL: [`DEFAULT_REQUEST_TTL_MS`]
/// - capacity: [`DEFAULT_MAX_TRACKED_REQUESTS`]
#[derive(Debug, Clone)]
pub struct RequestStore {
    ttl_ms: u64,
    capacity: usize,
    by_tool: HashMap<Box<str>, HashMap<Box<str>, RequestState>>,
    by_age: BTreeMap<(u64, u64), (Box<str>, Box<str>)>,
    next_sequence: u64,
}

impl Default for RequestStore {
    fn default() -> Self {
        Self::new(DEFAULT_REQUEST_TTL_MS, DEFAULT_MAX_TRACKED_REQUESTS)
    }
}

impl RequestStore {
    /// An empty store that forgets pairs idle for more than `ttl_ms` and holds at most
    /// `capacity` pairs (at least 1).
    pub fn new(ttl_ms: u64, capacity: usize) -> Self {
        Self {
            ttl_ms,
            capacity: capacity.max(1),
            by_tool: HashMap::default(),
            by_age: BTreeMap::new(),
            next_sequence: 0,
        }
    }

    /// How many pairs are tracked.
    pub fn len(&self) -> usize {
        self.by_age.len()
    }

    /// Whether no pair is tracked.
    pub fn is_empty(&self) -> bool {
        self.by_age.is_empty()
    }

    /// The state of a pair, if tracked and not expired at `now_ms`.
    pub fn get(&self, tool: &str, request: &str, now_ms: u64) -> Option<RequestState> {
        let state = *self.by_tool.get(tool)?.get(request)?;
        (!self.is_expired(&state, now_ms)).then_some(state)
    }

    /// Records one more failure of the pair at `now_ms` and returns its consecutive failures,
    /// this one included. A pair idle for more than the TTL starts again from zero.
    pub fn record_failure(&mut self, tool: &str, request: &str, now_ms: u64) -> u32 {
        self.drop_expired(now_ms);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        if let Some(state) = self
            .by_tool
            .get_mut(tool)
            .and_then(|requests| requests.get_mut(request))
        {
            let key = self
                .by_age
                .remove(&(state.last_failure_ms, state.sequence))
                .unwrap_or_else(|| (tool.into(), request.into()));
            state.failures = state.failures.saturating_add(1);
            state.last_failure_ms = now_ms;
            state.sequence = sequence;
            let failures = state.failures;
            self.by_age.insert((now_ms, sequence), key);
            return failures;
        }
        if self.by_age.len() >= self.capacity {
            self.evict_oldest();
        }
        let state = RequestState {
            failures: 1,
            last_failure_ms: now_ms,
            sequence,
        };
        self.by_tool
            .entry(tool.into())
            .or_default()
            .insert(request.into(), state);
        self.by_age
            .insert((now_ms, sequence), (tool.into(), request.into()));
        1
    }

    /// Forgets the pair (on success or give-up). Cheap when nothing is tracked.
    pub fn clear(&mut self, tool: &str, request: &str) {
        self.remove(tool, request);
    }

    /// Forgets the pair and returns its consecutive failures as of `now_ms` (0 when it was not
    /// tracked or had expired): one lookup where `get` then `clear` would take two.
    pub fn take(&mut self, tool: &str, request: &str, now_ms: u64) -> u32 {
        self.remove(tool, request)
            .filter(|state| !self.is_expired(state, now_ms))
            .map_or(0, |state| state.failures)
    }

    fn remove(&mut self, tool: &str, request: &str) -> Option<RequestState> {
        if self.by_age.is_empty() {
            return None;
        }
        let requests = self.by_tool.get_mut(tool)?;
        let state = requests.remove(request)?;
        self.by_age.remove(&(state.last_failure_ms, state.sequence));
        if requests.is_empty() {
            self.by_tool.remove(tool);
        }
        Some(state)
    }

    fn is_expired(&self, state: &RequestState, now_ms: u64) -> bool {
        now_ms.saturating_sub(state.last_failure_ms) > self.ttl_ms
    }

    fn drop_expired(&mut self, now_ms: u64) {
        while let Some((&(last_failure_ms, _), _)) = self.by_age.first_key_value() {
            if now_ms.saturating_sub(last_failure_ms) <= self.ttl_ms {
                break;
            }
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((_, (tool, request))) = self.by_age.pop_first()
            && let Some(requests) = self.by_tool.get_mut(&tool)
        {
            requests.remove(&request);
            if requests.is_empty() {
                self.by_tool.remove(&tool);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_failure_counts_consecutive_failures_per_pair() {
        let mut store = RequestStore::default();
        assert_eq!(store.record_failure("t", "r1", 0), 1);
        assert_eq!(store.record_failure("t", "r1", 10), 2);
        assert_eq!(store.record_failure("t", "r2", 20), 1);
        assert_eq!(store.record_failure("u", "r1", 30), 1);
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn record_failure_colon_in_names_never_collides() {
        let mut store = RequestStore::default();
        assert_eq!(store.record_failure("a:b", "c", 0), 1);
        assert_eq!(store.record_failure("a", "b:c", 0), 1);
        assert_eq!(store.record_failure("a:b", "c", 0), 2);
    }

    #[test]
    fn clear_forgets_pair_only() {
        let mut store = RequestStore::default();
        store.record_failure("t", "r1", 0);
        store.record_failure("t", "r2", 0);
        store.clear("t", "r1");
        assert_eq!(store.get("t", "r1", 0), None);
        assert_eq!(store.get("t", "r2", 0).map(|s| s.failures), Some(1));
        store.clear("t", "r2");
        assert!(store.is_empty());
        store.clear("t", "absent");
    }

    #[test]
    fn take_returns_failures_unless_expired_and_forgets() {
        let mut store = RequestStore::new(1000, 10);
        store.record_failure("t", "r", 0);
        store.record_failure("t", "r", 10);
        assert_eq!(store.take("t", "r", 20), 2);
        assert_eq!(store.take("t", "r", 20), 0);
        store.record_failure("t", "r", 0);
        assert_eq!(store.take("t", "r", 1001), 0, "expired pairs count as none");
        assert!(store.is_empty());
    }

    #[test]
    fn record_failure_after_ttl_starts_fresh() {
        let mut store = RequestStore::new(300_000, 10);
        store.record_failure("t", "r", 0);
        assert_eq!(store.record_failure("t", "r", 300_000), 2);
        assert_eq!(store.record_failure("t", "r", 600_001), 1);
    }

    #[test]
    fn get_after_ttl_is_none_with_fake_clock() {
        let mut store = RequestStore::new(1000, 10);
        store.record_failure("t", "r", 5);
        assert!(store.get("t", "r", 1005).is_some());
        assert!(store.get("t", "r", 1006).is_none());
    }

    #[test]
    fn writes_drop_every_expired_pair() {
        let mut store = RequestStore::new(1000, 100);
        for i in 0..50 {
            store.record_failure("t", &format!("r{i}"), i);
        }
        store.record_failure("t", "late", 2000);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_million_distinct_pairs_never_exceed_the_cap() {
        let mut store = RequestStore::new(DEFAULT_REQUEST_TTL_MS, 1000);
        for i in 0..1_000_000u64 {
            store.record_failure("t", &i.to_string(), i / 1000);
            assert!(store.len() <= 1000);
        }
        assert_eq!(store.len(), 1000);
        assert_eq!(store.by_tool["t"].len(), 1000);
    }

    #[test]
    fn full_store_evicts_least_recently_failed() {
        let mut store = RequestStore::new(u64::MAX, 2);
        store.record_failure("t", "a", 0);
        store.record_failure("t", "b", 1);
        store.record_failure("t", "a", 2);
        store.record_failure("t", "c", 3);
        assert_eq!(store.len(), 2);
        assert!(store.get("t", "b", 3).is_none());
        assert_eq!(store.get("t", "a", 3).map(|s| s.failures), Some(2));
    }
}
