//! Tunnels: recognised among non-TCP packets, and opened down to the packet they carry.
//!
//! Each function here takes the outer IP packet and returns the inner packet's first header (IP, or
//! an Ethernet frame that `link` then reads) and the tunnel's identity (the outer
//! addresses, and the VNI, key, session or TEID that tells its virtual networks apart).

use crate::bytes::{be16, be32, u8_at};
use crate::ip::{Network, Packet};
use crate::{Layer, Skip, Tunnel};
use std::net::IpAddr;

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const IPV4_IN_IP: u8 = 4;
const UDP: u8 = 17;
const IPV6_IN_IP: u8 = 41;
const GRE: u8 = 47;
const ETHERIP: u8 = 97;

/// IANA-registered UDP ports of UDP tunnels.
pub const VXLAN_PORT: u16 = 4789;
const GENEVE_PORT: u16 = 6081;
const TEREDO_PORT: u16 = 3544;
const GTP_U_PORT: u16 = 2152;

/// Ethertypes that tunnels name as their payload.
const ETHERTYPE_TEB: u16 = 0x6558;
const ETHERTYPE_ERSPAN_1_2: u16 = 0x88BE;
const ETHERTYPE_ERSPAN_3: u16 = 0x22EB;
const ETHERTYPE_PPP: u16 = 0x880B;

/// What a tunnel carries: an IP packet, or an Ethernet frame, or something that goes through the
/// ethertype chain (MPLS, VLAN-tagged IP, ...).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Inner<'a> {
    Ip(Network, &'a [u8]),
    Ethernet(&'a [u8]),
    Ethertype(u16, &'a [u8]),
    /// A PPP frame (PPTP's enhanced GRE, RFC 2637).
    Ppp(&'a [u8]),
}

/// One opened tunnel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Opened<'a> {
    pub tunnel: Tunnel,
    /// VNI, GRE key, ERSPAN session: what tells apart two virtual networks between the same
    /// endpoints (0 when the tunnel has none).
    pub id: u32,
    pub inner: Inner<'a>,
}

/// Which UDP destination ports are VXLAN (IANA's 4789 by default; Linux's default device port is
/// 8472, `--vxlan-port`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelConfig {
    /// Open tunnels at all (`--no-tunnels` counts them instead, as before).
    pub decode: bool,
    pub vxlan_ports: Vec<u16>,
}

impl Default for TunnelConfig {
    fn default() -> TunnelConfig {
        TunnelConfig {
            decode: true,
            vxlan_ports: vec![VXLAN_PORT],
        }
    }
}

/// The tunnel a non-TCP packet is, if any, from its protocol and (for UDP) its ports.
fn kind(packet: &Packet<'_>, config: &TunnelConfig) -> Option<Tunnel> {
    match packet.protocol {
        IPV4_IN_IP => Some(Tunnel::Ipv4InIp),
        IPV6_IN_IP => Some(Tunnel::Ipv6InIp),
        GRE => Some(Tunnel::Gre),
        ETHERIP => Some(Tunnel::EtherIp),
        // Only a datagram's first bytes hold the UDP ports (RFC 768).
        UDP if packet.starts_datagram() => udp_tunnel(packet.transport, config),
        _ => None,
    }
}

/// A UDP tunnel. VXLAN and Geneve go to their port from a hashed source port (RFC 7348 §5, RFC 8926
/// §3.3), so only the destination counts; Teredo and GTP-U answer from their port, so either does.
fn udp_tunnel(udp: &[u8], config: &TunnelConfig) -> Option<Tunnel> {
    let (src, dst) = (be16(udp, 0)?, be16(udp, 2)?);
    if config.vxlan_ports.contains(&dst) {
        Some(Tunnel::Vxlan)
    } else if dst == GENEVE_PORT {
        Some(Tunnel::Geneve)
    } else if src == TEREDO_PORT || dst == TEREDO_PORT {
        Some(Tunnel::Teredo)
    } else if src == GTP_U_PORT || dst == GTP_U_PORT {
        Some(Tunnel::GtpU)
    } else {
        None
    }
}

/// Why a non-TCP packet is not opened: it is no tunnel (just another protocol), or tunnels are not
/// decoded.
pub(crate) fn classify(packet: &Packet<'_>, config: &TunnelConfig) -> Skip {
    kind(packet, config).map_or(
        Skip::NotTcp {
            protocol: packet.protocol,
        },
        Skip::Tunnel,
    )
}

/// Opens the tunnel `packet` is, or says why not.
pub(crate) fn open<'a>(packet: &Packet<'a>, config: &TunnelConfig) -> Result<Opened<'a>, Skip> {
    let Some(tunnel) = kind(packet, config).filter(|_| config.decode) else {
        return Err(classify(packet, config));
    };
    let b = packet.transport;
    let undecoded = Skip::Tunnel(tunnel);
    let opened = |id, inner| Ok(Opened { tunnel, id, inner });
    match tunnel {
        // RFC 2003 (IPv4 in IP), RFC 4213 §3.5 (IPv6 in IPv4, 6in4), RFC 2473 (in IPv6).
        Tunnel::Ipv4InIp => opened(0, Inner::Ip(Network::V4, b)),
        Tunnel::Ipv6InIp => opened(0, Inner::Ip(Network::V6, b)),
        // RFC 3378 §3: a 16-bit header whose version is 3, then an Ethernet frame.
        Tunnel::EtherIp => match u8_at(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))? >> 4 {
            3 => opened(0, Inner::Ethernet(rest(b, 2)?)),
            _ => Err(undecoded),
        },
        Tunnel::Gre => gre(b),
        Tunnel::Vxlan => vxlan(udp_payload(b)?),
        Tunnel::Geneve => geneve(udp_payload(b)?),
        Tunnel::Teredo => teredo(udp_payload(b)?),
        Tunnel::GtpU => gtp_u(udp_payload(b)?),
        Tunnel::Erspan1 | Tunnel::Erspan2 | Tunnel::Erspan3 => Err(undecoded),
    }
}

