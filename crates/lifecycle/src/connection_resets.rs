//! Resets, as an observer must weigh them: which RST a stack would accept (RFC 9293 §3.10.7, RFC
//! 5961 §3.2, Linux's timestamp check in SYN-SENT), the RSTs that are no ending (a half-open
//! discovery, a refusal the client ignored), what an accepted one ended, and who really sent it.

use super::Connection;
use crate::ending::Side;
use crate::reset_origin::{ResetEvidence, ResetOrigin};
use crate::segment::{Segment, Timestamp};
use crate::state::State;
use crate::transition::Trigger;

/// The first accepted RST.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reset {
    pub(super) by: Side,
    /// The resetter's state just before it sent RST.
    pub(super) state: State,
    /// The resetter had sent FIN.
    pub(super) after_fin: bool,
    /// The resetter had sent FIN and the peer sent data it had not received when it closed (seed §8).
    pub(super) after_close: bool,
    /// Both FINs had been acknowledged before the RST.
    pub(super) after_both_closed: bool,
    /// The RST's TTL and IPv4 ID, and the resetter's last IPv4 ID before it.
    pub(super) ttl: u8,
    pub(super) ip_id: u16,
    pub(super) last_ip_id: Option<u16>,
    /// The silence before the exchange the RST ended, in nanoseconds.
    pub(super) idle_before: u64,
    /// When it came, and both endpoints' states just before it (client, server).
    pub(super) at: Timestamp,
    pub(super) before: (State, State),
}

impl Connection {
    /// Whether `seg` shows that the receiver of the RST `r` ignored it: a client refused in SYN-SENT
    /// that then acknowledges a SYN-ACK from its own ISN+1 had not taken the refusal.
    pub(super) fn ignored(&self, r: Reset, from: Side, seg: &Segment) -> bool {
        let f = seg.flags;
        let receiver = self.side(from);
        from != r.by
            && r.before.0 == State::SynSent
            && from == Side::Client
            && f.ack()
            && !f.rst()
            && !f.syn()
            && receiver.isn.is_some_and(|isn| seg.seq == isn.plus(1))
    }

    /// RFC 9293 §3.10.7.3, SYN-SENT, first check: an ACK outside (ISS, SND.NXT] is not for this
    /// connection; the SYN-SENT side answers it with `<SEQ=SEG.ACK><CTL=RST>` and stays in SYN-SENT
    /// (the half-open discovery of §3.5.1, figure 10). Both segments are counted as one anomaly and
    /// neither touches the states, the sequence ranges or the ending.
    pub(super) fn is_half_open_discovery(&mut self, from: Side, seg: &Segment) -> bool {
        let f = seg.flags;
        let sender = self.side(from);
        let receiver = self.side(from.other());
        if f.rst() {
            let answer = sender.state() == State::SynSent && !f.ack() && self.discovery_ack == Some(seg.seq);
            if answer {
                self.discovery_ack = None;
            }
            return answer;
        }
        if f.syn() || !f.ack() || receiver.state() != State::SynSent {
            return false;
        }
        let (Some(iss), Some(snd_nxt)) = (receiver.isn, receiver.next_seq) else {
            return false;
        };
        let acceptable = iss.precedes(seg.ack)
            && seg.ack.precedes_or_eq(snd_nxt)
            && receiver.echoes_own_syn(seg.options.timestamps);
        if acceptable {
            return false;
        }
        self.anomalies.half_open_discovery += 1;
        self.discovery_ack = Some(seg.ack);
        true
    }

    /// RFC 9293 §3.10.7.3 (SYN-SENT) and §3.10.7.4 with RFC 5961 §3.2 (synchronized states): a RST is
    /// accepted only if it could reset the receiver.
    fn rst_acceptable(&self, from: Side, seg: &Segment) -> bool {
        let sender = self.side(from);
        let receiver = self.side(from.other());
        if receiver.state() == State::SynSent {
            // Only a RST that acknowledges our SYN (and, with timestamps, echoes one) resets SYN-SENT.
            return match receiver.isn {
                Some(isn) => {
                    seg.flags.ack()
                        && seg.ack == isn.plus(1)
                        && receiver.echoes_own_syn(seg.options.timestamps)
                }
                None => true,
            };
        }
        let Some(rcv_nxt) = receiver.highest_ack else {
            return true; // The receiver never acknowledged anything: no window to check against.
        };
        if sender.next_seq == Some(seg.seq) || seg.seq == rcv_nxt {
            return true; // SND.NXT of the resetter, or exactly RCV.NXT: what a real stack sends.
        }
        // Strict, as RFC 5961 §3.2 asks: without the handshake the window is taken unscaled.
        seg.seq.in_window(rcv_nxt, self.receive_window(from, 0))
    }

    pub(super) fn apply_rst(&mut self, from: Side, seg: &Segment) {
        if !self.rst_acceptable(from, seg) {
            self.anomalies.out_of_window_rst += 1;
            return;
        }
        let sender = self.side(from);
        let peer = self.side(from.other());
        // Seed §8: data from the peer that the resetter had not received when it sent its FIN (its
        // FIN's ACK does not cover it), or that the peer sent after seeing the FIN. Sequence numbers,
        // not capture order, say what arrived after the close.
        let unreceived_at_fin = match (sender.ack_at_fin, peer.data_max) {
            (Some(acked), Some(sent)) => acked.precedes(sent),
            (None, Some(_)) => true,
            _ => false,
        };
        self.reset = Some(Reset {
            by: from,
            state: sender.state(),
            after_fin: sender.fin_seq.is_some(),
            after_close: sender.fin_seq.is_some() && (peer.data_after_peer_fin || unreceived_at_fin),
            after_both_closed: sender.fin_acked && peer.fin_acked,
            ttl: seg.ttl,
            ip_id: seg.ip_id,
            last_ip_id: sender.last_ip_id,
            idle_before: self.silence,
            at: self.last,
            before: (self.client.state(), self.server.state()),
        });
        // The resetter drops its socket; the receiver's socket is torn down by an acceptable RST
        // (Linux also kills TIME-WAIT sockets on RST: net.ipv4.tcp_rfc1337 = 0, RFC 1337 §3).
        let now = self.last;
        self.client.enter(Trigger::Reset, now);
        self.server.enter(Trigger::Reset, now);
    }

    /// Who sent the RST that ended the connection, and why it is thought so ([`crate::reset_origin`]).
    pub(super) fn reset_origin(&self) -> Option<(ResetOrigin, Vec<String>, ResetEvidence)> {
        let r = self.reset?;
        let sender = self.side(r.by);
        let evidence = ResetEvidence {
            rst_ttl: r.ttl,
            rst_ip_id: r.ip_id,
            ttl_range: sender.ttl_range,
            other_segments: sender.ttl_segments,
            last_ip_id: r.last_ip_id,
            sent_after: sender.sent_after_reset,
        };
        let (origin, reasons) = evidence.judge(r.by.name());
        Some((origin, reasons, evidence))
    }
}
