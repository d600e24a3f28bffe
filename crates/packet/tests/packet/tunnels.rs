//! Tunnels opened down to the TCP inside, fragments reassembled, and the newer link types, on
//! hand-built frames. (Captures of real tunnel devices are in the CLI tests, `tunnels_live`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::build::*;
use packet::tunnel::TunnelConfig;
use packet::{Decoder, DecoderConfig, Layer, LinkType, MAX_TUNNEL_DEPTH, Skip, Tcp, Tunnel};

const TCP: u8 = 6;
const UDP: u8 = 17;
const GRE: u8 = 47;
const A: [u8; 4] = [192, 0, 2, 1];
const B: [u8; 4] = [192, 0, 2, 2];

/// The inner packet every tunnel carries: IPv4 10.0.0.1:1234 -> 10.0.0.2:80, 10 bytes of data.
fn inner() -> Vec<u8> {
    ipv4(TCP, &data(10))
}

fn inner_eth() -> Vec<u8> {
    eth(0x0800, &inner())
}

fn whole(d: &mut Decoder, link: LinkType, frame: &[u8]) -> Result<Tcp, Skip> {
    d.decode(link, frame, u32::try_from(frame.len()).unwrap(), 0)
}

/// Asserts that `outer` (an IP packet) decodes to the inner segment through `kind`, and returns the
/// tunnel's description.
fn opens(outer: &[u8], kind: Tunnel) -> String {
    let mut d = Decoder::default();
    let t = whole(&mut d, LinkType::RAW, outer).unwrap_or_else(|s| panic!("{kind}: {s}"));
    assert_eq!(t.segment.src, "10.0.0.1:1234".parse().unwrap(), "{kind}");
    assert_eq!((t.segment.payload_len, t.segment.ip_len), (10, 50), "{kind}");
    assert!(t.tunnels.contains(kind), "{kind}");
    assert_ne!(t.segment.tunnel, 0);
    d.tunnels().describe(t.segment.tunnel).unwrap()
}

fn vxlan(vni: u32, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x08, 0, 0, 0];
    h.extend_from_slice(&(vni << 8).to_be_bytes());
    concat(&[&h, payload])
}

fn gre(flags: u16, protocol: u16, extra: &[u8], payload: &[u8]) -> Vec<u8> {
    concat(&[&flags.to_be_bytes(), &protocol.to_be_bytes(), extra, payload])
}

