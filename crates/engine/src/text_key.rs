//! Maps keyed by text (tool names, request ids), looked up by a borrowed `&str` whose bytes are
//! compared eight at a time.
//!
//! # Why not `HashMap<Box<str>, V>::get(&str)`
//! `str == str` compiles to a call to `memcmp`, which in wasm is a byte-at-a-time loop: with
//! three or four lookups of a tool name or request id on every call, it was about a tenth of a
//! decision's instructions in the component. A lookup through [`Text`] hashes exactly like the
//! key (so any key type that hashes as its `str` works) and compares with [`same_text`].

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use hashbrown::Equivalent;

/// A hash map keyed by text (`Box<str>`, `Arc<str>`, `String`), to be looked up with [`Text`].
pub(crate) type TextMap<K, V> = hashbrown::HashMap<K, V>;

/// A borrowed text to look up in a [`TextMap`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<'a>(pub &'a str);

impl Hash for Text<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<K: Borrow<str> + ?Sized> Equivalent<K> for Text<'_> {
    fn equivalent(&self, key: &K) -> bool {
        same_text(self.0, key.borrow())
    }
}

/// `a == b`, comparing eight bytes at a time (and the last eight overlapping the previous
/// word), without a call to `memcmp`.
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_text`] for bytes.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return if len >= 4 {
            word32(a, 0) == word32(b, 0) && word32(a, len - 4) == word32(b, len - 4)
        } else {
            (0..len).all(|index| a.get(index) == b.get(index))
        };
    }
    let mut at = 0;
    while at + 8 < len {
        if word64(a, at) != word64(b, at) {
            return false;
        }
        at += 8;
    }
    word64(a, len - 8) == word64(b, len - 8)
}

fn word64(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|word| word.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn word32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|word| word.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_is_string_equality() {
        let texts: Vec<String> = (0..40)
            .map(|len| {
                (0..len)
                    .map(|i| char::from(b'a' + (i % 26) as u8))
                    .collect()
            })
            .collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
            }
            // The same length, one byte different, at every position.
            for position in 0..a.len() {
                let mut other = a.clone().into_bytes();
                other[position] = b'#';
                let other = String::from_utf8(other).unwrap();
                assert!(!same_text(a, &other), "{a:?} {other:?}");
            }
        }
        assert!(same_text("é", "é"));
        assert!(!same_text("é", "è"));
    }

    #[test]
    fn text_finds_keys_of_every_kind() {
        let mut boxed: TextMap<Box<str>, u32> = TextMap::default();
        boxed.insert("api_caller".into(), 1);
        let mut shared: TextMap<std::sync::Arc<str>, u32> = TextMap::default();
        shared.insert("req-1".into(), 2);
        let mut owned: TextMap<String, u32> = TextMap::default();
        owned.insert("a-rather-long-tool-name-over-sixteen".into(), 3);
        assert_eq!(boxed.get(&Text("api_caller")), Some(&1));
        assert_eq!(shared.get(&Text("req-1")), Some(&2));
        assert_eq!(
            owned.get(&Text("a-rather-long-tool-name-over-sixteen")),
            Some(&3)
        );
        assert_eq!(boxed.get(&Text("api_calle")), None);
        assert_eq!(shared.get(&Text("req-2")), None);
    }
}
