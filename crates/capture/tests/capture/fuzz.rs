//! Arbitrary and mutated input never panics, never loops, and reads the same through the in-memory
//! and the streaming paths (`drain_both` asserts equal frames and equal error messages).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use crate::support::{Pcap, drain_both, two_sections};
use proptest::prelude::*;

/// Every frame consumes at least 12 bytes, so a source yielding more frames than this is looping.
fn check(bytes: &[u8]) {
    let (frames, _) = drain_both("fuzz", bytes);
    assert!(frames.len() <= bytes.len() / 12 + 1);
    for f in &frames {
        assert!(f.offset < bytes.len() as u64);
    }
}

fn prefix() -> impl Strategy<Value = Vec<u8>> {
    let mut p = Pcap::new(false, false, 65535, 1);
    p.record(1, 2, b"abc", 3);
    let (ng, _) = two_sections();
    prop_oneof![
        Just(Vec::new()),
        Just(p.out[..24].to_vec()),
        Just(Pcap::new(true, true, 0, 1).out),
        Just(ng.out[..ng.starts[1]].to_vec()),
        Just(ng.out[..ng.starts[4]].to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(prefix in prefix(), tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&tail);
        check(&bytes);
    }

    #[test]
    fn mutated_pcapng(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
                      cut in any::<prop::sample::Index>()) {
        let (ng, _) = two_sections();
        let mut bytes = ng.out;
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        let keep = cut.index(bytes.len() + 1);
        check(&bytes[..keep]);
    }

    /// Lengths chosen to land near the limits.
    #[test]
    fn length_fields(len in prop_oneof![Just(0u32), Just(12), Just(u32::MAX), Just(16 << 20), 0u32..4096, any::<u32>()],
                     at in 0usize..40) {
        let (ng, _) = two_sections();
        let mut bytes = ng.out;
        let i = ng.starts[at % ng.starts.len()] + 4 + (at / ng.starts.len()) * 4;
        if i + 4 <= bytes.len() {
            bytes[i..i + 4].copy_from_slice(&len.to_le_bytes());
        }
        check(&bytes);
    }
}
