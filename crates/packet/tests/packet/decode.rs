//! Hand-built frames for every link type and every outcome of `decode`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::build::*;
use crate::common::{decode, decode_plain};
use lifecycle::{Flags, Seq, TcpOptions};
use packet::{Captured, Layer, LinkType, Malformed, Skip, Tcp, Tunnel};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const TCP: u8 = 6;
const UDP: u8 = 17;
const V4: u16 = 0x0800;
const V6: u16 = 0x86DD;

/// Decodes a whole frame (nothing cut by a snaplen).
fn run(link: LinkType, frame: &[u8]) -> Result<Tcp, Skip> {
    decode(link, frame, u32::try_from(frame.len()).unwrap())
}

/// Decodes a whole frame with tunnels closed and no reassembly.
fn plain(link: LinkType, frame: &[u8]) -> Result<Tcp, Skip> {
    decode_plain(link, frame, u32::try_from(frame.len()).unwrap())
}

fn ok(link: LinkType, frame: &[u8]) -> Tcp {
    run(link, frame).unwrap_or_else(|s| panic!("{s}: {frame:02x?}"))
}

fn v4_src() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 1234)
}

fn v6_src() -> SocketAddr {
    "[2001:db8::1]:1234".parse().unwrap()
}

/// An IPv4 data segment of 10 payload bytes, for the link-layer tests.
fn v4_data() -> Vec<u8> {
    ipv4(TCP, &data(10))
}

fn v6_data() -> Vec<u8> {
    ipv6(TCP, &data(10))
}

/// Asserts the frame decodes to `v4_data()` / `v6_data()`'s segment.
fn assert_v4_data(link: LinkType, frame: &[u8]) {
    let t = ok(link, frame);
    assert_eq!(t.captured, Captured::Whole);
    assert_eq!(t.segment.src, v4_src());
    assert_eq!(t.segment.payload_len, 10);
    assert_eq!(t.segment.ip_len, 50);
}

fn assert_v6_data(link: LinkType, frame: &[u8]) {
    let t = ok(link, frame);
    assert_eq!(t.captured, Captured::Whole);
    assert_eq!(t.segment.src, v6_src());
    assert_eq!(t.segment.payload_len, 10);
    assert_eq!(t.segment.ip_len, 70);
}

// ---- TCP and IP fields -------------------------------------------------------------------------

#[test]
fn ipv4_syn_fields() {
    let t = ok(LinkType::ETHERNET, &eth(V4, &ipv4(TCP, &syn())));
    let s = t.segment;
    assert_eq!(s.src, v4_src());
    assert_eq!(s.dst, SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80));
    assert_eq!(s.seq, Seq(1_000_000));
    assert_eq!(s.ack, Seq(2_000_000));
    assert_eq!(s.flags, Flags(Flags::SYN));
    assert_eq!(s.window, 4096);
    assert_eq!(s.payload_len, 0);
    assert_eq!(s.ip_len, 20 + 40);
    assert_eq!(
        s.options,
        TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((7, 0)),
        }
    );
}

#[test]
fn ipv6_fields() {
    let t = ok(LinkType::ETHERNET, &eth(V6, &ipv6(TCP, &syn())));
    assert_eq!(t.segment.src, v6_src());
    assert_eq!(
        t.segment.dst.ip(),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2))
    );
    assert_eq!(t.segment.ip_len, 40 + 40);
    assert_eq!(t.segment.options.mss, Some(1460));
}

#[test]
fn ipv4_options_are_skipped() {
    let frame = eth(V4, &ipv4_opts(TCP, &[1, 1, 1, 0, 7, 3, 4, 0], &data(5)));
    let t = ok(LinkType::ETHERNET, &frame);
    assert_eq!(t.segment.src.port(), 1234);
    assert_eq!(t.segment.payload_len, 5);
    assert_eq!(t.segment.ip_len, 28 + 20 + 5);
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A bare ACK is 54 bytes of headers; Ethernet pads it to 60 (IEEE 802.3 minimum frame).
    let mut frame = eth(V4, &ipv4(TCP, &tcp(0x10, &[], &[])));
    frame.extend_from_slice(&[0; 6]);
    let t = ok(LinkType::ETHERNET, &frame);
    assert_eq!(t.segment.payload_len, 0);
    assert_eq!(t.segment.ip_len, 40);
    assert_eq!(t.captured, Captured::Whole);
}

