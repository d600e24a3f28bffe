//! A connection that has shown nothing but its opening SYN, kept as that SYN instead of being built.
//!
//! In a SYN flood, and in a scan, nearly every tracked connection is one SYN that nothing answers, and
//! a capture of one holds a million of them at once. A [`Connection`] is over a kilobyte (both
//! endpoints' sequence state, Zeek's view, the anomalies); the SYN it would be built from is 64 bytes.
//! The Linux kernel does the same for the same reason: a SYN gets a small `request_sock`, and a full
//! socket only once the handshake completes (`tcp_conn_request`).
//!
//! Building is deterministic: [`Connection::new`] on the stored SYN, with its id and time, is the
//! connection the tracker would have built when the SYN arrived. So a connection is built on its
//! second segment, or when it ends, and what it reports cannot differ.

use crate::connection::Connection;
use crate::segment::{Flags, Segment, TcpOptions, Timestamp};
use crate::seq::Seq;
use std::net::SocketAddr;

/// The first segment of a connection without its addresses and tunnel (the flow table's key holds
/// them), with what the tracker gave the connection when it arrived.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FirstSegment {
    /// The connection's id.
    pub(crate) id: u64,
    /// When it arrived: the connection's start.
    pub(crate) at: Timestamp,
    seq: Seq,
    ack: Seq,
    payload_len: u32,
    ip_len: u32,
    options: TcpOptions,
    window: u16,
    ip_id: u16,
    flags: Flags,
    ttl: u8,
    /// It was sent from the first of the key's two ends.
    from_first: bool,
}

impl FirstSegment {
    /// Keeps `seg`, the first segment of a new connection between `first` and the other end.
    pub(crate) fn new(id: u64, seg: &Segment, at: Timestamp, first: SocketAddr) -> FirstSegment {
        FirstSegment {
            id,
            at,
            seq: seg.seq,
            ack: seg.ack,
            payload_len: seg.payload_len,
            ip_len: seg.ip_len,
            options: seg.options,
            window: seg.window,
            ip_id: seg.ip_id,
            flags: seg.flags,
            ttl: seg.ttl,
            from_first: seg.src == first,
        }
    }

    /// A connection whose only segment is `seg` need not be built yet: a SYN opening a connection
    /// (no ACK, RST or FIN), which leaves it waiting for the handshake, nothing else decided.
    pub(crate) fn unbuilt(seg: &Segment) -> bool {
        seg.flags.syn() && !seg.flags.ack() && !seg.flags.rst() && !seg.flags.fin()
    }

    /// The segment as it was captured, between the key's two ends.
    fn segment(&self, (first, second): (SocketAddr, SocketAddr), tunnel: u32) -> Segment {
        let (src, dst) = if self.from_first {
            (first, second)
        } else {
            (second, first)
        };
        Segment {
            src,
            dst,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            payload_len: self.payload_len,
            ip_len: self.ip_len,
            options: self.options,
            tunnel,
            ttl: self.ttl,
            ip_id: self.ip_id,
        }
    }

    /// [`FirstSegment::connection`] on the heap: once per connection, out of the way of every segment.
    #[cold]
    #[inline(never)]
    pub(crate) fn build(
        &self,
        ends: (SocketAddr, SocketAddr),
        tunnel: u32,
        zeek_view: bool,
    ) -> Box<Connection> {
        Box::new(self.connection(ends, tunnel, zeek_view))
    }

    /// The connection as the tracker would have built it when the segment arrived (with Zeek's view
    /// if `zeek_view`).
    pub(crate) fn connection(
        &self,
        ends: (SocketAddr, SocketAddr),
        tunnel: u32,
        zeek_view: bool,
    ) -> Connection {
        Connection::new(self.id, &self.segment(ends, tunnel), self.at, zeek_view)
    }
}

#[cfg(test)]
mod tests {
    use super::FirstSegment;
    use crate::ending::EndReason;
    use crate::segment::{Flags, Segment, Timestamp};
    use crate::steps::WatchOptions;
    use crate::tracker::{Config, Event, Tracker};
    use crate::{Cause, ConnectionRecord, Seq};

    /// Every record of a run, in the order they came, without the steps a watch adds.
    fn records(mut t: Tracker, segments: &[(u64, Segment)]) -> Vec<ConnectionRecord> {
        let mut out = Vec::new();
        let mut drain = |t: &mut Tracker| {
            while let Some(Event::Ended(mut r)) = t.poll_event() {
                r.steps = None;
                out.push(*r);
            }
        };
        for (ms, seg) in segments {
            let now = Timestamp(ms * 1_000_000);
            t.handle_timeout(now);
            t.handle_segment(now, seg);
            drain(&mut t);
        }
        t.finish();
        drain(&mut t);
        out
    }