#[test]
fn every_tunnel_opens_to_the_tcp_inside() {
    let erspan2 = [0x10, 0x00, 0x00, 0x07, 0, 0, 0, 0]; // version 1, session 7
    let erspan3 = [0x20, 0x00, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0, 0]; // version 2, session 9
    let mut erspan3_o = erspan3;
    erspan3_o[11] = 1; // the optional platform subheader follows
    let teredo_origin = [0, 0, 0x12, 0x34, 1, 2, 3, 4];
    let gtp = {
        // Version 1, PT, E: a 4-byte optional part then one extension header (PDU session container).
        let mut h = vec![0x34, 0xFF, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0x85, 1, 0x10, 0x01, 0];
        h.extend_from_slice(&inner());
        h
    };
    let pptp = concat(&[
        &[0x30, 0x01, 0x88, 0x0B, 0, 54, 0, 7, 0, 0, 0, 1],
        &[0xFF, 0x03, 0x00, 0x21],
        &inner(),
    ]);
    let cases: Vec<(Vec<u8>, Tunnel, &str)> = vec![
        (
            ipv4_outer(A, B, UDP, 1, 0, &udp_with(50_000, 4789, &vxlan(42, &inner_eth()))),
            Tunnel::Vxlan,
            "vxlan vni 42 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(
                A,
                B,
                UDP,
                1,
                0,
                &udp_with(
                    50_000,
                    6081,
                    // Version 0, 2 words of options, protocol Ethernet, VNI 7.
                    &concat(&[&[0x02, 0, 0x65, 0x58, 0, 0, 7, 0], &[0xAA; 8], &inner_eth()]),
                ),
            ),
            Tunnel::Geneve,
            "geneve vni 7 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(A, B, GRE, 1, 0, &gre(0, 0x0800, &[], &inner())),
            Tunnel::Gre,
            "gre 192.0.2.1>192.0.2.2",
        ),
        (
            // Checksum, key 5 and sequence number present (RFC 2890).
            ipv4_outer(
                A,
                B,
                GRE,
                1,
                0,
                &gre(
                    0xB000,
                    0x6558,
                    &[0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 9],
                    &inner_eth(),
                ),
            ),
            Tunnel::Gre,
            "gre key 5 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(A, B, GRE, 1, 0, &gre(0, 0x88BE, &[], &inner_eth())),
            Tunnel::Erspan1,
            "erspan1 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(
                A,
                B,
                GRE,
                1,
                0,
                &gre(0x1000, 0x88BE, &[0, 0, 0, 1], &concat(&[&erspan2, &inner_eth()])),
            ),
            Tunnel::Erspan2,
            "erspan2 session 7 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(
                A,
                B,
                GRE,
                1,
                0,
                &gre(0x1000, 0x22EB, &[0, 0, 0, 1], &concat(&[&erspan3, &inner_eth()])),
            ),
            Tunnel::Erspan3,
            "erspan3 session 9 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(
                A,
                B,
                GRE,
                1,
                0,
                &gre(
                    0x1000,
                    0x22EB,
                    &[0, 0, 0, 1],
                    &concat(&[&erspan3_o, &[0; 8], &inner_eth()]),
                ),
            ),
            Tunnel::Erspan3,
            "erspan3 session 9 192.0.2.1>192.0.2.2",
        ),
        (
            // MPLS in GRE.
            ipv4_outer(A, B, GRE, 1, 0, &gre(0, 0x8847, &label(16, true), &inner())),
            Tunnel::Gre,
            "gre 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(A, B, GRE, 1, 0, &pptp),
            Tunnel::Gre,
            "gre 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(A, B, 4, 1, 0, &inner()),
            Tunnel::Ipv4InIp,
            "4in4 192.0.2.1>192.0.2.2",
        ),
        (
            ipv6(4, &inner()),
            Tunnel::Ipv4InIp,
            "4in6 [2001:db8::1]>[2001:db8::2]",
        ),
        (
            ipv4_outer(A, B, 97, 1, 0, &concat(&[&[0x30, 0], &inner_eth()])),
            Tunnel::EtherIp,
            "etherip 192.0.2.1>192.0.2.2",
        ),
        (
            ipv4_outer(A, B, UDP, 1, 0, &udp_with(2152, 2152, &gtp)),
            Tunnel::GtpU,
            "gtp-u 192.0.2.1>192.0.2.2",
        ),
    ];
    for (outer, kind, described) in cases {
        assert_eq!(opens(&outer, kind), described);
    }
    // IPv6 inside: 6in4 and Teredo (with an origin indication).
    let v6_inner = ipv6(TCP, &data(10));
    for (outer, kind) in [
        (ipv4_outer(A, B, 41, 1, 0, &v6_inner), Tunnel::Ipv6InIp),
        (
            ipv4_outer(
                A,
                B,
                UDP,
                1,
                0,
                &udp_with(3544, 40_000, &concat(&[&teredo_origin, &v6_inner])),
            ),
            Tunnel::Teredo,
        ),
    ] {
        let t = whole(&mut Decoder::default(), LinkType::RAW, &outer).unwrap();
        assert!(t.tunnels.contains(kind));
        assert_eq!(t.segment.src, "[2001:db8::1]:1234".parse().unwrap());
    }
}

