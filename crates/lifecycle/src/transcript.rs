//! The transcript harness shared by the tracker's tests and the Zeek view's: a two-endpoint wire with a
//! virtual clock (after quinn-proto's test harness), whose segments go through a real [`Tracker`], and
//! assertions of both sides' states after any segment, as the tracker infers them (`is`) and as Zeek's
//! rules see them (`zeek_is`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::connection::{Connection, ConnectionRecord};
use crate::segment::{Flags, Segment, Timestamp};
use crate::seq::Seq;
use crate::state::State;
use crate::state::State::{Closed, Established, SynReceived, SynSent};
use crate::tracker::{Config, Event, Tracker};
use crate::zeek::ZeekEndpointState;
use std::net::SocketAddr;

pub const SYN: u8 = Flags::SYN;
pub const ACK: u8 = Flags::ACK;
pub const FIN: u8 = Flags::FIN;
pub const RST: u8 = Flags::RST;
pub const PSH: u8 = Flags::PSH;
pub const MS: u64 = 1_000_000;

/// A two-endpoint transcript with a virtual clock that advances 1 ms per segment.
pub struct Wire {
    pub t: Tracker,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub now: u64,
    /// The TTL each side's segments arrive with (64 and 63 by default: the server is a hop further).
    pub ttl: (u8, u8),
    /// RFC 7323 timestamps (TSval, TSecr) for the next segment only.
    next_ts: Option<(u32, u32)>,
}

impl Wire {
    pub fn new() -> Wire {
        Wire::with(Config::default())
    }
    pub fn with(config: Config) -> Wire {
        Wire {
            t: Tracker::new(config),
            client: "10.0.0.1:40000".parse().unwrap(),
            server: "10.0.0.2:80".parse().unwrap(),
            now: 1_000 * 1_000 * MS,
            ttl: (64, 63),
            next_ts: None,
        }
    }
    pub fn send(&mut self, from_client: bool, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Wire {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let mut seg = Segment::between(src, dst);
        seg.flags = Flags(flags);
        seg.seq = Seq(seq);
        seg.ack = Seq(ack);
        seg.payload_len = len;
        seg.ttl = if from_client { self.ttl.0 } else { self.ttl.1 };
        seg.options.timestamps = self.next_ts.take();
        self.now += MS;
        self.t.handle_segment(Timestamp(self.now), &seg);
        self
    }
    /// Gives the next segment RFC 7323 timestamps.
    pub fn ts(&mut self, tsval: u32, tsecr: u32) -> &mut Wire {
        self.next_ts = Some((tsval, tsecr));
        self
    }

    /// The connection being tracked between the two ends.
    #[track_caller]
    fn conn(&mut self) -> &Connection {
        self.t
            .connection(self.client, self.server)
            .expect("the connection is tracked")
    }

    /// Asserts the client's and the server's states now, as the tracker holds them.
    #[track_caller]
    pub fn is(&mut self, client: State, server: State) -> &mut Wire {
        let me = self.client;
        let conn = self.conn();
        let (c, s) = if conn.client().addr == me {
            (conn.client(), conn.server())
        } else {
            (conn.server(), conn.client())
        };
        assert_eq!((c.state(), s.state()), (client, server));
        self
    }

    /// Asserts the originator's and the responder's states now, as Zeek's rules see them
    /// (`crate::zeek`).
    #[track_caller]
    pub fn zeek_is(&mut self, orig: ZeekEndpointState, resp: ZeekEndpointState) -> &mut Wire {
        let z = self.conn().zeek_view();
        assert_eq!((z.orig_state(), z.resp_state()), (orig, resp));
        self
    }
    pub fn c(&mut self, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Wire {
        self.send(true, flags, seq, ack, len)
    }
    pub fn s(&mut self, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Wire {
        self.send(false, flags, seq, ack, len)
    }
    /// Client ISN 100, server ISN 500 (RFC 9293 §3.5 figure 7).
    pub fn handshake(&mut self) -> &mut Wire {
        self.c(SYN, 100, 0, 0)
            .is(SynSent, Closed)
            .s(SYN | ACK, 500, 101, 0)
            .is(SynSent, SynReceived)
            .c(ACK, 101, 501, 0)
            .is(Established, Established)
    }
    /// The client sends 10 bytes, the server answers with 20.
    pub fn exchange(&mut self) -> &mut Wire {
        self.c(ACK | PSH, 101, 501, 10)
            .s(ACK | PSH, 501, 111, 20)
            .c(ACK, 111, 521, 0)
            .is(Established, Established)
    }
    pub fn advance(&mut self, nanos: u64) -> &mut Wire {
        self.now += nanos;
        self.t.handle_timeout(Timestamp(self.now));
        self
    }
    pub fn ended(&mut self) -> Vec<ConnectionRecord> {
        let mut out = Vec::new();
        while let Some(Event::Ended(r)) = self.t.poll_event() {
            out.push(*r);
        }
        out
    }
    /// Ends the capture and returns the one connection.
    pub fn finish(&mut self) -> ConnectionRecord {
        self.t.finish();
        let mut all = self.ended();
        assert_eq!(all.len(), 1, "{all:#?}");
        all.remove(0)
    }
}
