//! Per-request retry state: consecutive failures per (tool, request id), bounded in time and
//! in size.
//!
//! # Why one table of pairs and an age queue
//! The pair is a real pair: its key holds the tool name and the request id apart (the tool's
//! length says where one ends), so tool `a:b` with request `c` and tool `a` with request `b:c`
//! never share a counter (the ContextForge plugin joined them with `:` into one string). One
//! hash of both names finds a pair; lookups borrow the caller's `&str`s, so only a new pair
//! allocates (its key, once). A queue in order of failure makes both bounds cheap: entries idle
//! for longer than the TTL are dropped from its front on every write, and when the store is
//! full the least recently failed entry is evicted. A queue entry names its pair by hash and
//! failure sequence number (unique per failure), not by a copy of the names. The queue is
//! cleaned lazily (an entry whose pair failed again or was forgotten is skipped when it reaches
//! the front) and compacted when a push leaves stale entries outnumbering live ones, so every
//! operation is amortised O(1) and the queue holds at most `2 x capacity + 64` entries. (An
//! ordered map did the same in O(log n), which was most of the cost of a gateway's typical
//! call: a first failure of a new request; a map of tools holding maps of requests hashed and
//! compared each name separately, and kept the names twice.) The queue is in time order because
//! failures are recorded at a time that never goes back: a clock that does (a host's virtual
//! clock set backwards) is read as the latest time seen.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::snapshot::SavedRequest;
use crate::text_key::same_bytes;

/// How long a pair's failures are remembered after its last failure, in ms.
pub(crate) const DEFAULT_REQUEST_TTL_MS: u64 = 300_000;
/// How many (tool, request) pairs are tracked at most.
pub(crate) const DEFAULT_MAX_TRACKED_REQUESTS: usize = 10_000;

/// The retry state of one request: a small value, separate from any per-tool state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestState {
    /// Consecutive failures so far.
    pub failures: u32,
    /// Monotonic ms of the last failure.
    pub last_failure_ms: u64,
    /// The number of the last failure (unique in the store's life): what queue entries match.
    sequence: u64,
}

/// The bounded store of [`RequestState`] keyed by (tool, request id).
///
/// # Default
/// - TTL: [`DEFAULT_REQUEST_TTL_MS`]
/// - capacity: [`DEFAULT_MAX_TRACKED_REQUESTS`]
#[derive(Debug, Clone)]
pub(crate) struct RequestStore {
    ttl_ms: u64,
    capacity: usize,
    /// The tracked pairs, each stored under the [`hash_names`] of its names.
    pairs: HashTable<TrackedPair>,
    hasher: RandomState,
    /// Failures in the order they happened. An entry is live while its pair's `sequence` still
    /// matches.
    by_age: VecDeque<AgeEntry>,
    /// The latest time a failure was recorded at, in ms.
    latest_ms: u64,
    next_sequence: u64,
}

/// A tracked pair: its names and its state.
#[derive(Debug, Clone)]
struct TrackedPair {
    /// The tool name followed by the request id.
    names: Box<str>,
    /// Where the tool name ends in `names`.
    tool_len: usize,
    state: RequestState,
}

impl TrackedPair {
    fn new(tool: &str, request: &str, state: RequestState) -> Self {
        let mut names = String::with_capacity(tool.len() + request.len());
        names.push_str(tool);
        names.push_str(request);
        Self {
            names: names.into_boxed_str(),
            tool_len: tool.len(),
            state,
        }
    }

    fn tool(&self) -> &str {
        self.names.get(..self.tool_len).unwrap_or_default()
    }

    fn request(&self) -> &str {
        self.names.get(self.tool_len..).unwrap_or_default()
    }

