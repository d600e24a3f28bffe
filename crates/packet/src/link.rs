//! Capture link types and their headers, down to the first ethertype or IP header.
//!
//! Values and layouts are those of the tcpdump.org link-layer header types registry
//! (<https://www.tcpdump.org/linktypes.html>).

use crate::bytes::{array, be16, u8_at};
use crate::ether::{self, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS};
use crate::ip::Network;
use crate::{Layer, Skip};
use std::fmt;

/// A pcap `LINKTYPE_*` value: what header each frame of a capture starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / IEEE 802.3 (`DLT_EN10MB`).
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP (RFC 1661), optionally with RFC 1662 HDLC-like address and control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// `DLT_RAW` as numbered on most systems, found in old captures.
    pub const RAW_DLT12: LinkType = LinkType(12);
    /// `DLT_RAW` as numbered on OpenBSD, found in old captures.
    pub const RAW_DLT14: LinkType = LinkType(14);
    /// PPP in HDLC-like framing (RFC 1662), or Cisco HDLC framing.
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Raw IPv4 or IPv6, told apart by the version nibble.
    pub const RAW: LinkType = LinkType(101);
    /// Cisco HDLC: address, control, then an ethertype.
    pub const C_HDLC: LinkType = LinkType(104);
    /// OpenBSD loopback: like [`LinkType::NULL`] but the family is in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter log (`tcpdump -i nflog:N`): the packets a host firewall rule logged.
    pub const NFLOG: LinkType = LinkType(239);
    /// Apple's PKTAP (`tcpdump -i pktap` on macOS): a header naming the interface and the process,
    /// then the frame in its own link type.
    pub const PKTAP: LinkType = LinkType(258);
    /// Linux "cooked" capture, version 2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Every link type [`Decoder::decode`](crate::Decoder::decode) understands.
    pub const SUPPORTED: [LinkType; 15] = [
        LinkType::NULL,
        LinkType::ETHERNET,
        LinkType::PPP,
        LinkType::RAW_DLT12,
        LinkType::RAW_DLT14,
        LinkType::PPP_HDLC,
        LinkType::RAW,
        LinkType::C_HDLC,
        LinkType::LOOP,
        LinkType::LINUX_SLL,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::NFLOG,
        LinkType::PKTAP,
        LinkType::LINUX_SLL2,
    ];

    /// The libpcap name (as `tcpdump -L` prints it), or `None` for link types this crate does not decode.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::PPP => "PPP",
            LinkType::RAW_DLT12 | LinkType::RAW_DLT14 | LinkType::RAW => "RAW",
            LinkType::PPP_HDLC => "PPP_SERIAL",
            LinkType::C_HDLC => "C_HDLC",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::NFLOG => "NFLOG",
            LinkType::PKTAP => "PKTAP",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => return None,
        })
    }

    /// Whether [`Decoder::decode`](crate::Decoder::decode) understands this link type (every frame of a capture whose
    /// link type is unsupported is [`Skip::UnsupportedLink`]).
    #[must_use]
    pub fn is_supported(self) -> bool {
        self.name().is_some()
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "LINKTYPE {}", self.0),
        }
    }
}

/// BSD `AF_INET`, the same on every BSD.
const AF_INET: u32 = 2;
/// BSD `AF_INET6`: NetBSD/OpenBSD/BSD/OS, FreeBSD/DragonFly, Darwin.
const AF_INET6: [u32; 3] = [24, 28, 30];

/// RFC 1662 §3.1 address and control bytes of HDLC-like framing.
const ADDRESS_ALL_STATIONS: u8 = 0xFF;
const UNNUMBERED_INFORMATION: u8 = 0x03;

/// PPP protocol numbers (RFC 1661 §2; IANA PPP DLL protocol numbers).
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const PPP_MPLS: u16 = 0x0281;

