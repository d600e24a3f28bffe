//! Endpoint states: `TCPSessionAdapter.cc` `UpdateStateMachine` and the `Update*State` functions it
//! dispatches to, `TCP_Endpoint::SetState`, and `ConnectionClosed`, which arms the timers that end the
//! connection once it is closed.

use super::ZeekConn;
use super::ZeekEndpointState as St;
use super::role::Dir;
use super::timers::{FIVE_SECS, SESSION_TIMER, TCP_INACTIVITY};
use crate::segment::{Flags, Segment, Timestamp};

fn is_handshake(s: St) -> bool {
    matches!(s, St::Inactive | St::SynSent | St::SynAckSent)
}

/// `UpdateStateMachine`'s out-parameters: whether the segment closes its sender's side
/// (`do_close`), and if so whether that is worth an event (`gen_event`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Closing {
    pub(super) do_close: bool,
    pub(super) gen_event: bool,
}

/// A close that Zeek reports with an event (a FIN).
const CLOSE_WITH_EVENT: Closing = Closing {
    do_close: true,
    gen_event: true,
};

impl ZeekConn {
    /// `TCP_Endpoint::SetState`: the end of the handshake switches to the TCP inactivity timeout.
    fn set_state(&mut self, d: Dir, new: St) {
        let peer_state = self.ep[d.other()].state;
        let e = &mut self.ep[d];
        if new != e.state {
            if !is_handshake(new) && is_handshake(e.state) && is_handshake(peer_state) {
                self.inactivity = TCP_INACTIVITY;
            }
            e.prev_state = e.state;
            e.state = new;
        }
    }

    /// `UpdateStateMachine`, for a segment from the endpoint now in role `me`; `sent_as` is Zeek's
    /// `is_orig` for the segment (stale if a flip happened since it arrived). A SYN/SYN-ACK reversal
    /// flips the roles: the caller must then ask for the sender's role again.
    pub(super) fn update_state_machine(
        &mut self,
        me: Dir,
        seg: &Segment,
        sent_as: Dir,
        now: Timestamp,
    ) -> Closing {
        match self.ep[me].state {
            St::Inactive => self.update_inactive_state(me, seg, sent_as, now),
            St::SynSent | St::SynAckSent => self.update_syn_sent_state(me, seg.flags),
            St::Established | St::Partial => self.update_established_state(me, seg.flags),
            St::Closed => self.update_closed_state(me, seg.flags),
            // `UpdateResetState` only reports weirds.
            St::Reset => Closing::default(),
        }
    }

    /// `UpdateInactiveState`: the sender's first segment.
    fn update_inactive_state(&mut self, me: Dir, seg: &Segment, sent_as: Dir, now: Timestamp) -> Closing {
        let f = seg.flags;
        let is_orig = sent_as == Dir::Orig;
        let (mut me, mut peer) = (me, me.other());
        let mut closing = Closing::default();
        if f.syn() {
            if is_orig {
                self.set_state(me, if f.ack() { St::SynAckSent } else { St::SynSent });
                self.attempt_timer = Some(now.plus_nanos(FIVE_SECS));
            } else {
                if !f.ack() && self.ep[peer].state == St::SynAckSent && seg.seq.0 == self.ep[me].start_seq {
                    // SYN/SYN-ACK reversal: flip and establish.
                    self.is_partial = false;
                    self.flip_roles();
                    // Both endpoints changed roles; `me` and `peer` keep naming the same endpoints.
                    std::mem::swap(&mut me, &mut peer);
                    self.set_state(peer, St::Established);
                    self.first_packet_seen[Dir::Orig] = true;
                }
                if self.ep[peer].state == St::SynSent {
                    self.set_state(peer, St::Established);
                }
                self.set_state(me, St::Established);
            }
        }
        if f.fin() {
            self.set_state(me, St::Closed);
            closing = CLOSE_WITH_EVENT;
        }
        if f.rst() {
            self.set_state(me, St::Reset);
            let ps = self.ep[peer].state;
            let is_reject = if is_orig {
                ps == St::Established
            } else {
                ps == St::SynSent || ps == St::SynAckSent
            };
            closing = Closing {
                do_close: true,
                gen_event: !is_reject,
            };
        }
        if self.ep[me].state == St::Inactive {
            if !is_orig && seg.payload_len == 0 && self.ep[Dir::Orig].state == St::SynSent {
                // An eccentric stack acking the SYN before its SYN-ACK: not a partial connection.
            } else if f.ack() && self.ep[peer].state == St::Established {
                // Missed the originator's SYN but saw the SYN-ACK: establish.
                self.set_state(me, St::Established);
                self.is_partial = false;
                self.first_packet_seen[sent_as] = true;
            } else {
                self.set_state(me, St::Partial);
            }
        }
        closing
    }

