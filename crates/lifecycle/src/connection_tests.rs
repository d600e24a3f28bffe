//! Lifecycle tests grouped by the state they exercise (after smoltcp), written as wire transcripts
//! ([`crate::transcript::Wire`]): `c(...)` is a segment the client sent, `s(...)` one the server sent,
//! and `.is(client, server)` after a segment asserts both sides' states as the tracker infers them at
//! that point.

use crate::ending::{Cause, Closer, EndReason, Handshake, Side};
use crate::segment::{Flags, Segment, Timestamp};
use crate::seq::Seq;
use crate::state::State::{
    CloseWait, Closed, Closing, Established, FinWait1, FinWait2, LastAck, SynReceived, SynSent, TimeWait,
};
use crate::tracker::{Config, Event, Tracker};
use std::net::SocketAddr;

use crate::transcript::*;

mod syn_sent {
    use super::*;

    #[test]
    fn unanswered_syn_with_retransmission() {
        let r = Wire::new().c(SYN, 100, 0, 0).c(SYN, 100, 0, 0).finish();
        assert_eq!(r.handshake, Handshake::Unanswered);
        assert_eq!(r.cause, Cause::Unanswered);
        assert_eq!(r.syn_retransmits, 1);
        assert_eq!(r.client_state, SynSent);
        assert_eq!(r.server_state, Closed);
        assert_eq!(r.reset_by, None);
    }

    #[test]
    fn refused_by_rst_acking_isn_plus_one() {
        let r = Wire::new().c(SYN, 100, 0, 0).s(RST | ACK, 0, 101, 0).finish();
        assert_eq!(r.handshake, Handshake::Refused);
        assert_eq!(r.cause, Cause::Refused);
        assert_eq!(r.reset_by, Some(Side::Server));
        assert_eq!(r.client_state, Closed);
    }

    #[test]
    fn rst_with_wrong_ack_does_not_refuse() {
        // RFC 9293 §3.10.7.3: in SYN-SENT a RST is acceptable only if it acknowledges the SYN. The
        // client ignores it and its connect times out: unanswered, not half-open (no SYN-ACK).
        let r = Wire::new().c(SYN, 100, 0, 0).s(RST | ACK, 0, 999, 0).finish();
        assert_eq!(r.handshake, Handshake::Unanswered);
        assert_eq!(r.cause, Cause::Unanswered);
        assert_eq!(r.anomalies.out_of_window_rst, 1);
        assert_eq!(r.reset_by, None);
    }

    #[test]
    fn a_duplicate_syn_after_the_refusal_stays_with_it() {
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).s(RST | ACK, 0, 101, 0).c(SYN, 100, 0, 0);
        let r = w.finish();
        assert_eq!(r.cause, Cause::Refused);
        assert_eq!(r.syn_retransmits, 1);
        assert_eq!(w.t.stats().connections, 1);
    }

    #[test]
    fn synack_must_ack_isn_plus_one() {
        let r = Wire::new().c(SYN, 100, 0, 0).s(SYN | ACK, 500, 777, 0).finish();
        assert_eq!(r.anomalies.bad_synack_ack, 1);
        assert_eq!(r.handshake, Handshake::Incomplete);
        assert_eq!(r.cause, Cause::HalfOpen);
    }

    #[test]
    fn fast_open_syn_carries_data() {
        let r = Wire::new()
            .c(SYN, 100, 0, 30)
            .s(SYN | ACK, 500, 131, 0)
            .c(ACK, 131, 501, 0)
            .finish();
        assert!(r.fast_open);
        assert_eq!(r.handshake, Handshake::Complete);
        assert_eq!(r.bytes_client, 30);
    }

    #[test]
    fn simultaneous_open() {
        // RFC 9293 §3.5 figure 8.
        let r = Wire::new()
            .c(SYN, 100, 0, 0)
            .is(SynSent, Closed)
            .s(SYN, 500, 0, 0)
            .is(SynSent, SynSent)
            .c(SYN | ACK, 100, 501, 0)
            .is(SynReceived, SynSent)
            .s(SYN | ACK, 500, 101, 0)
            .is(Established, SynReceived)
            .c(ACK, 101, 501, 0)
            .is(Established, Established)
            .finish();
        assert_eq!(r.handshake, Handshake::Simultaneous);
        // Regression: each side's SYN-ACK counted as a retransmitted SYN (1 for every clean one).
        assert_eq!(r.syn_retransmits, 0);
        assert_eq!(r.client_state, Established);
        assert_eq!(r.server_state, Established);
    }
}

