//! Entry point of the `tracker` fuzz target (`fuzz/fuzz_targets/tracker.rs`), kept in the library so
//! that the fuzz target and the regression replay test below run the same code: a crash found by the
//! fuzzer is replayed by plain `cargo test`, without cargo-fuzz or nightly. Not part of the crate's
//! API.
//!
//! The input is a sequence of fixed-size chunks, each one segment. Addresses come from a small set so
//! that segments meet on the same connections (and the 8-connection cap is exceeded), and sequence and
//! acknowledgment numbers can be relative to what an endpoint sent last, so that the fuzzer reaches
//! handshakes, data, closes and resets rather than only midstream garbage.

use crate::segment::{Flags, Segment, TcpOptions, Timestamp};
use crate::seq::Seq;
use crate::tracker::{Config, Event, Tracker};
use crate::zeek::MAX_HISTORY;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The tracker's cap in this target: small, so that eviction runs all the time.
const MAX_CONNECTIONS: usize = 8;

/// Bytes per segment (how they are read: `step`).
pub const CHUNK: usize = 16;

/// Eight endpoints: clients on ephemeral ports, servers on ports Zeek takes as likely server ports (so
/// that its role flips are reached), an IPv6 pair, a broadcast address and an address on two ports.
fn endpoint(i: u8) -> SocketAddr {
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    let (ip, port) = match i & 7 {
        0 => (v4(10, 0, 0, 1), 40_000),
        1 => (v4(10, 0, 0, 2), 80),
        2 => (v4(10, 0, 0, 1), 40_001),
        3 => (v4(10, 0, 0, 2), 443),
        4 => (IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)), 50_000),
        5 => (IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 22),
        6 => (v4(255, 255, 255, 255), 80),
        _ => (v4(10, 0, 0, 3), 0),
    };
    SocketAddr::new(ip, port)
}

fn u32_at(c: &[u8; CHUNK], at: usize) -> u32 {
    u32::from_be_bytes([c[at], c[at + 1], c[at + 2], c[at + 3]])
}

/// One chunk as a segment and a time step:
/// - `c[0]`: source endpoint (bits 0–2), destination (bits 3–5); bit 6: `seq` is relative to the
///   source's last sequence end; bit 7: `ack` is relative to the destination's last sequence end;
/// - `c[1]`: the raw flags;
/// - `c[2..6]`, `c[6..10]`: `seq`, `ack` (or the offsets added to the relative bases);
/// - `c[10..12]`: payload length, except that `c[10]` = 0xff gives `u32::MAX - c[11]` (a hostile
///   jumbogram length);
/// - `c[12]`: options: MSS (bit 0), window scale `c[12] >> 4` (bit 1), SACK permitted (bit 2),
///   timestamps (bit 3, TSval = `seq`, TSecr = `ack`);
/// - `c[13..15]`: the window (its lowest bit also picks tunnel 0 or 1, the next the TTL, 64 or 61;
///   `c[13]` is also the IPv4 ID);
/// - `c[15]`: time step `2^(bits 0–5)` ns (0: none); bit 6: this segment's time goes back by the step
///   instead (a capture whose clock jumped); bit 7: run due timeouts first.
struct Step {
    seg: Segment,
    src: usize,
    delta: u64,
    back: bool,
    timeouts: bool,
}

fn step(c: &[u8; CHUNK], last_end: &[Seq; 8]) -> Step {
    let (src, dst) = (c[0] & 7, (c[0] >> 3) & 7);
    let mut seq = Seq(u32_at(c, 2));
    if c[0] & 0x40 != 0 {
        seq = last_end[usize::from(src)].plus(seq.0);
    }
    let mut ack = Seq(u32_at(c, 6));
    if c[0] & 0x80 != 0 {
        ack = last_end[usize::from(dst)].plus(ack.0);
    }
    let payload_len = if c[10] == 0xff {
        u32::MAX - u32::from(c[11])
    } else {
        u32::from(u16::from_be_bytes([c[10], c[11]]))
    };
    let o = c[12];
    let options = TcpOptions {
        mss: (o & 1 != 0).then_some(1460),
        window_scale: (o & 2 != 0).then_some(o >> 4),
        sack_permitted: o & 4 != 0,
        timestamps: (o & 8 != 0).then_some((seq.0, ack.0)),
    };
    let seg = Segment {
        src: endpoint(src),
        dst: endpoint(dst),
        seq,
        ack,
        flags: Flags(c[1]),
        window: u16::from_be_bytes([c[13], c[14]]),
        payload_len,
        ip_len: payload_len.saturating_add(40),
        options,
        // The window's low bit doubles as a tunnel number: one 4-tuple in two tunnels.
        tunnel: u32::from(c[14] & 1),
        // Two TTLs, so that resets' origins are judged both ways.
        ttl: if c[14] & 2 == 0 { 64 } else { 61 },
        ip_id: u16::from(c[13]),
    };
    let shift = c[15] & 0x3f;
    Step {
        seg,
        src: usize::from(src),
        delta: if shift == 0 { 0 } else { 1u64 << shift.min(62) },
        back: c[15] & 0x40 != 0,
        timeouts: c[15] & 0x80 != 0,
    }
}

