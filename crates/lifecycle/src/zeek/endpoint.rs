//! One endpoint's sequence-space tracking: `TCP_Endpoint.{h,cc}` (initial, highest and acknowledged
//! sequence numbers with their 32-bit wrap counters, `Size`) and the endpoint helpers of
//! `TCPSessionAdapter.cc` (`init_endpoint`, `init_peer`, `update_ack_seq`, `update_last_seq`,
//! `get_relative_seq`).

use super::ZeekEndpointState as St;
use super::history::Scaled;
use super::reassembly::Reassembly;
use crate::segment::{Flags, Segment};
use std::net::SocketAddr;

/// `TOO_LARGE_SEQ_DELTA` in `TCPSessionAdapter.cc`.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// `seq_delta`: signed 32-bit difference.
fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Everything Zeek keeps per endpoint that the conn.log fields depend on.
#[derive(Clone, Copy, Debug)]
pub(super) struct Endpoint {
    pub(super) addr: SocketAddr,
    pub(super) state: St,
    pub(super) prev_state: St,
    /// Zeek keeps this as an `int64_t` but only ever stores 32-bit values in it.
    pub(super) start_seq: u32,
    pub(super) last_seq: u32,
    pub(super) seq_wraps: u32,
    pub(super) ack_seq: u32,
    pub(super) ack_wraps: u32,
    pub(super) fin_cnt: u32,
    pub(super) fin_seq: u64,
    pub(super) did_close: bool,
    pub(super) hist_last_syn: u64,
    pub(super) hist_last_fin: u64,
    pub(super) hist_last_rst: u64,
    pub(super) rxmt: Scaled,
    pub(super) win0: Scaled,
    pub(super) gap: Scaled,
    pub(super) chk: Scaled,
    pub(super) pkts: u64,
    pub(super) ip_bytes: u64,
    pub(super) reasm: Reassembly,
}

impl Endpoint {
    pub(super) fn new(addr: SocketAddr) -> Endpoint {
        Endpoint {
            addr,
            state: St::Inactive,
            prev_state: St::Inactive,
            start_seq: 0,
            last_seq: 0,
            seq_wraps: 0,
            ack_seq: 0,
            ack_wraps: 0,
            fin_cnt: 0,
            fin_seq: 0,
            did_close: false,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            rxmt: Scaled::default(),
            win0: Scaled::default(),
            gap: Scaled::default(),
            chk: Scaled::default(),
            pkts: 0,
            ip_bytes: 0,
            reasm: Reassembly::default(),
        }
    }

    fn init_seqs(&mut self, start: u32, ack: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = ack;
        self.last_seq = last;
    }

