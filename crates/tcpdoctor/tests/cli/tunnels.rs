//! Tunnels and IP fragments end to end: a capture of traffic seen through a tunnel (or in fragments)
//! must give the same connections as a capture of the same traffic taken inside it.
//!
//! - A real VXLAN between two namespaces, whose underlay fragments the outer packets (the VXLAN device
//!   is given the underlay's MTU, and Linux VXLAN leaves DF unset), captured by tcpdump on the
//!   underlay and on the VXLAN device at once (needs root).
//! - An Apple PKTAP capture, whose per-packet process names reach the connection.
//! - The kernels that run this suite ship VXLAN as their only tunnel device, so GRE, ERSPAN I/II/III,
//!   Geneve, IP in IP (4in4, 6in4, 4in6, 6in6), EtherIP and GTP-U are tested on the corpus's real
//!   Linux traffic, each frame wrapped in that tunnel's headers (and, for two of them, the outer
//!   packets fragmented and their pieces sent in reverse order). tshark, an independent decoder,
//!   must find every TCP segment in each wrapped capture, which checks the wrapping itself.

use crate::live::{Netns, is_root, start_server, stop_when_quiet, tcpdump, wait_bounded};
use crate::{shared, stdout, tcpdoctor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const RAW_IP: u32 = 101;
const ETHERNET: u32 = 1;
const A4: [u8; 4] = [192, 0, 2, 1];
const B4: [u8; 4] = [192, 0, 2, 2];
const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a];
const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b];

/// The verdict fields that must not change with the capture point, per connection: keyed by client,
/// server and which connection between them it was (in order of start: a port may be reused, and two
/// capture points see the same connection start a few microseconds apart).
fn verdicts(out: &str) -> BTreeMap<(String, String, usize), Vec<Value>> {
    let mut all: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    all.sort_by(|a, b| a["start"].as_f64().partial_cmp(&b["start"].as_f64()).unwrap());
    let mut seen = BTreeMap::new();
    all.into_iter()
        .map(|v| {
            let pair = (v["client"].to_string(), v["server"].to_string());
            let n = seen.entry(pair.clone()).or_insert(0);
            *n += 1;
            let fields = [
                "handshake",
                "cause",
                "closer",
                "reset_by",
                "resetter_state",
                "client_state",
                "server_state",
                "bytes_client",
                "bytes_server",
                "zeek_history",
            ];
            (
                (pair.0, pair.1, *n),
                fields.iter().map(|f| v[*f].clone()).collect(),
            )
        })
        .collect()
}

