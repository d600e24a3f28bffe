//! The shared corpus: pcap and pcapng copies of the same traffic must give the same frames, by every
//! reading path. Expected counts and sizes are from `capinfos -c -d`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use crate::support::{Dribble, Owned, corpus_dir, drain};
use capture::FrameSource;

const SCENARIOS_FRAMES: usize = 570;
const SCENARIOS_DATA_BYTES: usize = 1_803_000;
/// capinfos: first packet time 1795487495.927709.
const SCENARIOS_FIRST_TS: u64 = 1_795_487_495_927_709_000;
const MIX_FRAMES: usize = 7576;
const MIX_DATA_BYTES: usize = 6_315_574;
const REDIS_FRAMES: usize = 474;
const REDIS_DATA_BYTES: usize = 50_318;
/// tshark frame.time_epoch of the first and last frames.
const REDIS_FIRST_TS: u64 = 1_728_488_976_467_415_000;
const REDIS_LAST_TS: u64 = 1_728_488_990_007_242_000;
const LINKTYPE_ETHERNET: u32 = 1;

fn read_all(path: &std::path::Path) -> Vec<Owned> {
    let mut src = capture::open(path).unwrap();
    let total = src.total_bytes();
    let (frames, err) = drain(src.as_mut());
    assert!(err.is_none(), "{}", err.unwrap());
    assert_eq!(total, Some(std::fs::metadata(path).unwrap().len()));
    assert_eq!(
        src.bytes_read(),
        total.unwrap(),
        "mapped source must consume the whole file"
    );
    // The streaming path, through a File and through a reader that returns a few bytes at a time.
    let (streamed, err) = drain(&mut capture::from_reader("s", std::fs::File::open(path).unwrap()));
    assert!(err.is_none());
    assert_eq!(frames, streamed);
    let bytes = std::fs::read(path).unwrap();
    let mut dribble = capture::from_reader("d", Dribble::new(&bytes));
    assert_eq!(drain(&mut dribble).0, frames);
    assert_eq!(dribble.bytes_read(), bytes.len() as u64);
    assert_eq!(dribble.total_bytes(), None);
    frames
}

/// pcap and pcapng frames agree on everything but the offset (the containers differ).
fn assert_same_traffic(a: &[Owned], b: &[Owned]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(
            (x.ts, x.link_type, x.orig_len),
            (y.ts, y.link_type, y.orig_len),
            "frame {i}"
        );
        assert_eq!(x.data, y.data, "frame {i} data");
    }
}

#[test]
fn pcap_and_pcapng_of_the_same_traffic_agree() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: shared/corpus not found");
        return;
    };
    for (name, frames, bytes) in [
        ("scenarios", SCENARIOS_FRAMES, SCENARIOS_DATA_BYTES),
        ("mix", MIX_FRAMES, MIX_DATA_BYTES),
    ] {
        let pcap = read_all(&dir.join(format!("corpus/{name}.pcap")));
        let pcapng = read_all(&dir.join(format!("corpus/{name}.pcapng")));
        assert_eq!(pcap.len(), frames, "{name}");
        assert_eq!(pcap.iter().map(|f| f.data.len()).sum::<usize>(), bytes, "{name}");
        assert!(pcap.iter().all(|f| f.link_type == LINKTYPE_ETHERNET));
        assert!(pcap.windows(2).all(|w| w[0].offset < w[1].offset));
        // pcap records are back to back after the 24-byte header.
        assert_eq!(pcap[0].offset, 24);
        assert_eq!(pcap[1].offset, 24 + 16 + pcap[0].data.len() as u64);
        assert_same_traffic(&pcap, &pcapng);
    }
    let scenarios = read_all(&dir.join("corpus/scenarios.pcap"));
    assert_eq!(scenarios[0].ts, SCENARIOS_FIRST_TS);
}

#[test]
fn wireshark_written_pcapng() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: shared/peers not found");
        return;
    };
    let path = dir.join("peers/zeek/plain/redis__django-cloud.pcapng");
    if !path.is_file() {
        eprintln!("skipped: {} not found", path.display());
        return;
    }
    let frames = read_all(&path);
    assert_eq!(frames.len(), REDIS_FRAMES);
    assert_eq!(
        frames.iter().map(|f| f.data.len()).sum::<usize>(),
        REDIS_DATA_BYTES
    );
    assert_eq!(frames[0].ts, REDIS_FIRST_TS);
    assert_eq!(frames[REDIS_FRAMES - 1].ts, REDIS_LAST_TS);
    // SHB of 0x58 bytes, IDB of 0x14 bytes, then the first EPB.
    assert_eq!(frames[0].offset, 0x58 + 0x14);
}

