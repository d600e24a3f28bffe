//! One segment through Zeek's TCP analysis, step by step in the order of `TCPSessionAdapter::Process`
//! (`src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`); the steps live in the sibling files.

use super::ZeekEndpointState as St;
use super::role::Dir;
use super::{Sender, ZeekConn};
use crate::segment::{Segment, Timestamp};

impl ZeekConn {
    /// `TCPSessionAdapter::Process`. Zeek holds the sender's endpoint by pointer throughout; here the
    /// sender is found by its role, which a flip during the segment changes, so it is asked again after
    /// each step that can flip.
    pub(super) fn process(&mut self, seg: &Segment, sender: Sender, now: Timestamp) {
        let f = seg.flags;
        let len = seg.payload_len;
        // Zeek's `is_orig` for this packet: decided before processing, stale after a flip.
        let sent_as = self.role(sender);
        let me = sent_as;

        // SetPartialStatus
        if sent_as == Dir::Orig {
            if !self.first_packet_seen[Dir::Orig] {
                self.is_partial = !f.syn() || f.ack();
            }
        } else if !self.first_packet_seen[Dir::Resp] && !self.is_partial {
            self.is_partial = !f.syn();
        }

        // get_segment_len: SYN and FIN take a sequence number; a RST's payload is not stream data.
        let mut seg_len = len
            .wrapping_add(u32::from(f.syn()))
            .wrapping_add(u32::from(f.fin()));
        if f.rst() {
            seg_len = seg_len.wrapping_sub(len);
        }
        let seq_end = seg.seq.0.wrapping_add(seg_len);

        self.ep[me].init_from(seg, seq_end);

        let e = &self.ep[me];
        let (rel_seq, seq_underflow) = e.relative_seq(seg.seq.0, e.last_seq, e.seq_wraps);

        self.update_history(me, seg, rel_seq);
        // `CheckHistory` may have flipped the roles.
        let me = self.role(sender);
        let peer = me.other();

        // update_window: only the zero-window letter matters here (scaling never makes a non-zero
        // 16-bit window zero, as Zeek caps the shift at 14).
        if seg.window == 0 && !f.rst() && self.ep[peer].state != St::Closed && self.ep[me].state != St::Reset
        {
            self.scaled(me, |e| &mut e.win0, 'W');
        }

        if !(self.ep[Dir::Orig].did_close && self.ep[Dir::Resp].did_close) {
            self.last = now;
        }

        if f.fin() {
            let e = &mut self.ep[me];
            e.fin_cnt = e.fin_cnt.wrapping_add(1);
            e.fin_seq = rel_seq.wrapping_add(u64::from(seg_len));
        }

        let rel_ack = f.ack().then(|| self.ep[peer].ack_seen(seg.ack.0, f.rst()));

        if self.ep[me].advance_last_seq(seq_end, f, len) {
            self.scaled(me, |e| &mut e.rxmt, 'T');
        }

        let closing = self.update_state_machine(me, seg, sent_as, now);
        // A SYN/SYN-ACK reversal may have flipped the roles.
        let me = self.role(sender);
        let peer = me.other();

        // After the state machine, so a gap revealed by a FIN's or RST's ack is judged by the new states.
        if let Some(rel_ack) = rel_ack {
            self.ack_received(peer, rel_ack);
        }

        // CheckPIA_FirstPacket, with the (possibly stale) is_orig.
        self.first_packet_seen[sent_as] = true;

        let rel_data_seq = if f.syn() { rel_seq.wrapping_add(1) } else { rel_seq };
        if len > 0 && !f.rst() && !seq_underflow {
            self.data_sent(me, rel_data_seq, u64::from(len));
        }

        // After DataSent, as in Zeek, so data on a FIN is processed before the close.
        if closing.do_close {
            self.connection_closed(me, closing.gen_event);
        }
    }
}
