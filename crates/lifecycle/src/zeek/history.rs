//! The history string: `TCPSessionAdapter.cc` `update_history`; `TCP_Endpoint.cc` `CheckHistory`,
//! `AddHistory` and the scaled letters (`ChecksumError`, `DidRxmit`, `ZeroWindow`, `Gap`);
//! `Session.h` `CheckHistory`, `Session.cc` `ScaledHistoryEntry`; and role flips (`Conn.cc` and
//! `TCPSessionAdapter.cc` `FlipRoles`), which record `^`.

use super::endpoint::Endpoint;
use super::role::Dir;
use super::{MAX_HISTORY, ZeekConn};
use crate::segment::Segment;

// History masks (`TCP_Endpoint.h`), kept per role.
const HIST_SYN: u32 = 0x1;
const HIST_FIN: u32 = 0x2;
const HIST_RST: u32 = 0x4;
const HIST_FIN_RST: u32 = 0x8;
const HIST_DATA: u32 = 0x10;
const HIST_ACK: u32 = 0x20;
const HIST_MULTI_FLAG: u32 = 0x40;

/// A counter recorded in the history at 1, 10, 100, ... occurrences (`ScaledHistoryEntry`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Scaled {
    count: u32,
    threshold: u32,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled {
            count: 0,
            threshold: 1,
        }
    }
}

impl Scaled {
    /// Counts one occurrence; true if it crossed the next threshold.
    fn bump(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count != self.threshold {
            return false;
        }
        let next = self.threshold.wrapping_mul(10);
        if next <= self.threshold {
            self.count = 0;
        } else {
            self.threshold = next;
        }
        true
    }
}

/// The letter as recorded for role `d`: upper case for the originator, lower case for the responder.
fn letter(d: Dir, code: char) -> char {
    match d {
        Dir::Orig => code,
        Dir::Resp => code.to_ascii_lowercase(),
    }
}

impl ZeekConn {
    fn add_history(&mut self, code: char) {
        if self.history.len() < MAX_HISTORY {
            self.history.push(code);
        }
    }

    /// `FlipRoles`: the endpoints and their per-role state change roles; `hist_seen` stays.
    pub(super) fn flip_roles(&mut self) {
        self.ep.swap();
        self.first_sender = self.first_sender.other();
        self.first_packet_seen.swap();
        self.is_partial = false;
        self.add_history('^');
    }

    /// `Session::CheckHistory` via `TCP_Endpoint::CheckHistory`, for a letter from the endpoint now in
    /// role `me`: records it unless already seen; true if already seen.
    fn check_history(&mut self, me: Dir, mask: u32, code: char) -> bool {
        let mut me = me;
        if (code == 'A' || code == 'D') && self.history == "H" {
            self.flip_roles();
            // The endpoint sending this letter now holds the other role.
            me = me.other();
            self.history.clear();
            self.history.push_str("^h");
            self.first_packet_seen[Dir::Orig] = true;
        }
        if self.hist_seen[me] & mask != 0 {
            return true;
        }
        self.hist_seen[me] |= mask;
        self.add_history(letter(me, code));
        false
    }

    /// `TCP_Endpoint::AddHistory`.
    fn endpoint_add_history(&mut self, d: Dir, code: char) {
        self.add_history(letter(d, code));
    }

    /// A scaled letter (`upper` for the originator) for the counter `which` of the endpoint in role `d`.
    pub(super) fn scaled(&mut self, d: Dir, which: fn(&mut Endpoint) -> &mut Scaled, upper: char) {
        if which(&mut self.ep[d]).bump() {
            self.endpoint_add_history(d, upper);
        }
    }

    /// A SYN, FIN or RST from the endpoint in role `me`, at relative sequence number `at`: recorded the
    /// first time, and again when `at` differs from this endpoint's previous one (`last`).
    fn flag_history(&mut self, me: Dir, mask: u32, code: char, at: u64, last: fn(&mut Endpoint) -> &mut u64) {
        if self.check_history(me, mask, code) && at != *last(&mut self.ep[me]) {
            self.endpoint_add_history(me, code);
        }
        *last(&mut self.ep[me]) = at;
    }