#[test]
fn zero_ip_length_falls_back_to_the_wire_length() {
    let mut p4 = ipv4(TCP, &data(100));
    p4[2..4].copy_from_slice(&[0, 0]);
    let t = ok(LinkType::ETHERNET, &eth(V4, &p4));
    assert_eq!((t.segment.ip_len, t.segment.payload_len), (140, 100));
    let mut p6 = ipv6(TCP, &data(100));
    p6[4..6].copy_from_slice(&[0, 0]);
    let t = ok(LinkType::RAW, &p6);
    assert_eq!((t.segment.ip_len, t.segment.payload_len), (160, 100));
    // The wire length, not the captured length: a cut super-packet keeps its full length.
    let t = decode(LinkType::RAW, &p6[..70], 100_060).unwrap();
    assert_eq!(
        (t.segment.payload_len, t.captured),
        (100_000, Captured::PayloadCut)
    );
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    // hop-by-hop → routing → destination options → AH (12 bytes) → TCP.
    let ah = [TCP, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9];
    let rest = concat(&[&ext(43), &ext(60), &ext(51), &ah, &data(10)]);
    let t = ok(LinkType::RAW, &ipv6(0, &rest));
    assert_eq!(t.segment.payload_len, 10);
    assert_eq!(t.segment.ip_len, 40 + 24 + 12 + 30);
    // A longer extension header: hdr ext len 1 means 16 bytes.
    let mut long = ext(TCP);
    long[1] = 1;
    long.extend_from_slice(&[1, 6, 0, 0, 0, 0, 0, 0]);
    let t = ok(LinkType::RAW, &ipv6(60, &concat(&[&long, &data(3)])));
    assert_eq!(t.segment.payload_len, 3);
}

// ---- Link types ---------------------------------------------------------------------------------

#[test]
fn ethernet_plain() {
    assert_v4_data(LinkType::ETHERNET, &eth(V4, &v4_data()));
    assert_v6_data(LinkType::ETHERNET, &eth(V6, &v6_data()));
}

#[test]
fn vlan_stacks() {
    let inner = et(V4, &v4_data());
    for tpids in [
        &[0x8100][..],
        &[0x88A8, 0x8100],
        &[0x9100, 0x8100],
        &[0x9200, 0x9300, 0x8100],
        &[0x88A8, 0x88A8, 0x8100, 0x8100],
    ] {
        let chain = tpids.iter().rev().fold(inner.clone(), |acc, &t| tag(t, &acc));
        assert_v4_data(LinkType::ETHERNET, &eth_chain(&chain));
    }
}

#[test]
fn pbb_i_tag() {
    // B-TAG, then the I-TAG (TPID, 4 bytes of TCI and I-SID), the customer addresses, the customer
    // frame's VLAN tag and IP.
    let customer = concat(&[&MAC, &tag(0x8100, &et(V6, &v6_data()))]);
    let itag = concat(&[&0x88E7u16.to_be_bytes(), &[0, 0x01, 0x02, 0x03], &customer]);
    assert_v6_data(LinkType::ETHERNET, &eth_chain(&tag(0x88A8, &itag)));
}

#[test]
fn mpls() {
    let one = concat(&[&label(100, true), &v4_data()]);
    assert_v4_data(LinkType::ETHERNET, &eth(0x8847, &one));
    let two = concat(&[&label(100, false), &label(200, true), &v6_data()]);
    assert_v6_data(LinkType::ETHERNET, &eth(0x8847, &two));
    assert_v6_data(LinkType::ETHERNET, &eth(0x8848, &two));
    // In a VLAN.
    assert_v4_data(LinkType::ETHERNET, &eth_chain(&tag(0x8100, &et(0x8847, &one))));
    // Pseudowire: control word (first nibble 0), then a whole Ethernet frame.
    let pw = concat(&[&label(16, true), &[0, 0, 0, 1], &eth(V4, &v4_data())]);
    assert_v4_data(LinkType::ETHERNET, &eth(0x8847, &pw));
    // Neither IP nor a control word.
    let other = concat(&[&label(16, true), &[0x15, 0, 0, 0]]);
    assert_eq!(run(LinkType::ETHERNET, &eth(0x8847, &other)), Err(Skip::NotIp));
}

