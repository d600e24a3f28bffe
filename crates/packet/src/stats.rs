//! Per-outcome counts over a capture: the "capture facts" a report states next to its findings.

use crate::{Captured, Decoded, Skip, Tunnel};
use std::fmt;

/// How many frames ended in each outcome of [`Decoder::decode`](crate::Decoder::decode).
///
/// `tcp + not_ip + not_tcp + fragment + tunnel + tunnel_too_deep + truncated + malformed +
/// unsupported_link == frames`; `payload_truncated`, `options_truncated`, `reassembled` and each
/// of `through` are subsets of `tcp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecodeStats {
    /// Frames recorded.
    pub frames: u64,
    /// TCP segments decoded, cut ones included.
    pub tcp: u64,
    /// Segments whose payload (or options) the snaplen cut ([`Captured::PayloadCut`] and
    /// [`Captured::OptionsCut`]): their lengths are still right, their bytes are not all there.
    pub payload_truncated: u64,
    /// Segments whose TCP options the snaplen cut ([`Captured::OptionsCut`]).
    pub options_truncated: u64,
    /// [`Skip::NotIp`].
    pub not_ip: u64,
    /// [`Skip::NotTcp`].
    pub not_tcp: u64,
    /// [`Skip::Fragment`]: fragments held for reassembly (or, without it, pieces of TCP).
    pub fragment: u64,
    /// Segments that came out of a reassembled datagram.
    pub reassembled: u64,
    /// [`Skip::Tunnel`]: tunnels left encapsulated.
    pub tunnel: u64,
    /// [`Skip::TunnelTooDeep`].
    pub tunnel_too_deep: u64,
    /// Segments decoded through each kind of tunnel, indexed by `Tunnel as usize`.
    pub through: [u64; Tunnel::ALL.len()],
    /// [`Skip::Truncated`]: headers cut before the TCP header was complete.
    pub truncated: u64,
    /// [`Skip::Malformed`].
    pub malformed: u64,
    /// [`Skip::UnsupportedLink`].
    pub unsupported_link: u64,
}

impl DecodeStats {
    /// Counts one outcome.
    pub fn record(&mut self, decoded: &Decoded) {
        self.frames += 1;
        let counter = match decoded {
            Ok(tcp) => {
                if tcp.captured != Captured::Whole {
                    self.payload_truncated += 1;
                }
                if tcp.captured == Captured::OptionsCut {
                    self.options_truncated += 1;
                }
                if tcp.reassembled {
                    self.reassembled += 1;
                }
                if !tcp.tunnels.is_empty() {
                    for t in Tunnel::ALL {
                        if tcp.tunnels.contains(t) {
                            self.through[t as usize] += 1;
                        }
                    }
                }
                &mut self.tcp
            }
            Err(Skip::NotIp) => &mut self.not_ip,
            Err(Skip::NotTcp { .. }) => &mut self.not_tcp,
            Err(Skip::Fragment) => &mut self.fragment,
            Err(Skip::Tunnel(_)) => &mut self.tunnel,
            Err(Skip::TunnelTooDeep) => &mut self.tunnel_too_deep,
            Err(Skip::Truncated(_)) => &mut self.truncated,
            Err(Skip::Malformed(_)) => &mut self.malformed,
            Err(Skip::UnsupportedLink(_)) => &mut self.unsupported_link,
        };
        *counter += 1;
    }

    /// Segments decoded through `t`.
    #[must_use]
    pub fn through(&self, t: Tunnel) -> u64 {
        self.through[t as usize]
    }

    /// Adds the counts of `other` (stats gathered by another thread or another file).
    pub fn merge(&mut self, other: &DecodeStats) {
        let DecodeStats {
            frames,
            tcp,
            payload_truncated,
            options_truncated,
            not_ip,
            not_tcp,
            fragment,
            reassembled,
            tunnel,
            tunnel_too_deep,
            through,
            truncated,
            malformed,
            unsupported_link,
        } = other;
        self.frames += frames;
        self.tcp += tcp;
        self.payload_truncated += payload_truncated;
        self.options_truncated += options_truncated;
        self.not_ip += not_ip;
        self.not_tcp += not_tcp;
        self.fragment += fragment;
        self.reassembled += reassembled;
        self.tunnel += tunnel;
        self.tunnel_too_deep += tunnel_too_deep;
        for (mine, theirs) in self.through.iter_mut().zip(through) {
            *mine += theirs;
        }
        self.truncated += truncated;
        self.malformed += malformed;
        self.unsupported_link += unsupported_link;
    }
}

/// One line, nonzero skip counts only: `1200 frames: 1180 TCP (3 payload cut), 20 not TCP`.
impl fmt::Display for DecodeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} frames: {} TCP", self.frames, self.tcp)?;
        match (self.payload_truncated, self.options_truncated) {
            (0, _) => {}
            (p, 0) => write!(f, " ({p} payload cut)")?,
            (p, o) => write!(f, " ({p} payload cut, {o} of them in options)")?,
        }
        for (n, what) in [
            (self.not_ip, "not IP"),
            (self.not_tcp, "not TCP"),
            (self.fragment, "IP fragments"),
            (self.tunnel, "tunnelled"),
            (self.tunnel_too_deep, "tunnelled too deep"),
            (self.truncated, "truncated headers"),
            (self.malformed, "malformed"),
            (self.unsupported_link, "unsupported link type"),
        ] {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Layer, Malformed, Tcp, Tunnel};
    use lifecycle::Segment;

    fn tcp(captured: Captured) -> Decoded {
        let a = "10.0.0.1:1".parse().unwrap_or_else(|_| unreachable!());
        Ok(Tcp {
            segment: Segment::between(a, a),
            captured,
            tunnels: crate::Tunnels::default(),
            reassembled: false,
        })
    }

    #[test]
    fn counts_every_outcome() {
        let mut s = DecodeStats::default();
        for d in [
            tcp(Captured::Whole),
            tcp(Captured::PayloadCut),
            tcp(Captured::OptionsCut),
            Err(Skip::NotIp),
            Err(Skip::NotTcp { protocol: 17 }),
            Err(Skip::NotTcp { protocol: 1 }),
            Err(Skip::Fragment),
            Err(Skip::Tunnel(Tunnel::Gre)),
            Err(Skip::Truncated(Layer::Tcp)),
            Err(Skip::Malformed(Malformed::TcpDataOffset(2))),
            Err(Skip::UnsupportedLink(crate::LinkType(147))),
        ] {
            s.record(&d);
        }
        let expected = DecodeStats {
            frames: 11,
            tcp: 3,
            payload_truncated: 2,
            options_truncated: 1,
            not_ip: 1,
            not_tcp: 2,
            fragment: 1,
            tunnel: 1,
            truncated: 1,
            malformed: 1,
            unsupported_link: 1,
            ..DecodeStats::default()
        };
        assert_eq!(s, expected);
        assert_eq!(
            s.to_string(),
            "11 frames: 3 TCP (2 payload cut, 1 of them in options), 1 not IP, 2 not TCP, \
             1 IP fragments, 1 tunnelled, 1 truncated headers, 1 malformed, 1 unsupported link type"
        );
        let mut twice = s;
        twice.merge(&s);
        assert_eq!((twice.frames, twice.not_tcp, twice.options_truncated), (22, 4, 2));
    }

    #[test]
    fn display_omits_zero_counts() {
        let mut s = DecodeStats::default();
        s.record(&tcp(Captured::Whole));
        s.record(&tcp(Captured::PayloadCut));
        assert_eq!(s.to_string(), "2 frames: 2 TCP (1 payload cut)");
    }
}