mod syn_received {
    use super::*;

    #[test]
    fn handshake_rtt_and_states() {
        let r = Wire::new().handshake().finish();
        assert_eq!(r.handshake, Handshake::Complete);
        assert_eq!(r.handshake_rtt_ns, Some(MS));
        assert_eq!(r.client_state, Established);
        assert_eq!(r.server_state, Established);
        assert_eq!(r.cause, Cause::Open);
    }

    #[test]
    fn synack_without_final_ack_is_half_open() {
        let r = Wire::new()
            .c(SYN, 100, 0, 0)
            .s(SYN | ACK, 500, 101, 0)
            .s(SYN | ACK, 500, 101, 0)
            .finish();
        assert_eq!(r.handshake, Handshake::Incomplete);
        assert_eq!(r.cause, Cause::HalfOpen);
        assert_eq!(r.server_state, SynReceived);
    }

    #[test]
    fn client_resets_the_synack() {
        let r = Wire::new()
            .c(SYN, 100, 0, 0)
            .s(SYN | ACK, 500, 101, 0)
            .c(RST, 101, 0, 0)
            .finish();
        assert_eq!(r.cause, Cause::Abort);
        assert_eq!(r.reset_by, Some(Side::Client));
        assert_eq!(r.resetter_state, Some(SynSent));
    }
}

mod established {
    use super::*;

    #[test]
    fn open_at_end_of_capture() {
        let r = Wire::new().handshake().exchange().finish();
        assert_eq!(r.cause, Cause::Open);
        assert_eq!(r.end_reason, EndReason::EndOfCapture);
        assert_eq!((r.bytes_client, r.bytes_server), (10, 20));
        assert_eq!(r.closer, Closer::None);
    }

    #[test]
    fn abort_by_server_with_unread_data() {
        // Seed §7: the server closes with the request unread; Linux sends RST, not FIN.
        let r = Wire::new()
            .handshake()
            .c(ACK | PSH, 101, 501, 10)
            .s(RST | ACK, 501, 111, 0)
            .finish();
        assert_eq!(r.cause, Cause::Abort);
        assert_eq!(r.reset_by, Some(Side::Server));
        assert_eq!(r.resetter_state, Some(Established));
        assert_eq!(r.closer, Closer::None);
        assert_eq!((r.client_state, r.server_state), (Closed, Closed));
    }

    #[test]
    fn out_of_window_rst_is_an_anomaly_not_the_ending() {
        // RFC 5961 §3.2: a blind RST far from RCV.NXT must not tear the connection down.
        let r = Wire::new().handshake().exchange().s(RST, 900_000, 0, 0).finish();
        assert_eq!(r.anomalies.out_of_window_rst, 1);
        assert_eq!(r.cause, Cause::Open);
        assert_eq!(r.reset_by, None);
    }

    #[test]
    fn idle_timeout_ends_as_idle() {
        let mut w = Wire::new();
        w.handshake().exchange().advance(301 * 1_000 * MS);
        let ended = w.ended();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].cause, Cause::Idle);
        assert_eq!(ended[0].end_reason, EndReason::IdleTimeout);
    }

    #[test]
    fn midstream_pickup_picks_the_high_port_as_client() {
        let mut w = Wire::new();
        // The first segment seen is the server's data (port 80 -> 40000).
        w.s(ACK | PSH, 501, 111, 20).c(ACK, 111, 521, 0);
        let r = w.finish();
        assert_eq!(r.handshake, Handshake::Midstream);
        assert_eq!(r.client, "10.0.0.1:40000".parse::<SocketAddr>().unwrap());
        assert_eq!(r.client_state, Established);
        assert_eq!(r.bytes_server, 20);
    }

    #[test]
    fn retransmitted_data_counts_once() {
        let r = Wire::new()
            .handshake()
            .c(ACK | PSH, 101, 501, 10)
            .c(ACK | PSH, 101, 501, 10)
            .finish();
        assert_eq!(r.bytes_client, 10);
        assert_eq!(r.packets_client, 4);
    }
}

mod fin_wait {
    use super::*;

