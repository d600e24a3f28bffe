//! One side of a connection as an observer infers it from the segments that side sent and the
//! acknowledgments its peer sent back.

use crate::segment::Timestamp;
use crate::seq::Seq;
use crate::state::State;
use crate::transition::{Trigger, next};
use std::net::SocketAddr;

/// What the observer knows about one endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// The inferred RFC 9293 state: written only by [`Endpoint::enter`].
    state: State,
    /// Initial sequence number, from this side's SYN or SYN-ACK (or inferred from the peer's
    /// acknowledgement of it when this side's SYN went unseen).
    pub isn: Option<Seq>,
    /// SYNs without ACK sent, retransmissions included.
    pub syns: u32,
    /// SYN-ACKs sent, retransmissions included.
    pub synacks: u32,
    /// When this side sent its last SYN (or SYN-ACK) so far.
    pub last_syn_at: Option<Timestamp>,
    /// The TSval of its first and last SYN without ACK (RFC 7323 timestamps), when they carried one:
    /// what an answer to them may echo.
    pub syn_tsvals: Option<(u32, u32)>,
    /// Sequence number just past the highest segment sent (this side's SND.NXT as seen on the wire).
    pub next_seq: Option<Seq>,
    /// First sequence number of data (ISN+1, or the first payload byte seen midstream).
    pub data_start: Option<Seq>,
    /// Sequence number just past the payload seen without a hole from `data_start` (FIN excluded):
    /// what was certainly sent.
    pub data_end: Option<Seq>,
    /// Sequence number just past the highest payload byte sent in the receiver's window, holes
    /// included: a byte beyond `data_end` counts only once the peer acknowledges it.
    pub data_max: Option<Seq>,
    /// Bytes from `data_start` to `data_end`, counted as the range grows: a transfer past 2^31
    /// bytes wraps sequence space, so the distance between the two alone would be wrong.
    pub data_len: u64,
    /// Bytes from `data_start` to `data_max`, and to the peer's highest acknowledgement, counted the
    /// same way as they advance.
    pub max_len: u64,
    pub acked_len: u64,
    /// The acknowledgement `acked_len` runs to.
    acked_to: Option<Seq>,
    /// Sequence number the FIN occupies (RFC 9293 §3.4: FIN consumes one number).
    pub fin_seq: Option<Seq>,
    pub fin_at: Option<Timestamp>,
    /// The acknowledgment number the FIN carried: how much of the peer's data this side had received
    /// when it closed.
    pub ack_at_fin: Option<Seq>,
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
    /// The lowest and highest TTL (hop limit) of this side's segments other than RSTs, and how many
    /// there were: what its own RSTs should arrive with ([`crate::reset_origin`]).
    pub ttl_range: Option<(u8, u8)>,
    pub ttl_segments: u64,
    /// IPv4 ID of its last segment (IPv4 only).
    pub last_ip_id: Option<u16>,
    /// Segments it sent after the RST that ended the connection in its name.
    pub sent_after_reset: u32,
    /// Segments with ACK and without RST: each proves this side had heard from its peer.
    pub acks_sent: u64,
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
            synacks: 0,
            last_syn_at: None,
            syn_tsvals: None,
            next_seq: None,
            data_start: None,
            data_end: None,
            data_max: None,
            data_len: 0,
            max_len: 0,
            acked_len: 0,
            acked_to: None,
            fin_seq: None,
            fin_at: None,
            ack_at_fin: None,
            fin_acked: false,
            highest_ack: None,
            window: 0,
            window_scale: None,
            time_wait_at: None,
            data_after_peer_fin: false,
            packets: 0,
            ttl_range: None,
            ttl_segments: 0,
            last_ip_id: None,
            sent_after_reset: 0,
            acks_sent: 0,
            ip_bytes: 0,
        }
    }

    /// The inferred RFC 9293 state.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// Payload bytes sent, counted once by sequence range (retransmissions do not count twice): the
    /// range seen without a hole, extended over holes as far as the peer's acknowledgement covers
    /// what was seen sent. Bytes beyond a hole that the peer never acknowledged are not counted: a
    /// segment that jumps ahead in sequence space is as likely injected or corrupt as real.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.data_len.max(self.acked_len.min(self.max_len))
    }

    /// Counts the peer's acknowledgement `ack` of this side's data (RFC 9293 §3.4: it acknowledges
    /// everything before it).
    pub fn note_acked(&mut self, ack: Seq) {
        let Some(start) = self.data_start else {
            return;
        };
        let from = self.acked_to.unwrap_or(start);
        if from.precedes(ack) {
            self.acked_len += u64::try_from(from.distance(ack)).unwrap_or(0);
            self.acked_to = Some(ack);
        }
    }

    /// Takes a new ISN before any data was counted (a SYN re-sent with another one).
    pub fn restart_isn(&mut self, isn: Seq) {
        self.isn = None;
        self.data_start = None;
        self.data_end = None;
        self.data_max = None;
        self.data_len = 0;
        self.max_len = 0;
        self.acked_len = 0;
        self.acked_to = None;
        self.note_isn(isn);
    }

    /// Starts the data range at ISN+1 once the SYN is known (RFC 9293 §3.4: data begins after it).
    pub fn note_isn(&mut self, isn: Seq) {
        self.isn = Some(isn);
        if self.data_start.is_none() {
            self.data_start = Some(isn.plus(1));
            self.data_end = Some(isn.plus(1));
        }
    }

    /// Records the sequence range a segment from this side occupies. `in_window` says whether the
    /// payload could have been accepted by the receiver; a payload outside it never counts.
    pub fn note_sent(&mut self, seq: Seq, payload_len: u32, syn: bool, end: Seq, in_window: bool) {
        self.next_seq = Some(self.next_seq.map_or(end, |n| n.max_seq(end)));
        if payload_len == 0 || !in_window {
            return;
        }
        let first = if syn { seq.plus(1) } else { seq };
        let last = first.plus(payload_len);
        match (self.data_max, self.data_start) {
            (Some(m), _) if m.precedes(last) => {
                self.max_len += u64::try_from(m.distance(last)).unwrap_or(0);
            }
            (None, Some(start)) if start.precedes(last) => {
                self.max_len = u64::try_from(start.distance(last)).unwrap_or(0);
            }
            (None, _) => self.max_len = u64::from(payload_len),
            _ => {}
        }
        self.data_max = Some(self.data_max.map_or(last, |m| m.max_seq(last)));
        match (self.data_start, self.data_end) {
            (Some(start), Some(done)) => {
                // Extends the range without a hole on either side; a later segment that fills a hole
                // is met when it arrives (`first` at or before `done`).
                if first.precedes_or_eq(done) && done.precedes(last) {
                    self.data_end = Some(last);
                    self.data_len += u64::try_from(done.distance(last)).unwrap_or(0);
                }
                // Below the start only while the range is short: past 2^32 bytes sequence space
                // comes round to the start again, and a segment there is new data, not older data.
                if self.data_len < 1 << 30 && first.precedes(start) && start.precedes_or_eq(last) {
                    let lower = u64::try_from(first.distance(start)).unwrap_or(0);
                    self.data_start = Some(first);
                    self.data_len += lower;
                    self.max_len += lower;
                    if self.acked_to.is_some() {
                        self.acked_len += lower;
                    }
                }
            }
            _ => {
                self.data_start = Some(first);
                self.data_end = Some(last);
                self.data_len = u64::from(payload_len);
            }
        }
    }

    /// Whether `tsecr`, echoed to this side while it is in SYN-SENT, echoes one of its SYNs: Linux
    /// drops what echoes anything else (`tcp_rcv_synsent_state_process`, counted as
    /// PAWSActiveRejected), RSTs included, and answers the rest with a RST. Without timestamps on
    /// both sides (or a zero echo, which Linux does not check) anything passes.
    #[must_use]
    pub fn echoes_own_syn(&self, timestamps: Option<(u32, u32)>) -> bool {
        match (self.syn_tsvals, timestamps) {
            (Some((first, last)), Some((_, tsecr))) if tsecr != 0 => {
                tsecr.wrapping_sub(first) <= last.wrapping_sub(first)
            }
            _ => true,
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

    /// Moves this endpoint by `trigger` through the transition table ([`crate::transition::next`]),
    /// remembering when TIME-WAIT began (its timer starts there, RFC 9293 §3.6). The only writer of
    /// the state.
    #[inline]
    pub fn enter(&mut self, trigger: Trigger, now: Timestamp) {
        let state = next(self.state, trigger);
        if state == State::TimeWait && self.state != State::TimeWait {
            self.time_wait_at = Some(now);
        }
        self.state = state;
    }
}
