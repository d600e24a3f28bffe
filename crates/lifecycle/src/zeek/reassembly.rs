//! Content gaps and `missed_bytes`: a model of Zeek's reassembler (`TCP_Reassembler.cc` `DataSent`,
//! `AckReceived`, `Undelivered`, `Gap`; `Reassem.cc` `NewBlock`, `BlockInserted`,
//! `DataBlockList::Trim`) that tracks only which sequence ranges were seen, not their bytes.

use super::endpoint::Endpoint;
use super::role::Dir;
use super::{MAX_BLOCKS, ZeekConn, ZeekEndpointState as St};

/// The reassembly model of one endpoint's stream, in relative sequence space.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reassembly {
    /// Next byte to deliver (`last_reassem_seq`).
    next: u64,
    /// Everything below was trimmed by an ack (`trim_seq`).
    trim: u64,
    /// Undelivered ranges above `next`, sorted, disjoint.
    blocks: [(u64, u64); MAX_BLOCKS],
    n: usize,
}

impl Default for Reassembly {
    fn default() -> Self {
        Reassembly {
            next: 1,
            trim: 1,
            blocks: [(0, 0); MAX_BLOCKS],
            n: 0,
        }
    }
}

impl Reassembly {
    /// Delivers stored blocks that have become contiguous with `next`.
    fn deliver_contiguous(&mut self) {
        while self.n > 0 && self.blocks[0].0 <= self.next {
            self.next = self.next.max(self.blocks[0].1);
            self.remove_first();
        }
    }

    fn remove_first(&mut self) {
        self.blocks.copy_within(1..self.n, 0);
        self.n -= 1;
    }

    /// Stores `[lo, hi)` above `next`, merging overlaps; drops the highest range when full.
    fn insert(&mut self, lo: u64, hi: u64) {
        let (mut lo, mut hi) = (lo, hi);
        let mut kept = [(0u64, 0u64); MAX_BLOCKS + 1];
        let mut k = 0;
        for &(a, b) in &self.blocks[..self.n] {
            if b < lo || a > hi {
                kept[k] = (a, b);
                k += 1;
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        kept[k] = (lo, hi);
        k += 1;
        kept[..k].sort_unstable();
        let k = k.min(MAX_BLOCKS);
        self.blocks[..k].copy_from_slice(&kept[..k]);
        self.n = k;
    }

    /// `NewBlock` + `BlockInserted`.
    fn new_block(&mut self, seq: u64, len: u64) {
        let upper = seq.saturating_add(len);
        if len == 0 || upper <= self.trim {
            return;
        }
        let seq = seq.max(self.trim);
        if seq <= self.next {
            self.next = self.next.max(upper);
            self.deliver_contiguous();
        } else {
            self.insert(seq, upper);
        }
    }
}

/// `established_or_cleanly_closing`, for one endpoint.
fn is_clean(e: &Endpoint) -> bool {
    e.state == St::Established || (e.state == St::Closed && e.prev_state == St::Established)
}

impl ZeekConn {
    /// `TCP_Reassembler::DataSent` (the parts that decide gaps), for payload from the endpoint in role `d`.
    pub(super) fn data_sent(&mut self, d: Dir, seq: u64, len: u64) {
        let e = &mut self.ep[d];
        let ack = e.relative_of(e.ack_seq, e.ack_wraps);
        let (mut seq, mut len) = (seq, len);
        let upper = seq.saturating_add(len);
        if seq < ack {
            if upper <= ack {
                return;
            }
            len -= ack - seq;
            seq = ack;
        }
        e.reasm.new_block(seq, len);
    }

    /// `TCP_Endpoint::AckReceived` → `TCP_Reassembler::AckReceived`/`TrimToSeq`/`Undelivered`, for an ack
    /// of the stream of the endpoint in role `d`.
    pub(super) fn ack_received(&mut self, d: Dir, seq: u64) {
        let mut seq = seq;
        let e = &self.ep[d];
        if e.fin_cnt > 0 && seq >= e.fin_seq {
            seq = e.fin_seq.wrapping_sub(1);
        }
        if seq <= e.reasm.trim {
            return;
        }
        let mut gaps = [0u64; MAX_BLOCKS + 1];
        let mut ngaps = 0;
        let r = &mut self.ep[d].reasm;
        if seq > r.next && !(seq <= 2 && self.is_partial) {
            while r.n > 0 && r.blocks[0].0 < seq {
                let (lo, hi) = r.blocks[0];
                if lo > r.next {
                    gaps[ngaps] = lo - r.next;
                    ngaps += 1;
                }
                r.next = r.next.max(hi);
                r.remove_first();
                r.deliver_contiguous();
            }
            if seq > r.next {
                gaps[ngaps] = seq - r.next;
                ngaps += 1;
            }
            r.next = r.next.max(seq);
        }
        // Trim: blocks wholly below the ack go; one now at the delivery point is delivered.
        while r.n > 0 && r.blocks[0].1 <= seq {
            r.remove_first();
        }
        r.deliver_contiguous();
        r.trim = seq;
        for &g in &gaps[..ngaps] {
            self.gap(d, g);
        }
    }

    /// `TCP_Reassembler::Gap`: `G` only between clean endpoints, `missed_bytes` (the `content_gap`
    /// event) also for partial ones if so configured.
    fn gap(&mut self, d: Dir, len: u64) {
        let clean = is_clean(&self.ep[d]) && is_clean(&self.ep[d.other()]);
        if clean {
            self.scaled(d, |e| &mut e.gap, 'G');
        }
        if clean || self.report_gaps_for_partial {
            self.missed_bytes = self.missed_bytes.saturating_add(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::zeek::tests::{ACK, Conv, PSH};

    #[test]
    fn content_gap_is_recorded_and_missed() {
        let mut c = Conv::new();
        // The client's bytes 1..=100 are never seen; the server acks them.
        c.handshake().c(ACK | PSH, 101, 1, 100).s(ACK, 1, 201, 0);
        c.check("S1", "ShADaG");
        assert_eq!(c.z().missed_bytes(), 100);
        assert_eq!(c.z().orig_bytes(), 200);
    }
}
