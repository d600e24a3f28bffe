//! What [`Decoder::decode`](crate::Decoder::decode) says about one frame: a TCP segment, or the precise reason why not.

use crate::LinkType;
use lifecycle::Segment;
use std::fmt;

/// The result of decoding one frame.
pub type Decoded = Result<Tcp, Skip>;

/// A decoded TCP segment and how much of it the capture kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp {
    pub segment: Segment,
    pub captured: Captured,
    /// The tunnels the segment was decoded through (empty for a plain frame).
    pub tunnels: Tunnels,
    /// The segment was reassembled from IP fragments (this frame held the last piece).
    pub reassembled: bool,
}

/// A process as a capture names it: pid and command name (at most 16 bytes, as the kernel keeps it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Process {
    pub pid: i32,
    name: [u8; 16],
    len: u8,
}

impl Process {
    /// A process from its pid and name bytes (cut at the first NUL, and at 16 bytes).
    #[must_use]
    pub fn new(pid: i32, name: &[u8]) -> Process {
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        let mut buf = [0u8; 16];
        let len = name.len().min(16);
        buf[..len].copy_from_slice(&name[..len]);
        Process {
            pid,
            name: buf,
            len: u8::try_from(len).unwrap_or(16),
        }
    }

    /// The command name, with bytes that are not UTF-8 replaced.
    #[must_use]
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.name[..usize::from(self.len)]).into_owned()
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {})", self.name(), self.pid)
    }
}

/// A set of [`Tunnel`] kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tunnels(u16);

impl Tunnels {
    #[must_use]
    pub fn with(self, t: Tunnel) -> Tunnels {
        Tunnels(self.0 | 1 << (t as u16))
    }

    #[must_use]
    pub fn contains(self, t: Tunnel) -> bool {
        self.0 & (1 << (t as u16)) != 0
    }

    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// How much of a decoded segment the snaplen kept.
///
/// Lengths in the [`Segment`] always come from the IP header, so a cut segment is still exact for
/// sequence-space accounting; this only says what the bytes could not show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Captured {
    /// Every byte the IP header announces was captured.
    Whole,
    /// The TCP header (options included) is complete but the payload was cut.
    PayloadCut,
    /// The fixed 20-byte TCP header is complete but its options were cut: options that were not
    /// captured whole are missing from [`Segment::options`] (a cut SYN may lose its window scale).
    OptionsCut,
}

/// Why a frame did not yield a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// The capture's link type is not one [`Decoder::decode`](crate::Decoder::decode) understands.
    UnsupportedLink(LinkType),
    /// The link layer carries something other than IP (ARP, LLDP, PPP control, MPLS with a
    /// non-IP payload, ...).
    NotIp,
    /// IP, but neither TCP nor a known tunnel: UDP, ICMP, ESP (encrypted, RFC 4303), IPv6 "no next
    /// header" (59), ... `protocol` is the IP protocol number that stopped the decoder.
    NotTcp { protocol: u8 },
    /// An IP fragment (IPv4 MF flag or offset, RFC 791; IPv6 Fragment header, RFC 8200 §4.5) that
    /// did not complete its datagram: held for reassembly, or, without reassembly, counted only.
    /// The frame that completes a datagram yields its segment. Atomic fragments (offset 0, no more
    /// fragments, RFC 6946) are not fragments.
    Fragment,
    /// A tunnel left encapsulated: tunnels are not decoded (`--no-tunnels`), or this variant of
    /// it carries no IP (a GRE routing header, PPTP control, GTP-U signalling, ...).
    Tunnel(Tunnel),
    /// More than [`MAX_TUNNEL_DEPTH`](crate::MAX_TUNNEL_DEPTH) tunnels nested in one frame.
    TunnelTooDeep,
    /// The frame ends before the headers of `Layer` do: the snaplen (or a broken capture) cut it.
    Truncated(Layer),
    /// A header field that no sender may produce.
    Malformed(Malformed),
}

/// Tunnels recognised and decoded down to the packets they carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tunnel {
    /// Generic Routing Encapsulation, IP protocol 47 (RFC 2784, RFC 2890 key and sequence; version
    /// 1, PPTP's enhanced GRE, RFC 2637).
    Gre,
    /// ERSPAN type I (GRE protocol 0x88BE without a sequence number): a mirrored Ethernet frame.
    Erspan1,
    /// ERSPAN type II (GRE protocol 0x88BE with sequence number, 8-byte header).
    Erspan2,
    /// ERSPAN type III (GRE protocol 0x22EB, 12-byte header, optional 8-byte subheader).
    Erspan3,
    /// IPv4 in IP, protocol 4 (RFC 2003).
    Ipv4InIp,
    /// IPv6 in IP, protocol 41 (RFC 4213, 6in4/6to4/ISATAP).
    Ipv6InIp,
    /// Ethernet in IP, protocol 97 (RFC 3378).
    EtherIp,
    /// VXLAN, UDP port 4789 (RFC 7348).
    Vxlan,
    /// Geneve, UDP port 6081 (RFC 8926).
    Geneve,
    /// Teredo, UDP port 3544 (RFC 4380).
    Teredo,
    /// GTP-U, UDP port 2152 (3GPP TS 29.281).
    GtpU,
}