/// Byte-swapped and nanosecond variants of a real pcap, made in code, read the same.
#[test]
fn swapped_and_nanosecond_pcap() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: shared/corpus not found");
        return;
    };
    let orig = std::fs::read(dir.join("corpus/scenarios.pcap")).unwrap();
    let expected = drain(&mut capture::from_bytes("orig", &orig[..])).0;

    let swap = |b: &[u8]| -> Vec<u8> { b.iter().rev().copied().collect() };
    let u32le = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
    let mut swapped = Vec::with_capacity(orig.len());
    let mut nanos = Vec::with_capacity(orig.len());
    // File header: magic, versions and the four 32-bit fields.
    swapped.extend(swap(&orig[0..4]));
    swapped.extend(swap(&orig[4..6]));
    swapped.extend(swap(&orig[6..8]));
    for i in (8..24).step_by(4) {
        swapped.extend(swap(&orig[i..i + 4]));
    }
    nanos.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    nanos.extend_from_slice(&orig[4..24]);
    let mut at = 24;
    while at < orig.len() {
        let caplen = u32le(&orig[at + 8..at + 12]) as usize;
        for i in (at..at + 16).step_by(4) {
            swapped.extend(swap(&orig[i..i + 4]));
        }
        nanos.extend_from_slice(&orig[at..at + 4]);
        nanos.extend_from_slice(&(u32le(&orig[at + 4..at + 8]) * 1000).to_le_bytes());
        nanos.extend_from_slice(&orig[at + 8..at + 16]);
        swapped.extend_from_slice(&orig[at + 16..at + 16 + caplen]);
        nanos.extend_from_slice(&orig[at + 16..at + 16 + caplen]);
        at += 16 + caplen;
    }
    assert_eq!(
        drain(&mut capture::from_bytes("swapped", &swapped[..])).0,
        expected
    );
    assert_eq!(drain(&mut capture::from_bytes("nanos", &nanos[..])).0, expected);
}

/// tcpdump's own nanosecond output, when tcpdump is installed.
#[test]
fn tcpdump_nanosecond_pcap() {
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: shared/corpus not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("nano.pcap");
    let input = dir.join("corpus/scenarios.pcap");
    let status = std::process::Command::new("tcpdump")
        .args(["--time-stamp-precision=nano", "-r"])
        .arg(&input)
        .arg("-w")
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("skipped: tcpdump not available");
        return;
    }
    assert_eq!(&std::fs::read(&out).unwrap()[..4], &0xa1b2_3c4du32.to_le_bytes());
    let nano = read_all(&out);
    let micro = read_all(&input);
    assert_same_traffic(&nano, &micro);
}

/// A gzip-compressed capture (as test suites and Wireshark keep them) reads as the capture does, from a
/// file and from a pipe; a multi-member file (two gzip streams end to end, as `cat a.gz b.gz` makes)
/// is read whole.
#[test]
fn a_gzip_compressed_capture_reads_as_the_capture() {
    use std::io::Write;
    let Some(dir) = corpus_dir() else {
        eprintln!("skipped: shared/corpus not found");
        return;
    };
    let bytes = std::fs::read(dir.join("corpus/scenarios.pcap")).unwrap();
    let (half, rest) = bytes.split_at(bytes.len() / 2);
    let mut gz = Vec::new();
    for part in [half, rest] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("scenarios.pcap.gz");
    std::fs::write(&path, &gz).unwrap();
    let plain = drain(
        capture::open(&dir.join("corpus/scenarios.pcap"))
            .unwrap()
            .as_mut(),
    )
    .0;
    let (from_file, err) = drain(capture::open(&path).unwrap().as_mut());
    assert!(err.is_none(), "{}", err.unwrap());
    assert_eq!(from_file.len(), SCENARIOS_FRAMES);
    assert_same_traffic(&from_file, &plain);
    // A FIFO is streamed, never mapped: the other path to the decompressor.
    let fifo = tmp.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, gz).unwrap())
    };
    let (from_pipe, err) = drain(capture::open(&fifo).unwrap().as_mut());
    writer.join().unwrap();
    assert!(err.is_none(), "{}", err.unwrap());
    assert_same_traffic(&from_pipe, &plain);
}
