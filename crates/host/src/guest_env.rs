//! What the guest sees of the host: WASI with the host's real clocks and random source (in
//! production), or with virtual clocks and a seeded random source (in tests and simulations).
//!
//! During a scenario the monotonic clock reads exactly the scenario's `at_ms` and the wall
//! clock `start_wall_ms + at_ms`; random bytes are a deterministic function of the seed. The
//! native backend reads the very same [`VirtualClock`] and generator, so both backends see the
//! same inputs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand_core::{Infallible, TryRng};
use retry_engine::{Clock, Rng, SplitMix64};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

/// The default wall clock at virtual time 0: 2026-01-01T00:00:00Z, in Unix ms.
pub const DEFAULT_START_WALL_MS: u64 = 1_767_225_600_000;

/// A clock the host moves by hand; cloning shares it.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now_ms: Arc<AtomicU64>,
    start_wall_ms: u64,
}

impl VirtualClock {
    /// A clock at monotonic 0 whose wall clock then reads `start_wall_ms`.
    pub fn new(start_wall_ms: u64) -> Self {
        Self {
            now_ms: Arc::new(AtomicU64::new(0)),
            start_wall_ms,
        }
    }

    /// Sets the virtual time, in ms since the start.
    pub fn set_ms(&self, at_ms: u64) {
        self.now_ms.store(at_ms, Ordering::Relaxed);
    }

    /// The virtual time, in ms since the start.
    pub fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}

impl Clock for VirtualClock {
    fn monotonic_ms(&self) -> u64 {
        self.now_ms()
    }

    fn wall_ms(&self) -> u64 {
        self.start_wall_ms.saturating_add(self.now_ms())
    }
}

struct VirtualMonotonic(VirtualClock);

impl HostMonotonicClock for VirtualMonotonic {
    fn resolution(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        self.0.now_ms().saturating_mul(1_000_000)
    }
}

struct VirtualWall(VirtualClock);

impl HostWallClock for VirtualWall {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.wall_ms())
    }
}

/// A seeded generator usable both by the engine ([`Rng`]) and by WASI (`rand_core`).
/// Bytes are produced from successive `next_u64` values, little-endian, so a guest reading
/// `get-random-u64` and the native engine calling `next_u64` see the same numbers.
#[derive(Debug, Clone)]
pub struct SeededRandom(SplitMix64);

impl SeededRandom {
    /// A generator determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }
}

impl Rng for SeededRandom {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

impl TryRng for SeededRandom {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.0.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.0.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// A seed that differs from run to run, for scenarios that give none.
pub fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// The default cap on a guest's linear memory, in bytes.
pub const DEFAULT_MEMORY_LIMIT_BYTES: usize = 64 << 20;

/// How to set up a guest's world: its clocks, its random source and its memory cap.
#[derive(Debug, Clone)]
pub struct GuestEnv {
    /// The clock the guest reads: a [`VirtualClock`] the host moves by hand, or `None` for the
    /// host's real monotonic and wall clocks.
    pub clock: Option<VirtualClock>,
    /// The seed of the guest's random source, or `None` for the host's secure random source.
    pub seed: Option<u64>,
    /// The most linear memory the guest may grow to, in bytes.
    pub memory_limit_bytes: usize,
}

impl GuestEnv {
    /// Virtual time and seeded randomness: a clock at monotonic 0 whose wall clock reads
    /// `start_wall_ms`, a random source seeded with `seed`, and
    /// [`DEFAULT_MEMORY_LIMIT_BYTES`] of memory.
    pub fn new(start_wall_ms: u64, seed: u64) -> Self {
        Self::with_clock(VirtualClock::new(start_wall_ms), seed)
    }

    /// Virtual time read from `clock` (which the caller keeps, to move it) and a random source
    /// seeded with `seed`.
    pub fn with_clock(clock: VirtualClock, seed: u64) -> Self {
        Self {
            clock: Some(clock),
            seed: Some(seed),
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_BYTES,
        }
    }

    /// The host's real clocks and secure random source: what a gateway in production uses.
    pub fn real() -> Self {
        Self {
            clock: None,
            seed: None,
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_BYTES,
        }
    }
}

impl Default for GuestEnv {
    /// [`GuestEnv::real`].
    fn default() -> Self {
        Self::real()
    }
}

/// Caps a guest's memory and tables, and remembers how large its memory has grown.
#[derive(Debug, Clone, Copy)]
pub struct GuestLimits {
    memory_limit_bytes: usize,
    memory_bytes: usize,
}

impl GuestLimits {
    /// The size the guest's linear memory has grown to, in bytes (memory never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl ResourceLimiter for GuestLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit_bytes {
            // The guest's allocator sees a failed grow and traps; the host replaces the instance.
            return Ok(false);
        }
        self.memory_bytes = self.memory_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Table elements a guest may have; the component needs a few dozen.
const MAX_TABLE_ELEMENTS: usize = 10_000;

/// Per-store host state: the WASI context, its resource table, and the guest's limits.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: GuestLimits,
}

impl HostState {
    /// WASI with the clocks and random source of `env`, and nothing else: no filesystem,
    /// network, environment or inherited stdio.
    pub fn new(env: &GuestEnv) -> Self {
        let mut builder = WasiCtxBuilder::new();
        if let Some(clock) = &env.clock {
            builder
                .monotonic_clock(VirtualMonotonic(clock.clone()))
                .wall_clock(VirtualWall(clock.clone()));
        }
        if let Some(seed) = env.seed {
            builder
                .secure_random(SeededRandom::new(seed))
                .insecure_random(SeededRandom::new(seed ^ 0x5EED))
                .insecure_random_seed(u128::from(seed));
        }
        let wasi = builder.build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limits: GuestLimits {
                memory_limit_bytes: env.memory_limit_bytes,
                memory_bytes: 0,
            },
        }
    }

    /// The guest's limits and memory size.
    pub fn limits(&self) -> &GuestLimits {
        &self.limits
    }

    /// The limiter wasmtime consults before the guest grows memory or tables.
    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.limits
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
