//! The engine's clock and random source, backed by `wasi:clocks` and `wasi:random` (which the
//! host may virtualise).

use retry_engine::{Clock, Rng};

/// Reads `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock`.
pub(crate) struct WasiClock;

impl Clock for WasiClock {
    fn monotonic_ms(&self) -> u64 {
        wasip2::clocks::monotonic_clock::now() / 1_000_000
    }

    fn wall_ms(&self) -> u64 {
        let now = wasip2::clocks::wall_clock::now();
        now.seconds
            .saturating_mul(1000)
            .saturating_add(u64::from(now.nanoseconds / 1_000_000))
    }
}

/// Draws from `wasi:random/random` through `getrandom`.
pub(crate) struct WasiRng;

impl Rng for WasiRng {
    fn next_u64(&mut self) -> u64 {
        // wasi:random cannot fail; should a host make it, the low end of the jitter range is
        // still a valid delay.
        getrandom::u64().unwrap_or(0)
    }
}
