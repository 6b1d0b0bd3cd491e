//! Sets of HTTP status codes, as a bitmap: membership is one shift and one mask, which matters
//! because it is asked on every failed call.

use std::fmt;

use serde::{Serialize, Serializer};

/// The smallest status code a configuration may name.
pub(crate) const MIN_STATUS: u16 = 100;
/// The largest status code a configuration may name.
pub(crate) const MAX_STATUS: u16 = 599;

const WORDS: usize = (MAX_STATUS as usize + 1).div_ceil(64);

/// A set of status codes within [`MIN_STATUS`]`..=`[`MAX_STATUS`], remembering the order in which
/// the configuration listed them (for echoing the policy back).
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct StatusSet {
    bits: [u64; WORDS],
    listed: Vec<u16>,
}

impl StatusSet {
    /// The set of the given codes; codes outside the valid range are ignored (the config layer
    /// rejects them before this is called).
    pub(crate) fn from_codes(codes: &[u16]) -> Self {
        let mut set = Self::default();
        for &code in codes {
            set.insert(code);
        }
        set
    }

    /// Adds `code`, keeping the first listing order.
    pub(crate) fn insert(&mut self, code: u16) {
        if !(MIN_STATUS..=MAX_STATUS).contains(&code) || self.contains_code(code) {
            return;
        }
        self.bits[usize::from(code) / 64] |= 1 << (code % 64);
        self.listed.push(code);
    }

    /// Whether `code` is in the set.
    pub(crate) fn contains_code(&self, code: u16) -> bool {
        code <= MAX_STATUS && self.bits[usize::from(code) / 64] & (1 << (code % 64)) != 0
    }

    /// Whether the integer `value` (as found in a tool result) is in the set.
    pub(crate) fn contains(&self, value: i64) -> bool {
        u16::try_from(value).is_ok_and(|code| self.contains_code(code))
    }

    /// The codes in the order the configuration listed them.
    pub(crate) fn codes(&self) -> &[u16] {
        &self.listed
    }

    /// The codes present in both sets, in this set's order.
    pub(crate) fn intersection(&self, other: &Self) -> Vec<u16> {
        self.listed
            .iter()
            .copied()
            .filter(|&code| other.contains_code(code))
            .collect()
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.listed).finish()
    }
}

/// Serializes as the list of codes, in the order the configuration listed them.
impl Serialize for StatusSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.listed.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_set_membership_matches_listed_codes() {
        let set = StatusSet::from_codes(&[429, 500, 503]);
        assert!(set.contains(429) && set.contains(503));
        assert!(!set.contains(404) && !set.contains(-1) && !set.contains(70_000));
        assert_eq!(set.codes(), &[429, 500, 503]);
    }

    #[test]
    fn status_set_duplicates_and_out_of_range_are_ignored() {
        let set = StatusSet::from_codes(&[503, 503, 99, 600, 100, 599]);
        assert_eq!(set.codes(), &[503, 100, 599]);
    }

    #[test]
    fn status_set_intersection_keeps_order() {
        let a = StatusSet::from_codes(&[500, 404, 429]);
        let b = StatusSet::from_codes(&[429, 404]);
        assert_eq!(a.intersection(&b), vec![404, 429]);
    }
}