/// `b[at..]`, or truncated in the tunnel header.
fn rest(b: &[u8], at: usize) -> Result<&[u8], Skip> {
    b.get(at..).ok_or(Skip::Truncated(Layer::Tunnel))
}

/// The 8-byte UDP header skipped (RFC 768).
fn udp_payload(b: &[u8]) -> Result<&[u8], Skip> {
    rest(b, 8)
}

/// GRE (RFC 2784 §2, with RFC 2890's key and sequence number), and PPTP's enhanced GRE (RFC 2637
/// §4.1, version 1). ERSPAN rides on GRE: type I and II with protocol 0x88BE (type II has the
/// sequence number bit and an 8-byte header), type III with 0x22EB and a 12-byte header plus an
/// optional 8-byte platform subheader.
fn gre(b: &[u8]) -> Result<Opened<'_>, Skip> {
    let flags = be16(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))?;
    let protocol = be16(b, 2).ok_or(Skip::Truncated(Layer::Tunnel))?;
    let (checksum, routing, key, sequence) = (
        flags & 0x8000 != 0,
        flags & 0x4000 != 0,
        flags & 0x2000 != 0,
        flags & 0x1000 != 0,
    );
    let version = flags & 0x0007;
    let undecoded = Err(Skip::Tunnel(Tunnel::Gre));
    if routing {
        return undecoded; // RFC 1701 source routing, deprecated by RFC 2784: not followed.
    }
    let mut at = 4;
    let mut id = 0;
    match version {
        0 => {
            if checksum {
                at += 4; // checksum and reserved
            }
            if key {
                id = be32(b, at).ok_or(Skip::Truncated(Layer::Tunnel))?;
                at += 4;
            }
            if sequence {
                at += 4;
            }
        }
        1 if key && protocol == ETHERTYPE_PPP => {
            // Key: payload length (16 bits), call ID (16 bits); then sequence and acknowledgment
            // numbers if their bits (S; A = 0x0080) are set. The call ID is the receiver's, so it
            // differs by direction and is not part of the identity.
            at += 4;
            at += if sequence { 4 } else { 0 } + if flags & 0x0080 != 0 { 4 } else { 0 };
            let payload = rest(b, at)?;
            if payload.is_empty() {
                return undecoded; // An acknowledgment alone.
            }
            return Ok(Opened {
                tunnel: Tunnel::Gre,
                id: 0,
                inner: Inner::Ppp(payload),
            });
        }
        _ => return undecoded,
    }
    let payload = rest(b, at)?;
    let (tunnel, id, inner) = match protocol {
        ETHERTYPE_TEB => (Tunnel::Gre, id, Inner::Ethernet(payload)),
        ETHERTYPE_ERSPAN_1_2 if !sequence => (Tunnel::Erspan1, 0, Inner::Ethernet(payload)),
        ETHERTYPE_ERSPAN_1_2 => {
            // Version (4 bits, 1), VLAN, COS, encapsulation, truncated, session ID (10 bits), index.
            let session = u32::from(be16(payload, 2).ok_or(Skip::Truncated(Layer::Tunnel))? & 0x03FF);
            (Tunnel::Erspan2, session, Inner::Ethernet(rest(payload, 8)?))
        }
        ETHERTYPE_ERSPAN_3 => {
            let session = u32::from(be16(payload, 2).ok_or(Skip::Truncated(Layer::Tunnel))? & 0x03FF);
            let optional = be16(payload, 10).ok_or(Skip::Truncated(Layer::Tunnel))? & 0x0001 != 0;
            let len = if optional { 20 } else { 12 };
            (Tunnel::Erspan3, session, Inner::Ethernet(rest(payload, len)?))
        }
        other => (Tunnel::Gre, id, Inner::Ethertype(other, payload)),
    };
    Ok(Opened { tunnel, id, inner })
}