impl Tunnel {
    /// Every kind, in the order the capture facts list them.
    pub const ALL: [Tunnel; 11] = [
        Tunnel::Vxlan,
        Tunnel::Geneve,
        Tunnel::Gre,
        Tunnel::Erspan1,
        Tunnel::Erspan2,
        Tunnel::Erspan3,
        Tunnel::Ipv4InIp,
        Tunnel::Ipv6InIp,
        Tunnel::EtherIp,
        Tunnel::Teredo,
        Tunnel::GtpU,
    ];
}

/// The layer whose header a frame ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Link header and link encapsulations (VLAN, MPLS, PPPoE, ...).
    Link,
    /// A tunnel header (GRE, VXLAN, Geneve, ERSPAN, Teredo, GTP-U, ...).
    Tunnel,
    /// IPv4 header with options, or IPv6 header with extension headers.
    Ip,
    /// The fixed 20 bytes of the TCP header.
    Tcp,
}

/// A header field that cannot be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformed {
    /// The IP version nibble is not the one the link layer announced (or neither 4 nor 6 on raw IP).
    IpVersion(u8),
    /// IPv4 header length (IHL × 4, in bytes) below 20 (RFC 791).
    Ipv4HeaderLength(u8),
    /// The IP length (IPv4 total length; 40 + IPv6 payload length) is shorter than the IP header
    /// with its options or extension headers (RFC 791, RFC 8200 §4).
    IpLength { total: u32, header: u32 },
    /// TCP data offset below 5 words (RFC 9293 §3.1).
    TcpDataOffset(u8),
    /// The IP payload is shorter than the TCP header (20 bytes, or the data offset).
    TcpBeyondIp { ip_payload: u32, tcp_header: u32 },
    /// A link header's own length field is impossible (an NFLOG record shorter than its header).
    LinkHeader,
    /// The IP length is longer than the packet was on the wire (the capture's original length): a
    /// receiver drops it (Linux `ip_rcv_core`), and bytes that never existed must not be counted.
    IpBeyondWire { total: u32, wire: u32 },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::UnsupportedLink(link) => write!(f, "unsupported link type {link}"),
            Skip::NotIp => f.write_str("not IP"),
            Skip::NotTcp { protocol } => write!(f, "not TCP (IP protocol {protocol})"),
            Skip::Fragment => f.write_str("IP fragment (held for reassembly, or not reassembled)"),
            Skip::Tunnel(t) => write!(f, "{t} tunnel (not decoded)"),
            Skip::TunnelTooDeep => write!(f, "more than {} tunnels nested", crate::MAX_TUNNEL_DEPTH),
            Skip::Truncated(layer) => write!(f, "truncated in the {layer} header"),
            Skip::Malformed(m) => write!(f, "malformed: {m}"),
        }
    }
}

impl fmt::Display for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tunnel::Gre => "GRE",
            Tunnel::Erspan1 => "ERSPAN I",
            Tunnel::Erspan2 => "ERSPAN II",
            Tunnel::Erspan3 => "ERSPAN III",
            Tunnel::Ipv4InIp => "IPv4-in-IP",
            Tunnel::Ipv6InIp => "IPv6-in-IP",
            Tunnel::EtherIp => "EtherIP",
            Tunnel::Vxlan => "VXLAN",
            Tunnel::Geneve => "Geneve",
            Tunnel::Teredo => "Teredo",
            Tunnel::GtpU => "GTP-U",
        })
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link",
            Layer::Tunnel => "tunnel",
            Layer::Ip => "IP",
            Layer::Tcp => "TCP",
        })
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::IpVersion(v) => write!(f, "unexpected IP version {v}"),
            Malformed::Ipv4HeaderLength(l) => write!(f, "IPv4 header length {l} < 20"),
            Malformed::IpLength { total, header } => {
                write!(f, "IP length {total} shorter than its headers ({header})")
            }
            Malformed::TcpDataOffset(o) => write!(f, "TCP data offset {o} < 5"),
            Malformed::TcpBeyondIp {
                ip_payload,
                tcp_header,
            } => write!(
                f,
                "TCP header of {tcp_header} bytes in an IP payload of {ip_payload}"
            ),
            Malformed::LinkHeader => f.write_str("impossible length in the link header"),
            Malformed::IpBeyondWire { total, wire } => {
                write!(f, "IP length {total} longer than the packet on the wire ({wire})")
            }
        }
    }
}

impl std::error::Error for Skip {}
