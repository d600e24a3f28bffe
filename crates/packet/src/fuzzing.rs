//! Entry points of the `decode` fuzz target (`fuzz/fuzz_targets/decode.rs`), kept in the library so
//! that the fuzz target and the regression replay test (`tests/packet/fuzz_regressions.rs`) run the
//! same code: a crash found by the fuzzer is replayed by plain `cargo test`, without cargo-fuzz or
//! nightly. Not part of the crate's API.

use crate::reassembly::Limits;
use crate::{Decoder, DecoderConfig, LinkType};
use lifecycle::{Timestamp, Tracker};

/// A link type the decoder does not understand (`LINKTYPE_IEEE802_11`), picked after every supported one
/// so that the fuzzer reaches each link parser, and the refusal, from the first input byte.
const UNSUPPORTED: LinkType = LinkType(105);

/// The link type picked by the low 6 bits of a selector byte.
fn link_of(select: u8) -> LinkType {
    LinkType::SUPPORTED
        .get(usize::from(select & 0x3f) % (LinkType::SUPPORTED.len() + 1))
        .copied()
        .unwrap_or(UNSUPPORTED)
}

/// Decodes `data[1..]` as one frame. The low 6 bits of `data[0]` pick the link type from
/// [`LinkType::SUPPORTED`] and `UNSUPPORTED`; the top 2 bits pick the original length: the frame's length, 0 (a damaged record), a frame cut by
/// the snaplen (1 MiB more on the wire), or `u32::MAX` (a hostile record). The last two reach the
/// paths where an IP length field of 0 defers to the original length.
///
/// A decoded segment is then fed to a fresh tracker and its record built, so that lengths the
/// decoder derives from hostile headers are also checked against the arithmetic downstream
/// (`seq_len`, byte counters).
pub fn fuzz_decode(data: &[u8]) {
    let Some((&select, frame)) = data.split_first() else {
        return;
    };
    let link = link_of(select);
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    let orig_len = match select >> 6 {
        0 => len,
        1 => 0,
        2 => len.saturating_add(1 << 20),
        _ => u32::MAX,
    };
    match Decoder::default().decode(link, frame, orig_len, 0) {
        Ok(tcp) => {
            let seg = tcp.segment;
            assert!(
                seg.ip_len >= seg.payload_len,
                "IP length below the TCP payload: {seg:?}"
            );
            let _ = seg.seq_end();
            let mut tracker = Tracker::default();
            tracker.handle_segment(Timestamp(1), &seg);
            tracker.finish();
            assert!(
                tracker.poll_event().is_some(),
                "a tracked segment must end as a connection"
            );
        }
        Err(skip) => {
            // Display must not panic either: these messages reach the summary.
            let _ = skip.to_string();
        }
    }
}

/// The reassembly limits of the `decode_stream` target: small, so that eviction runs all the time.
const STREAM_LIMITS: Limits = Limits {
    timeout: 30_000_000_000,
    max_datagrams: 16,
    max_bytes: 64 << 10,
};

/// Decodes a sequence of frames through one [`Decoder`], so that fragments meet their datagrams and
/// tunnels are numbered across frames. Each record is a selector byte (link type in the low 6 bits
/// as in [`fuzz_decode`]; bit 6: 31 s pass before this frame, past the reassembly timeout; bit 7:
/// the frame was cut, 1 KiB more on the wire), a length byte, then that many bytes of frame.
///
/// Checks that the pieces held stay within the limits and that a segment's lengths are coherent.
pub fn fuzz_decode_stream(mut data: &[u8]) {
    let mut decoder = Decoder::new(DecoderConfig {
        reassembly: Some(STREAM_LIMITS),
        ..DecoderConfig::full()
    });
    let mut now = 0u64;
    while let [select, len, rest @ ..] = data {
        let (frame, tail) = rest.split_at(usize::from(*len).min(rest.len()));
        data = tail;
        if select & 0x40 != 0 {
            now += 31_000_000_000;
        }
        now += 1_000;
        let wire = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let orig_len = if select & 0x80 != 0 { wire + 1024 } else { wire };
        match decoder.decode(link_of(*select), frame, orig_len, now) {
            Ok(tcp) => {
                let seg = tcp.segment;
                assert!(
                    seg.ip_len >= seg.payload_len,
                    "IP length below the TCP payload: {seg:?}"
                );
                if seg.tunnel != 0 {
                    assert!(
                        decoder.tunnels().describe(seg.tunnel).is_some(),
                        "unnumbered tunnel"
                    );
                }
            }
            Err(skip) => {
                let _ = skip.to_string();
            }
        }
        let (datagrams, bytes) = decoder.fragments_held();
        assert!(
            datagrams <= STREAM_LIMITS.max_datagrams,
            "{datagrams} datagrams held"
        );
        assert!(bytes <= STREAM_LIMITS.max_bytes, "{bytes} bytes held");
    }
}