    #[test]
    fn four_way_close_client_first() {
        let mut w = Wire::new();
        w.handshake().exchange();
        w.c(FIN | ACK, 111, 521, 0).is(FinWait1, Established);
        w.s(ACK, 521, 112, 0).is(FinWait2, CloseWait);
        w.s(FIN | ACK, 521, 112, 0).is(FinWait2, LastAck);
        w.c(ACK, 112, 522, 0).is(TimeWait, Closed);
        w.t.finish();
        let r = w.ended().remove(0);
        assert_eq!(r.cause, Cause::Graceful);
        assert_eq!(r.closer, Closer::Client);
        assert_eq!(r.client_state, TimeWait);
        assert_eq!(r.server_state, Closed);
    }

    #[test]
    fn time_wait_expires_after_sixty_seconds_only_through_handle_timeout() {
        let mut w = Wire::new();
        w.handshake().exchange();
        w.c(FIN | ACK, 111, 521, 0)
            .s(FIN | ACK, 521, 112, 0)
            .c(ACK, 112, 522, 0);
        w.advance(59 * 1_000 * MS);
        assert!(w.ended().is_empty(), "still in TIME-WAIT");
        w.advance(2 * 1_000 * MS);
        let r = w.ended().remove(0);
        assert_eq!(r.end_reason, EndReason::TimeWaitExpired);
        assert_eq!(r.client_state, Closed);
        assert_eq!(r.cause, Cause::Graceful);
    }

    #[test]
    fn three_segment_close_server_first() {
        let mut w = Wire::new();
        w.handshake().exchange();
        w.s(FIN | ACK, 521, 111, 0).is(Established, FinWait1);
        // The client acknowledges and closes at once: CLOSE-WAIT, then LAST-ACK.
        w.c(FIN | ACK, 111, 522, 0).is(LastAck, FinWait2);
        w.s(ACK, 522, 112, 0).is(Closed, TimeWait);
        let r = w.finish();
        assert_eq!(r.closer, Closer::Server);
        assert_eq!(r.cause, Cause::Graceful);
        assert_eq!(r.server_state, TimeWait);
        assert_eq!(r.client_state, Closed);
    }

    #[test]
    fn fin_never_acknowledged() {
        let r = Wire::new()
            .handshake()
            .exchange()
            .c(FIN | ACK, 111, 521, 0)
            .finish();
        assert_eq!(r.cause, Cause::FinUnacked);
        assert_eq!(r.client_state, FinWait1);
    }

    #[test]
    fn reset_after_close_when_peer_writes() {
        // Seed §8: the client gave up and closed; the slow server writes; the client's kernel resets.
        let mut w = Wire::new();
        w.handshake().c(ACK | PSH, 101, 501, 10);
        w.c(FIN | ACK, 111, 501, 0).s(ACK, 501, 112, 0);
        w.s(ACK | PSH, 501, 112, 13).is(FinWait2, CloseWait);
        w.c(RST, 112, 0, 0).is(Closed, Closed);
        let r = w.finish();
        assert_eq!(r.cause, Cause::ResetAfterClose);
        assert_eq!(r.closer, Closer::Client);
        assert_eq!(r.reset_by, Some(Side::Client));
        assert_eq!(r.resetter_state, Some(FinWait2));
    }
}

mod close_wait {
    use super::*;

    #[test]
    fn peer_never_closes() {
        let mut w = Wire::new();
        w.handshake()
            .exchange()
            .c(FIN | ACK, 111, 521, 0)
            .s(ACK, 521, 112, 0)
            .is(FinWait2, CloseWait);
        let r = w.finish();
        assert_eq!(r.cause, Cause::CloseWait);
        assert_eq!(r.server_state, CloseWait);
        assert_eq!(r.client_state, FinWait2);
    }

    #[test]
    fn half_close_then_data_then_fin_is_graceful() {
        // Seed §4: shutdown(SHUT_WR) by the client; the server keeps sending, then closes.
        let mut w = Wire::new();
        w.handshake().c(ACK | PSH, 101, 501, 10).c(FIN | ACK, 111, 501, 0);
        w.s(ACK | PSH, 501, 112, 1000).is(FinWait2, CloseWait);
        w.s(ACK | PSH, 1501, 112, 1000).c(ACK, 112, 2501, 0);
        w.s(FIN | ACK, 2501, 112, 0).is(FinWait2, LastAck);
        w.c(ACK, 112, 2502, 0).is(TimeWait, Closed);
        let r = w.finish();
        assert_eq!(r.cause, Cause::Graceful);
        assert_eq!(r.closer, Closer::Client);
        assert_eq!(r.bytes_server, 2000);
        assert_eq!(r.client_state, TimeWait);
    }
}