/// A PPPoE session header and PPP protocol, then `payload`.
fn pppoe(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap();
    concat(&[
        &[0x11, 0, 0x12, 0x34],
        &len.to_be_bytes(),
        &protocol.to_be_bytes(),
        payload,
    ])
}

#[test]
fn pppoe_session() {
    assert_v4_data(LinkType::ETHERNET, &eth(0x8864, &pppoe(0x0021, &v4_data())));
    assert_v6_data(LinkType::ETHERNET, &eth(0x8864, &pppoe(0x0057, &v6_data())));
    let qinq = tag(0x88A8, &tag(0x8100, &et(0x8864, &pppoe(0x0021, &v4_data()))));
    assert_v4_data(LinkType::ETHERNET, &eth_chain(&qinq));
    // LCP echo.
    let lcp = eth(0x8864, &pppoe(0xC021, &[9, 1, 0, 8, 0, 0, 0, 0]));
    assert_eq!(run(LinkType::ETHERNET, &lcp), Err(Skip::NotIp));
    // Discovery stage is not IP either.
    assert_eq!(
        run(LinkType::ETHERNET, &eth(0x8863, &[0x11, 9, 0, 0, 0, 0])),
        Err(Skip::NotIp)
    );
}

#[test]
fn vn_tag_and_fabric_path() {
    let vntag = concat(&[&0x8926u16.to_be_bytes(), &[0, 0, 0, 0x33], &et(V4, &v4_data())]);
    assert_v4_data(LinkType::ETHERNET, &eth_chain(&tag(0x8100, &vntag)));
    // FabricPath: outer addresses, 0x8903, FTAG/TTL, then the original Ethernet header.
    let fp = concat(&[&0x8903u16.to_be_bytes(), &[0x00, 0x3f], &eth(V6, &v6_data())]);
    assert_v6_data(LinkType::ETHERNET, &eth_chain(&fp));
}

#[test]
fn linux_cooked() {
    let sll = concat(&[&[0, 0, 0, 1, 0, 6], &MAC[..8], &V4.to_be_bytes(), &v4_data()]);
    assert_v4_data(LinkType::LINUX_SLL, &sll);
    let sll2 = concat(&[&V6.to_be_bytes(), &[0; 18], &v6_data()]);
    assert_v6_data(LinkType::LINUX_SLL2, &sll2);
    // A VLAN tag left in by the capture.
    let sll_vlan = concat(&[&[0; 14], &tag(0x8100, &et(V4, &v4_data()))]);
    assert_v4_data(LinkType::LINUX_SLL, &sll_vlan);
    // Netlink and 802.2 LLC are not IP.
    let llc = concat(&[&[0; 14], &[0, 4], &[0x42, 0x42, 3]]);
    assert_eq!(run(LinkType::LINUX_SLL, &llc), Err(Skip::NotIp));
}

#[test]
fn raw_ip() {
    for link in [LinkType::RAW, LinkType::RAW_DLT12, LinkType::RAW_DLT14] {
        assert_v4_data(link, &v4_data());
        assert_v6_data(link, &v6_data());
        assert_eq!(
            run(link, &[0x50, 0, 0, 0]),
            Err(Skip::Malformed(Malformed::IpVersion(5)))
        );
        assert_eq!(run(link, &[]), Err(Skip::Truncated(Layer::Ip)));
    }
    assert_v4_data(LinkType::IPV4, &v4_data());
    assert_v6_data(LinkType::IPV6, &v6_data());
    assert_eq!(
        run(LinkType::IPV4, &v6_data()),
        Err(Skip::Malformed(Malformed::IpVersion(6)))
    );
    assert_eq!(
        run(LinkType::IPV6, &v4_data()),
        Err(Skip::Malformed(Malformed::IpVersion(4)))
    );
}