    /// `UpdateSYN_SentState`.
    fn update_syn_sent_state(&mut self, me: Dir, f: Flags) -> Closing {
        let mut closing = Closing::default();
        if f.fin() {
            self.set_state(me, St::Closed);
            closing = CLOSE_WITH_EVENT;
        }
        if f.rst() {
            self.set_state(me, St::Reset);
            // `ConnectionReset`.
            self.is_active = false;
            closing.do_close = true;
        }
        closing
    }

    /// `UpdateEstablishedState` (also for PARTIAL).
    fn update_established_state(&mut self, me: Dir, f: Flags) -> Closing {
        let peer = me.other();
        let mut closing = Closing::default();
        if f.syn() && self.ep[me].state == St::Partial && self.ep[peer].state == St::Inactive && !f.ack() {
            self.set_state(me, St::SynSent);
        }
        if f.fin() && !f.rst() {
            self.set_state(me, St::Closed);
            if self.ep[peer].state == St::Reset && self.ep[peer].prev_state == St::Closed {
                // FIN then RST from the peer: a normal close after all.
                self.set_state(peer, St::Closed);
            }
            closing = CLOSE_WITH_EVENT;
        }
        if f.rst() {
            self.set_state(me, St::Reset);
            closing.do_close = true;
            let p = &self.ep[peer];
            if p.state != St::Reset || p.prev_state != St::Established {
                // `ConnectionReset`.
                self.is_active = false;
            }
        }
        closing
    }

    /// `UpdateClosedState`: a RST after both FINs is ignored.
    fn update_closed_state(&mut self, me: Dir, f: Flags) -> Closing {
        let mut closing = Closing::default();
        if f.rst() && self.ep[me.other()].state != St::Closed {
            self.set_state(me, St::Reset);
            // RST after FIN.
            closing.do_close = !self.ep[me].did_close;
        }
        closing
    }

    /// `TCPSessionAdapter::ConnectionClosed` (without DPD's deferral), for the endpoint in role `me`.
    pub(super) fn connection_closed(&mut self, me: Dir, gen_event: bool) {
        if self.ep[me].did_close {
            return;
        }
        self.ep[me].did_close = true;
        let e = &self.ep[me];
        let p = &self.ep[me.other()];
        let complete = e.state == St::Reset || p.did_close || p.state == St::Inactive;
        if complete {
            if (e.prev_state != St::Inactive || p.state != St::Inactive) && gen_event {
                // connection_finished / connection_half_finished
                self.is_active = false;
            }
            // CancelTimers: analyzer timers go; the delete timer is added afterwards.
            self.attempt_timer = None;
            self.expire_timers = [None; 3];
            let t = self.last.plus_nanos(FIVE_SECS);
            self.delete_timer = Some(self.delete_timer.map_or(t, |d| d.min(t)));
        } else if e.prev_state != St::Inactive {
            // Look for the other side closing too.
            let t = self.last.plus_nanos(SESSION_TIMER);
            if let Some(slot) = self.expire_timers.iter_mut().find(|s| s.is_none()) {
                *slot = Some(t);
            }
        }
    }
}
