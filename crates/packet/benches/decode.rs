//! Decoder throughput in frames per second on the corpus's real Linux traffic (`shared/corpus/mix.pcap`,
//! 7,576 Ethernet frames), read into memory first so that only decoding is measured.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use packet::{Decoder, LinkType};
use std::hint::black_box;
use std::path::Path;

/// The frames of a classic little-endian pcap: (bytes, original length).
fn frames(path: &Path) -> (LinkType, Vec<(Vec<u8>, u32)>) {
    let data = std::fs::read(path).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
    let link = LinkType(u32_at(20));
    let (mut at, mut out) = (24, Vec::new());
    while at + 16 <= data.len() {
        let (caplen, orig) = (u32_at(at + 8) as usize, u32_at(at + 12));
        out.push((data[at + 16..at + 16 + caplen].to_vec(), orig));
        at += 16 + caplen;
    }
    (link, out)
}

fn decode(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/mix.pcap");
    let (link, frames) = frames(&path);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("mix.pcap", |b| {
        b.iter(|| {
            let mut d = Decoder::default();
            let mut payload = 0u64;
            for (f, orig) in &frames {
                if let Ok(t) = d.decode(link, f, *orig, 0) {
                    payload += u64::from(t.segment.payload_len);
                }
            }
            black_box(payload)
        });
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
