//! Ethertype dispatch through the link encapsulations that can sit between a link header and IP.
//!
//! Each step consumes at least two bytes, so the loop ends on any input; it is a loop, not recursion,
//! so a frame of a thousand stacked tags cannot exhaust the stack.

use crate::bytes::{be16, u8_at};
use crate::ip::Network;
use crate::link::{ppp_ethertype, ppp_protocol};
use crate::{Layer, Skip};

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86DD;
/// IEEE 802.1Q customer VLAN tag.
const ETHERTYPE_VLAN: u16 = 0x8100;
/// IEEE 802.1ad service VLAN tag (QinQ outer tag).
const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Pre-standard QinQ outer tags still emitted by some switches.
const ETHERTYPE_QINQ_LEGACY: [u16; 3] = [0x9100, 0x9200, 0x9300];
/// IEEE 802.1ah provider backbone bridging I-TAG.
const ETHERTYPE_PBB_ITAG: u16 = 0x88E7;
/// MPLS unicast (RFC 3032 §5).
pub(crate) const ETHERTYPE_MPLS: u16 = 0x8847;
/// MPLS multicast (RFC 5332).
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// PPPoE session stage (RFC 2516 §4).
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// Cisco VN-Tag, the pre-standard form of the IEEE 802.1BR E-TAG.
const ETHERTYPE_VN_TAG: u16 = 0x8926;
/// IEEE 802.1BR E-Tag (bridge port extension).
const ETHERTYPE_E_TAG: u16 = 0x893F;
/// Cisco FabricPath outer header.
const ETHERTYPE_FABRIC_PATH: u16 = 0x8903;

/// Follows `ethertype` (whose payload is `rest`) through tags and encapsulations down to IP.
pub(crate) fn chain(mut ethertype: u16, mut rest: &[u8]) -> Result<(Network, &[u8]), Skip> {
    loop {
        (ethertype, rest) = match ethertype {
            ETHERTYPE_IPV4 => return Ok((Network::V4, rest)),
            ETHERTYPE_IPV6 => return Ok((Network::V6, rest)),
            // IEEE 802.1Q/802.1ad tag: 2 bytes of TCI (PCP, DEI, VID), then the next ethertype.
            // Any number of tags may be stacked.
            ETHERTYPE_VLAN | ETHERTYPE_QINQ => next(rest, 2)?,
            e if ETHERTYPE_QINQ_LEGACY.contains(&e) => next(rest, 2)?,
            // Cisco VN-Tag: 4 bytes of tag, then the next ethertype.
            ETHERTYPE_VN_TAG => next(rest, 4)?,
            // IEEE 802.1BR E-Tag: 6 bytes of tag (priority, ingress and E-CIDs), then the next
            // ethertype.
            ETHERTYPE_E_TAG => next(rest, 6)?,
            // IEEE 802.1ah I-TAG: 4 bytes of TCI (priority, flags, I-SID), then the customer's
            // destination and source addresses (12 bytes), then the customer's ethertype.
            ETHERTYPE_PBB_ITAG => next(rest, 16)?,
            // Cisco FabricPath: the frame began with outer switch addresses and this ethertype; 2
            // bytes of FTAG/TTL follow, then the whole original Ethernet header (12 bytes of
            // addresses and its ethertype). 16 bytes in all before the inner Ethernet header.
            ETHERTYPE_FABRIC_PATH => next(rest, 14)?,
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => mpls(rest)?,
            // A length (IEEE 802.3), not an ethertype: the frame carries 802.2 LLC, which holds IP
            // only through SNAP with the ethertype OUI (RFC 1042).
            length if length <= MAX_802_3_LENGTH => llc_snap(rest)?,
            ETHERTYPE_PPPOE_SESSION => pppoe_session(rest)?,
            _ => return Err(Skip::NotIp),
        };
    }
}

/// The largest IEEE 802.3 length field; larger values are ethertypes (IEEE 802.3 clause 3.2.6).
const MAX_802_3_LENGTH: u16 = 1500;

/// 802.2 LLC with SNAP (RFC 1042): DSAP and SSAP 0xAA, control 0x03 (UI), OUI 00-00-00, then an
/// ethertype. Any other LLC payload is not IP.
fn llc_snap(rest: &[u8]) -> Result<(u16, &[u8]), Skip> {
    const SNAP: [u8; 6] = [0xAA, 0xAA, 0x03, 0, 0, 0];
    if rest.iter().zip(SNAP).any(|(b, s)| *b != s) {
        return Err(Skip::NotIp);
    }
    next(rest, SNAP.len())
}

/// Skips `skip` bytes of a tag, reads the next ethertype and returns it with what follows it.
fn next(rest: &[u8], skip: usize) -> Result<(u16, &[u8]), Skip> {
    let ethertype = be16(rest, skip).ok_or(Skip::Truncated(Layer::Link))?;
    Ok((ethertype, rest.get(skip + 2..).unwrap_or_default()))
}

/// Bottom-of-stack bit of an MPLS label stack entry (RFC 3032 §2.1), in its third byte.
const MPLS_BOTTOM_OF_STACK: u8 = 0x01;

/// MPLS (RFC 3032 §2.1): pops 4-byte label stack entries down to the one with the bottom-of-stack
/// bit. MPLS does not say what it carries, so, as routers and analysers do, the payload's first
/// nibble decides: 4 is IPv4, 6 is IPv6, 0 is a pseudowire control word (RFC 4385 §3) followed by an
/// Ethernet frame (RFC 4448); anything else is not IP.
fn mpls(mut rest: &[u8]) -> Result<(u16, &[u8]), Skip> {
    loop {
        let entry_bottom = u8_at(rest, 2).ok_or(Skip::Truncated(Layer::Link))? & MPLS_BOTTOM_OF_STACK;
        rest = rest.get(4..).ok_or(Skip::Truncated(Layer::Link))?;
        if entry_bottom != 0 {
            break;
        }
    }
    match u8_at(rest, 0).ok_or(Skip::Truncated(Layer::Link))? >> 4 {
        4 => Ok((ETHERTYPE_IPV4, rest)),
        6 => Ok((ETHERTYPE_IPV6, rest)),
        // 4-byte control word, then destination and source addresses, then the ethertype.
        0 => next(rest, 16),
        _ => Err(Skip::NotIp),
    }
}

/// PPPoE session stage (RFC 2516 §4): version/type, code, session id, length (6 bytes), then a PPP
/// protocol field (RFC 1661 §2), compressed to one byte when the peers negotiated it (§6.5).
fn pppoe_session(rest: &[u8]) -> Result<(u16, &[u8]), Skip> {
    let ppp = rest.get(6..).ok_or(Skip::Truncated(Layer::Link))?;
    let (protocol, payload) = ppp_protocol(ppp)?;
    Ok((ppp_ethertype(protocol)?, payload))
}