#[test]
fn bsd_loopback() {
    // NULL: host byte order, either one.
    assert_v4_data(LinkType::NULL, &concat(&[&2u32.to_le_bytes(), &v4_data()]));
    assert_v4_data(LinkType::NULL, &concat(&[&2u32.to_be_bytes(), &v4_data()]));
    for af in [24u32, 28, 30] {
        assert_v6_data(LinkType::NULL, &concat(&[&af.to_le_bytes(), &v6_data()]));
        assert_v6_data(LinkType::NULL, &concat(&[&af.to_be_bytes(), &v6_data()]));
    }
    assert_eq!(
        run(LinkType::NULL, &concat(&[&7u32.to_le_bytes(), &v4_data()])),
        Err(Skip::NotIp)
    );
    // LOOP: network byte order only.
    assert_v6_data(LinkType::LOOP, &concat(&[&24u32.to_be_bytes(), &v6_data()]));
    assert_eq!(
        run(LinkType::LOOP, &concat(&[&2u32.to_le_bytes(), &v4_data()])),
        Err(Skip::NotIp)
    );
    assert_eq!(run(LinkType::NULL, &[2, 0, 0]), Err(Skip::Truncated(Layer::Link)));
}

#[test]
fn ppp_and_hdlc() {
    assert_v4_data(LinkType::PPP, &concat(&[&[0xFF, 0x03, 0x00, 0x21], &v4_data()]));
    assert_v6_data(LinkType::PPP, &concat(&[&[0x00, 0x57], &v6_data()]));
    // Protocol-field compression: one odd byte.
    assert_v4_data(LinkType::PPP, &concat(&[&[0x21], &v4_data()]));
    // MPLS over PPP.
    let mpls = concat(&[&[0x02, 0x81], &label(3, true), &v4_data()]);
    assert_v4_data(LinkType::PPP, &mpls);
    assert_eq!(run(LinkType::PPP, &[0xC0, 0x21, 1, 1, 0, 4]), Err(Skip::NotIp));
    assert_eq!(
        run(LinkType::PPP, &[0xFF, 0x03]),
        Err(Skip::Truncated(Layer::Link))
    );
    assert_v4_data(
        LinkType::PPP_HDLC,
        &concat(&[&[0xFF, 0x03, 0x00, 0x21], &v4_data()]),
    );
    assert_v4_data(
        LinkType::PPP_HDLC,
        &concat(&[&[0x0F, 0x00, 0x08, 0x00], &v4_data()]),
    );
    assert_v6_data(
        LinkType::C_HDLC,
        &concat(&[&[0x8F, 0x00, 0x86, 0xDD], &v6_data()]),
    );
}

#[test]
fn unsupported_link_type() {
    let wifi = LinkType(105);
    assert_eq!(run(wifi, &v4_data()), Err(Skip::UnsupportedLink(wifi)));
    assert!(!wifi.is_supported());
    assert_eq!(wifi.to_string(), "LINKTYPE 105");
    assert_eq!(LinkType::ETHERNET.to_string(), "EN10MB");
    assert_eq!(LinkType::LINUX_SLL2.name(), Some("LINUX_SLL2"));
    assert_eq!(LinkType::RAW_DLT12.name(), Some("RAW"));
    assert!(LinkType::NULL.is_supported());
}

// ---- Outcomes -----------------------------------------------------------------------------------