/// Strips the link header of `frame` and returns the IP packet it carries.
#[inline]
pub(crate) fn network(link: LinkType, frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    match link {
        LinkType::ETHERNET => ethernet(frame),
        LinkType::RAW | LinkType::RAW_DLT12 | LinkType::RAW_DLT14 => raw(frame),
        LinkType::IPV4 => Ok((Network::V4, frame)),
        LinkType::IPV6 => Ok((Network::V6, frame)),
        LinkType::LINUX_SLL => cooked(frame, 14, 16),
        LinkType::LINUX_SLL2 => cooked(frame, 0, 20),
        LinkType::NULL => null(frame, |b| [u32::from_le_bytes(b), u32::from_be_bytes(b)]),
        LinkType::LOOP => null(frame, |b| [u32::from_be_bytes(b); 2]),
        // Cisco HDLC frames (address 0x0F unicast, 0x8F multicast) are also written under both PPP
        // link types.
        LinkType::PPP | LinkType::PPP_HDLC => match u8_at(frame, 0) {
            Some(0x0F | 0x8F) => cisco_hdlc(frame),
            _ => ppp(frame),
        },
        LinkType::C_HDLC => cisco_hdlc(frame),
        LinkType::NFLOG => nflog(frame),
        LinkType::PKTAP => pktap(frame),
        other => Err(Skip::UnsupportedLink(other)),
    }
}

/// Linux `AF_INET6` (NFLOG's family byte is the Linux value).
const LINUX_AF_INET6: u8 = 10;
/// `NFULA_PAYLOAD`: the TLV that holds the logged packet.
const NFULA_PAYLOAD: u16 = 9;

/// NFLOG (<https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html>): family, version, resource ID,
/// then type-length-value records, each padded to 4 bytes, whose length and type are in the
/// capturing host's byte order; the payload record holds the packet from its IP header. The order
/// is told from the first record: its length must cover at least its own 4-byte header and fit.
fn nflog(frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    let family = u8_at(frame, 0).ok_or(Skip::Truncated(Layer::Link))?;
    let network = match family {
        2 => Network::V4,
        LINUX_AF_INET6 => Network::V6,
        _ => return Err(Skip::NotIp),
    };
    let first = array::<2>(frame, 4).ok_or(Skip::Truncated(Layer::Link))?;
    let plausible = |len: u16| len >= 4 && usize::from(len) <= frame.len() - 4;
    let read: fn([u8; 2]) -> u16 = if plausible(u16::from_le_bytes(first)) {
        u16::from_le_bytes
    } else {
        u16::from_be_bytes
    };
    let mut at = 4;
    // Each record is at least 4 bytes long, so the walk ends.
    while let (Some(len), Some(kind)) = (array::<2>(frame, at), array::<2>(frame, at + 2)) {
        let (len, kind) = (usize::from(read(len)), read(kind));
        if len < 4 {
            return Err(Skip::Malformed(crate::Malformed::LinkHeader));
        }
        if kind == NFULA_PAYLOAD {
            let end = (at + len).min(frame.len());
            return Ok((network, frame.get(at + 4..end).unwrap_or_default()));
        }
        at += len.next_multiple_of(4);
    }
    Err(Skip::Truncated(Layer::Link))
}

/// Where `pktap_header` keeps the process ID (`pth_pid`) and its command name (`pth_comm`, 17 bytes
/// with the NUL).
const PKTAP_PID: usize = 52;
const PKTAP_COMM: usize = 56;

/// The process a PKTAP frame names, if it names one (a pid of 0 or -1, or an empty name, is none:
/// packets no local socket sent or received).
pub(crate) fn pktap_process(frame: &[u8]) -> Option<crate::Process> {
    let pid = i32::from_le_bytes(array::<4>(frame, PKTAP_PID)?);
    let comm = frame.get(PKTAP_COMM..PKTAP_COMM + 17)?;
    (pid > 0 && comm.first().is_some_and(|&b| b != 0)).then(|| crate::Process::new(pid, comm))
}

/// PKTAP (`pktap_header` in Darwin's `bsd/net/pktap.h`): its length and the link type of the frame
/// that follows, both 32-bit in the capturing host's (little-endian) order. A PKTAP frame inside
/// PKTAP is refused rather than followed.
fn pktap(frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    let len = array::<4>(frame, 0).ok_or(Skip::Truncated(Layer::Link))?;
    let dlt = array::<4>(frame, 8).ok_or(Skip::Truncated(Layer::Link))?;
    let (len, dlt) = (u32::from_le_bytes(len), u32::from_le_bytes(dlt));
    let inner = frame.get(len as usize..).ok_or(Skip::Truncated(Layer::Link))?;
    // Darwin writes BSD loopback and raw IP with its DLT values, which are the link types' values.
    match LinkType(dlt) {
        LinkType::PKTAP => Err(Skip::UnsupportedLink(LinkType::PKTAP)),
        link => network(link, inner),
    }
}

