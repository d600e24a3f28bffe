//! Hand-built frames for the decode tests: each builder returns owned bytes with lengths and
//! offsets filled in, so a test only states what it is about.

pub const MAC: [u8; 12] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];

/// A TCP header with `options` (padded to a multiple of 4) and `payload`.
pub fn tcp(flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut opts = options.to_vec();
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let data_offset = u8::try_from((20 + opts.len()) / 4).unwrap();
    let mut h = Vec::new();
    h.extend_from_slice(&1234u16.to_be_bytes());
    h.extend_from_slice(&80u16.to_be_bytes());
    h.extend_from_slice(&1_000_000u32.to_be_bytes());
    h.extend_from_slice(&2_000_000u32.to_be_bytes());
    h.push(data_offset << 4);
    h.push(flags);
    h.extend_from_slice(&4096u16.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    h.extend_from_slice(&opts);
    h.extend_from_slice(payload);
    h
}

/// A SYN with MSS 1460, SACK permitted, timestamps (7, 0), NOP, window scale 7.
pub fn syn() -> Vec<u8> {
    tcp(
        0x02,
        &[2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7],
        &[],
    )
}

/// A PSH+ACK with `n` bytes of payload and no options.
pub fn data(n: usize) -> Vec<u8> {
    tcp(0x18, &[], &vec![0xAB; n])
}

/// IPv4 10.0.0.1 → 10.0.0.2 with `options` (a multiple of 4 bytes), protocol `proto`.
pub fn ipv4_opts(proto: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let header = 20 + options.len();
    let total = u16::try_from(header + payload.len()).unwrap();
    let mut h = vec![0x40 | u8::try_from(header / 4).unwrap(), 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]); // id, DF, TTL, proto, checksum
    h.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    h.extend_from_slice(options);
    h.extend_from_slice(payload);
    h
}

pub fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_opts(proto, &[], payload)
}

/// Sets the IPv4 flags and fragment offset field.
pub fn ipv4_frag(mut packet: Vec<u8>, field: u16) -> Vec<u8> {
    packet[6..8].copy_from_slice(&field.to_be_bytes());
    packet
}

/// IPv6 2001:db8::1 → 2001:db8::2: `next` is the first next header, `rest` the extension headers
/// and transport.
pub fn ipv6(next: u8, rest: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(rest.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    let mut src = [0u8; 16];
    src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    let mut dst = src;
    src[15] = 1;
    dst[15] = 2;
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(rest);
    h
}

/// A generic IPv6 extension header (hop-by-hop, routing, destination options) of 8 bytes.
pub fn ext(next: u8) -> Vec<u8> {
    vec![next, 0, 1, 4, 0, 0, 0, 0]
}

/// An IPv6 fragment header.
pub fn frag_header(next: u8, offset_words: u16, more: bool) -> Vec<u8> {
    let field = (offset_words << 3) | u16::from(more);
    let mut h = vec![next, 0];
    h.extend_from_slice(&field.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 42]);
    h
}

/// A UDP header from `sport` to `dport` with 4 bytes of payload.
pub fn udp(sport: u16, dport: u16) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h.extend_from_slice(&[0, 12, 0, 0, 1, 2, 3, 4]);
    h
}

/// Ethernet II with the given sequence of (ethertype, tag bytes) and a final ethertype.
pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = MAC.to_vec();
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// `tpid`, a 2-byte TCI, then `inner` (which starts with the next ethertype).
pub fn tag(tpid: u16, inner: &[u8]) -> Vec<u8> {
    let mut t = tpid.to_be_bytes().to_vec();
    t.extend_from_slice(&[0x20, 0x64]);
    t.extend_from_slice(inner);
    t
}

/// An ethertype followed by a payload: the tail of an Ethernet header.
pub fn et(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut t = ethertype.to_be_bytes().to_vec();
    t.extend_from_slice(payload);
    t
}

/// Ethernet whose ethertype chain is `chain` (starting with an ethertype).
pub fn eth_chain(chain: &[u8]) -> Vec<u8> {
    let mut f = MAC.to_vec();
    f.extend_from_slice(chain);
    f
}

/// An MPLS label stack entry; `bottom` sets the S bit.
pub fn label(value: u32, bottom: bool) -> [u8; 4] {
    ((value << 12) | (u32::from(bottom) << 8) | 64).to_be_bytes()
}

pub fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A UDP datagram from `sport` to `dport` carrying `payload`, its length filled in.
pub fn udp_with(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(payload);
    h
}

/// IPv4 from `src` to `dst` (an outer header of a tunnel), protocol `proto`, identification `id`
/// and flags/fragment offset `frag`.
pub fn ipv4_outer(src: [u8; 4], dst: [u8; 4], proto: u8, id: u16, frag: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}
