//! Recognises tunnels among non-TCP packets, so that they are counted apart from "not TCP": their
//! inner packets may well be TCP this crate does not see yet.

use crate::bytes::be16;
use crate::ip::{Fragment, Packet};
use crate::{Skip, Tunnel};

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const IPV4_IN_IP: u8 = 4;
const UDP: u8 = 17;
const IPV6_IN_IP: u8 = 41;
const GRE: u8 = 47;
const ETHERIP: u8 = 97;

/// IANA-registered UDP ports of UDP tunnels.
const VXLAN_PORT: u16 = 4789;
const GENEVE_PORT: u16 = 6081;
const TEREDO_PORT: u16 = 3544;
const GTP_U_PORT: u16 = 2152;

/// Why a non-TCP packet is skipped: a tunnel, or just another protocol.
pub(crate) fn classify(packet: &Packet<'_>) -> Skip {
    let tunnel = match packet.protocol {
        IPV4_IN_IP => Some(Tunnel::Ipv4InIp),
        IPV6_IN_IP => Some(Tunnel::Ipv6InIp),
        GRE => Some(Tunnel::Gre),
        ETHERIP => Some(Tunnel::EtherIp),
        // Only a datagram's first bytes hold the UDP ports (RFC 768).
        UDP if packet.fragment != Fragment::Later => udp_tunnel(packet.transport),
        _ => None,
    };
    tunnel.map_or(
        Skip::NotTcp {
            protocol: packet.protocol,
        },
        Skip::Tunnel,
    )
}

/// A UDP tunnel by either port: the tunnel's port is the destination towards the endpoint and the
/// source on the way back (Teredo, GTP-U); VXLAN and Geneve senders pick a hashed source port.
fn udp_tunnel(udp: &[u8]) -> Option<Tunnel> {
    let ports = [be16(udp, 0)?, be16(udp, 2)?];
    [
        (VXLAN_PORT, Tunnel::Vxlan),
        (GENEVE_PORT, Tunnel::Geneve),
        (TEREDO_PORT, Tunnel::Teredo),
        (GTP_U_PORT, Tunnel::GtpU),
    ]
    .into_iter()
    .find_map(|(port, tunnel)| ports.contains(&port).then_some(tunnel))
}
