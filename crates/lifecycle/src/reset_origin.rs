//! Who really sent a RST: the endpoint whose addresses it carries, or a device on the path (a
//! firewall, load balancer or NAT) that forged it in the endpoint's name.
//!
//! The evidence, each piece from the RST against the same endpoint's other segments in this
//! connection, as seen at the capture point:
//!
//! - **TTL / hop limit** (strong). A packet arrives with its sender's initial TTL less the routers it
//!   crossed. An endpoint's segments all come the same way, so they arrive with one TTL (or a narrow
//!   range, when routes change); a RST made by a device fewer or more hops away arrives with another.
//!   Caveat: a host whose sockets set their own TTL (`IP_TTL`) answers stray segments from the kernel's
//!   default instead; such a genuine RST would read as forged.
//! - **Segments after the RST** (strong). An endpoint that resets drops its connection (RFC 9293
//!   §3.10.4 ABORT): it sends nothing more on it. Segments of its own that still arrive afterwards
//!   mean someone else sent the RST.
//! - **IPv4 Identification** (supporting). Linux numbers a socket's segments from one counter, so a
//!   RST sent by the socket itself continues the sequence; a continuing sequence supports the
//!   endpoint. A break proves nothing (RSTs for stray segments come from a socket-less path with ID 0),
//!   so it is not counted against it.
//! - The ACK bit and window of RSTs are not used: stacks and middleboxes set them the same way
//!   (RFC 9293 §3.10.7.1: an ACK-less RST answers a segment with ACK, a RST+ACK one without), so they
//!   say nothing about who sent it.
//!
//! Without another segment from the supposed sender there is nothing to compare: `unknown`, never a
//! guess.

use serde::Serialize;

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetOrigin {
    /// The endpoint whose addresses the RST carries sent it.
    Endpoint,
    /// A device between the capture point and that endpoint sent it in the endpoint's name.
    Middlebox,
    /// Not enough evidence either way.
    Unknown,
}

impl ResetOrigin {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ResetOrigin::Endpoint => "endpoint",
            ResetOrigin::Middlebox => "middlebox",
            ResetOrigin::Unknown => "unknown",
        }
    }
}

/// What the judgement rests on: the RST, and the supposed sender's other segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResetEvidence {
    /// The RST's TTL (or hop limit) and IPv4 ID.
    pub rst_ttl: u8,
    pub rst_ip_id: u16,
    /// The lowest and highest TTL of the sender's other segments, and how many there were.
    pub ttl_range: Option<(u8, u8)>,
    pub other_segments: u64,
    /// The IPv4 ID of the sender's last segment before the RST (IPv4 only).
    pub last_ip_id: Option<u16>,
    /// Segments from the sender that arrived after its RST.
    pub sent_after: u32,
}

/// IDs within this many of the last one continue its sequence (a few segments may go uncaptured).
const ID_SLACK: u16 = 16;

impl ResetEvidence {
    /// The verdict and, in words, what it rests on (`side` names the sender: "server").
    #[must_use]
    pub fn judge(&self, side: &str) -> (ResetOrigin, Vec<String>) {
        let mut reasons = Vec::new();
        let mut forged = false;
        let mut genuine = false;
        if self.sent_after > 0 {
            forged = true;
            let segments = if self.sent_after == 1 {
                "segment"
            } else {
                "segments"
            };
            reasons.push(format!(
                "the {side} went on sending after it ({} {segments})",
                self.sent_after
            ));
        }
        match self.ttl_range {
            None => reasons.push(format!("no other segment from the {side} to compare with")),
            Some((lo, hi)) => {
                let seen = if lo == hi {
                    format!("{lo}")
                } else {
                    format!("{lo} to {hi}")
                };
                if (lo..=hi).contains(&self.rst_ttl) {
                    genuine = true;
                    reasons.push(format!(
                        "TTL {}, as the {side}'s other {} segments ({seen})",
                        self.rst_ttl, self.other_segments
                    ));
                } else {
                    forged = true;
                    reasons.push(format!(
                        "TTL {}, while the {side}'s other {} segments arrive with {seen}",
                        self.rst_ttl, self.other_segments
                    ));
                }
            }
        }
        if let Some(last) = self.last_ip_id {
            let step = self.rst_ip_id.wrapping_sub(last);
            if self.rst_ip_id != 0 && (1..=ID_SLACK).contains(&step) {
                reasons.push(format!(
                    "IPv4 ID {} continues the {side}'s sequence (last {last})",
                    self.rst_ip_id
                ));
            }
        }
        let origin = if forged {
            ResetOrigin::Middlebox
        } else if genuine {
            ResetOrigin::Endpoint
        } else {
            ResetOrigin::Unknown
        };
        (origin, reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(rst_ttl: u8, range: Option<(u8, u8)>) -> ResetEvidence {
        ResetEvidence {
            rst_ttl,
            ttl_range: range,
            other_segments: range.map_or(0, |_| 12),
            ..ResetEvidence::default()
        }
    }

    #[test]
    fn the_same_ttl_as_the_endpoint_is_the_endpoint() {
        let (o, why) = evidence(63, Some((63, 63))).judge("server");
        assert_eq!(o, ResetOrigin::Endpoint);
        assert_eq!(why, ["TTL 63, as the server's other 12 segments (63)"]);
    }

    #[test]
    fn another_ttl_is_a_middlebox() {
        let (o, why) = evidence(64, Some((62, 63))).judge("server");
        assert_eq!(o, ResetOrigin::Middlebox);
        assert_eq!(
            why,
            ["TTL 64, while the server's other 12 segments arrive with 62 to 63"]
        );
    }

    #[test]
    fn nothing_to_compare_is_unknown() {
        let (o, why) = evidence(64, None).judge("client");
        assert_eq!(o, ResetOrigin::Unknown);
        assert_eq!(why, ["no other segment from the client to compare with"]);
    }

    #[test]
    fn segments_after_the_reset_outweigh_a_matching_ttl() {
        let e = ResetEvidence {
            sent_after: 3,
            ..evidence(63, Some((63, 63)))
        };
        assert_eq!(e.judge("server").0, ResetOrigin::Middlebox);
    }

    #[test]
    fn a_continuing_ip_id_is_mentioned_a_broken_one_is_not() {
        let e = ResetEvidence {
            rst_ip_id: 0x1235,
            last_ip_id: Some(0x1234),
            ..evidence(63, Some((63, 63)))
        };
        let (o, why) = e.judge("server");
        assert_eq!(o, ResetOrigin::Endpoint);
        assert_eq!(why[1], "IPv4 ID 4661 continues the server's sequence (last 4660)");
        let broken = ResetEvidence { rst_ip_id: 0, ..e };
        assert_eq!(broken.judge("server").1.len(), 1);
    }
}