    /// `update_history`, for a segment from the endpoint in role `me`. An `A` or `D` may flip the roles
    /// (see [`Self::check_history`]): the caller must then ask for the sender's role again.
    pub(super) fn update_history(&mut self, me: Dir, seg: &Segment, rel_seq: u64) {
        let f = seg.flags;
        let len = u64::from(seg.payload_len);
        let bits = u8::from(f.syn()) + u8::from(f.fin()) + u8::from(f.rst());
        if bits > 1 {
            if f.fin() && f.rst() {
                self.check_history(me, HIST_FIN_RST, 'I');
            } else {
                self.check_history(me, HIST_MULTI_FLAG, 'Q');
            }
        } else if bits == 1 {
            if f.syn() {
                let code = if f.ack() { 'H' } else { 'S' };
                self.flag_history(me, HIST_SYN, code, rel_seq, |e| &mut e.hist_last_syn);
            }
            if f.fin() {
                // For a FIN the number is the end of its payload.
                let end = rel_seq.wrapping_add(len);
                self.flag_history(me, HIST_FIN, 'F', end, |e| &mut e.hist_last_fin);
            }
            if f.rst() {
                self.flag_history(me, HIST_RST, 'R', rel_seq, |e| &mut e.hist_last_rst);
            }
        } else if len > 0 {
            self.check_history(me, HIST_DATA, 'D');
        } else if f.ack() {
            self.check_history(me, HIST_ACK, 'A');
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::{Flags, Segment, Timestamp};
    use crate::seq::Seq;
    use crate::zeek::tests::{ACK, Conv, FIN, PSH, RST, SYN, client, server};
    use std::net::SocketAddr;

    #[test]
    fn syn_ack_between_server_ports_flips_on_first_ack() {
        // http/zeek-image-post-1080-8000-x.pcap: both ports are likely servers, so the SYN-ACK is not
        // flipped at creation; the first pure ack flips it and the history becomes "^hA".
        let a: SocketAddr = "127.0.0.1:1080".parse().unwrap();
        let b: SocketAddr = "44.1.1.1:8000".parse().unwrap();
        let mut c = Conv::new();
        let mut s = Segment::between(b, a);
        s.flags = Flags(SYN | ACK);
        s.seq = Seq(7000);
        s.ack = Seq(3001);
        c.seg(s);
        c.check("OTH", "H");
        let mut s = Segment::between(a, b);
        s.flags = Flags(ACK);
        s.seq = Seq(3001);
        s.ack = Seq(7001);
        c.seg(s);
        assert_eq!(c.z().history(), "^hA");
        assert_eq!((c.z().orig(), c.z().resp()), (a, b));
        assert_eq!((c.z().orig_pkts(), c.z().resp_pkts()), (1, 1));
    }

    #[test]
    fn retransmissions_are_logged_at_1_and_10() {
        let mut c = Conv::new();
        c.handshake().c(ACK | PSH, 1, 1, 100);
        // Ten retransmissions: `T` at the 1st and the 10th.
        for _ in 0..10 {
            c.c(ACK | PSH, 1, 1, 100);
        }
        c.s(ACK, 1, 101, 0)
            .s(ACK | PSH, 1, 101, 50)
            .s(ACK | PSH, 1, 101, 50);
        c.check("S1", "ShADTTadt");
    }

    #[test]
    fn zero_window() {
        let mut c = Conv::new();
        c.handshake().c(ACK | PSH, 1, 1, 100);
        let mut s = Segment::between(server(), client());
        s.flags = Flags(ACK);
        s.seq = Seq(5001);
        s.ack = Seq(1101);
        s.window = 0;
        c.seg(s);
        c.check("S1", "ShADaw");
    }

    #[test]
    fn repeated_flags_with_new_sequence_numbers_are_recorded_again() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(SYN, 0, 0, 0);
        assert_eq!(c.z().history(), "S");
        let mut s = Segment::between(client(), server());
        s.flags = Flags(SYN);
        s.seq = Seq(1500);
        assert!(c.z().is_reuse(&s), "a SYN with a new ISN starts a new connection");
    }

    #[test]
    fn multi_flag_and_inconsistent_packets() {
        let mut c = Conv::new();
        c.c(SYN | FIN, 0, 0, 0).c(SYN | FIN, 0, 0, 0);
        assert_eq!(c.z().history(), "Q");
        let mut c = Conv::new();
        c.handshake().s(FIN | RST | ACK, 1, 1, 0);
        assert_eq!(c.z().history(), "ShAi");
    }

    #[test]
    fn bad_checksums_only_add_c() {
        let mut c = Conv::new();
        c.handshake();
        let mut s = Segment::between(server(), client());
        s.flags = Flags(ACK | PSH);
        s.seq = Seq(5001);
        s.payload_len = 10;
        let mut z = c.z().clone();
        z.observe_bad_checksum(&s, Timestamp(c.t + 1));
        assert_eq!(z.history(), "ShAc");
        assert_eq!(z.resp_pkts(), 1);
    }
}