    /// 400 connections to one server, a SYN every 8 ms: answered and completed, refused, retransmitted,
    /// or left unanswered, in turn.
    fn syns() -> Vec<(u64, Segment)> {
        let server: std::net::SocketAddr = "192.0.2.1:80".parse().unwrap();
        let mut segments = Vec::new();
        for i in 0..400u64 {
            let client = format!("10.0.{}.{}:{}", i % 7, i % 250, 1024 + i)
                .parse()
                .unwrap();
            let mut syn = Segment::between(client, server);
            (syn.flags, syn.seq, syn.options.mss) = (Flags(Flags::SYN), Seq(i as u32 * 7919), Some(1460));
            segments.push((i * 8, syn));
            match i % 4 {
                // Answered, then the handshake completes: built on the SYN-ACK.
                0 => {
                    let mut synack = Segment::between(server, client);
                    (synack.flags, synack.seq, synack.ack) =
                        (Flags(Flags::SYN | Flags::ACK), Seq(9), syn.seq.plus(1));
                    segments.push((i * 8 + 1, synack));
                    let mut ack = Segment::between(client, server);
                    (ack.flags, ack.seq, ack.ack) = (Flags(Flags::ACK), syn.seq.plus(1), Seq(10));
                    segments.push((i * 8 + 2, ack));
                }
                // Refused.
                1 => {
                    let mut rst = Segment::between(server, client);
                    (rst.flags, rst.ack) = (Flags(Flags::RST | Flags::ACK), syn.seq.plus(1));
                    segments.push((i * 8 + 1, rst));
                }
                // Retransmitted.
                2 => segments.push((i * 8 + 3, syn)),
                _ => {}
            }
        }
        segments
    }

    /// A 1 s handshake timeout ends the early unanswered SYNs; a cap of 200 evicts others.
    fn config() -> Config {
        Config {
            handshake_timeout: 1_000_000_000,
            max_connections: 200,
            ..Config::default()
        }
    }

    /// Connections left unbuilt (only a SYN seen) end with the same records, in the same order, as when
    /// every connection is built at once (which a watch on all of them forces): evicted by the cap,
    /// timed out, answered later, retransmitted, and ended with the capture.
    #[test]
    fn an_unbuilt_connection_reports_what_a_built_one_does() {
        let lazy = records(Tracker::new(config()), &syns());
        let mut built = Tracker::new(config());
        built.watch(
            |_| true,
            WatchOptions {
                limit: usize::MAX,
                fold: false,
            },
        );
        assert_eq!(lazy, records(built, &syns()));
        assert_eq!(lazy.len(), 400);
        for reason in [
            EndReason::Evicted,
            EndReason::IdleTimeout,
            EndReason::EndOfCapture,
        ] {
            assert!(lazy.iter().any(|r| r.end_reason == reason), "{reason:?}");
        }
        assert!(lazy.iter().any(|r| r.cause == Cause::Refused));
    }

    /// Without Zeek's view the records are the same but for the Zeek rows, which they lack.
    #[test]
    fn without_zeek_view_only_the_zeek_rows_are_missing() {
        let mut with = records(Tracker::new(config()), &syns());
        let without = records(
            Tracker::new(Config {
                zeek_view: false,
                ..config()
            }),
            &syns(),
        );
        assert!(with.iter().all(|r| !r.zeek.is_empty()));
        for r in &mut with {
            r.zeek.clear();
        }
        assert_eq!(with, without);
    }

    #[test]
    fn the_segment_comes_back_as_it_was_from_either_end() {
        let (a, b) = ("10.0.0.1:80".parse().unwrap(), "10.0.0.2:40000".parse().unwrap());
        let mut seg = Segment::between(b, a);
        seg.flags = Flags(Flags::SYN | Flags::ECE | Flags::CWR);
        (
            seg.seq.0,
            seg.window,
            seg.payload_len,
            seg.ip_len,
            seg.tunnel,
            seg.ttl,
            seg.ip_id,
        ) = (7, 1000, 3, 63, 9, 57, 4242);
        (
            seg.options.mss,
            seg.options.window_scale,
            seg.options.sack_permitted,
        ) = (Some(1460), Some(7), true);
        seg.options.timestamps = Some((11, 0));
        for first in [a, b] {
            let kept = FirstSegment::new(5, &seg, Timestamp(3), first);
            let ends = if first == a { (a, b) } else { (b, a) };
            assert_eq!(kept.segment(ends, 9), seg);
        }
        assert!(FirstSegment::unbuilt(&seg));
        for other in [Flags::ACK, Flags::RST, Flags::FIN] {
            seg.flags = Flags(Flags::SYN | other);
            assert!(!FirstSegment::unbuilt(&seg), "{other}");
        }
    }

    #[test]
    fn it_is_small() {
        assert!(size_of::<FirstSegment>() <= 64, "{}", size_of::<FirstSegment>());
    }
}