/// Ethernet II: destination, source, ethertype (IEEE 802.3 clause 3.2.6), then the encapsulations
/// [`ether::chain`] knows. A length field (≤ 1500, IEEE 802.3 with LLC) is not IP.
pub(crate) fn ethernet(frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    let ethertype = be16(frame, 12).ok_or(Skip::Truncated(Layer::Link))?;
    ether::chain(ethertype, frame.get(14..).unwrap_or_default())
}

/// Raw IP: the version nibble says which (RFC 791 §3.1, RFC 8200 §3).
fn raw(frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    match u8_at(frame, 0).map(|b| b >> 4) {
        Some(4) => Ok((Network::V4, frame)),
        Some(6) => Ok((Network::V6, frame)),
        Some(v) => Err(Skip::Malformed(crate::Malformed::IpVersion(v))),
        None => Err(Skip::Truncated(Layer::Ip)),
    }
}

/// Linux cooked headers: SLL has the protocol (an ethertype for IP) at offset 14 of 16 bytes, SLL2 at
/// offset 0 of 20 bytes. Non-ethertype values (< 0x0600: 802.3, 802.2 LLC, CAN, ...) are not IP.
fn cooked(frame: &[u8], protocol_at: usize, len: usize) -> Result<(Network, &[u8]), Skip> {
    let protocol = be16(frame, protocol_at).ok_or(Skip::Truncated(Layer::Link))?;
    let rest = frame.get(len..).ok_or(Skip::Truncated(Layer::Link))?;
    ether::chain(protocol, rest)
}

/// BSD loopback: a 4-byte address family. `families` gives the candidate readings of the field:
/// `NULL` is in the capturing host's order, which need not be ours, so both orders are tried.
fn null(frame: &[u8], families: impl Fn([u8; 4]) -> [u32; 2]) -> Result<(Network, &[u8]), Skip> {
    let family = array::<4>(frame, 0).ok_or(Skip::Truncated(Layer::Link))?;
    let rest = frame.get(4..).unwrap_or_default();
    let families = families(family);
    if families.contains(&AF_INET) {
        Ok((Network::V4, rest))
    } else if families.iter().any(|f| AF_INET6.contains(f)) {
        Ok((Network::V6, rest))
    } else {
        Err(Skip::NotIp)
    }
}

/// PPP (RFC 1661 §2): optional `FF 03` address/control (RFC 1662 §3.1), then a protocol field of two
/// bytes, or one when protocol-field compression applies (RFC 1661 §6.5: the first byte is odd).
pub(crate) fn ppp(frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    if frame == [ADDRESS_ALL_STATIONS] {
        return Err(Skip::Truncated(Layer::Link));
    }
    let frame = frame
        .strip_prefix(&[ADDRESS_ALL_STATIONS, UNNUMBERED_INFORMATION][..])
        .unwrap_or(frame);
    let (protocol, rest) = ppp_protocol(frame)?;
    ether::chain(ppp_ethertype(protocol)?, rest)
}

/// A PPP protocol field (RFC 1661 §2): two bytes, or one when protocol-field compression applies
/// (§6.5: the first byte is odd, which no uncompressed protocol number's first byte is).
pub(crate) fn ppp_protocol(frame: &[u8]) -> Result<(u16, &[u8]), Skip> {
    let first = u8_at(frame, 0).ok_or(Skip::Truncated(Layer::Link))?;
    if first & 1 == 1 {
        Ok((u16::from(first), frame.get(1..).unwrap_or_default()))
    } else {
        let protocol = be16(frame, 0).ok_or(Skip::Truncated(Layer::Link))?;
        Ok((protocol, frame.get(2..).unwrap_or_default()))
    }
}

/// Maps the PPP protocols that carry IP (directly or in MPLS, RFC 3032 §4.3) to their ethertypes.
pub(crate) fn ppp_ethertype(protocol: u16) -> Result<u16, Skip> {
    match protocol {
        PPP_IPV4 => Ok(ETHERTYPE_IPV4),
        PPP_IPV6 => Ok(ETHERTYPE_IPV6),
        PPP_MPLS => Ok(ETHERTYPE_MPLS),
        _ => Err(Skip::NotIp),
    }
}

/// Cisco HDLC: address, control, ethertype.
fn cisco_hdlc(frame: &[u8]) -> Result<(Network, &[u8]), Skip> {
    let ethertype = be16(frame, 2).ok_or(Skip::Truncated(Layer::Link))?;
    ether::chain(ethertype, frame.get(4..).unwrap_or_default())
}
