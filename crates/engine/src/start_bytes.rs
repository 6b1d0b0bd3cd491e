//! The set of bytes that may begin a needle, and the search for the next one in a text: the
//! text scanner skips everything else without stepping its automaton.
//!
//! # Why two searches
//! Natively the search tests eight bytes per step against a 256-entry table, with no branch
//! between them. In the component (wasm32 with `simd128`, which `.cargo/config.toml` enables
//! for every wasm32-wasip2 build) it tests sixteen bytes per step with a nibble-table
//! classifier: a byte `b` may be in the set when `low[b & 15] & high[b >> 4] != 0`, each table
//! lookup one `i8x16.swizzle`. The bytes are grouped by high nibble into at most eight bucket
//! bits, so the classifier is exact for sets spanning up to eight high nibbles (letters of
//! both cases and the line break span five) and a superset otherwise; a hit is confirmed
//! against the exact table either way. About half an instruction a byte instead of eight.

/// The bytes that may begin a needle.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(
        dead_code,
        reason = "the nibble tables serve the wasm SIMD search only"
    )
)]
pub(crate) struct StartBytes {
    exact: [bool; 256],
    /// Per low nibble, the buckets of the high nibbles it pairs with in the set.
    low: [u8; 16],
    /// Per high nibble, its bucket bit (0 when no byte of the set has that high nibble).
    high: [u8; 16],
}

impl StartBytes {
    /// The set of `bytes`.
    pub(crate) fn new(bytes: impl IntoIterator<Item = u8>) -> Self {
        let mut exact = [false; 256];
        for byte in bytes {
            exact[usize::from(byte)] = true;
        }
        let mut high = [0u8; 16];
        let mut buckets = 0;
        for nibble in 0..16 {
            if (0..16).any(|low| exact[nibble * 16 + low]) {
                // Past eight high nibbles, buckets are shared: the classifier over-approximates.
                high[nibble] = 1 << (buckets % 8);
                buckets += 1;
            }
        }
        let mut low = [0u8; 16];
        for (byte, _) in exact.iter().enumerate().filter(|&(_, &member)| member) {
            low[byte % 16] |= high[byte / 16];
        }
        Self { exact, low, high }
    }

    /// Whether `byte` is in the set.
    pub(crate) fn contains(&self, byte: u8) -> bool {
        self.exact[usize::from(byte)]
    }

    /// The position of the first byte of `bytes` in the set.
    pub(crate) fn first_in(&self, bytes: &[u8]) -> Option<usize> {
        let skipped = self.skip_chunks(bytes);
        bytes[skipped..]
            .iter()
            .position(|&byte| self.contains(byte))
            .map(|offset| skipped + offset)
    }

    /// How many leading bytes lie in whole chunks that hold no byte of the set.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    fn skip_chunks(&self, bytes: &[u8]) -> usize {
        let mut skipped = 0;
        for chunk in bytes.chunks_exact(8) {
            if chunk
                .iter()
                .fold(false, |any, &byte| any | self.contains(byte))
            {
                break;
            }
            skipped += 8;
        }
        skipped
    }

    /// How many leading bytes lie in whole chunks that hold no byte of the set.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn skip_chunks(&self, bytes: &[u8]) -> usize {
        use core::arch::wasm32::{
            u8x16, u8x16_shr, u8x16_splat, u8x16_swizzle, v128, v128_and, v128_any_true,
        };
        let vector = |b: &[u8; 16]| -> v128 {
            u8x16(
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15],
            )
        };
        let low_table = vector(&self.low);
        let high_table = vector(&self.high);
        let low_mask = u8x16_splat(0x0f);
        let mut skipped = 0;
        for chunk in bytes.chunks_exact(16) {
            let Ok(chunk) = <&[u8; 16]>::try_from(chunk) else {
                break;
            };
            let text = vector(chunk);
            let low = u8x16_swizzle(low_table, v128_and(text, low_mask));
            let high = u8x16_swizzle(high_table, u8x16_shr(text, 4));
            if v128_any_true(v128_and(low, high)) {
                break;
            }
            skipped += 16;
        }
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_finds_the_first_member_at_any_offset() {
        let set = StartBytes::new(*b"tT\n");
        for at in [0, 1, 7, 8, 15, 16, 17, 40] {
            let mut text = vec![b'x'; 48];
            text[at] = b'T';
            assert_eq!(set.first_in(&text), Some(at), "{at}");
        }
        assert_eq!(set.first_in(&[b'x'; 33]), None);
        assert_eq!(set.first_in(b""), None);
    }

    #[test]
    fn nibble_tables_never_miss_a_member_of_a_wide_set() {
        // More than eight high nibbles share buckets: a superset, still exact after the check.
        let members: Vec<u8> = (0..=255u8).filter(|b| b % 7 == 3).collect();
        let set = StartBytes::new(members.iter().copied());
        for byte in 0..=255u8 {
            let nibble_hit = set.low[usize::from(byte % 16)] & set.high[usize::from(byte / 16)];
            if set.contains(byte) {
                assert_ne!(nibble_hit, 0, "{byte}");
            }
        }
        let text: Vec<u8> = (0..=255u8).collect();
        assert_eq!(set.first_in(&text), Some(3));
    }
}
