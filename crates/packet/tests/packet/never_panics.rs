//! `decode` must return an outcome, never panic, whatever the bytes and the link type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::build::*;
use crate::common::decode;
use packet::{DecodeStats, LinkType};
use proptest::prelude::*;

const SUPPORTED: [LinkType; LinkType::SUPPORTED.len()] = LinkType::SUPPORTED;

fn link() -> impl Strategy<Value = LinkType> {
    prop_oneof![
        4 => proptest::sample::select(SUPPORTED.to_vec()),
        1 => any::<u32>().prop_map(LinkType),
    ]
}

/// Valid frames reaching deep into each layer, for mutation: random bytes alone rarely get past
/// the link header.
fn seeds() -> Vec<(LinkType, Vec<u8>)> {
    let v4 = ipv4_opts(6, &[1, 1, 1, 0], &syn());
    let v6 = ipv6(
        0,
        &concat(&[&ext(44), &frag_header(60, 0, false), &ext(6), &syn()]),
    );
    vec![
        (
            LinkType::ETHERNET,
            eth_chain(&tag(0x88A8, &tag(0x8100, &et(0x0800, &v4)))),
        ),
        (
            LinkType::ETHERNET,
            eth(
                0x8847,
                &concat(&[&label(1, false), &label(2, true), &[0; 4], &eth(0x86DD, &v6)]),
            ),
        ),
        (
            LinkType::ETHERNET,
            eth(0x8864, &concat(&[&[0x11, 0, 0, 1, 0, 90, 0, 0x57], &v6])),
        ),
        (LinkType::ETHERNET, eth(0x0800, &ipv4(17, &udp(1, 4789)))),
        (LinkType::LINUX_SLL2, concat(&[&[0x86, 0xDD], &[0; 18], &v6])),
        (LinkType::RAW, v4.clone()),
        (LinkType::NULL, concat(&[&2u32.to_le_bytes(), &v4])),
        (LinkType::PPP, concat(&[&[0xFF, 0x03, 0x00, 0x21], &v4])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes(link in link(), frame in proptest::collection::vec(any::<u8>(), 0..200), orig: u32) {
        let mut stats = DecodeStats::default();
        stats.record(&decode(link, &frame, orig));
        prop_assert_eq!(stats.frames, 1);
    }

    #[test]
    fn mutated_frames(
        seed in proptest::sample::select(seeds()),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        keep in any::<prop::sample::Index>(),
        orig: u32,
    ) {
        let (link, mut frame) = seed;
        for (at, byte) in edits {
            let i = at.index(frame.len());
            frame[i] = byte;
        }
        frame.truncate(keep.index(frame.len() + 1));
        let _ = decode(link, &frame, orig).map_err(|s| s.to_string());
    }
}
