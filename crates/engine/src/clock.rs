//! The two things the engine takes from outside: time and randomness.
//!
//! The engine never reads a clock or an entropy source itself. In the component they come from
//! `wasi:clocks` and `wasi:random`; in tests and in the native harness backend they are fakes,
//! so every time-dependent rule can be checked exactly.

/// A source of time, read once per hook call.
pub trait Clock {
    /// Monotonic milliseconds since an arbitrary origin; never decreases. Drives TTLs and the
    /// circuit breaker's recovery timeout.
    fn monotonic_ms(&self) -> u64;
    /// Wall-clock milliseconds since the Unix epoch. Only used to annotate `next_retry_at`.
    fn wall_ms(&self) -> u64;
}

/// A source of random numbers for jitter.
pub trait Rng {
    /// The next uniformly distributed 64-bit value.
    fn next_u64(&mut self) -> u64;

    /// The next uniformly distributed value in `[0, 1)`, built from the top 53 bits of
    /// [`Rng::next_u64`].
    fn next_f64(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }
}

/// A clock that always reads the same instant: for tests and for callers that pass time in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FixedClock {
    /// What [`Clock::monotonic_ms`] returns.
    pub monotonic_ms: u64,
    /// What [`Clock::wall_ms`] returns.
    pub wall_ms: u64,
}

impl Clock for FixedClock {
    fn monotonic_ms(&self) -> u64 {
        self.monotonic_ms
    }

    fn wall_ms(&self) -> u64 {
        self.wall_ms
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same sequence on every
/// platform. Used by tests and by hosts that virtualise randomness.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fully determined by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A generator seeded once from another source and then drawn locally.
///
/// In the component the source is `wasi:random`, a call across the boundary for every number;
/// jitter needs no cryptographic quality, so one such call seeds a [`SplitMix64`] that serves
/// every later draw. Hosts that link the engine natively wrap their source the same way and get
/// the very same sequence.
#[derive(Debug, Clone)]
pub struct LazySeeded<R> {
    source: R,
    local: Option<SplitMix64>,
}

impl<R: Rng> LazySeeded<R> {
    /// A generator that will seed itself from `source` on its first draw.
    pub const fn new(source: R) -> Self {
        Self {
            source,
            local: None,
        }
    }
}

impl<R: Rng> Rng for LazySeeded<R> {
    fn next_u64(&mut self) -> u64 {
        let source = &mut self.source;
        self.local
            .get_or_insert_with(|| SplitMix64::new(source.next_u64()))
            .next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Constant(u64);
    impl Rng for Constant {
        fn next_u64(&mut self) -> u64 {
            self.0
        }
    }

    #[test]
    fn next_f64_extremes_stay_in_half_open_unit_interval() {
        assert_eq!(Constant(0).next_f64(), 0.0);
        let top = Constant(u64::MAX).next_f64();
        assert!(top < 1.0 && top > 0.999_999_999);
    }

    #[test]
    fn lazy_seeded_draws_the_source_once() {
        struct Counting(u64);
        impl Rng for Counting {
            fn next_u64(&mut self) -> u64 {
                self.0 += 1;
                42
            }
        }
        let mut lazy = LazySeeded::new(Counting(0));
        let drawn: Vec<u64> = (0..5).map(|_| lazy.next_u64()).collect();
        assert_eq!(lazy.source.0, 1);
        let mut direct = SplitMix64::new(42);
        let expected: Vec<u64> = (0..5).map(|_| direct.next_u64()).collect();
        assert_eq!(drawn, expected);
    }

    #[test]
    fn splitmix_same_seed_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SplitMix64::new(7).next_u64(), SplitMix64::new(8).next_u64());
    }
}