    /// `TCP_Endpoint::UpdateLastSeq`: a new value below the old one means the sequence space wrapped.
    fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    /// `TCP_Endpoint::UpdateAckSeq`, with the same wrap rule.
    fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = seq;
    }

    fn full(seq: u32, wraps: u32) -> u64 {
        (u64::from(wraps) << 32) + u64::from(seq)
    }

    /// `ToRelativeSeqSpace`.
    pub(super) fn relative_of(&self, seq: u32, wraps: u32) -> u64 {
        Self::full(seq, wraps).wrapping_sub(u64::from(self.start_seq))
    }

    fn no_data_acked(&self) -> bool {
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start + 1
    }

    /// `get_relative_seq`: (relative sequence number, underflow).
    pub(super) fn relative_seq(&self, cur: u32, last: u32, wraps: u32) -> (u64, bool) {
        let mut wraps = wraps;
        let delta = seq_delta(cur, last);
        if delta < 0 {
            if wraps > 0 && cur > last {
                wraps -= 1;
            }
        } else if delta > 0 && cur < last {
            wraps = wraps.wrapping_add(1);
        }
        if wraps == 0 {
            let d = seq_delta(cur, self.start_seq);
            // Zeek returns the int32 through a uint64_t: negative values sign-extend.
            return (i64::from(d) as u64, d < 0);
        }
        (self.relative_of(cur, wraps), false)
    }

    /// `init_endpoint`, for a segment from this endpoint ending at `seq_end`: its first segment, or a
    /// SYN that restarts its sequence space, sets the initial sequence numbers.
    pub(super) fn init_from(&mut self, seg: &Segment, seq_end: u32) {
        let first = seg.seq.0;
        let syn = seg.flags.syn();
        match self.state {
            St::Inactive => {
                if syn {
                    self.init_seqs(first, first, seq_end);
                } else {
                    // Partial connection: pretend a SYN preceded, but don't call this packet a duplicate.
                    let s = first.wrapping_sub(1);
                    self.init_seqs(s, s, first);
                }
            }
            St::SynSent | St::SynAckSent => {
                if syn && first != self.start_seq {
                    self.init_seqs(first, first, seq_end);
                }
            }
            St::Established | St::Partial => {
                if syn {
                    self.init_seqs(first, first, seq_end);
                }
            }
            St::Reset => {
                if syn && self.prev_state == St::Inactive {
                    self.init_seqs(first, first, seq_end);
                }
            }
            St::Closed => {}
        }
    }

    /// `init_peer` or `update_ack_seq`, on the endpoint whose data `ack` acknowledges (`rst`: the ack came
    /// with a RST, and Zeek does not trust those). Returns the ack's relative sequence number, 0 when it
    /// lies below the initial sequence number.
    pub(super) fn ack_seen(&mut self, ack: u32, rst: bool) -> u64 {
        if self.state == St::Inactive {
            // Never heard from: number its sequence space as if its SYN had been seen.
            let s = ack.wrapping_sub(1);
            self.init_seqs(s, s, s);
            return 1;
        }
        let (rel, underflow) = self.relative_seq(ack, self.ack_seq, self.ack_wraps);
        if underflow {
            return 0;
        }
        if !rst {
            let delta = seq_delta(ack, self.ack_seq);
            // An ack far ahead that lands on 0 is more likely broken than a wrap onto 0.
            if delta > 0 && !(ack == 0 && delta > TOO_LARGE_SEQ_DELTA) {
                self.update_ack_seq(ack);
            }
        }
        rel
    }

    /// `update_last_seq` in `TCPSessionAdapter.cc`, for a segment from this endpoint ending at
    /// `seq_end` (its `delta_last` result only feeds a weird). Returns true when the segment is a
    /// retransmission (`DidRxmit`, which the caller records as `T`).
    pub(super) fn advance_last_seq(&mut self, seq_end: u32, f: Flags, len: u32) -> bool {
        let delta = seq_delta(seq_end, self.last_seq);
        if (f.syn() || f.rst()) && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta) {
            // Untrusted jump.
        } else if f.fin() && self.last_seq == self.start_seq.wrapping_add(1) {
            // Only the SYN seen so far: take the FIN's number even if it looks older (a > 2 GB stream).
            self.update_last_seq(seq_end);
        } else if self.state == St::Reset {
            // Don't trust sequence numbers after a reset.
        } else if delta > 0 {
            self.update_last_seq(seq_end);
        } else {
            return len > 0;
        }
        false
    }

    /// `TCP_Endpoint::Size`: payload bytes this endpoint sent, from sequence numbers.
    pub(super) fn size(&self, peer: &Endpoint) -> u64 {
        if self.prev_state == St::SynSent
            && self.state == St::Reset
            && peer.state == St::Inactive
            && !self.no_data_acked()
        {
            // A half-open connection discovered and aborted: the sequence numbers say nothing of data.
            return 0;
        }
        let last = Self::full(self.last_seq, self.seq_wraps);
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let mut size = last.max(ack).wrapping_sub(u64::from(self.start_seq));
        // Not the SYN's octet (partial connections pretend there was one).
        size = size.saturating_sub(1);
        if self.fin_cnt > 0 && size != 0 {
            size -= 1;
        }
        size
    }
}
