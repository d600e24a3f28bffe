//! TCP sequence numbers: arithmetic modulo 2^32 (RFC 9293 §3.4).
//!
//! Sequence space wraps, so there is deliberately no `Ord`: "a before b" only makes sense for numbers
//! less than 2^31 apart, and the named methods say which question is being asked.

use std::fmt;

/// A 32-bit TCP sequence (or acknowledgment) number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Seq(pub u32);

impl Seq {
    /// `self + n` modulo 2^32.
    #[must_use]
    pub fn plus(self, n: u32) -> Seq {
        Seq(self.0.wrapping_add(n))
    }

    /// Signed distance from `self` to `other` (`other - self`), in (-2^31, 2^31].
    #[must_use]
    pub fn distance(self, other: Seq) -> i64 {
        i64::from(other.0.wrapping_sub(self.0) as i32)
    }

    /// RFC 9293 §3.4: `self < other` in sequence space.
    #[must_use]
    pub fn precedes(self, other: Seq) -> bool {
        (other.0.wrapping_sub(self.0) as i32) > 0
    }

    /// `self <= other` in sequence space.
    #[must_use]
    pub fn precedes_or_eq(self, other: Seq) -> bool {
        self == other || self.precedes(other)
    }

    /// `start <= self < start + len` in sequence space (the receive-window test of RFC 9293 §3.10.7.4).
    #[must_use]
    pub fn in_window(self, start: Seq, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }

    /// The later of two numbers in sequence space.
    #[must_use]
    pub fn max_seq(self, other: Seq) -> Seq {
        if self.precedes(other) { other } else { self }
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps_around() {
        let a = Seq(u32::MAX - 1);
        assert_eq!(a.plus(3), Seq(1));
        assert!(a.precedes(Seq(1)));
        assert!(!Seq(1).precedes(a));
        assert_eq!(a.distance(Seq(1)), 3);
        assert_eq!(Seq(1).distance(a), -3);
    }

    #[test]
    fn window_across_wrap() {
        assert!(Seq(2).in_window(Seq(u32::MAX - 5), 100));
        assert!(!Seq(200).in_window(Seq(u32::MAX - 5), 100));
        assert!(!Seq(5).in_window(Seq(5), 0));
    }

    proptest! {
        #[test]
        fn add_then_distance(a: u32, n in 0u32..(1 << 31)) {
            let s = Seq(a);
            prop_assert_eq!(s.distance(s.plus(n)), i64::from(n));
        }

        #[test]
        fn precedes_is_antisymmetric(a: u32, b: u32) {
            let (x, y) = (Seq(a), Seq(b));
            prop_assert!(!(x.precedes(y) && y.precedes(x)));
            prop_assert!(!x.precedes(x));
        }

        #[test]
        fn precedes_agrees_with_small_steps(a: u32, n in 1u32..(1 << 31)) {
            prop_assert!(Seq(a).precedes(Seq(a).plus(n)));
            prop_assert!(Seq(a).plus(n).precedes_or_eq(Seq(a).plus(n)));
        }

        #[test]
        fn in_window_matches_distance(a: u32, start: u32, len in 0u32..(1 << 31)) {
            let d = Seq(start).distance(Seq(a));
            prop_assert_eq!(Seq(a).in_window(Seq(start), len), d >= 0 && d < i64::from(len));
        }
    }
}
