//! Tracker throughput in segments per second, on synthetic but realistic connections: handshake,
//! request, a multi-segment response, four-way close, 2,000 connections interleaved.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lifecycle::{Config, Flags, Segment, Seq, Timestamp, Tracker};
use std::hint::black_box;
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

fn workload() -> Vec<(Timestamp, Segment)> {
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

fn bench(c: &mut Criterion) {
    let w = workload();
    let mut g = c.benchmark_group("tracker");
    g.throughput(Throughput::Elements(w.len() as u64));
    g.bench_function("handle_segment", |b| {
        b.iter(|| {
            let mut t = Tracker::new(Config::default());
            for (now, seg) in &w {
                t.handle_segment(*now, seg);
                while t.poll_event().is_some() {}
            }
            t.finish();
            let mut n = 0;
            while t.poll_event().is_some() {
                n += 1;
            }
            black_box(n)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
