//! Tracker throughput in segments per second, on synthetic but realistic connections: handshake,
//! request, a multi-segment response, four-way close, 2,000 connections interleaved.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lifecycle::{Config, Tracker};
use std::hint::black_box;

#[path = "support/workload.rs"]
mod workload;

fn bench(c: &mut Criterion) {
    let w = workload::workload();
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
