//! Bounds-checked big-endian reads.
//!
//! Every read returns `None` past the end of the slice, so no input can make the decoder panic: the
//! callers turn `None` into [`Skip::Truncated`](crate::Skip::Truncated) for the layer they are in.

/// `N` bytes starting at `at`, or `None` if the slice is shorter.
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..)?.first_chunk::<N>().copied()
}

/// The byte at `at`.
pub(crate) fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// A network-order `u16` at `at`.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

/// A network-order `u32` at `at`.
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end() {
        let b = [1, 2, 3, 4];
        assert_eq!(be16(&b, 2), Some(0x0304));
        assert_eq!(be16(&b, 3), None);
        assert_eq!(be32(&b, 0), Some(0x0102_0304));
        assert_eq!(be32(&b, 1), None);
        assert_eq!(u8_at(&b, 4), None);
        assert_eq!(array::<2>(&b, usize::MAX), None);
    }
}