    // Inline, like `hash_names`: both run on every failure, and a call in wasm saves and
    // restores the caller's live registers (measured: 60 instructions and 40 simulated cache
    // misses a failure less, for 1.4 KB of component).
    #[inline(always)]
    fn is(&self, tool: &str, request: &str) -> bool {
        // Bytes, not `str` slices: no character-boundary checks on this path.
        let Some((own_tool, own_request)) = self.names.as_bytes().split_at_checked(self.tool_len)
        else {
            return false;
        };
        self.tool_len == tool.len()
            && same_bytes(own_tool, tool.as_bytes())
            && same_bytes(own_request, request.as_bytes())
    }
}

/// One failure in the age queue: the pair's hash and the failure's sequence number.
#[derive(Debug, Clone, Copy)]
struct AgeEntry {
    hash: u64,
    sequence: u64,
    last_failure_ms: u64,
}

/// The most consecutive failures a restored pair gets (more than any budget allows: at most
/// `MAX_RETRIES_LIMIT + 1` are ever tracked).
const MAX_RESTORED_FAILURES: u32 = 64;

/// Stale queue entries allowed beyond the live ones before the queue is compacted.
const STALE_SLACK: usize = 64;

impl Default for RequestStore {
    fn default() -> Self {
        Self::new(DEFAULT_REQUEST_TTL_MS, DEFAULT_MAX_TRACKED_REQUESTS)
    }
}

impl RequestStore {
    /// An empty store that forgets pairs idle for more than `ttl_ms` and holds at most
    /// `capacity` pairs (at least 1).
    pub(crate) fn new(ttl_ms: u64, capacity: usize) -> Self {
        Self {
            ttl_ms,
            capacity: capacity.max(1),
            pairs: HashTable::new(),
            hasher: RandomState::default(),
            by_age: VecDeque::new(),
            latest_ms: 0,
            next_sequence: 0,
        }
    }

    /// How many pairs are tracked.
    pub(crate) fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether no pair is tracked.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The state of a pair, if tracked and not expired at `now_ms`.
    #[cfg(test)]
    pub(crate) fn get(&self, tool: &str, request: &str, now_ms: u64) -> Option<RequestState> {
        let hash = hash_names(&self.hasher, tool, request);
        let state = self.pairs.find(hash, |pair| pair.is(tool, request))?.state;
        (!self.is_expired(&state, now_ms)).then_some(state)
    }

    /// Records one more failure of the pair at `now_ms` and returns its consecutive failures,
    /// this one included. A pair idle for more than the TTL starts again from zero.
    pub(crate) fn record_failure(&mut self, tool: &str, request: &str, now_ms: u64) -> u32 {
        let now_ms = now_ms.max(self.latest_ms);
        self.latest_ms = now_ms;
        self.drop_expired(now_ms);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let hash = hash_names(&self.hasher, tool, request);
        let entry = AgeEntry {
            hash,
            sequence,
            last_failure_ms: now_ms,
        };
        if let Some(pair) = self.pairs.find_mut(hash, |pair| pair.is(tool, request)) {
            let state = &mut pair.state;
            let previous = state.sequence;
            state.failures = state.failures.saturating_add(1);
            state.last_failure_ms = now_ms;
            state.sequence = sequence;
            let failures = state.failures;
            // The pair failed last as well (a request retried in a row): its entry is the
            // queue's newest, so it moves in place and the queue does not grow.
            match self.by_age.back_mut() {
                Some(newest) if newest.sequence == previous => *newest = entry,
                _ => self.push(entry),
            }
            return failures;
        }
        if self.pairs.len() >= self.capacity {
            self.evict_oldest();
        }
        let state = RequestState {
            failures: 1,
            last_failure_ms: now_ms,
            sequence,
        };
        let hasher = &self.hasher;
        self.pairs
            .insert_unique(hash, TrackedPair::new(tool, request, state), |pair| {
                hash_names(hasher, pair.tool(), pair.request())
            });
        self.push(entry);
        1
    }

    /// Forgets the pair (on success or give-up). Cheap when nothing is tracked.
    pub(crate) fn clear(&mut self, tool: &str, request: &str) {
        self.remove(tool, request);
    }

