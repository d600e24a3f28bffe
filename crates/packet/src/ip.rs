//! IPv4 (RFC 791) and IPv6 (RFC 8200) headers, down to the transport header.
//!
//! Lengths come from the IP header, never from the frame: Ethernet pads short frames to 60 bytes
//! (IEEE 802.3 clause 4.2.3.3) and those trailer bytes are not payload; and a snaplen may cut the
//! payload, which is still counted. Options (IPv4) are skipped by length, never interpreted.

use crate::bytes::{array, be16, u8_at};
use crate::{Layer, Malformed, Skip};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which IP version the link layer announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Network {
    V4,
    V6,
}

/// A piece of a fragmented datagram (RFC 791 §3.2; RFC 8200 §4.5): what reassembly needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fragment {
    /// IPv4 Identification (16 bits) or the IPv6 Fragment header's Identification.
    pub id: u32,
    /// Where this piece goes in the datagram's fragmentable part, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// The protocol of the fragmentable part: the IPv4 protocol, or the IPv6 Fragment header's
    /// next header (which may be another extension header).
    pub next: u8,
    /// Where the piece starts in the IP packet's bytes: after the IPv4 header or the IPv6 Fragment
    /// header (an offset rather than a slice keeps [`Packet`], copied for every frame, small).
    pub data_at: u32,
    /// Its length according to the IP header.
    pub data_len: u32,
}

impl Fragment {
    /// The piece's captured bytes, out of the IP packet `b` it was parsed from.
    pub fn data(self, b: &[u8]) -> &[u8] {
        let end = (self.data_at.saturating_add(self.data_len) as usize).min(b.len());
        b.get(self.data_at as usize..end).unwrap_or_default()
    }
}

/// An IP packet's addresses and transport bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol / IPv6 next header of the transport.
    pub protocol: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 Identification (0 for IPv6).
    pub ip_id: u16,
    /// `None` for a whole datagram (atomic fragments included, RFC 6946).
    pub fragment: Option<Fragment>,
    /// IPv4 total length, or 40 + IPv6 payload length.
    pub ip_len: u32,
    /// Transport length according to the IP header.
    pub transport_len: u32,
    /// The captured transport bytes: at most `transport_len` (link padding is dropped), fewer when
    /// the snaplen cut the packet. For a later fragment (offset > 0), the middle of the datagram.
    pub transport: &'a [u8],
}

impl Packet<'_> {
    /// The piece at offset 0 of a fragmented datagram, or a whole one: where the transport header is.
    pub fn starts_datagram(&self) -> bool {
        self.fragment.is_none_or(|f| f.offset == 0)
    }
}

/// IP protocol number of TCP.
pub(crate) const TCP: u8 = 6;

/// IPv6 extension headers (RFC 8200 §4; AH RFC 4302).
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTHENTICATION: u8 = 51;
const DESTINATION_OPTIONS: u8 = 60;

/// IPv4 flags/fragment-offset field (RFC 791 §3.1).
const IPV4_MORE_FRAGMENTS: u16 = 0x2000;
const IPV4_OFFSET_MASK: u16 = 0x1FFF;

/// Parses the IP header at the start of `b`. `wire_len` is how long the packet was on the wire
/// (the frame's original length less the link headers): it stands in for a length field of 0, which
/// captures of TSO/GSO super-packets (Linux BIG TCP) and IPv6 jumbograms (RFC 2675) carry.
#[inline(always)]
pub(crate) fn parse(network: Network, b: &[u8], wire_len: u32) -> Result<Packet<'_>, Skip> {
    with_packet(network, b, wire_len, |p| Ok(*p))
}

/// [`parse`], handing the packet to `then` by reference: on the hot path the packet then stays
/// where it was built. (Returned by value, its copy out of the `Result` costs a store-forwarding
/// stall per frame, measured with `cargo bench -p packet`.)
#[inline(always)]
pub(crate) fn with_packet<'a, R>(
    network: Network,
    b: &'a [u8],
    wire_len: u32,
    then: impl FnOnce(&Packet<'a>) -> Result<R, Skip>,
) -> Result<R, Skip> {
    let version = u8_at(b, 0).ok_or(Skip::Truncated(Layer::Ip))? >> 4;
    match (network, version) {
        (Network::V4, 4) => ipv4(b, wire_len, then),
        (Network::V6, 6) => ipv6(b, wire_len, then),
        _ => Err(Skip::Malformed(Malformed::IpVersion(version))),
    }
}

/// IPv4, RFC 791 §3.1.
#[inline(always)]
fn ipv4<'a, R>(
    b: &'a [u8],
    wire_len: u32,
    then: impl FnOnce(&Packet<'a>) -> Result<R, Skip>,
) -> Result<R, Skip> {
    let h = array::<20>(b, 0).ok_or(Skip::Truncated(Layer::Ip))?;
    let header_len = (h[0] & 0x0F) * 4;
    if header_len < 20 {
        return Err(Skip::Malformed(Malformed::Ipv4HeaderLength(header_len)));
    }
    let header = u32::from(header_len);
    let total = match u16::from_be_bytes([h[2], h[3]]) {
        0 => wire_len,
        t => u32::from(t),
    };
    if total < header {
        return Err(Skip::Malformed(Malformed::IpLength { total, header }));
    }
    beyond_wire(total, wire_len)?;
    let transport = slice(b, header, total).ok_or(Skip::Truncated(Layer::Ip))?;
    let frag = u16::from_be_bytes([h[6], h[7]]);
    let (offset, more) = (frag & IPV4_OFFSET_MASK, frag & IPV4_MORE_FRAGMENTS != 0);
    let fragment = if offset != 0 || more {
        Some(Fragment {
            id: u32::from(u16::from_be_bytes([h[4], h[5]])),
            offset: u32::from(offset) * 8,
            more,
            next: h[9],
            data_at: header,
            data_len: total - header,
        })
    } else {
        None
    };
    then(&Packet {
        src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
        dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
        protocol: h[9],
        ttl: h[8],
        ip_id: u16::from_be_bytes([h[4], h[5]]),
        fragment,
        ip_len: total,
        transport_len: total - header,
        transport,
    })
}

