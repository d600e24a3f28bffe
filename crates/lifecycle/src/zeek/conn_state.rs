//! `conn_state`, derived from the endpoint states and the history as `conn_state()` in
//! `scripts/base/protocols/conn/main.zeek` derives it.

use super::{ZeekConn, ZeekEndpointState as St};

impl ZeekConn {
    /// Zeek's `conn_state` (`conn_state()` in `scripts/base/protocols/conn/main.zeek`).
    #[must_use]
    pub fn conn_state(&self) -> &'static str {
        let os = self.orig_state();
        let rs = self.resp_state();
        let inactive = |s: St| s == St::Inactive || s == St::Partial;
        if rs == St::Reset {
            if os == St::SynSent
                || os == St::SynAckSent
                || (os == St::Reset && self.orig_bytes() == 0 && self.resp_bytes() == 0)
            {
                "REJ"
            } else if inactive(os) {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == St::Reset {
            if inactive(rs) {
                if history_is_rstos0(&self.history) {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == St::Closed && os == St::Closed {
            "SF"
        } else if os == St::Closed {
            if inactive(rs) { "SH" } else { "S2" }
        } else if rs == St::Closed {
            if inactive(os) { "SHR" } else { "S3" }
        } else if os == St::SynSent && rs == St::Inactive {
            "S0"
        } else if os == St::Established && rs == St::Established {
            "S1"
        } else {
            "OTH"
        }
    }
}

/// `/^?S[^HAFGIQ]*R.*/ == history` (a whole-string match).
fn history_is_rstos0(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::history_is_rstos0;
    use crate::zeek::tests::{ACK, Conv, FIN, PSH, RST, SYN, client};

    #[test]
    fn rejected() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).s(RST | ACK, 0, 1, 0);
        c.check("REJ", "Sr");
    }

    #[test]
    fn originator_abort_and_responder_abort() {
        let mut c = Conv::new();
        c.handshake().exchange().c(RST | ACK, 101, 201, 0);
        c.check("RSTO", "ShADadR");
        let mut c = Conv::new();
        c.handshake().exchange().s(RST, 201, 0, 0);
        c.check("RSTR", "ShADadr");
    }

    #[test]
    fn syn_then_originator_rst_is_rstos0() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(RST, 1, 0, 0);
        c.check("RSTOS0", "SR");
    }

    #[test]
    fn syn_ack_then_rst_from_server_is_rstrh() {
        // The SYN-ACK comes from a likely server port: flipped at creation.
        let mut c = Conv::new();
        c.s(SYN | ACK, 0, 1, 0).s(RST, 1, 0, 0);
        c.check("RSTRH", "^hr");
        assert_eq!(c.z().orig(), client());
    }

    #[test]
    fn half_open_states() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(FIN, 1, 0, 0);
        c.check("SH", "SF");
        let mut c = Conv::new();
        c.s(SYN | ACK, 0, 1, 0).s(FIN | ACK, 1, 1, 0);
        c.check("SHR", "^hf");
        let mut c = Conv::new();
        c.handshake().c(FIN | ACK, 1, 1, 0);
        c.check("S2", "ShAF");
        let mut c = Conv::new();
        c.handshake().s(FIN | ACK, 1, 1, 0);
        c.check("S3", "ShAf");
        let mut c = Conv::new();
        c.handshake();
        c.check("S1", "ShA");
    }

    #[test]
    fn lone_packets_are_oth() {
        // mpls-in-vlan.pcap: "D" and "^d".
        let mut c = Conv::new();
        c.c(ACK | PSH, 1, 1, 217);
        c.check("OTH", "D");
        let mut c = Conv::new();
        c.s(ACK, 1, 1, 1460);
        c.check("OTH", "^d");
        let z = c.z();
        assert_eq!((z.orig_pkts(), z.resp_pkts(), z.resp_ip_bytes()), (0, 1, 1500));
        assert_eq!(z.duration(), 0);
    }

    #[test]
    fn rstos0_pattern() {
        assert!(history_is_rstos0("SR"));
        assert!(history_is_rstos0("^STR"));
        assert!(history_is_rstos0("SdR"));
        assert!(!history_is_rstos0("SAR"));
        assert!(!history_is_rstos0("DR"));
        assert!(!history_is_rstos0("S"));
    }
}