    /// Forgets the pair and returns its consecutive failures as of `now_ms` (0 when it was not
    /// tracked or had expired): one lookup where `get` then `clear` would take two. The time is
    /// asked for only when the pair was tracked.
    pub(crate) fn take(&mut self, tool: &str, request: &str, now_ms: impl FnOnce() -> u64) -> u32 {
        self.remove(tool, request)
            .filter(|state| !self.is_expired(state, now_ms()))
            .map_or(0, |state| state.failures)
    }

    /// Forgets the pair and returns its state. Its queue entry is now stale and is skipped
    /// when it reaches the front.
    fn remove(&mut self, tool: &str, request: &str) -> Option<RequestState> {
        if self.pairs.is_empty() {
            return None;
        }
        let hash = hash_names(&self.hasher, tool, request);
        let (pair, _) = self
            .pairs
            .find_entry(hash, |pair| pair.is(tool, request))
            .ok()?
            .remove();
        Some(pair.state)
    }

    fn is_expired(&self, state: &RequestState, now_ms: u64) -> bool {
        now_ms.saturating_sub(state.last_failure_ms) > self.ttl_ms
    }

    /// The pair whose last failure `entry` is, if it still is.
    fn live_pair(&self, entry: &AgeEntry) -> Option<&TrackedPair> {
        self.pairs
            .find(entry.hash, |pair| pair.state.sequence == entry.sequence)
    }

    /// The tracked pairs at `now_ms`, oldest failure first, for a snapshot.
    pub(crate) fn save(&self, now_ms: u64) -> Vec<SavedRequest> {
        self.by_age
            .iter()
            .filter_map(|entry| self.live_pair(entry))
            .filter(|pair| !self.is_expired(&pair.state, now_ms))
            .map(|pair| SavedRequest {
                tool: pair.tool().to_owned(),
                request: pair.request().to_owned(),
                failures: pair.state.failures,
                age_ms: now_ms.saturating_sub(pair.state.last_failure_ms),
            })
            .collect()
    }

    /// Replays `saved` (oldest first) at `now_ms`: each pair's failures, at its age. The
    /// store's capacity and TTL apply as to live failures.
    pub(crate) fn restore(&mut self, saved: &[SavedRequest], now_ms: u64) {
        let mut saved: Vec<&SavedRequest> = saved.iter().collect();
        saved.sort_by_key(|pair| std::cmp::Reverse(pair.age_ms));
        for pair in saved {
            let at_ms = now_ms.saturating_sub(pair.age_ms);
            self.remove(&pair.tool, &pair.request);
            for _ in 0..pair.failures.min(MAX_RESTORED_FAILURES) {
                self.record_failure(&pair.tool, &pair.request, at_ms);
            }
        }
    }

    /// Appends a failure to the queue, compacting it when stale entries outnumber live ones
    /// (amortised O(1): a compaction follows at least `tracked + STALE_SLACK` pushes).
    fn push(&mut self, entry: AgeEntry) {
        self.by_age.push_back(entry);
        if self.by_age.len() > 2 * self.pairs.len() + STALE_SLACK {
            let mut queue = std::mem::take(&mut self.by_age);
            queue.retain(|entry| self.live_pair(entry).is_some());
            self.by_age = queue;
        }
    }

    /// Forgets the pair whose last failure `entry` is, if it still is; returns whether it was.
    fn remove_live(&mut self, entry: &AgeEntry) -> bool {
        self.pairs
            .find_entry(entry.hash, |pair| pair.state.sequence == entry.sequence)
            .map(|found| found.remove())
            .is_ok()
    }

    /// Drops the queue's expired front: entries behind it failed later.
    fn drop_expired(&mut self, now_ms: u64) {
        while let Some(front) = self.by_age.front() {
            if now_ms.saturating_sub(front.last_failure_ms) <= self.ttl_ms {
                break;
            }
            if let Some(entry) = self.by_age.pop_front() {
                self.remove_live(&entry);
            }
        }
    }