fn analyze_json(path: &Path) -> String {
    let out = tcpdoctor(&["analyze", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    stdout(&out)
}

/// TCP segments tshark finds in a capture (it reassembles IP fragments and opens every tunnel here).
fn tshark_tcp_frames(path: &Path) -> usize {
    let out = Command::new("tshark")
        .args([
            "-n",
            "-r",
            path.to_str().unwrap(),
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
        .expect("tshark (installed by scripts/test.sh)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().lines().count()
}

/// One Internet checksum (RFC 1071) over `b`.
fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, id: u16, frag: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let sum = checksum(&h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

/// UDP without a checksum (0: none, allowed over IPv4, RFC 768).
fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(payload);
    h
}

/// The inner frame's IP packet and whether it goes "forward" (from the lower endpoint to the
/// higher), so that the two directions use the tunnel's two directions.
fn split(frame: &[u8]) -> (&[u8], u16, bool) {
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = &frame[14..];
    let (src, dst, tcp) = if ethertype == 0x0800 {
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        (&ip[12..16], &ip[16..20], &ip[ihl..])
    } else {
        (&ip[8..24], &ip[24..40], &ip[40..])
    };
    let forward = (src, &tcp[..2]) < (dst, &tcp[2..4]);
    (ip, ethertype, forward)
}

/// How a test wraps one inner Ethernet frame: the outer IP packet (or packets).
type Wrap = fn(&[u8]) -> Vec<Vec<u8>>;

fn outer4(forward: bool, proto: u8, payload: &[u8]) -> Vec<u8> {
    let (s, d) = if forward { (A4, B4) } else { (B4, A4) };
    ipv4(s, d, proto, 1, 0, payload)
}

fn outer6(forward: bool, next: u8, payload: &[u8]) -> Vec<u8> {
    let (s, d) = if forward { (A6, B6) } else { (B6, A6) };
    ipv6(s, d, next, payload)
}

fn ip_proto(ethertype: u16) -> u8 {
    if ethertype == 0x0800 { 4 } else { 41 }
}

fn gre_ip(f: &[u8]) -> Vec<Vec<u8>> {
    let (ip, et, fwd) = split(f);
    // Key 77 (RFC 2890).
    let gre = [&[0x20, 0x00][..], &et.to_be_bytes(), &77u32.to_be_bytes(), ip].concat();
    vec![outer4(fwd, 47, &gre)]
}

fn gre_teb(f: &[u8]) -> Vec<Vec<u8>> {
    let (_, _, fwd) = split(f);
    vec![outer4(fwd, 47, &[&[0, 0, 0x65, 0x58][..], f].concat())]
}

fn erspan1(f: &[u8]) -> Vec<Vec<u8>> {
    let (_, _, fwd) = split(f);
    vec![outer4(fwd, 47, &[&[0, 0, 0x88, 0xBE][..], f].concat())]
}

fn erspan2(f: &[u8]) -> Vec<Vec<u8>> {
    let (_, _, fwd) = split(f);
    // GRE with a sequence number; ERSPAN II: version 1, VLAN 0, session 123, index 0.
    let header = [0x10, 0x00, 0x00, 123, 0, 0, 0, 0];
    vec![outer4(
        fwd,
        47,
        &[&[0x10, 0, 0x88, 0xBE, 0, 0, 0, 1][..], &header, f].concat(),
    )]
}

fn erspan3(f: &[u8]) -> Vec<Vec<u8>> {
    let (_, _, fwd) = split(f);
    // ERSPAN III: version 2, session 45, a timestamp, SGT, then flags without the optional subheader.
    let header = [0x20, 0x00, 0x00, 45, 0, 0, 0, 9, 0, 0, 0x00, 0x00];
    vec![outer4(
        fwd,
        47,
        &[&[0x10, 0, 0x22, 0xEB, 0, 0, 0, 1][..], &header, f].concat(),
    )]
}

fn geneve(f: &[u8]) -> Vec<Vec<u8>> {
    let (_, _, fwd) = split(f);
    // One 8-byte option (class 0x0102, type 3, 4 bytes of data), protocol Ethernet, VNI 4242.
    let vni = 4242u32 << 8;
    let header = [
        &[0x02, 0, 0x65, 0x58][..],
        &vni.to_be_bytes(),
        &[1, 2, 3, 1, 0, 0, 0, 0],
    ]
    .concat();
    vec![outer4(fwd, 17, &udp(40_000, 6081, &[&header[..], f].concat()))]
}

fn gtp_u(f: &[u8]) -> Vec<Vec<u8>> {
    let (ip, _, fwd) = split(f);
    let mut h = vec![0x30, 0xFF];
    h.extend_from_slice(&u16::try_from(ip.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&(if fwd { 0x1000u32 } else { 0x2000 }).to_be_bytes());
    vec![outer4(fwd, 17, &udp(2152, 2152, &[&h[..], ip].concat()))]
}

fn etherip(f: &[u8]) -> Vec<Vec<u8>> {
    let (_, _, fwd) = split(f);
    vec![outer4(fwd, 97, &[&[0x30, 0][..], f].concat())]
}

fn ip_in_ip4(f: &[u8]) -> Vec<Vec<u8>> {
    let (ip, et, fwd) = split(f);
    vec![outer4(fwd, ip_proto(et), ip)]
}

fn ip_in_ip6(f: &[u8]) -> Vec<Vec<u8>> {
    let (ip, et, fwd) = split(f);
    vec![outer6(fwd, ip_proto(et), ip)]
}

/// The outer IPv4 packet cut in pieces of at most 256 bytes, sent last piece first.
fn ip_in_ip4_fragmented(f: &[u8]) -> Vec<Vec<u8>> {
    let (ip, et, fwd) = split(f);
    let (s, d) = if fwd { (A4, B4) } else { (B4, A4) };
    let id = checksum(ip); // any value that differs between datagrams
    let mut pieces: Vec<Vec<u8>> = ip
        .chunks(256)
        .enumerate()
        .map(|(i, piece)| {
            let offset = i * 256;
            let more = if offset + piece.len() < ip.len() {
                0x2000
            } else {
                0
            };
            ipv4(
                s,
                d,
                ip_proto(et),
                id,
                more | u16::try_from(offset / 8).unwrap(),
                piece,
            )
        })
        .collect();
    pieces.reverse();
    pieces
}

/// The outer IPv6 packet's payload in Fragment headers (RFC 8200 §4.5) of at most 256 bytes each,
/// last piece first.
fn ip_in_ip6_fragmented(f: &[u8]) -> Vec<Vec<u8>> {
    let (ip, et, fwd) = split(f);
    let (s, d) = if fwd { (A6, B6) } else { (B6, A6) };
    let id = u32::from(checksum(ip));
    let mut pieces: Vec<Vec<u8>> = ip
        .chunks(256)
        .enumerate()
        .map(|(i, piece)| {
            let offset = i * 256;
            let more = u16::from(offset + piece.len() < ip.len());
            let field = u16::try_from(offset / 8).unwrap() << 3 | more;
            let header = [&[ip_proto(et), 0][..], &field.to_be_bytes(), &id.to_be_bytes()].concat();
            ipv6(s, d, 44, &[&header[..], piece].concat())
        })
        .collect();
    pieces.reverse();
    pieces
}

/// Writes every frame of the corpus capture `name`, wrapped by `wrap`, into `out` (raw IP).
fn wrap_capture(name: &str, wrap: Wrap, out: &Path) {
    let mut source = capture::open(&shared().join("corpus").join(name)).unwrap();
    let file = std::fs::File::create(out).unwrap();
    let mut w = capture::PcapWriter::new(std::io::BufWriter::new(file), RAW_IP, 65_535).unwrap();
    while let Some(frame) = source.next_frame().unwrap() {
        assert_eq!(frame.link_type, ETHERNET);
        for packet in wrap(frame.data) {
            w.write(frame.ts, &packet, u32::try_from(packet.len()).unwrap())
                .unwrap();
        }
    }
    w.flush().unwrap();
}

#[test]
fn every_tunnel_and_fragmented_outer_packets_give_the_connections_seen_inside() {
    let dir = tempfile::tempdir().unwrap();
    let inside = shared().join("corpus/scenarios.pcap");
    let want = verdicts(&analyze_json(&inside));
    let segments = tshark_tcp_frames(&inside);
    assert_eq!(want.len(), 66);
    let (v4, v6) = (("192.0.2.1", "192.0.2.2"), ("[2001:db8::a]", "[2001:db8::b]"));
    let with = |kind, (a, b)| (kind, a, b);
    let cases: [(&str, Wrap, (&str, &str, &str)); 12] = [
        ("gre", gre_ip, with("gre key 77", v4)),
        ("gretap", gre_teb, with("gre", v4)),
        ("erspan1", erspan1, with("erspan1", v4)),
        ("erspan2", erspan2, with("erspan2 session 123", v4)),
        ("erspan3", erspan3, with("erspan3 session 45", v4)),
        ("geneve", geneve, with("geneve vni 4242", v4)),
        ("gtp-u", gtp_u, with("gtp-u", v4)),
        ("etherip", etherip, with("etherip", v4)),
        // 4in4 for the IPv4 connections, 6in4 for the IPv6 ones.
        ("ip-in-ip4", ip_in_ip4, with("in4", v4)),
        ("ip-in-ip6", ip_in_ip6, with("in6", v6)),
        ("ip-in-ip4-frag", ip_in_ip4_fragmented, with("in4", v4)),
        ("ip-in-ip6-frag", ip_in_ip6_fragmented, with("in6", v6)),
    ];
    for (name, wrap, tunnel) in cases {
        let path = dir.path().join(format!("{name}.pcap"));
        wrap_capture("scenarios.pcap", wrap, &path);
        let out = analyze_json(&path);
        assert_eq!(
            verdicts(&out),
            want,
            "{name}: verdicts differ from the capture inside"
        );
        let (kind, a, b) = tunnel;
        for l in out.lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            let t = v["tunnel"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: no tunnel in {v}"));
            // The outer addresses in the order the tunnel was first seen, which may be either.
            let either = [format!("{kind} {a}>{b}"), format!("{kind} {b}>{a}")];
            assert!(either.iter().any(|e| t.ends_with(e.as_str())), "{name}: {t}");
        }
        assert_eq!(
            tshark_tcp_frames(&path),
            segments,
            "{name}: tshark reads the wrapping differently"
        );
    }
    // Without tunnels, as before: nothing inside is seen.
    let path = dir.path().join("gre.pcap");
    let out = tcpdoctor(&["analyze", "--no-tunnels", path.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("No TCP connection: 570 frames"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_real_vxlan_with_fragmented_outer_packets_gives_the_connections_seen_inside() {
    if !is_root() {
        println!("skipped: a VXLAN between namespaces needs root");
        return;
    }
    let (a, b) = (Netns::new("vxa"), Netns::new("vxb"));
    let run = |ns: &Netns, argv: &str| {
        let argv: Vec<&str> = argv.split_whitespace().collect();
        let out = ns.cmd(&argv).output().unwrap();
        assert!(out.status.success(), "{argv:?}: {out:?}");
    };
    let veth = Command::new("ip")
        .args([
            "link", "add", "va", "netns", &a.0, "type", "veth", "peer", "name", "vb", "netns", &b.0,
        ])
        .status()
        .unwrap();
    assert!(veth.success());
    for (ns, dev, me, peer, inner) in [
        (&a, "va", "192.0.2.1", "192.0.2.2", "10.42.0.1/24"),
        (&b, "vb", "192.0.2.2", "192.0.2.1", "10.42.0.2/24"),
    ] {
        run(ns, &format!("ip addr add {me}/24 dev {dev}"));
        run(ns, &format!("ip link set {dev} up"));
        run(
            ns,
            &format!("ip link add vx0 type vxlan id 42 local {me} remote {peer} dstport 4789"),
        );
        run(ns, &format!("ip addr add {inner} dev vx0"));
        // The underlay's MTU on the VXLAN device: every full-sized inner packet is fragmented.
        run(ns, "ip link set vx0 mtu 1500 up");
    }
    let dir = tempfile::tempdir().unwrap();
    let (under, inside) = (dir.path().join("under.pcap"), dir.path().join("inside.pcap"));
    let cap_under = tcpdump(&a, "va", &under, &[]);
    let cap_inside = tcpdump(&a, "vx0", &inside, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/tunnel_traffic.py");
    let script = script.to_str().unwrap();
    for port in ["8080", "8081"] {
        let server = start_server(b.cmd(&["python3", script, "server", "10.42.0.2", port]));
        let client = a
            .cmd(&["python3", script, "client", "10.42.0.2", port])
            .spawn()
            .unwrap();
        assert!(wait_bounded(client, Duration::from_secs(20)).status.success());
        assert!(wait_bounded(server, Duration::from_secs(20)).status.success());
    }
    stop_when_quiet(cap_under, &under);
    stop_when_quiet(cap_inside, &inside);
    let want = verdicts(&analyze_json(&inside));
    assert_eq!(
        want.len(),
        2,
        "{}",
        stdout(&tcpdoctor(&["analyze", inside.to_str().unwrap()]))
    );
    let got = analyze_json(&under);
    assert_eq!(verdicts(&got), want);
    assert!(got.contains("\"tunnel\":\"vxlan vni 42 192.0.2."), "{got}");
    let summary = stdout(&tcpdoctor(&["analyze", under.to_str().unwrap()]));
    let reassembled: u64 = summary
        .split("IP fragments: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no fragments in {summary}"));
    assert!(
        reassembled > 0,
        "the underlay fragmented the outer packets: {summary}"
    );
}

/// An Apple PKTAP capture names the process of each packet's socket: the connection carries it.
#[test]
fn a_pktap_capture_names_the_process_of_each_connection() {
    const PKTAP: u32 = 258;
    let frame = |from_client: bool, flags: u8, seq: u32, ack: u32| {
        let (src, dst, sport, dport) = if from_client {
            ([10, 0, 0, 1], [10, 0, 0, 2], 50_000u16, 443u16)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 443, 50_000)
        };
        let mut tcp = Vec::new();
        tcp.extend_from_slice(&sport.to_be_bytes());
        tcp.extend_from_slice(&dport.to_be_bytes());
        tcp.extend_from_slice(&seq.to_be_bytes());
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        let ip = ipv4(src, dst, 6, 1, 0, &tcp);
        let mut h = [0u8; 108];
        h[0..4].copy_from_slice(&108u32.to_le_bytes());
        h[4..8].copy_from_slice(&1u32.to_le_bytes());
        h[8..12].copy_from_slice(&12u32.to_le_bytes()); // DLT_RAW: raw IP follows
        h[52..56].copy_from_slice(&4242i32.to_le_bytes());
        h[56..60].copy_from_slice(b"curl");
        [&h[..], &ip].concat()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pktap.pcap");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = capture::PcapWriter::new(std::io::BufWriter::new(file), PKTAP, 65_535).unwrap();
    for (i, (c, flags, seq, ack)) in [
        (true, 0x02, 100, 0),
        (false, 0x12, 500, 101),
        (true, 0x10, 101, 501),
        (true, 0x04, 101, 0),
    ]
    .into_iter()
    .enumerate()
    {
        let f = frame(c, flags, seq, ack);
        w.write(
            1_795_000_000_000_000_000 + i as u64 * 1_000_000,
            &f,
            u32::try_from(f.len()).unwrap(),
        )
        .unwrap();
    }
    w.flush().unwrap();
    let out = analyze_json(&path);
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["process"], "curl (pid 4242)");
    assert_eq!(v["cause"], "abort");
    let summary = stdout(&tcpdoctor(&["analyze", path.to_str().unwrap()]));
    assert!(summary.contains("socket of curl (pid 4242)"), "{summary}");
}
