//! The conversation harness ([`Conv`]) shared by the tests of every file of the Zeek view, and the tests
//! of whole conversations.
//!
//! [`Conv`] drives one [`ZeekConn`] alone, for what only the Zeek view has (its own configuration, its
//! timers called directly). Transcripts through the tracker, asserting the tracker's and Zeek's states
//! of both endpoints after each segment, use the crate's one harness, [`crate::transcript::Wire`].

use super::timers::SEC;
use super::{MAX_HISTORY, ZeekConfig, ZeekConn};
use crate::segment::{Flags, Segment, Timestamp};
use crate::seq::Seq;
use proptest::prelude::*;
use std::net::SocketAddr;

pub(super) const SYN: u8 = Flags::SYN;
pub(super) const ACK: u8 = Flags::ACK;
pub(super) const FIN: u8 = Flags::FIN;
pub(super) const RST: u8 = Flags::RST;
pub(super) const PSH: u8 = Flags::PSH;

pub(super) fn client() -> SocketAddr {
    "10.0.0.1:40000".parse().unwrap()
}
pub(super) fn server() -> SocketAddr {
    "10.0.0.2:80".parse().unwrap()
}

/// A conversation between [`client`] (ISN 1000) and [`server`] (ISN 5000), tracked by Zeek's rules.
pub(super) struct Conv {
    z: Option<ZeekConn>,
    /// Time of the last segment, in nanoseconds; each segment comes 10 ms after the previous one.
    pub(super) t: u64,
    cfg: ZeekConfig,
}

impl Conv {
    pub(super) fn new() -> Conv {
        Conv {
            z: None,
            t: 1_000 * SEC,
            cfg: ZeekConfig::default(),
        }
    }

