//! The tracker benches' workload: 2,000 interleaved connections of 23 segments each (handshake,
//! request, 8 × 1448-byte response segments with ACKs, four-way close).

use lifecycle::{Flags, Segment, Seq, Timestamp};
use std::net::SocketAddr;

const SYN: u8 = Flags::SYN;
const ACK: u8 = Flags::ACK;
const FIN: u8 = Flags::FIN;

fn connection(i: u32) -> Vec<Segment> {
    let c = SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 30_000 + (i % 30_000) as u16));
    let s: SocketAddr = "10.1.0.1:443".parse().unwrap();
    let seg = |from_client: bool, flags: u8, seq: u32, ack: u32, len: u32| {
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        let mut g = Segment::between(src, dst);
        g.flags = Flags(flags);
        g.seq = Seq(seq);
        g.ack = Seq(ack);
        g.payload_len = len;
        g
    };
    let (ci, si) = (i.wrapping_mul(7919), i.wrapping_mul(104_729));
    let mut v = vec![
        seg(true, SYN, ci, 0, 0),
        seg(false, SYN | ACK, si, ci + 1, 0),
        seg(true, ACK, ci + 1, si + 1, 0),
        seg(true, ACK, ci + 1, si + 1, 300),
    ];
    let mut sseq = si + 1;
    for _ in 0..8 {
        v.push(seg(false, ACK, sseq, ci + 301, 1448));
        sseq += 1448;
        v.push(seg(true, ACK, ci + 301, sseq, 0));
    }
    v.push(seg(true, FIN | ACK, ci + 301, sseq, 0));
    v.push(seg(false, FIN | ACK, sseq, ci + 302, 0));
    v.push(seg(true, ACK, ci + 302, sseq + 1, 0));
    v
}

pub fn workload() -> Vec<(Timestamp, Segment)> {
    let conns: Vec<Vec<Segment>> = (0..2_000).map(connection).collect();
    let mut out = Vec::new();
    let mut t = 1_700_000_000_000_000_000u64;
    // Interleave: segment k of every connection, then segment k+1, ...
    for k in 0..conns[0].len() {
        for c in &conns {
            t += 10_000;
            out.push((Timestamp(t), c[k]));
        }
    }
    out
}