/// VXLAN (RFC 7348 §5): flags with the I bit (a valid VNI), 24 reserved bits, the 24-bit VNI and 8
/// reserved bits, then an Ethernet frame.
fn vxlan(b: &[u8]) -> Result<Opened<'_>, Skip> {
    let flags = u8_at(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))?;
    let vni = be32(b, 4).ok_or(Skip::Truncated(Layer::Tunnel))? >> 8;
    if flags & 0x08 == 0 {
        return Err(Skip::Tunnel(Tunnel::Vxlan));
    }
    Ok(Opened {
        tunnel: Tunnel::Vxlan,
        id: vni,
        inner: Inner::Ethernet(rest(b, 8)?),
    })
}

/// Geneve (RFC 8926 §3.4): version 0, options length in 4-byte words (skipped), the protocol of the
/// payload as an ethertype (0x6558 for Ethernet), the 24-bit VNI.
fn geneve(b: &[u8]) -> Result<Opened<'_>, Skip> {
    let first = u8_at(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))?;
    let protocol = be16(b, 2).ok_or(Skip::Truncated(Layer::Tunnel))?;
    let vni = be32(b, 4).ok_or(Skip::Truncated(Layer::Tunnel))? >> 8;
    if first >> 6 != 0 {
        return Err(Skip::Tunnel(Tunnel::Geneve));
    }
    let payload = rest(b, 8 + usize::from(first & 0x3F) * 4)?;
    let inner = match protocol {
        ETHERTYPE_TEB => Inner::Ethernet(payload),
        other => Inner::Ethertype(other, payload),
    };
    Ok(Opened {
        tunnel: Tunnel::Geneve,
        id: vni,
        inner,
    })
}

/// Teredo (RFC 4380 §5.1.1): an IPv6 packet, possibly preceded by an authentication indicator
/// (type 1: client identifier and authentication value lengths, then both, a nonce and a
/// confirmation byte) and an origin indication (type 0, 8 bytes).
fn teredo(mut b: &[u8]) -> Result<Opened<'_>, Skip> {
    for _ in 0..2 {
        match be16(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))? {
            0x0001 => {
                let id_len = usize::from(u8_at(b, 2).ok_or(Skip::Truncated(Layer::Tunnel))?);
                let auth_len = usize::from(u8_at(b, 3).ok_or(Skip::Truncated(Layer::Tunnel))?);
                b = rest(b, 4 + id_len + auth_len + 8 + 1)?;
            }
            0x0000 => b = rest(b, 8)?,
            _ => break,
        }
    }
    match u8_at(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))? >> 4 {
        6 => Ok(Opened {
            tunnel: Tunnel::Teredo,
            id: 0,
            inner: Inner::Ip(Network::V6, b),
        }),
        // Teredo bubbles and other control traffic carry no IPv6 packet.
        _ => Err(Skip::Tunnel(Tunnel::Teredo)),
    }
}

/// GTP-U message type of a user packet (G-PDU).
const G_PDU: u8 = 0xFF;

/// GTP-U (3GPP TS 29.281 §5): version 1, protocol type GTP; the message type; length; TEID; a
/// sequence number, N-PDU number and next extension header type when any of E, S, PN is set; then
/// the extension headers, each a length in 4-byte units and ending with the next type. A G-PDU
/// carries an IP packet (its version nibble says which).
///
/// The TEID is not part of the identity: each direction of one flow uses its own (the receiver's)
/// TEID, so keying by it would split every connection in two.
fn gtp_u(b: &[u8]) -> Result<Opened<'_>, Skip> {
    let flags = u8_at(b, 0).ok_or(Skip::Truncated(Layer::Tunnel))?;
    let message = u8_at(b, 1).ok_or(Skip::Truncated(Layer::Tunnel))?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || message != G_PDU {
        return Err(Skip::Tunnel(Tunnel::GtpU));
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        let mut next = u8_at(b, 11).ok_or(Skip::Truncated(Layer::Tunnel))?;
        at = 12;
        // Each extension header is at least 4 bytes, so the walk ends within the packet.
        while next != 0 {
            let units = usize::from(u8_at(b, at).ok_or(Skip::Truncated(Layer::Tunnel))?);
            if units == 0 {
                return Err(Skip::Tunnel(Tunnel::GtpU));
            }
            at += units * 4;
            next = u8_at(b, at - 1).ok_or(Skip::Truncated(Layer::Tunnel))?;
        }
    }
    let inner = rest(b, at)?;
    let network = match u8_at(inner, 0).ok_or(Skip::Truncated(Layer::Tunnel))? >> 4 {
        4 => Network::V4,
        6 => Network::V6,
        _ => return Err(Skip::Tunnel(Tunnel::GtpU)),
    };
    Ok(Opened {
        tunnel: Tunnel::GtpU,
        id: 0,
        inner: Inner::Ip(network, inner),
    })
}