    /// Sends a segment; `seq`/`ack` are relative to the sender's / receiver's ISN.
    fn send(&mut self, from_client: bool, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Conv {
        let (src, dst, isn, peer_isn) = if from_client {
            (client(), server(), 1000, 5000)
        } else {
            (server(), client(), 5000, 1000)
        };
        let mut s = Segment::between(src, dst);
        s.flags = Flags(flags);
        s.seq = Seq(isn + seq);
        s.ack = if flags & ACK != 0 {
            Seq(peer_isn + ack)
        } else {
            Seq(0)
        };
        s.payload_len = len;
        s.ip_len = 40 + len;
        self.seg(s)
    }

    pub(super) fn seg(&mut self, s: Segment) -> &mut Conv {
        self.t += SEC / 100;
        let now = Timestamp(self.t);
        let cfg = self.cfg.clone();
        self.z
            .get_or_insert_with(|| ZeekConn::with_config(&s, now, &cfg))
            .observe(&s, now);
        self
    }

    pub(super) fn c(&mut self, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Conv {
        self.send(true, flags, seq, ack, len)
    }
    pub(super) fn s(&mut self, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Conv {
        self.send(false, flags, seq, ack, len)
    }

    /// SYN, SYN-ACK, ACK.
    pub(super) fn handshake(&mut self) -> &mut Conv {
        self.c(SYN, 0, 0, 0).s(SYN | ACK, 0, 1, 0).c(ACK, 1, 1, 0)
    }

    /// Client sends 100 bytes, server acks and answers with 200, client acks.
    pub(super) fn exchange(&mut self) -> &mut Conv {
        self.c(ACK | PSH, 1, 1, 100)
            .s(ACK, 1, 101, 0)
            .s(ACK | PSH, 1, 101, 200)
            .c(ACK, 101, 201, 0)
    }

    pub(super) fn z(&self) -> &ZeekConn {
        self.z.as_ref().unwrap()
    }

    pub(super) fn check(&self, state: &str, history: &str) {
        assert_eq!((self.z().conn_state(), self.z().history()), (state, history));
    }
}

#[test]
fn normal_close_by_client() {
    let mut c = Conv::new();
    c.handshake()
        .exchange()
        .c(FIN | ACK, 101, 201, 0)
        .s(FIN | ACK, 201, 102, 0)
        .c(ACK, 102, 202, 0);
    c.check("SF", "ShADadFf");
    let z = c.z();
    assert_eq!((z.orig(), z.resp()), (client(), server()));
    assert_eq!((z.orig_bytes(), z.resp_bytes()), (100, 200));
    assert_eq!((z.orig_pkts(), z.resp_pkts()), (6, 4));
    assert_eq!(
        (z.orig_ip_bytes(), z.resp_ip_bytes()),
        (6 * 40 + 100, 4 * 40 + 200)
    );
    assert_eq!(z.missed_bytes(), 0);
    assert!(z.duration() > 0);
}

#[test]
fn normal_close_by_server() {
    let mut c = Conv::new();
    c.handshake()
        .exchange()
        .s(FIN | ACK, 201, 101, 0)
        .c(FIN | ACK, 101, 202, 0)
        .s(ACK, 202, 102, 0);
    c.check("SF", "ShADadfF");
}

#[test]
fn missing_syn_flips_at_creation() {
    // tcp/missing-syn.pcap: "^hADdFaf".
    let mut c = Conv::new();
    c.s(SYN | ACK, 0, 1, 0)
        .c(ACK, 1, 1, 0)
        .c(ACK | PSH, 1, 1, 98)
        .s(ACK | PSH, 1, 99, 500)
        .c(FIN | ACK, 99, 501, 0)
        .s(ACK, 501, 100, 0)
        .s(FIN | ACK, 501, 100, 0);
    c.check("SF", "^hADdFaf");
    let z = c.z();
    assert_eq!((z.orig(), z.resp()), (client(), server()));
    assert_eq!((z.orig_bytes(), z.resp_bytes()), (98, 500));
    assert_eq!((z.orig_pkts(), z.resp_pkts()), (3, 4));
}

fn arb_segment() -> impl Strategy<Value = (bool, u8, u32, u32, u16, u32, u64)> {
    (
        any::<bool>(),
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        0u32..70_000,
        0u64..20 * SEC,
    )
}

proptest! {
    #[test]
    fn never_panics_and_stays_bounded(segs in proptest::collection::vec(arb_segment(), 1..200)) {
        let mut t = 0u64;
        let mut z: Option<ZeekConn> = None;
        for (from_client, flags, seq, ack, window, len, dt) in segs {
            t += dt;
            let (src, dst) = if from_client { (client(), server()) } else { (server(), client()) };
            let mut s = Segment::between(src, dst);
            s.flags = Flags(flags);
            s.seq = Seq(seq);
            s.ack = Seq(ack);
            s.window = window;
            s.payload_len = len;
            s.ip_len = 40 + len;
            let now = Timestamp(t);
            let z = z.get_or_insert_with(|| ZeekConn::new(&s, now));
            let _ = z.is_reuse(&s);
            let _ = z.expired(now);
            if flags & 0x80 != 0 { z.observe_bad_checksum(&s, now) } else { z.observe(&s, now) }
            prop_assert!(z.history().len() <= MAX_HISTORY);
            let _ = (z.conn_state(), z.orig_bytes(), z.resp_bytes(), z.missed_bytes());
        }
    }
}

/// The same conversation through the tracker: after each segment, each endpoint's RFC 9293 state as the
/// tracker infers it, and its state as Zeek's rules see it (`TCPSessionAdapter.cc`
/// `UpdateStateMachine`): Zeek takes both endpoints as established at the SYN-ACK (the responder has
/// answered), and an endpoint as closed at its own FIN, where RFC 9293 has FIN-WAIT and LAST-ACK.
#[test]
fn the_tracker_and_zeek_views_segment_by_segment() {
    use super::ZeekEndpointState::{Closed as ZClosed, Established as ZEst, Inactive, SynSent as ZSyn};
    use crate::state::State::*;
    use crate::transcript::{self as t, Wire};
    let mut w = Wire::new();
    w.c(t::SYN, 100, 0, 0).is(SynSent, Closed).zeek_is(ZSyn, Inactive);
    w.s(t::SYN | t::ACK, 500, 101, 0)
        .is(SynSent, SynReceived)
        .zeek_is(ZEst, ZEst);
    w.c(t::ACK, 101, 501, 0)
        .is(Established, Established)
        .zeek_is(ZEst, ZEst);
    w.c(t::FIN | t::ACK, 101, 501, 0)
        .is(FinWait1, Established)
        .zeek_is(ZClosed, ZEst);
    w.s(t::FIN | t::ACK, 501, 102, 0)
        .is(FinWait2, LastAck)
        .zeek_is(ZClosed, ZClosed);
    w.c(t::ACK, 102, 502, 0)
        .is(TimeWait, Closed)
        .zeek_is(ZClosed, ZClosed);
}