mod closing {
    use super::*;

    #[test]
    fn simultaneous_close_both_hold_time_wait() {
        let mut w = Wire::new();
        w.handshake().exchange();
        // The FINs cross (RFC 9293 §3.6 figure 13).
        w.c(FIN | ACK, 111, 521, 0).is(FinWait1, Established);
        w.s(FIN | ACK, 521, 111, 0).is(FinWait1, FinWait1);
        w.c(ACK, 112, 522, 0).is(Closing, FinWait2);
        w.s(ACK, 522, 112, 0).is(TimeWait, TimeWait);
        let r = w.finish();
        assert_eq!(r.closer, Closer::Both);
        assert_eq!(r.cause, Cause::Graceful);
        assert_eq!((r.client_state, r.server_state), (TimeWait, TimeWait));
    }
}

mod time_wait {
    use super::*;

    #[test]
    fn new_syn_on_the_tuple_starts_a_new_connection() {
        let mut w = Wire::new();
        w.handshake().exchange();
        w.c(FIN | ACK, 111, 521, 0)
            .s(FIN | ACK, 521, 112, 0)
            .c(ACK, 112, 522, 0);
        w.c(SYN, 90_000, 0, 0)
            .s(SYN | ACK, 7_000, 90_001, 0)
            .c(ACK, 90_001, 7_001, 0);
        let first = w.ended();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].end_reason, EndReason::PortReused);
        assert_eq!(first[0].cause, Cause::Graceful);
        // Regression: the closer was still reported in TIME-WAIT; the new SYN ended it (RFC 6191).
        assert_eq!((first[0].client_state, first[0].server_state), (Closed, Closed));
        let second = w.finish();
        assert_eq!(second.handshake, Handshake::Complete);
        assert_eq!(w.t.stats().port_reuses, 1);
    }

    #[test]
    fn rst_to_time_wait() {
        let mut w = Wire::new();
        w.handshake().exchange();
        w.c(FIN | ACK, 111, 521, 0)
            .s(FIN | ACK, 521, 112, 0)
            .c(ACK, 112, 522, 0);
        w.s(RST, 522, 0, 0);
        let r = w.finish();
        assert_eq!(r.cause, Cause::ResetInTimeWait);
        assert_eq!(r.client_state, Closed);
    }

    #[test]
    fn late_retransmission_after_reset_stays_with_the_connection() {
        let mut w = Wire::new();
        w.handshake()
            .exchange()
            .s(RST | ACK, 521, 111, 0)
            .s(RST | ACK, 521, 111, 0);
        let r = w.finish();
        assert_eq!(r.anomalies.extra_rst, 1);
        assert_eq!(w.t.stats().connections, 1);
    }
}

mod wraparound {
    use super::*;

    #[test]
    fn close_across_sequence_wrap() {
        let isn = u32::MAX - 4;
        let mut w = Wire::new();
        w.c(SYN, isn, 0, 0)
            .s(SYN | ACK, 500, isn.wrapping_add(1), 0)
            .c(ACK, isn.wrapping_add(1), 501, 0);
        w.c(ACK | PSH, isn.wrapping_add(1), 501, 10); // data crosses 2^32
        let fin = isn.wrapping_add(11);
        w.c(FIN | ACK, fin, 501, 0).s(ACK, 501, fin.wrapping_add(1), 0);
        w.s(FIN | ACK, 501, fin.wrapping_add(1), 0)
            .c(ACK, fin.wrapping_add(1), 502, 0);
        let r = w.finish();
        assert_eq!(r.bytes_client, 10);
        assert_eq!(r.cause, Cause::Graceful);
        assert_eq!(r.client_state, TimeWait);
    }
}