    /// Forgets the least recently failed pair, skipping stale entries on the way.
    fn evict_oldest(&mut self) {
        while let Some(entry) = self.by_age.pop_front() {
            if self.remove_live(&entry) {
                break;
            }
        }
    }
}

/// The hash of a pair's names: both, with the tool's length between them (so `a:b` + `c` and
/// `a` + `b:c` hash apart, as they compare apart).
#[inline(always)]
fn hash_names(hasher: &RandomState, tool: &str, request: &str) -> u64 {
    let mut state = hasher.build_hasher();
    state.write(tool.as_bytes());
    state.write_usize(tool.len());
    state.write(request.as_bytes());
    state.finish()
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
    fn pairs_that_recover_leave_nothing_behind() {
        let mut store = RequestStore::default();
        for index in 0..1_000 {
            let tool = format!("tool-{index}");
            store.record_failure(&tool, "r", index);
            assert_eq!(store.take(&tool, "r", || index), 1);
        }
        assert!(store.is_empty());
        assert!(store.by_age.len() <= STALE_SLACK + 1);
        assert_eq!(store.record_failure("tool-999", "r", 2_000), 1);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_pair_keeps_its_names_apart() {
        let pair = TrackedPair::new(
            "a:b",
            "c",
            RequestState {
                failures: 1,
                last_failure_ms: 0,
                sequence: 0,
            },
        );
        assert_eq!((pair.tool(), pair.request()), ("a:b", "c"));
        assert!(pair.is("a:b", "c"));
        assert!(!pair.is("a", "b:c") && !pair.is("a:b", "") && !pair.is("a:bc", ""));
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
        assert_eq!(store.take("t", "r", || 20), 2);
        assert_eq!(store.take("t", "r", || 20), 0);
        store.record_failure("t", "r", 20);
        assert_eq!(
            store.take("t", "r", || 1021),
            0,
            "expired pairs count as none"
        );
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
    }

    #[test]
    fn queue_stays_bounded_when_one_pair_fails_forever_behind_another() {
        let mut store = RequestStore::new(u64::MAX, 10);
        store.record_failure("t", "first", 0);
        for i in 0..100_000u64 {
            store.record_failure("t", "busy", i);
            store.clear("t", "other");
            assert!(store.by_age.len() <= 2 * store.len() + STALE_SLACK + 1);
        }
        assert_eq!(store.len(), 2);
        assert_eq!(store.get("t", "first", 0).map(|s| s.failures), Some(1));
    }

    #[test]
    fn record_failure_forgotten_pairs_leave_no_live_queue_entry() {
        let mut store = RequestStore::new(u64::MAX, 2);
        store.record_failure("t", "a", 0);
        store.record_failure("t", "b", 1);
        store.clear("t", "a");
        store.record_failure("t", "c", 2);
        store.record_failure("t", "d", 3);
        assert_eq!(store.len(), 2, "b, the oldest live pair, was evicted");
        assert!(store.get("t", "b", 3).is_none());
        assert!(store.get("t", "c", 3).is_some() && store.get("t", "d", 3).is_some());
    }

    #[test]
    fn record_failure_backwards_clock_reads_as_the_latest_time() {
        let mut store = RequestStore::new(1000, 10);
        store.record_failure("t", "late", 5000);
        store.record_failure("t", "r", 10);
        assert_eq!(store.record_failure("t", "r", 4000), 2, "both read as 5000");
        assert_eq!(
            store.record_failure("t", "r", 6001),
            1,
            "idle for 1001 ms since 5000"
        );
        assert!(store.get("t", "late", 6001).is_none());
    }

    #[test]
    fn queue_stays_bounded_after_every_pair_is_cleared() {
        let mut store = RequestStore::new(u64::MAX, 100);
        for i in 0..10_000u64 {
            store.record_failure("t", &i.to_string(), i);
            store.record_failure("t", &i.to_string(), i);
            store.clear("t", &i.to_string());
            assert!(store.by_age.len() <= 2 * 100 + STALE_SLACK + 1);
        }
        assert!(store.is_empty());
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