/// IPv6, RFC 8200 §3, with the extension headers of §4 skipped in order.
#[inline(always)]
fn ipv6<'a, R>(
    b: &'a [u8],
    wire_len: u32,
    then: impl FnOnce(&Packet<'a>) -> Result<R, Skip>,
) -> Result<R, Skip> {
    let h = array::<8>(b, 0).ok_or(Skip::Truncated(Layer::Ip))?;
    let src = array::<16>(b, 8).ok_or(Skip::Truncated(Layer::Ip))?;
    let dst = array::<16>(b, 24).ok_or(Skip::Truncated(Layer::Ip))?;
    let total = match u16::from_be_bytes([h[4], h[5]]) {
        0 => wire_len.max(40),
        p => 40 + u32::from(p),
    };
    beyond_wire(total, wire_len)?;
    let chain = ext_chain(b, h[6], 40, total)?;
    let transport = slice(b, chain.header, total).ok_or(Skip::Truncated(Layer::Ip))?;
    then(&Packet {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        protocol: chain.protocol,
        ttl: h[7],
        ip_id: 0,
        fragment: chain.fragment,
        ip_len: total,
        transport_len: total - chain.header,
        transport,
    })
}

/// Where an IPv6 extension header chain ends.
pub(crate) struct Chain {
    pub protocol: u8,
    pub header: u32,
    pub fragment: Option<Fragment>,
}

/// Follows the IPv6 extension headers (§4) from `protocol` at offset `header` of `b`, whose IP
/// length is `total`, to the transport. ESP (50) and "no next header" (59) end the chain like any
/// transport: what follows cannot be read. A Fragment header of a later piece (offset > 0) ends it
/// too: what follows is the middle of the datagram. Also used on a reassembled fragmentable part.
#[inline(always)]
pub(crate) fn ext_chain(b: &[u8], mut protocol: u8, mut header: u32, total: u32) -> Result<Chain, Skip> {
    let mut fragment = None;
    loop {
        // Every extension header starts with its next header; lengths differ (§4.3–4.6, RFC 4302 §2.2).
        let len = match protocol {
            HOP_BY_HOP | ROUTING | DESTINATION_OPTIONS => u32::from(ext_byte(b, header, 1, total)?) * 8 + 8,
            AUTHENTICATION => u32::from(ext_byte(b, header, 1, total)?) * 4 + 8,
            FRAGMENT => 8,
            _ => break,
        };
        let next = ext_byte(b, header, 0, total)?;
        if protocol == FRAGMENT {
            let offset_flags = ext_u16(b, header, 2, total)?;
            let id = ext_u32(b, header, 4, total)?;
            let (offset, more) = (u32::from(offset_flags >> 3) * 8, offset_flags & 1 != 0);
            let after = header + 8;
            if offset != 0 || more {
                fragment = Some(Fragment {
                    id,
                    offset,
                    more,
                    next,
                    data_at: after,
                    data_len: total - after,
                });
            }
            if offset != 0 {
                return Ok(Chain {
                    protocol: next,
                    header: after,
                    fragment,
                });
            }
        }
        protocol = next;
        header = header.saturating_add(len);
        if header > total {
            return Err(Skip::Malformed(Malformed::IpLength { total, header }));
        }
    }
    Ok(Chain {
        protocol,
        header,
        fragment,
    })
}

/// An IP length the packet on the wire (`wire_len`, when the capture gives one) could not hold.
#[inline(always)]
fn beyond_wire(total: u32, wire_len: u32) -> Result<(), Skip> {
    if wire_len > 0 && total > wire_len {
        return Err(Skip::Malformed(Malformed::IpBeyondWire {
            total,
            wire: wire_len,
        }));
    }
    Ok(())
}

/// Byte `at` of the extension header starting at `start`: malformed if the IP length ends before
/// it, truncated if the capture does.
fn ext_byte(b: &[u8], start: u32, at: u32, total: u32) -> Result<u8, Skip> {
    let pos = start.saturating_add(at);
    if pos >= total {
        return Err(Skip::Malformed(Malformed::IpLength {
            total,
            header: pos.saturating_add(1),
        }));
    }
    u8_at(b, pos as usize).ok_or(Skip::Truncated(Layer::Ip))
}

/// Like [`ext_byte`], for a 16-bit field.
fn ext_u16(b: &[u8], start: u32, at: u32, total: u32) -> Result<u16, Skip> {
    let pos = start.saturating_add(at);
    if pos.saturating_add(2) > total {
        return Err(Skip::Malformed(Malformed::IpLength {
            total,
            header: pos.saturating_add(2),
        }));
    }
    be16(b, pos as usize).ok_or(Skip::Truncated(Layer::Ip))
}

/// Like [`ext_byte`], for a 32-bit field.
fn ext_u32(b: &[u8], start: u32, at: u32, total: u32) -> Result<u32, Skip> {
    let hi = ext_u16(b, start, at, total)?;
    let lo = ext_u16(b, start, at + 2, total)?;
    Ok(u32::from(hi) << 16 | u32::from(lo))
}

/// `b[header..total]`, shortened to what was captured; `None` if the capture ends inside the header.
fn slice(b: &[u8], header: u32, total: u32) -> Option<&[u8]> {
    let end = b.len().min(total as usize);
    b.get(header as usize..end)
}