#[test]
fn not_ip_and_not_tcp() {
    let arp = eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]);
    assert_eq!(run(LinkType::ETHERNET, &arp), Err(Skip::NotIp));
    // 802.3 length field with LLC.
    assert_eq!(run(LinkType::ETHERNET, &eth(46, &[0x42; 46])), Err(Skip::NotIp));
    let udp53 = ipv4(UDP, &udp(5353, 53));
    assert_eq!(run(LinkType::RAW, &udp53), Err(Skip::NotTcp { protocol: 17 }));
    let icmp = ipv4(1, &[8, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(run(LinkType::RAW, &icmp), Err(Skip::NotTcp { protocol: 1 }));
    let esp = ipv6(0, &concat(&[&ext(50), &[0; 16]]));
    assert_eq!(run(LinkType::RAW, &esp), Err(Skip::NotTcp { protocol: 50 }));
    assert_eq!(
        run(LinkType::RAW, &ipv6(59, &[])),
        Err(Skip::NotTcp { protocol: 59 })
    );
}

#[test]
fn ipv4_fragments() {
    let mf = ipv4_frag(ipv4(TCP, &data(10)), 0x2000);
    assert_eq!(run(LinkType::RAW, &mf), Err(Skip::Fragment));
    let later = ipv4_frag(ipv4(TCP, &[0; 24]), 0x0010);
    assert_eq!(run(LinkType::RAW, &later), Err(Skip::Fragment));
    let last = ipv4_frag(ipv4(TCP, &[0; 24]), 0x4000 | 0x0100);
    assert_eq!(run(LinkType::RAW, &last), Err(Skip::Fragment));
    // Fragments of protocols that may carry TCP in a tunnel (UDP, GRE) are held for reassembly
    // too; without reassembly they say what they are.
    let udp_frag = ipv4_frag(ipv4(UDP, &[0; 24]), 0x0010);
    assert_eq!(run(LinkType::RAW, &udp_frag), Err(Skip::Fragment));
    assert_eq!(
        plain(LinkType::RAW, &udp_frag),
        Err(Skip::NotTcp { protocol: 17 })
    );
    let icmp_frag = ipv4_frag(ipv4(1, &[0; 24]), 0x0010);
    assert_eq!(run(LinkType::RAW, &icmp_frag), Err(Skip::NotTcp { protocol: 1 }));
    // DF alone is not a fragment.
    assert_v4_data(LinkType::RAW, &ipv4_frag(v4_data(), 0x4000));
}

#[test]
fn ipv6_fragments() {
    let first = ipv6(44, &concat(&[&frag_header(TCP, 0, true), &data(10)]));
    assert_eq!(run(LinkType::RAW, &first), Err(Skip::Fragment));
    let later = ipv6(44, &concat(&[&frag_header(TCP, 185, false), &[0; 30]]));
    assert_eq!(run(LinkType::RAW, &later), Err(Skip::Fragment));
    // Behind a hop-by-hop header.
    let hbh = ipv6(0, &concat(&[&ext(44), &frag_header(TCP, 185, true), &[0; 30]]));
    assert_eq!(run(LinkType::RAW, &hbh), Err(Skip::Fragment));
    // An atomic fragment (RFC 6946) is a whole packet.
    let atomic = ipv6(44, &concat(&[&frag_header(TCP, 0, false), &data(10)]));
    let t = ok(LinkType::RAW, &atomic);
    assert_eq!((t.segment.payload_len, t.segment.ip_len), (10, 78));
    let udp_frag = ipv6(44, &concat(&[&frag_header(UDP, 185, false), &[0; 30]]));
    assert_eq!(
        plain(LinkType::RAW, &udp_frag),
        Err(Skip::NotTcp { protocol: 17 })
    );
}

#[test]
fn tunnels_left_closed() {
    let cases = [
        (ipv4(47, &[0, 0, 0x08, 0x00]), Tunnel::Gre),
        (ipv4(4, &v4_data()), Tunnel::Ipv4InIp),
        (ipv4(41, &v6_data()), Tunnel::Ipv6InIp),
        (ipv6(4, &v4_data()), Tunnel::Ipv4InIp),
        (ipv4(97, &[0x30, 0]), Tunnel::EtherIp),
        (ipv4(UDP, &udp(50000, 4789)), Tunnel::Vxlan),
        (ipv6(UDP, &udp(50000, 6081)), Tunnel::Geneve),
        (ipv4(UDP, &udp(3544, 50000)), Tunnel::Teredo),
        (ipv4(UDP, &udp(2152, 2152)), Tunnel::GtpU),
        // A fragmented GRE packet is still GRE.
        (ipv4_frag(ipv4(47, &[0; 16]), 0x0010), Tunnel::Gre),
        // The first fragment of a VXLAN datagram holds its UDP header.
        (ipv4_frag(ipv4(UDP, &udp(50000, 4789)), 0x2000), Tunnel::Vxlan),
    ];
    for (packet, tunnel) in cases {
        assert_eq!(
            plain(LinkType::RAW, &packet),
            Err(Skip::Tunnel(tunnel)),
            "{tunnel}"
        );
    }
    // UDP too short to show its ports is just UDP.
    assert_eq!(
        plain(LinkType::RAW, &ipv4(UDP, &[0x12, 0xB5])),
        Err(Skip::NotTcp { protocol: 17 })
    );
}

/// `frame` cut to `len` bytes by a snaplen (the original length is the whole frame's).
fn cut(link: LinkType, frame: &[u8], len: usize) -> Result<Tcp, Skip> {
    decode(link, &frame[..len], u32::try_from(frame.len()).unwrap())
}

#[test]
fn truncated_at_each_layer() {
    let e = LinkType::ETHERNET;
    let frame = eth(V4, &ipv4_opts(TCP, &[1, 1, 1, 1], &syn()));
    assert_eq!(cut(e, &frame, 0), Err(Skip::Truncated(Layer::Link)));
    assert_eq!(cut(e, &frame, 13), Err(Skip::Truncated(Layer::Link)));
    assert_eq!(cut(e, &frame, 14), Err(Skip::Truncated(Layer::Ip)));
    assert_eq!(cut(e, &frame, 14 + 19), Err(Skip::Truncated(Layer::Ip)));
    // Fixed header there, options not.
    assert_eq!(cut(e, &frame, 14 + 22), Err(Skip::Truncated(Layer::Ip)));
    assert_eq!(cut(e, &frame, 14 + 24), Err(Skip::Truncated(Layer::Tcp)));
    assert_eq!(cut(e, &frame, 14 + 24 + 19), Err(Skip::Truncated(Layer::Tcp)));
    // VLAN, MPLS and PPPoE headers cut.
    let vlan = eth_chain(&tag(0x8100, &et(V4, &v4_data())));
    assert_eq!(cut(e, &vlan, 17), Err(Skip::Truncated(Layer::Link)));
    let mpls = eth(0x8847, &concat(&[&label(1, false), &label(2, true), &v4_data()]));
    assert_eq!(cut(e, &mpls, 20), Err(Skip::Truncated(Layer::Link)));
    assert_eq!(cut(e, &mpls, 22), Err(Skip::Truncated(Layer::Link)));
    let pppoe = eth(0x8864, &pppoe(0x0021, &v4_data()));
    assert_eq!(cut(e, &pppoe, 21), Err(Skip::Truncated(Layer::Link)));
    // IPv6 header and extension headers cut.
    let v6 = eth(V6, &ipv6(0, &concat(&[&ext(TCP), &data(0)])));
    assert_eq!(cut(e, &v6, 14 + 39), Err(Skip::Truncated(Layer::Ip)));
    assert_eq!(cut(e, &v6, 14 + 40), Err(Skip::Truncated(Layer::Ip)));
    assert_eq!(cut(e, &v6, 14 + 47), Err(Skip::Truncated(Layer::Ip)));
    assert_eq!(cut(e, &v6, 14 + 48), Err(Skip::Truncated(Layer::Tcp)));
}

#[test]
fn cut_options_and_payload_still_decode() {
    let e = LinkType::ETHERNET;
    let frame = eth(V4, &ipv4(TCP, &syn()));
    let t = cut(e, &frame, 14 + 20 + 26).unwrap();
    assert_eq!(t.captured, Captured::OptionsCut);
    // MSS and SACK-permitted were captured whole; the timestamps option was not.
    assert_eq!(t.segment.options.mss, Some(1460));
    assert!(t.segment.options.sack_permitted);
    assert_eq!(t.segment.options.timestamps, None);
    assert_eq!(t.segment.ip_len, 60);
    let frame = eth(V4, &ipv4(TCP, &data(1000)));
    let t = cut(e, &frame, 96).unwrap();
    assert_eq!(t.captured, Captured::PayloadCut);
    assert_eq!(t.segment.payload_len, 1000);
    assert_eq!(t.segment.ip_len, 1040);
    // Cut exactly after the TCP header.
    assert_eq!(cut(e, &frame, 54).unwrap().captured, Captured::PayloadCut);
}

#[test]
fn malformed() {
    let raw = LinkType::RAW;
    let m = |m| Err(Skip::Malformed(m));
    // Ethertype says IPv4, the packet says 5.
    let mut v5 = v4_data();
    v5[0] = 0x55;
    assert_eq!(run(LinkType::ETHERNET, &eth(V4, &v5)), m(Malformed::IpVersion(5)));
    let mut ihl = v4_data();
    ihl[0] = 0x44;
    assert_eq!(run(raw, &ihl), m(Malformed::Ipv4HeaderLength(16)));
    let mut total = v4_data();
    total[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(
        run(raw, &total),
        m(Malformed::IpLength {
            total: 19,
            header: 20
        })
    );
    // IPv6 extension header longer than the payload length.
    let mut long = ext(TCP);
    long[1] = 4;
    assert_eq!(
        run(raw, &ipv6(0, &concat(&[&long, &[0; 16]]))),
        m(Malformed::IpLength {
            total: 64,
            header: 80
        })
    );
    // IPv6 payload length ends inside an extension header's first bytes.
    let mut short = ipv6(0, &ext(TCP));
    short[4..6].copy_from_slice(&1u16.to_be_bytes());
    assert_eq!(
        run(raw, &short),
        m(Malformed::IpLength {
            total: 41,
            header: 42
        })
    );
    let mut offset = data(10);
    offset[12] = 0x40;
    assert_eq!(run(raw, &ipv4(TCP, &offset)), m(Malformed::TcpDataOffset(4)));
    assert_eq!(
        run(raw, &ipv4(TCP, &data(0)[..12])),
        m(Malformed::TcpBeyondIp {
            ip_payload: 12,
            tcp_header: 20
        })
    );
    let mut beyond = data(10);
    beyond[12] = 0xF0;
    assert_eq!(
        run(raw, &ipv4(TCP, &beyond)),
        m(Malformed::TcpBeyondIp {
            ip_payload: 30,
            tcp_header: 60
        })
    );
    // An IP length shorter than the TCP header, with padding that would have held it.
    let mut padded = eth(V4, &ipv4(TCP, &data(0)[..12]));
    padded.extend_from_slice(&[0; 20]);
    assert_eq!(
        run(LinkType::ETHERNET, &padded),
        m(Malformed::TcpBeyondIp {
            ip_payload: 12,
            tcp_header: 20
        })
    );
}

#[test]
fn skips_display_their_reason() {
    assert_eq!(
        Skip::Truncated(Layer::Ip).to_string(),
        "truncated in the IP header"
    );
    assert_eq!(
        Skip::Malformed(Malformed::TcpDataOffset(3)).to_string(),
        "malformed: TCP data offset 3 < 5"
    );
    assert_eq!(
        Skip::Tunnel(Tunnel::Vxlan).to_string(),
        "VXLAN tunnel (not decoded)"
    );
    assert_eq!(
        Skip::UnsupportedLink(LinkType(147)).to_string(),
        "unsupported link type LINKTYPE 147"
    );
}

/// Every prefix of a good frame is either a segment or truncated: a snaplen never looks like
/// malformation.
#[test]
fn every_prefix_is_truncated_or_tcp() {
    let frames = [
        (LinkType::ETHERNET, eth(V4, &ipv4_opts(TCP, &[1; 8], &syn()))),
        (
            LinkType::ETHERNET,
            eth_chain(&tag(
                0x88A8,
                &tag(0x8100, &et(0x8864, &pppoe(0x0057, &v6_data()))),
            )),
        ),
        (
            LinkType::ETHERNET,
            eth(
                0x8847,
                &concat(&[&label(1, false), &label(16, true), &[0; 4], &eth(V4, &v4_data())]),
            ),
        ),
        (
            LinkType::LINUX_SLL2,
            concat(&[
                &V6.to_be_bytes(),
                &[0; 18],
                &ipv6(0, &concat(&[&ext(TCP), &syn()])),
            ]),
        ),
        (LinkType::NULL, concat(&[&30u32.to_le_bytes(), &v6_data()])),
        (LinkType::PPP, concat(&[&[0xFF, 0x03, 0x00, 0x21], &v4_data()])),
    ];
    for (link, frame) in frames {
        let whole = ok(link, &frame).segment;
        for len in 0..frame.len() {
            match cut(link, &frame, len) {
                Ok(t) => {
                    assert_ne!(t.captured, Captured::Whole);
                    assert_eq!(t.segment.seq, whole.seq);
                    assert_eq!(t.segment.payload_len, whole.payload_len);
                }
                Err(Skip::Truncated(_)) => {}
                Err(other) => panic!("{link} cut at {len}: {other}"),
            }
        }
    }
}
