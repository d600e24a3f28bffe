//! One side of a connection as an observer infers it from the segments that side sent and the
//! acknowledgments its peer sent back.

use crate::segment::Timestamp;
use crate::seq::Seq;
use crate::state::State;
use std::net::SocketAddr;

/// What the observer knows about one endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// The inferred RFC 9293 state.
    pub state: State,
    /// Initial sequence number, from this side's SYN or SYN-ACK.
    pub isn: Option<Seq>,
    /// SYNs (or SYN-ACKs) sent, retransmissions included.
    pub syns: u32,
    /// When this side sent its last SYN (or SYN-ACK) so far.
    pub last_syn_at: Option<Timestamp>,
    /// Sequence number just past the highest segment sent (this side's SND.NXT as seen on the wire).
    pub next_seq: Option<Seq>,
    /// First sequence number of data counted in `bytes` (ISN+1, or the first one seen midstream).
    pub data_start: Option<Seq>,
    /// Sequence number just past the highest payload byte sent (FIN excluded).
    pub data_end: Option<Seq>,
    /// Sequence number the FIN occupies (RFC 9293 §3.4: FIN consumes one number).
    pub fin_seq: Option<Seq>,
    pub fin_at: Option<Timestamp>,
    /// The peer acknowledged the FIN (its ACK covers `fin_seq + 1`).
    pub fin_acked: bool,
    /// Highest acknowledgment number this side sent: an estimate of its RCV.NXT.
    pub highest_ack: Option<Seq>,
    /// Last advertised window, unscaled.
    pub window: u16,
    /// Window scale shift offered in this side's SYN (RFC 7323 §2.2).
    pub window_scale: Option<u8>,
    /// When this side entered TIME-WAIT.
    pub time_wait_at: Option<Timestamp>,
    /// This side sent payload after its peer's FIN (half-close data, seed §4, or the write that
    /// provokes a reset after close, seed §8).
    pub data_after_peer_fin: bool,
    pub packets: u64,
    pub ip_bytes: u64,
}

impl Endpoint {
    #[must_use]
    pub fn new(addr: SocketAddr) -> Endpoint {
        Endpoint {
            addr,
            state: State::Closed,
            isn: None,
            syns: 0,
            last_syn_at: None,
            next_seq: None,
            data_start: None,
            data_end: None,
            fin_seq: None,
            fin_at: None,
            fin_acked: false,
            highest_ack: None,
            window: 0,
            window_scale: None,
            time_wait_at: None,
            data_after_peer_fin: false,
            packets: 0,
            ip_bytes: 0,
        }
    }

    /// Payload bytes sent, counted once by sequence range (retransmissions do not count twice).
    #[must_use]
    pub fn bytes(&self) -> u64 {
        match (self.data_start, self.data_end) {
            (Some(start), Some(end)) => u64::try_from(start.distance(end)).unwrap_or(0),
            _ => 0,
        }
    }

    /// Records the sequence range a segment from this side occupies.
    pub fn note_sent(&mut self, seq: Seq, payload_len: u32, syn: bool, end: Seq) {
        self.next_seq = Some(self.next_seq.map_or(end, |n| n.max_seq(end)));
        if payload_len > 0 {
            let first = if syn { seq.plus(1) } else { seq };
            let last = first.plus(payload_len);
            self.data_start = Some(
                self.data_start
                    .map_or(first, |s| if first.precedes(s) { first } else { s }),
            );
            self.data_end = Some(self.data_end.map_or(last, |e| e.max_seq(last)));
        }
    }

    /// Records an acknowledgment this side sent.
    pub fn note_ack(&mut self, ack: Seq) {
        self.highest_ack = Some(self.highest_ack.map_or(ack, |h| h.max_seq(ack)));
    }

    /// Whether this side has acknowledged everything up to and including `s` (its ACK is past `s`).
    #[must_use]
    pub fn has_acked(&self, s: Seq) -> bool {
        self.highest_ack.is_some_and(|a| s.precedes(a))
    }

    /// Enters `state`, remembering when TIME-WAIT began (its 2·MSL timer starts there, RFC 9293 §3.6).
    pub fn enter(&mut self, state: State, now: Timestamp) {
        if state == State::TimeWait && self.state != State::TimeWait {
            self.time_wait_at = Some(now);
        }
        self.state = state;
    }
}
