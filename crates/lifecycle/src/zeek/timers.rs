//! When Zeek ends a connection: its timers (`TCPSessionAdapter.cc` `AttemptTimer`, `ExpireTimer`,
//! the delete timer `ConnectionClosed` arms; `Session::InactivityTimer`) and its port-reuse test
//! (`IsReuse`, asked by `IPBasedAnalyzer::AnalyzePacket`). Defaults are from
//! `scripts/base/init-bare.zeek`.

use super::role::Dir;
use super::{ZeekConn, ZeekEndpointState as St};
use crate::segment::{Segment, Timestamp};

pub(super) const SEC: u64 = 1_000_000_000;
/// `tcp_attempt_delay`, `tcp_close_delay`, `tcp_SYN_timeout`, `tcp_connection_linger` (all 5 s).
pub(super) const FIVE_SECS: u64 = 5 * SEC;
/// `tcp_session_timer`.
pub(super) const SESSION_TIMER: u64 = 6 * SEC;
/// `udp_inactivity_timeout`, which Zeek's TCP analyzer installs until the handshake is done.
pub(super) const HANDSHAKE_INACTIVITY: u64 = 60 * SEC;
/// `tcp_inactivity_timeout`.
pub(super) const TCP_INACTIVITY: u64 = 300 * SEC;

impl ZeekConn {
    /// Whether Zeek would treat `seg` (same 4-tuple) as the start of a new connection that replaces this
    /// one (`TCPSessionAdapter::IsReuse`). Only SYNs can be reuse.
    #[must_use]
    pub fn is_reuse(&self, seg: &Segment) -> bool {
        let f = seg.flags;
        if !f.syn() {
            return false;
        }
        let o = &self.ep[Dir::Orig];
        let r = &self.ep[Dir::Resp];
        let mut conn_orig = o;
        if f.ack() {
            if o.state != St::Inactive {
                return false;
            }
            conn_orig = r;
        }
        if !(o.did_close || r.did_close) {
            let base = seg.seq.0;
            if base == conn_orig.start_seq {
                return false;
            }
            if !f.ack() && conn_orig.state == St::SynAckSent && r.state == St::Inactive && base == r.start_seq
            {
                return false;
            }
        }
        true
    }

    /// Fires Zeek's timers due at or before `now` (a packet at `now` is processed after them) and
    /// returns true if one of them removed the connection: the caller should then finish this
    /// connection and start a new one for the segment at `now`. Once true, stays true.
    pub fn expired(&mut self, now: Timestamp) -> bool {
        if self.removed {
            return true;
        }
        if now < self.net_time {
            return false;
        }
        // The common case, checked first because it runs for every segment: no timer is due, so
        // nothing below would fire, re-arm or remove anything.
        let due = |t: Option<Timestamp>| t.is_some_and(|t| t <= now);
        if !due(self.attempt_timer)
            && !self.expire_timers.iter().any(|t| due(*t))
            && !due(self.delete_timer)
            && self.last.plus_nanos(self.inactivity) > now
        {
            return false;
        }
        let mut removal: Option<Timestamp> = None;
        let mut consider = |t: Timestamp| {
            if t <= now {
                removal = Some(removal.map_or(t, |r: Timestamp| r.min(t)));
            }
        };
        // Attempt timer: one-shot.
        if let Some(t) = self.attempt_timer
            && t <= now
        {
            self.attempt_timer = None;
            let o = self.ep[Dir::Orig].state;
            let r = self.ep[Dir::Resp].state;
            if self.is_active && matches!(o, St::SynSent | St::SynAckSent) && r == St::Inactive {
                consider(t);
            }
        }
        // Expire timers: re-arm every 6 s while the connection is active.
        let remove_now = self.expire_condition();
        let linger_end = self.last.plus_nanos(FIVE_SECS);
        for slot in &mut self.expire_timers {
            let Some(t) = *slot else { continue };
            if t > now {
                continue;
            }
            if !self.is_active {
                *slot = None;
                continue;
            }
            // First firing time strictly after last + linger.
            let first_live = if t > linger_end {
                t
            } else {
                let k = (linger_end.0 - t.0) / SESSION_TIMER + 1;
                t.plus_nanos(k.saturating_mul(SESSION_TIMER))
            };
            if remove_now && first_live <= now {
                consider(first_live);
                *slot = None;
            } else {
                let k = (now.0 - t.0) / SESSION_TIMER + 1;
                *slot = Some(t.plus_nanos(k.saturating_mul(SESSION_TIMER)));
            }
        }
        if let Some(t) = self.delete_timer {
            consider(t);
        }
        consider(self.last.plus_nanos(self.inactivity));
        if removal.is_some() {
            self.removed = true;
        }
        self.removed
    }

    /// `ExpireTimer`'s removal condition, given that the linger time has passed.
    fn expire_condition(&self) -> bool {
        let o = &self.ep[Dir::Orig];
        let r = &self.ep[Dir::Resp];
        if o.did_close || r.did_close {
            let any = |s: St| o.state == s || r.state == s;
            if (o.did_close && r.did_close) || any(St::Reset) || any(St::Inactive) {
                return true;
            }
        }
        r.state == St::Inactive && o.state == St::Inactive
    }
}

#[cfg(test)]
mod tests {
    use super::SEC;
    use crate::segment::{Flags, Segment, Timestamp};
    use crate::seq::Seq;
    use crate::zeek::tests::{ACK, Conv, FIN, PSH, RST, SYN, client, server};

    #[test]
    fn unanswered_syn_is_s0_and_expires_after_the_attempt_delay() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0);
        c.check("S0", "S");
        let t = c.t;
        let mut z = c.z().clone();
        assert!(!z.expired(Timestamp(t + 4 * SEC)));
        assert!(z.expired(Timestamp(t + 5 * SEC)));
    }

    #[test]
    fn syn_then_data_without_answer_is_split_like_zeek() {
        // ssh.client-side-half-duplex: "SAD" (S0) then, after the 5 s attempt timer, "DAF" (SH).
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(ACK, 1, 1, 0).c(ACK | PSH, 1, 1, 10);
        c.check("S0", "SAD");
        let mut s = Segment::between(client(), server());
        s.flags = Flags(ACK | PSH);
        s.seq = Seq(1011);
        s.ack = Seq(5001);
        s.payload_len = 10;
        let later = Timestamp(c.t + 6 * SEC);
        let mut old = c.z().clone();
        assert!(old.expired(later));
        let mut fresh = Conv::new();
        fresh.t = later.0;
        fresh.seg(s).c(FIN | ACK, 21, 1, 0);
        fresh.check("SH", "DF");
    }

    #[test]
    fn reuse_after_reject() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).s(RST | ACK, 0, 1, 0);
        let mut s = Segment::between(client(), server());
        s.flags = Flags(SYN);
        s.seq = Seq(1000);
        assert!(c.z().is_reuse(&s), "any SYN after a close is reuse");
        let mut ack = s;
        ack.flags = Flags(ACK);
        assert!(!c.z().is_reuse(&ack));
    }
}