/// One tunnel's identity: what keeps two tunnels' (possibly overlapping) inner address spaces apart.
/// The outer addresses are kept in the order first seen (for display) but compared unordered: the
/// two directions of a connection come through the same tunnel with its endpoints swapped.
#[derive(Clone, Copy, Debug)]
pub struct TunnelId {
    pub tunnel: Tunnel,
    pub id: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The tunnel this one was carried in (its number in the same table; 0: none).
    pub parent: u32,
}

impl TunnelId {
    fn key(&self) -> (Tunnel, u32, IpAddr, IpAddr, u32) {
        let (a, b) = if self.src <= self.dst {
            (self.src, self.dst)
        } else {
            (self.dst, self.src)
        };
        (self.tunnel, self.id, a, b, self.parent)
    }
}

/// Tunnels met so far, numbered from 1 in order of appearance: a [`lifecycle::Segment`] carries the
/// number ([`lifecycle::Segment::tunnel`]), and the output asks here what it stands for.
#[derive(Debug, Default)]
pub struct TunnelTable {
    ids: std::collections::HashMap<(Tunnel, u32, IpAddr, IpAddr, u32), u32, foldhash::fast::RandomState>,
    list: Vec<TunnelId>,
    /// Tunnels beyond [`MAX_TUNNELS`], which all share the number [`OTHER_TUNNELS`].
    pub overflow: u64,
}

/// Distinct tunnels numbered apart; a hostile capture can make every frame a new tunnel.
pub const MAX_TUNNELS: usize = 1 << 16;
/// The number shared by tunnels beyond [`MAX_TUNNELS`] (their inner address spaces no longer kept
/// apart; counted in [`TunnelTable::overflow`]).
pub const OTHER_TUNNELS: u32 = u32::MAX;

impl TunnelTable {
    /// The number of `t`, numbering it if it is new.
    pub fn number(&mut self, t: TunnelId) -> u32 {
        let key = t.key();
        if let Some(&n) = self.ids.get(&key) {
            return n;
        }
        if self.list.len() >= MAX_TUNNELS {
            self.overflow += 1;
            return OTHER_TUNNELS;
        }
        self.list.push(t);
        let n = u32::try_from(self.list.len()).unwrap_or(OTHER_TUNNELS);
        self.ids.insert(key, n);
        n
    }

    /// What number `n` stands for.
    #[must_use]
    pub fn get(&self, n: u32) -> Option<&TunnelId> {
        self.list.get(usize::try_from(n).ok()?.checked_sub(1)?)
    }

    /// `n` in words, outermost tunnel last: `vxlan vni 42 10.1.1.1>10.1.1.2`,
    /// `gre key 7 192.0.2.1>192.0.2.2 in vxlan vni 5 10.0.0.1>10.0.0.2`.
    #[must_use]
    pub fn describe(&self, n: u32) -> Option<String> {
        if n == OTHER_TUNNELS {
            return Some(format!("one of more than {MAX_TUNNELS} tunnels"));
        }
        let mut parts = Vec::new();
        let mut at = n;
        while let Some(t) = self.get(at) {
            parts.push(t.to_string());
            // Parents are numbered before their children, so this walk ends.
            if t.parent >= at {
                break;
            }
            at = t.parent;
        }
        (!parts.is_empty()).then(|| parts.join(" in "))
    }
}

impl std::fmt::Display for TunnelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let family = |a: IpAddr| if a.is_ipv4() { '4' } else { '6' };
        let outer = family(self.src);
        match self.tunnel {
            Tunnel::Vxlan => write!(f, "vxlan vni {}", self.id)?,
            Tunnel::Geneve => write!(f, "geneve vni {}", self.id)?,
            Tunnel::Gre if self.id != 0 => write!(f, "gre key {}", self.id)?,
            Tunnel::Gre => f.write_str("gre")?,
            Tunnel::Erspan1 => f.write_str("erspan1")?,
            Tunnel::Erspan2 => write!(f, "erspan2 session {}", self.id)?,
            Tunnel::Erspan3 => write!(f, "erspan3 session {}", self.id)?,
            Tunnel::Ipv4InIp => write!(f, "4in{outer}")?,
            Tunnel::Ipv6InIp => write!(f, "6in{outer}")?,
            Tunnel::EtherIp => f.write_str("etherip")?,
            Tunnel::Teredo => f.write_str("teredo")?,
            Tunnel::GtpU => f.write_str("gtp-u")?,
        }
        let addr = |a: IpAddr| match a {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        write!(f, " {}>{}", addr(self.src), addr(self.dst))
    }
}
