//! What one observed TCP segment says, reduced to the facts the lifecycle needs.
//!
//! Built by the `packet` crate from captured bytes; flags are kept raw so that an observer can record
//! what a stack would reject (SYN+FIN, RST+SYN, ...).

use crate::seq::Seq;
use std::net::{IpAddr, SocketAddr};

/// Time as nanoseconds since the Unix epoch. The core never reads a clock: callers pass it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Seconds since the epoch, as a float (JSON and Zeek output).
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// `self + d` nanoseconds, saturating.
    #[must_use]
    pub fn plus_nanos(self, d: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(d))
    }

    /// Nanoseconds from `earlier` to `self`, 0 if `earlier` is later.
    #[must_use]
    pub fn nanos_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// The TCP header's flag bits, kept as captured (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    #[must_use]
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    #[must_use]
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    #[must_use]
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    #[must_use]
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    #[must_use]
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    #[must_use]
    pub fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }

    /// The flags set, by their RFC 9293 names, in the order textbook figures write them (`SYN,ACK`,
    /// `FIN,ACK`, `PSH,ACK`, `RST,ACK`).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        const NAMES: [(u8, &str); 8] = [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
            (Flags::URG, "URG"),
            (Flags::ECE, "ECE"),
            (Flags::CWR, "CWR"),
        ];
        NAMES
            .into_iter()
            .filter(move |(b, _)| self.0 & b != 0)
            .map(|(_, n)| n)
    }
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [(u8, char); 8] = [
            (Flags::SYN, 'S'),
            (Flags::FIN, 'F'),
            (Flags::RST, 'R'),
            (Flags::PSH, 'P'),
            (Flags::ACK, '.'),
            (Flags::URG, 'U'),
            (Flags::ECE, 'E'),
            (Flags::CWR, 'W'),
        ];
        let s: String = NAMES
            .iter()
            .filter(|(b, _)| self.0 & b != 0)
            .map(|(_, c)| *c)
            .collect();
        write!(f, "[{s}]")
    }
}

/// A summary of the TCP options that matter to the lifecycle (RFC 9293 §3.2, RFC 7323, RFC 2018).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// RFC 7323 timestamps: (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
}

/// One TCP segment as seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: Flags,
    pub window: u16,
    /// TCP payload length according to the IP header (not what the snaplen kept).
    pub payload_len: u32,
    /// IP total length (header included), for Zeek's `*_ip_bytes`.
    pub ip_len: u32,
    pub options: TcpOptions,
    /// The tunnel the segment was carried in, as the decoder numbers them (0: none). Part of the
    /// connection's key: two VXLAN segments (VNIs) may both hold 10.0.0.1:80, and they are
    /// different connections.
    pub tunnel: u32,
    /// IPv4 TTL or IPv6 hop limit as it arrived at the capture point: the sender's initial value less
    /// the hops on the way. A RST with another one than its supposed sender's other segments was made
    /// elsewhere (`reset_origin`).
    pub ttl: u8,
    /// IPv4 Identification (0 for IPv6, which has none outside fragments).
    pub ip_id: u16,
}

impl Segment {
    /// Sequence space this segment occupies: payload plus one for SYN and one for FIN (RFC 9293 §3.4).
    ///
    /// Saturating: a segment built with a payload length within 2 of `u32::MAX` (no real segment; the
    /// decoder's lengths stop 40 below it) must not overflow (found by the `tracker` fuzz target).
    #[must_use]
    pub fn seq_len(&self) -> u32 {
        self.payload_len
            .saturating_add(u32::from(self.flags.syn()))
            .saturating_add(u32::from(self.flags.fin()))
    }

    /// The sequence number just past this segment.
    #[must_use]
    pub fn seq_end(&self) -> Seq {
        self.seq.plus(self.seq_len())
    }

    /// A builder for tests and generators: a bare segment between two endpoints.
    #[must_use]
    pub fn between(src: SocketAddr, dst: SocketAddr) -> Segment {
        Segment {
            src,
            dst,
            seq: Seq(0),
            ack: Seq(0),
            flags: Flags(0),
            window: 65535,
            payload_len: 0,
            ip_len: 40,
            options: TcpOptions::default(),
            tunnel: 0,
            ttl: 64,
            ip_id: 0,
        }
    }
}

/// Formats an address as `ip:port`, IPv6 as `[addr]:port` (the JSON and table convention).
#[must_use]
pub fn endpoint_string(a: SocketAddr) -> String {
    match a.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", a.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", a.port()),
    }
}