mod memory {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cap_evicts_least_recent_and_counts() {
        let mut t = Tracker::new(Config {
            max_connections: 2,
            ..Config::default()
        });
        for port in 1..=5u16 {
            let mut seg = Segment::between(
                SocketAddr::from(([10, 0, 0, 1], 40_000 + port)),
                "10.0.0.2:80".parse().unwrap(),
            );
            seg.flags = Flags(SYN);
            t.handle_segment(Timestamp(u64::from(port) * MS), &seg);
            assert!(t.tracked() <= 2);
        }
        assert_eq!(t.stats().evicted, 3);
        let mut evicted = Vec::new();
        while let Some(Event::Ended(r)) = t.poll_event() {
            evicted.push((r.client.port(), r.end_reason));
        }
        assert_eq!(
            evicted,
            vec![
                (40_001, EndReason::Evicted),
                (40_002, EndReason::Evicted),
                (40_003, EndReason::Evicted)
            ]
        );
    }

    fn arb_segment() -> impl Strategy<Value = (u64, Segment)> {
        (
            0u64..10_000_000_000,
            0u8..4,
            0u8..4,
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            0u32..3000,
            any::<u16>(),
        )
            .prop_map(|(dt, a, b, flags, seq, ack, len, win)| {
                let mut seg = Segment::between(
                    SocketAddr::from(([10, 0, 0, a], 1000 + u16::from(a))),
                    SocketAddr::from(([10, 0, 0, b], 80)),
                );
                seg.flags = Flags(flags);
                seg.seq = Seq(seq % 4096);
                seg.ack = Seq(ack % 4096);
                seg.payload_len = len;
                seg.window = win;
                (dt, seg)
            })
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_under_cap(segs in proptest::collection::vec(arb_segment(), 1..300)) {
            let mut t = Tracker::new(Config { max_connections: 3, ..Config::default() });
            let mut now = 0u64;
            let mut ended = 0u64;
            for (dt, seg) in &segs {
                now += dt / 1000;
                t.handle_segment(Timestamp(now), seg);
                if now % 7 == 0 { t.handle_timeout(Timestamp(now)); }
                prop_assert!(t.tracked() <= 3);
                while t.poll_event().is_some() { ended += 1; }
            }
            t.finish();
            while t.poll_event().is_some() { ended += 1; }
            prop_assert_eq!(ended, t.stats().connections);
        }
    }
}

/// Traffic from other stacks and capture points (issue 9): each test is named after the defect it
/// pins down, and reproduces the segments of a public capture where the defect was found.
mod real_world {
    use super::*;

    const S: u64 = 1_000 * MS;