#[test]
fn two_vnis_between_the_same_endpoints_are_two_tunnels_and_each_direction_one() {
    let mut d = Decoder::default();
    let frame = |src, dst, vni| {
        ipv4_outer(
            src,
            dst,
            UDP,
            1,
            0,
            &udp_with(50_000, 4789, &vxlan(vni, &inner_eth())),
        )
    };
    let n1 = whole(&mut d, LinkType::RAW, &frame(A, B, 1))
        .unwrap()
        .segment
        .tunnel;
    let n2 = whole(&mut d, LinkType::RAW, &frame(A, B, 2))
        .unwrap()
        .segment
        .tunnel;
    let back = whole(&mut d, LinkType::RAW, &frame(B, A, 1))
        .unwrap()
        .segment
        .tunnel;
    assert_ne!(n1, n2);
    assert_eq!(
        n1, back,
        "the way back through the same tunnel is the same tunnel"
    );
    let plain = whole(&mut d, LinkType::RAW, &inner()).unwrap().segment.tunnel;
    assert_eq!(plain, 0);
}

#[test]
fn nesting_is_bounded() {
    let nest = |depth: usize| (0..depth).fold(inner(), |p, _| ipv4_outer(A, B, 4, 1, 0, &p));
    let t = whole(&mut Decoder::default(), LinkType::RAW, &nest(MAX_TUNNEL_DEPTH)).unwrap();
    assert!(t.tunnels.contains(Tunnel::Ipv4InIp));
    assert_eq!(
        whole(
            &mut Decoder::default(),
            LinkType::RAW,
            &nest(MAX_TUNNEL_DEPTH + 1)
        ),
        Err(Skip::TunnelTooDeep)
    );
    // A nested tunnel is described innermost first.
    let mut d = Decoder::default();
    let vxlan_in_gre = ipv4_outer(
        [198, 51, 100, 1],
        [198, 51, 100, 2],
        GRE,
        1,
        0,
        &gre(
            0x2000,
            0x0800,
            &[0, 0, 0, 3],
            &ipv4_outer(A, B, UDP, 1, 0, &udp_with(1, 4789, &vxlan(9, &inner_eth()))),
        ),
    );
    let t = whole(&mut d, LinkType::RAW, &vxlan_in_gre).unwrap();
    assert_eq!(
        d.tunnels().describe(t.segment.tunnel).unwrap(),
        "vxlan vni 9 192.0.2.1>192.0.2.2 in gre key 3 198.51.100.1>198.51.100.2"
    );
}

#[test]
fn tunnels_stay_closed_when_asked_and_other_vxlan_ports_open_when_named() {
    let linux_port = ipv4_outer(A, B, UDP, 1, 0, &udp_with(50_000, 8472, &vxlan(1, &inner_eth())));
    assert_eq!(
        whole(&mut Decoder::default(), LinkType::RAW, &linux_port),
        Err(Skip::NotTcp { protocol: 17 })
    );
    let mut named = Decoder::new(DecoderConfig {
        tunnels: TunnelConfig {
            decode: true,
            vxlan_ports: vec![4789, 8472],
        },
        ..DecoderConfig::full()
    });
    assert!(whole(&mut named, LinkType::RAW, &linux_port).is_ok());
    let mut closed = Decoder::new(DecoderConfig {
        tunnels: TunnelConfig {
            decode: false,
            ..TunnelConfig::default()
        },
        ..DecoderConfig::full()
    });
    let gre_frame = ipv4_outer(A, B, GRE, 1, 0, &gre(0, 0x0800, &[], &inner()));
    assert_eq!(
        whole(&mut closed, LinkType::RAW, &gre_frame),
        Err(Skip::Tunnel(Tunnel::Gre))
    );
}

#[test]
fn a_cut_tunnel_header_is_truncated_in_the_tunnel() {
    let frame = ipv4_outer(A, B, UDP, 1, 0, &udp_with(50_000, 4789, &vxlan(1, &inner_eth())));
    let cut = &frame[..20 + 8 + 5];
    assert_eq!(
        Decoder::default().decode(LinkType::RAW, cut, u32::try_from(frame.len()).unwrap(), 0),
        Err(Skip::Truncated(Layer::Tunnel))
    );
}