/// Feeds the segments of `data` to a tracker capped at 8 connections and checks that the cap
/// holds after every segment, that every connection it started is reported exactly once (by the end,
/// after [`Tracker::finish`]), and that each record stays bounded.
pub fn fuzz_tracker(data: &[u8]) {
    let mut tracker = Tracker::new(Config {
        max_connections: MAX_CONNECTIONS,
        ..Config::default()
    });
    let mut seen = HashSet::new();
    let mut last_end = [Seq(0); 8];
    let mut now = Timestamp(1_000_000_000);
    let mut drain = |tracker: &mut Tracker| {
        while let Some(Event::Ended(record)) = tracker.poll_event() {
            assert!(seen.insert(record.id), "connection {} reported twice", record.id);
            assert!(
                record.zeek.iter().all(|z| z.history.len() <= MAX_HISTORY),
                "history grew past its cap"
            );
            assert!(
                !record.zeek.is_empty() && record.zeek.len() <= 9,
                "Zeek rows: {}",
                record.zeek.len()
            );
            let _ = (record.packets(), record.duration_ns(), record.anomalies.total());
        }
    };
    for chunk in data.chunks_exact(CHUNK) {
        let Ok(c) = <&[u8; CHUNK]>::try_from(chunk) else {
            continue;
        };
        let s = step(c, &last_end);
        now = now.plus_nanos(if s.back { 0 } else { s.delta });
        let at = if s.back {
            Timestamp(now.0.saturating_sub(s.delta))
        } else {
            now
        };
        if s.timeouts {
            tracker.handle_timeout(now);
            assert!(
                tracker.poll_timeout().is_none_or(|t| t > now),
                "a due timeout was left"
            );
        }
        tracker.handle_segment(at, &s.seg);
        last_end[s.src] = s.seg.seq_end();
        assert!(
            tracker.tracked() <= MAX_CONNECTIONS,
            "tracked {} > cap",
            tracker.tracked()
        );
        drain(&mut tracker);
    }
    tracker.finish();
    drain(&mut tracker);
    let stats = tracker.stats();
    assert_eq!(tracker.tracked(), 0);
    assert!(stats.peak_tracked <= MAX_CONNECTIONS);
    assert_eq!(
        seen.len() as u64,
        stats.connections,
        "connections started and reported differ"
    );
    assert!(tracker.poll_timeout().is_none());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Replays every input under `fuzz/regressions/tracker/` (crashes the fuzzer found, minimised, and
    /// a few seeds) through the fuzz target's own entry point, so CI needs neither cargo-fuzz nor nightly.
    #[test]
    fn fuzz_regressions_replay() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/tracker");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            fuzz_tracker(&data);
            n += 1;
        }
        assert!(n > 0, "no regression inputs in {}", dir.display());
    }

    /// A FIN (or SYN) with a payload length within 2 of `u32::MAX` made `seq_len` overflow (a panic in
    /// debug builds): the tracker must take any `Segment`, not only those the decoder builds.
    #[test]
    fn seq_len_overflow_fin_with_u32_max_payload() {
        let mut seg = Segment::between(endpoint(0), endpoint(1));
        seg.flags = Flags(Flags::SYN | Flags::FIN);
        seg.payload_len = u32::MAX;
        assert_eq!(seg.seq_len(), u32::MAX);
        let mut tracker = Tracker::default();
        tracker.handle_segment(Timestamp(1), &seg);
        tracker.finish();
        assert!(tracker.poll_event().is_some());
    }

    /// A SYN carrying a payload length of `u32::MAX`, then a SYN-ACK: checking the SYN-ACK's ACK against
    /// ISN + 1 + the SYN's data overflowed (a panic in debug builds).
    #[test]
    fn synack_ack_overflow_syn_payload_u32_max() {
        let mut syn = Segment::between(endpoint(0), endpoint(1));
        syn.flags = Flags(Flags::SYN);
        syn.seq = Seq(1000);
        syn.payload_len = u32::MAX;
        let mut synack = Segment::between(endpoint(1), endpoint(0));
        synack.flags = Flags(Flags::SYN | Flags::ACK);
        synack.ack = Seq(1000).plus(1).plus(u32::MAX);
        let mut tracker = Tracker::default();
        tracker.handle_segment(Timestamp(1), &syn);
        tracker.handle_segment(Timestamp(2), &synack);
        tracker.finish();
        let Some(Event::Ended(record)) = tracker.poll_event() else {
            panic!("the connection must end");
        };
        assert_eq!(
            record.anomalies.bad_synack_ack, 0,
            "the SYN-ACK acknowledges the SYN's data"
        );
    }
}