    #[test]
    fn half_open_discovery_is_not_an_abort() {
        // RFC 9293 §3.5.1 figure 10: the server still holds an old connection on the 4-tuple and
        // answers the new SYN with a bare ACK of its old sequence space; the client resets that with
        // <SEQ=SEG.ACK><CTL=RST>, stays in SYN-SENT and retransmits its SYN (3 s later, as Windows
        // does: past the tracker's linger after a reset, so a reset here would split the connection).
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).is(SynSent, Closed);
        w.s(ACK, 7_000, 55_555, 0).is(SynSent, Closed);
        w.c(RST, 55_555, 0, 0).is(SynSent, Closed);
        w.advance(3 * S);
        w.c(SYN, 100, 0, 0).is(SynSent, Closed);
        w.s(SYN | ACK, 500, 101, 0).is(SynSent, SynReceived);
        w.c(ACK, 101, 501, 0).is(Established, Established);
        w.exchange();
        w.c(FIN | ACK, 111, 521, 0).s(FIN | ACK, 521, 112, 0);
        w.c(ACK, 112, 522, 0).is(TimeWait, Closed);
        let r = w.finish();
        assert_eq!(w.t.stats().connections, 1);
        assert_eq!(r.handshake, Handshake::Complete);
        assert_eq!(r.reset_by, None);
        assert_eq!(r.cause, Cause::Graceful);
        assert_eq!(r.anomalies.half_open_discovery, 1);
        assert_eq!(r.syn_retransmits, 1);
        assert_eq!((r.bytes_client, r.bytes_server), (10, 20));
    }

    #[test]
    fn a_reset_echoing_no_timestamp_of_the_syn_does_not_refuse() {
        // An IDS-evasion test (suricata-verify bug-3286, "linux evasion"): a RST+ACK and a FIN that
        // acknowledge the SYN but echo a timestamp the client never sent. Linux drops the RST and
        // answers the FIN with its own RST (PAWSActiveRejected); the real SYN-ACK then completes.
        let mut w = Wire::new();
        w.ts(1_821_165_629, 0).c(SYN, 100, 0, 0).is(SynSent, Closed);
        w.ts(100, 100).s(RST | ACK, 0, 101, 0).is(SynSent, Closed);
        w.ts(100, 100).s(FIN | ACK, 0, 101, 0).is(SynSent, Closed);
        w.c(RST, 101, 0, 0).is(SynSent, Closed);
        w.ts(9, 1_821_165_629)
            .s(SYN | ACK, 500, 101, 0)
            .is(SynSent, SynReceived);
        w.c(ACK, 101, 501, 0).is(Established, Established);
        w.c(ACK | PSH, 101, 501, 338).s(ACK | PSH, 501, 439, 79);
        let r = w.finish();
        assert_eq!((r.handshake, r.cause), (Handshake::Complete, Cause::Open));
        assert_eq!(r.reset_by, None);
        assert_eq!((r.bytes_client, r.bytes_server), (338, 79));
        assert_eq!(r.anomalies.out_of_window_rst, 1);
        assert_eq!(r.anomalies.half_open_discovery, 1);
    }

    #[test]
    fn a_refusal_the_client_ignores_is_taken_back() {
        // suricata-verify bug-3286 "windows evasion": a RST+ACK acknowledging the SYN, a FIN, then the
        // real SYN-ACK, which the client acknowledges and uses.
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).s(RST | ACK, 0, 101, 0).is(Closed, Closed);
        w.s(FIN | ACK, 0, 101, 0).is(Closed, Closed);
        w.s(SYN | ACK, 500, 101, 0).is(Closed, Closed);
        w.c(ACK, 101, 501, 0).is(Established, Established);
        w.c(ACK | PSH, 101, 501, 343).s(ACK | PSH, 501, 444, 79);
        let r = w.finish();
        assert_eq!(
            (r.handshake, r.cause, r.reset_by),
            (Handshake::Complete, Cause::Open, None)
        );
        assert_eq!((r.bytes_client, r.bytes_server), (343, 79));
        assert_eq!(r.anomalies.ignored_rst, 1);
    }

    #[test]
    fn a_refused_syn_retried_with_the_same_isn_is_a_new_attempt() {
        // Windows retries a refused connect half a second later with the same ISN (nDPI rtsp.pcap).
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).s(RST | ACK, 0, 101, 0);
        w.advance(500 * MS);
        w.c(SYN, 100, 0, 0).s(SYN | ACK, 500, 101, 0).c(ACK, 101, 501, 0);
        let first = w.ended();
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0].cause, first[0].end_reason),
            (Cause::Refused, EndReason::PortReused)
        );
        let second = w.finish();
        assert_eq!(
            (second.handshake, second.cause),
            (Handshake::Complete, Cause::Open)
        );
    }

    #[test]
    fn a_synack_resent_with_a_new_isn_is_the_one_acknowledged() {
        // nDPI tls_multiple_synack_different_seq: the client acknowledges the last SYN-ACK's ISN.
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0)
            .s(SYN | ACK, 500, 101, 0)
            .s(SYN | ACK, 90_000, 101, 0);
        w.c(ACK | PSH, 101, 90_001, 517).is(Established, Established);
        w.s(ACK | PSH, 90_001, 618, 5_400);
        let r = w.finish();
        assert_eq!(r.handshake, Handshake::Complete);
        assert_eq!((r.bytes_client, r.bytes_server), (517, 5_400));
    }

    #[test]
    fn bytes_past_two_gigabytes_are_counted_whole() {
        // Zeek's bigtransfer.pcap: 5.4 GB from the server, its sequence numbers wrapping past 2^32.
        let mut w = Wire::new();
        w.handshake();
        let chunk = 60_000u32;
        let mut seq = 501u32;
        for _ in 0..100_000 {
            w.s(ACK | PSH, seq, 101, chunk);
            seq = seq.wrapping_add(chunk);
            w.c(ACK, 101, seq, 0);
        }
        let r = w.finish();
        assert_eq!(r.bytes_server, 6_000_000_000);
    }

    #[test]
    fn a_client_only_capture_is_one_sided_not_unanswered() {
        // A tap that sees client -> server only: the client's ACK of ISN+1 proves the SYN-ACK.
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).is(SynSent, Closed);
        w.c(ACK, 101, 501, 0).is(Established, Established);
        w.c(ACK | PSH, 101, 501, 10);
        w.c(ACK, 111, 1_521, 0); // acknowledges 1,020 bytes of the server's
        w.c(FIN | ACK, 111, 1_521, 0).is(FinWait1, Established);
        w.c(ACK, 112, 1_522, 0).is(FinWait1, Established);
        let r = w.finish();
        assert_eq!(r.handshake, Handshake::Complete);
        assert!(r.one_sided);
        assert_eq!(r.cause, Cause::OneSided);
        assert_eq!(r.bytes_client, 10);
        // What the client acknowledged, the server's FIN included (it cannot be told from a byte).
        assert_eq!(r.bytes_server, 1_021);
        assert!(!r.cause.is_problem());
    }

    #[test]
    fn a_server_only_capture_ends_established_not_in_the_handshake() {
        // A tap that sees server -> client only: 180 KB of data used to end in SYN-SENT/SYN-RECEIVED.
        let mut w = Wire::new();
        w.s(SYN | ACK, 500, 101, 0).is(SynSent, SynReceived);
        w.s(ACK | PSH, 501, 111, 1_000).is(Established, Established);
        for i in 1..180u32 {
            w.s(ACK | PSH, 501 + i * 1_000, 111, 1_000);
        }
        w.s(FIN | ACK, 180_501, 111, 0).is(Established, FinWait1);
        let r = w.finish();
        assert!(r.one_sided);
        assert_eq!(r.handshake, Handshake::Midstream);
        assert_eq!(r.cause, Cause::OneSided);
        assert_eq!(r.bytes_server, 180_000);
        // The SYN-ACK acknowledged ISN+1 = 101; the server acknowledged 10 bytes after it.
        assert_eq!(r.bytes_client, 10);
    }

    #[test]
    fn an_injected_segment_does_not_inflate_the_bytes() {
        // A segment 1.3 GB ahead of the receiver's window: no stack would accept it.
        let mut w = Wire::new();
        w.handshake().exchange();
        w.s(ACK | PSH, 521 + 1_300_000_000, 111, 1_000);
        let r = w.finish();
        assert_eq!((r.bytes_client, r.bytes_server), (10, 20));
        assert_eq!(r.anomalies.out_of_window_data, 1);
    }

    #[test]
    fn an_unacknowledged_sequence_jump_is_not_counted_an_acknowledged_one_is() {
        // 17 bytes 30,000 ahead (inside the window): counted only once the peer acknowledges them,
        // which a real gap (capture loss) always gets and an injected segment never does.
        let mut w = Wire::new();
        w.handshake().exchange();
        w.s(ACK | PSH, 30_521, 111, 17).c(ACK, 111, 521, 0);
        assert_eq!(w.t.connection(w.client, w.server).unwrap().server().bytes(), 20);
        w.c(ACK, 111, 30_538, 0);
        let r = w.finish();
        assert_eq!(r.bytes_server, 30_037);
    }

    #[test]
    fn a_reset_after_a_fin_that_left_data_unacknowledged_is_reset_after_close() {
        // The client's request was captured before the server's FIN, but the FIN does not acknowledge
        // it: it arrived after the server closed, and the server's kernel reset (seed §8).
        let mut w = Wire::new();
        w.handshake().c(ACK | PSH, 101, 501, 10);
        w.s(FIN | ACK, 501, 101, 0).is(Established, FinWait1);
        w.s(RST | ACK, 502, 111, 0).is(Closed, Closed);
        let r = w.finish();
        assert_eq!(r.cause, Cause::ResetAfterClose);
        assert_eq!(r.reset_by, Some(Side::Server));
        assert_eq!(r.resetter_state, Some(FinWait1));
    }

    #[test]
    fn fin_then_reset_with_nothing_to_provoke_it_is_not_an_abort() {
        // An HTTP server answers, closes, and resets at once.
        let mut w = Wire::new();
        w.handshake().exchange();
        w.s(FIN | ACK, 521, 111, 0).is(Established, FinWait1);
        w.s(RST | ACK, 522, 111, 0).is(Closed, Closed);
        let r = w.finish();
        assert_eq!(r.cause, Cause::FinThenReset);
        assert_eq!(r.closer, Closer::Server);
        assert_eq!(r.resetter_state, Some(FinWait1));
    }

    #[test]
    fn a_rst_instead_of_the_last_ack_is_fin_then_reset() {
        let mut w = Wire::new();
        w.handshake().exchange();
        w.c(FIN | ACK, 111, 521, 0)
            .s(FIN | ACK, 521, 112, 0)
            .is(FinWait2, LastAck);
        w.c(RST, 112, 0, 0).is(Closed, Closed);
        let r = w.finish();
        assert_eq!(r.cause, Cause::FinThenReset);
        assert_eq!(r.reset_by, Some(Side::Client));
    }

    #[test]
    fn a_syn_answered_only_by_a_rst_without_ack_is_unanswered_not_half_open() {
        // RFC 9293 §3.10.7.3: SYN-SENT ignores a RST without ACK; the connect times out.
        let r = Wire::new()
            .c(SYN, 100, 0, 0)
            .s(RST, 0, 0, 0)
            .is(SynSent, Closed)
            .c(SYN, 100, 0, 0)
            .finish();
        assert_eq!(r.handshake, Handshake::Unanswered);
        assert_eq!(r.cause, Cause::Unanswered);
        assert_eq!(r.anomalies.out_of_window_rst, 1);
    }

    #[test]
    fn a_stray_synack_after_a_reset_changes_no_state() {
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).s(RST | ACK, 0, 101, 0).is(Closed, Closed);
        w.s(SYN | ACK, 500, 101, 0).is(Closed, Closed);
        let r = w.finish();
        assert_eq!(r.cause, Cause::Refused);
        assert_eq!((r.client_state, r.server_state), (Closed, Closed));
    }

    #[test]
    fn every_zeek_row_is_kept_oldest_first() {
        // Zeek's attempt timer (5 s) ends the first SYN as S0; the retransmission 6 s later starts a
        // second Zeek connection, while ours goes on. The first row is the one that starts with the
        // connection's first segment.
        let mut w = Wire::new();
        w.c(SYN, 100, 0, 0).advance(6 * S).c(SYN, 100, 0, 0);
        w.s(SYN | ACK, 500, 101, 0).c(ACK, 101, 501, 0);
        let r = w.finish();
        assert_eq!(r.zeek.len(), 2);
        assert_eq!(r.zeek[0].conn_state, "S0");
        assert_eq!(r.zeek[0].history, "S");
        assert_eq!(r.zeek[1].history, "ShA");
    }
}