/// `packet` (an IPv4 datagram) cut in pieces at the given payload offsets (multiples of 8).
fn ipv4_pieces(packet: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let (header, payload) = packet.split_at(20);
    let mut points = vec![0];
    points.extend_from_slice(cuts);
    points.push(payload.len());
    points
        .windows(2)
        .map(|w| {
            let more = if w[1] < payload.len() { 0x2000 } else { 0 };
            let field = more | u16::try_from(w[0] / 8).unwrap();
            ipv4_outer(
                header[12..16].try_into().unwrap(),
                header[16..20].try_into().unwrap(),
                header[9],
                0x1234,
                field,
                &payload[w[0]..w[1]],
            )
        })
        .collect()
}

#[test]
fn ipv4_fragments_in_any_order_give_the_segment_once() {
    let packet = ipv4(TCP, &data(100));
    let mut pieces = ipv4_pieces(&packet, &[24, 64]);
    pieces.swap(0, 2);
    let mut d = Decoder::default();
    let out: Vec<_> = pieces.iter().map(|p| whole(&mut d, LinkType::RAW, p)).collect();
    assert_eq!(out[0], Err(Skip::Fragment));
    assert_eq!(out[1], Err(Skip::Fragment));
    let t = out[2].unwrap();
    assert!(t.reassembled);
    assert_eq!((t.segment.payload_len, t.segment.ip_len), (100, 140));
    assert_eq!(d.fragment_stats().reassembled, 1);
}

#[test]
fn a_fragmented_vxlan_datagram_is_reassembled_then_opened() {
    let outer = ipv4_outer(
        A,
        B,
        UDP,
        7,
        0,
        &udp_with(50_000, 4789, &vxlan(3, &eth(0x0800, &ipv4(TCP, &data(200))))),
    );
    let pieces = ipv4_pieces(&outer, &[120]);
    let mut d = Decoder::default();
    assert_eq!(whole(&mut d, LinkType::RAW, &pieces[0]), Err(Skip::Fragment));
    let t = whole(&mut d, LinkType::RAW, &pieces[1]).unwrap();
    assert!(t.reassembled && t.tunnels.contains(Tunnel::Vxlan));
    assert_eq!(t.segment.payload_len, 200);
}

#[test]
fn ipv6_fragments_with_a_header_after_the_fragment_header_and_overlaps() {
    // Fragmentable part: a destination options header, then TCP with 40 bytes of data.
    let part = concat(&[&ext(TCP), &data(40)]);
    let first = ipv6(44, &concat(&[&frag_header(60, 0, true), &part[..32]]));
    let second = ipv6(44, &concat(&[&frag_header(60, 4, false), &part[32..]]));
    let mut d = Decoder::default();
    assert_eq!(whole(&mut d, LinkType::RAW, &second), Err(Skip::Fragment));
    let t = whole(&mut d, LinkType::RAW, &first).unwrap();
    assert_eq!(t.segment.payload_len, 40);
    // 40 + the options header + TCP: the Fragment header is gone from the whole datagram.
    assert_eq!(t.segment.ip_len, 40 + 8 + 20 + 40);
    // RFC 5722: overlapping pieces drop the datagram.
    let overlapping = ipv6(44, &concat(&[&frag_header(60, 3, false), &part[24..]]));
    assert_eq!(whole(&mut d, LinkType::RAW, &first), Err(Skip::Fragment));
    assert_eq!(whole(&mut d, LinkType::RAW, &overlapping), Err(Skip::Fragment));
    assert_eq!(d.fragment_stats().overlaps, 1);
}

#[test]
fn pppoe_with_a_compressed_protocol_field_and_e_tag() {
    let pppoe = eth(0x8864, &concat(&[&[0x11, 0, 0, 1, 0, 51, 0x21], &inner()]));
    assert!(whole(&mut Decoder::default(), LinkType::ETHERNET, &pppoe).is_ok());
    let e_tag = eth(0x893F, &concat(&[&[0; 6], &et(0x0800, &inner())]));
    assert!(whole(&mut Decoder::default(), LinkType::ETHERNET, &e_tag).is_ok());
}

/// An NFLOG frame: header, a prefix TLV, then the payload TLV, lengths in `order`.
fn nflog(order: fn(u16) -> [u8; 2]) -> Vec<u8> {
    let prefix = b"drop\0\0\0\0";
    let payload = inner();
    let mut f = vec![2, 0, 0, 5];
    f.extend_from_slice(&order(4 + 8));
    f.extend_from_slice(&order(10)); // NFULA_PREFIX
    f.extend_from_slice(prefix);
    f.extend_from_slice(&order(u16::try_from(4 + payload.len()).unwrap()));
    f.extend_from_slice(&order(9)); // NFULA_PAYLOAD
    f.extend_from_slice(&payload);
    f
}

/// A PKTAP frame (Darwin's `pktap_header`, 108 bytes) around an Ethernet frame.
fn pktap(pid: i32, comm: &[u8], ethernet: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 108];
    h[0..4].copy_from_slice(&108u32.to_le_bytes());
    h[4..8].copy_from_slice(&1u32.to_le_bytes()); // a packet follows
    h[8..12].copy_from_slice(&1u32.to_le_bytes()); // Ethernet
    h[12..15].copy_from_slice(b"en0");
    h[52..56].copy_from_slice(&pid.to_le_bytes());
    h[56..56 + comm.len()].copy_from_slice(comm);
    concat(&[&h, ethernet])
}

#[test]
fn nflog_in_either_byte_order_and_pktap() {
    for frame in [nflog(u16::to_le_bytes), nflog(u16::to_be_bytes)] {
        let t = whole(&mut Decoder::default(), LinkType::NFLOG, &frame).unwrap();
        assert_eq!(t.segment.payload_len, 10);
    }
    // PKTAP: a 108-byte header (length, inner link type, pid, command, little-endian), then Ethernet.
    let frame = pktap(4242, b"curl", &inner_eth());
    let mut d = Decoder::default();
    let t = whole(&mut d, LinkType::PKTAP, &frame).unwrap();
    assert_eq!(t.segment.payload_len, 10);
    assert_eq!(d.process().unwrap().to_string(), "curl (pid 4242)");
    // The next frame names no process: none is left over from the one before.
    whole(&mut d, LinkType::PKTAP, &pktap(-1, b"", &inner_eth())).unwrap();
    assert_eq!(d.process(), None);
}

#[test]
fn an_ip_length_longer_than_the_packet_on_the_wire_is_malformed() {
    // nDPI tls_invalid_reads.pcap: a 66-byte SYN-ACK whose IP header says 4148 bytes.
    let mut packet = inner();
    packet[2..4].copy_from_slice(&4148u16.to_be_bytes());
    assert_eq!(
        Decoder::default().decode(LinkType::RAW, &packet, 50, 0),
        Err(Skip::Malformed(packet::Malformed::IpBeyondWire {
            total: 4148,
            wire: 50
        }))
    );
    // Cut by a snaplen, the same length is fine: the wire held it.
    assert!(Decoder::default().decode(LinkType::RAW, &packet, 4148, 0).is_ok());
}

#[test]
fn llc_snap_and_cisco_hdlc_under_ppp() {
    // Zeek snap-tcp.pcap: an 802.3 length, then LLC/SNAP (RFC 1042) with the IPv4 ethertype.
    let ip = inner();
    let llc = concat(&[&[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00], &ip]);
    let frame = eth(u16::try_from(llc.len()).unwrap(), &llc);
    assert!(whole(&mut Decoder::default(), LinkType::ETHERNET, &frame).is_ok());
    let spanning_tree = eth(7, &[0x42, 0x42, 0x03, 0, 0, 0, 0]);
    assert_eq!(
        whole(&mut Decoder::default(), LinkType::ETHERNET, &spanning_tree),
        Err(Skip::NotIp)
    );
    // nDPI BGP_Cisco_hdlc_slarp.pcap: Cisco HDLC frames written as DLT_PPP.
    let hdlc = concat(&[&[0x0F, 0x00, 0x08, 0x00], &ip]);
    assert!(whole(&mut Decoder::default(), LinkType::PPP, &hdlc).is_ok());
}