/// Who really sent the RST (`crate::reset_origin`) and the silence before it.
mod reset_origin {
    use super::*;
    use crate::reset_origin::ResetOrigin;

    const S: u64 = 1_000 * MS;

    /// A tracker that keeps idle connections for an hour (the default gives up after 300 s).
    fn patient() -> Wire {
        Wire::with(Config {
            idle_timeout: 3_600 * S,
            ..Config::default()
        })
    }

    #[test]
    fn a_rst_with_the_servers_ttl_after_a_silence_is_the_servers() {
        let mut w = patient();
        w.handshake().exchange().advance(400 * S);
        w.s(RST | ACK, 521, 111, 0);
        let r = w.finish();
        assert_eq!(r.reset_origin, Some(ResetOrigin::Endpoint));
        assert_eq!(
            r.reset_evidence,
            ["TTL 63, as the server's other 2 segments (63)"]
        );
        assert_eq!(r.idle_before_reset_ns, Some(400 * S + MS));
    }

    #[test]
    fn a_rst_a_hop_nearer_than_the_server_was_forged_on_the_way() {
        // The client writes after 6 minutes; a NAT that forgot the flow answers in the server's name.
        let mut w = patient();
        w.handshake().exchange().advance(360 * S);
        w.c(ACK | PSH, 111, 521, 5);
        w.ttl.1 = 64;
        w.s(RST, 521, 0, 0);
        let r = w.finish();
        assert_eq!(r.reset_by, Some(Side::Server));
        assert_eq!(r.reset_origin, Some(ResetOrigin::Middlebox));
        assert_eq!(
            r.reset_evidence,
            ["TTL 64, while the server's other 2 segments arrive with 63"]
        );
        // The silence before the exchange the RST ended: the client's write and the RST are one.
        assert_eq!(r.idle_before_reset_ns, Some(360 * S + MS));
    }

    #[test]
    fn a_refusal_has_nothing_to_compare_with() {
        let r = Wire::new().c(SYN, 100, 0, 0).s(RST | ACK, 0, 101, 0).finish();
        assert_eq!(r.reset_origin, Some(ResetOrigin::Unknown));
        assert_eq!(r.idle_before_reset_ns, Some(0));
    }
}
