//! Captures built in code: every format variant, truncation at every byte, damage, and the
//! streaming reader's behavior on pipes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use crate::support::{Ng, Pcap, drain, drain_both, two_sections};
use capture::{CaptureError, FrameSource};
use std::io::{Read, Write};

fn message(err: Option<CaptureError>) -> String {
    match err {
        Some(e) => e.to_string(),
        None => panic!("expected an error"),
    }
}

#[test]
fn pcapng_sections_interfaces_and_block_types() {
    let (ng, expected) = two_sections();
    let (frames, err) = drain_both("two.pcapng", &ng.out);
    assert!(err.is_none(), "{}", message(err));
    let got: Vec<_> = frames
        .iter()
        .map(|f| (f.ts, f.link_type, f.data.clone(), f.orig_len))
        .collect();
    assert_eq!(got, expected);
    // Offsets are those of the packet blocks: blocks 4, 5, 6 (after SHB, 3 IDBs, NRB), ...
    let offsets: Vec<u64> = frames.iter().map(|f| f.offset).collect();
    let s = &ng.starts;
    assert_eq!(
        offsets,
        [s[5], s[6], s[7], s[10], s[11], s[14], s[15]].map(|o| o as u64)
    );
}

#[test]
fn pcap_variants() {
    for big in [false, true] {
        for nanos in [false, true] {
            let mut p = Pcap::new(big, nanos, 65535, 1);
            p.record(1_700_000_000, 999_999, b"abc", 3);
            p.record(1_700_000_001, 5, &[7; 100], 1500);
            let (frames, err) = drain_both("v.pcap", &p.out);
            assert!(err.is_none());
            let scale = if nanos { 1 } else { 1000 };
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[0].ts, 1_700_000_000_000_000_000 + 999_999 * scale);
            assert_eq!(frames[1].ts, 1_700_000_001_000_000_000 + 5 * scale);
            assert_eq!((frames[0].offset, frames[1].offset), (24, 24 + 16 + 3));
            assert_eq!((&frames[1].data[..], frames[1].orig_len), (&[7u8; 100][..], 1500));
        }
    }
}

/// draft-ietf-opsawg-pcap §4: only the low 16 bits of the field are the link type; the upper ones
/// hold FCS information.
#[test]
fn pcap_link_type_ignores_fcs_bits() {
    let mut p = Pcap::new(false, false, 65535, 0x2400_0000 | 1);
    p.record(0, 0, b"x", 1);
    assert_eq!(drain_both("fcs.pcap", &p.out).0[0].link_type, 1);
}

/// Cutting a capture at every byte: the frames wholly before the cut, then an error naming the
/// record or block that was cut (or none, when the cut falls between two).
fn check_every_cut(name: &str, full: &[u8], starts: &[usize]) {
    let (all, err) = drain_both(name, full);
    assert!(err.is_none());
    for cut in 0..full.len() {
        let (frames, err) = drain_both(name, &full[..cut]);
        let cut_in = starts.iter().rev().find(|&&s| s <= cut).copied().unwrap_or(0);
        let whole = |f: &&crate::support::Owned| {
            (f.offset as usize) < cut_in || (starts.contains(&cut) && (f.offset as usize) < cut)
        };
        let expected: Vec<_> = all.iter().filter(whole).cloned().collect();
        assert_eq!(frames, expected, "cut at {cut}");
        match err {
            None => assert!(starts.contains(&cut) && cut > 0, "cut at {cut}: no error"),
            Some(CaptureError::NotCapture { detail, .. }) => assert!(cut < 4, "cut at {cut}: {detail}"),
            Some(CaptureError::Truncated { offset, .. }) => assert_eq!(offset, cut_in as u64, "cut at {cut}"),
            Some(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn truncated_at_every_byte() {
    let mut p = Pcap::new(true, false, 65535, 1);
    for i in 0..5u8 {
        p.record(u32::from(i), 0, &vec![i; usize::from(i) * 7], 100);
    }
    check_every_cut("cut.pcap", &p.out, &p.starts);
    let (ng, _) = two_sections();
    check_every_cut("cut.pcapng", &ng.out, &ng.starts);
}

#[test]
fn truncation_messages() {
    let mut p = Pcap::new(false, false, 65535, 1);
    p.record(0, 0, &[0; 1514], 1514);
    let (frames, err) = drain_both("capture.pcap", &p.out[..24 + 16 + 200]);
    assert!(frames.is_empty());
    assert_eq!(
        message(err),
        "capture.pcap: truncated record at byte 24: header says 1514 bytes, 200 remain"
    );
    let (_, err) = drain_both("capture.pcap", &p.out[..30]);
    assert_eq!(
        message(err),
        "capture.pcap: truncated record header at byte 24: 16 bytes needed, 6 remain"
    );
    let (_, err) = drain_both("capture.pcap", &p.out[..10]);
    assert_eq!(
        message(err),
        "capture.pcap: truncated file header at byte 0: 24 bytes needed, 10 remain"
    );
    let (ng, _) = two_sections();
    let epb = ng.starts[5];
    let (frames, err) = drain_both("<stdin>", &ng.out[..epb + 20]);
    assert!(frames.is_empty());
    assert_eq!(
        message(err),
        format!("<stdin>: truncated enhanced packet block at byte {epb}: header says 60 bytes, 20 remain")
    );
}

#[test]
fn not_a_capture() {
    let (_, err) = drain_both("notes.txt", b"#!/bin/sh\necho hello\n");
    assert_eq!(
        message(err),
        "notes.txt: not a capture file (magic 0x23212f62 at byte 0): expected pcap or pcapng"
    );
    let (_, err) = drain_both("empty", b"");
    assert_eq!(
        message(err),
        "empty: not a capture file (empty input): expected pcap or pcapng"
    );
    let (_, err) = drain_both("tiny", b"\xd4\xc3");
    assert!(matches!(err, Some(CaptureError::NotCapture { .. })));
}

/// Replaces the 32-bit word at `at` (in the section's byte order: little-endian here).
fn patched(bytes: &[u8], at: usize, value: u32) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v[at..at + 4].copy_from_slice(&value.to_le_bytes());
    v
}

fn damaged(name: &str, bytes: &[u8]) -> (usize, u64, String) {
    let (frames, err) = drain_both(name, bytes);
    match err {
        Some(e @ CaptureError::Damaged { offset, .. }) => (frames.len(), offset, e.to_string()),
        other => panic!("expected damage, got {other:?}"),
    }
}

#[test]
fn damaged_pcap() {
    let mut p = Pcap::new(false, false, 1000, 1);
    p.record(0, 0, b"ok", 2);
    p.record(0, 0, b"bad", 3);
    let bad = p.starts[2];
    let (n, offset, msg) = damaged("d.pcap", &patched(&p.out, bad + 8, u32::MAX));
    assert_eq!((n, offset), (1, bad as u64));
    assert_eq!(
        msg,
        format!(
            "d.pcap: damaged record at byte {bad}: captured length 4294967295 exceeds the largest possible (262144)"
        )
    );
}

#[test]
fn damaged_pcapng() {
    let (ng, _) = two_sections();
    let s = &ng.starts;
    let first_epb = s[5];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // A 4 GB block must be refused, not allocated or waited for.
        (
            patched(&ng.out, first_epb + 4, 0xffff_fff0),
            "block total length 4294967280 is not a multiple of 4 between 12 and 16777216",
        ),
        (patched(&ng.out, first_epb + 4, 14), "not a multiple of 4"),
        (patched(&ng.out, first_epb + 4, 8), "not a multiple of 4"),
        (
            patched(&ng.out, s[6] - 4, 40),
            "trailing block total length 40 differs from leading 60",
        ),
        (
            patched(&ng.out, first_epb + 8, 3),
            "packet for interface 3, but this section has described 3 interface(s)",
        ),
        (
            patched(&ng.out, first_epb + 20, 200),
            "captured length 200 exceeds the block's 28 bytes of packet data",
        ),
        (
            patched(&ng.out, s[0] + 8, 0x1234_5678),
            "byte-order magic 0x78563412 is neither",
        ),
        (patched(&ng.out, s[0] + 12, 2), "unsupported pcapng version 2.0"),
        // IDB 0's first option length overruns the block.
        (
            patched(&ng.out, s[2] + 16, 0x0100_0009),
            "option 9 of 256 bytes overruns the block",
        ),
    ];
    for (bytes, detail) in cases {
        let (n, offset, msg) = damaged("d.pcapng", &bytes);
        assert!(msg.contains(detail), "{msg}");
        assert!(msg.starts_with("d.pcapng: damaged "), "{msg}");
        assert!(!msg.contains('\n'));
        assert_eq!(n, 0, "{msg}");
        assert!(offset <= first_epb as u64);
    }
    // The second section has one interface again: interface 1 of the first section is gone.
    let epb2 = s[14];
    let mut big = ng.out.clone();
    big[epb2 + 8..epb2 + 12].copy_from_slice(&1u32.to_be_bytes());
    let (n, offset, msg) = damaged("d.pcapng", &big);
    assert_eq!((n, offset), (5, epb2 as u64));
    assert!(msg.contains("packet for interface 1, but this section has described 1 interface(s)"));
}

#[test]
fn simple_packet_block_needs_interface_zero() {
    let mut ng = Ng::default();
    ng.shb(false).spb(b"x", 1);
    let (_, offset, msg) = damaged("spb.pcapng", &ng.out);
    assert_eq!(offset, ng.starts[1] as u64);
    assert!(msg.contains("simple packet block"), "{msg}");
}

/// A reader of an endless stream of bytes: a source must stop at the first bad length.
#[test]
fn absurd_length_on_a_stream_does_not_hang() {
    let mut ng = Ng::default();
    ng.shb(false);
    let mut head = ng.out.clone();
    head.extend_from_slice(&6u32.to_le_bytes());
    head.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    let endless = std::io::Cursor::new(head).chain(std::io::repeat(0));
    let (frames, err) = drain(&mut capture::from_reader("<stdin>", endless));
    assert!(frames.is_empty());
    assert!(matches!(err, Some(CaptureError::Damaged { .. })));

    let mut p = Pcap::new(false, false, 65535, 1);
    p.u32(0);
    p.u32(0);
    p.u32(1 << 31);
    p.u32(0);
    let endless = std::io::Cursor::new(p.out).chain(std::io::repeat(0));
    let (_, err) = drain(&mut capture::from_reader("<stdin>", endless));
    assert!(matches!(err, Some(CaptureError::Damaged { offset: 24, .. })));
}

/// Generates a valid pcap of `records` 1514-byte records on the fly, recording the largest read.
struct Generated {
    header: Vec<u8>,
    record: Vec<u8>,
    records: usize,
    pos: usize,
    max_request: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.max_request.set(self.max_request.get().max(buf.len()));
        let total = self.header.len() + self.records * self.record.len();
        let mut n = 0;
        while n < buf.len() && self.pos < total {
            let (src, at) = if self.pos < self.header.len() {
                (&self.header, self.pos)
            } else {
                (&self.record, (self.pos - self.header.len()) % self.record.len())
            };
            let k = (src.len() - at).min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&src[at..at + k]);
            n += k;
            self.pos += k;
        }
        Ok(n)
    }
}

/// Memory must not grow with the input: 100 MB through the streaming reader never offers a read
/// buffer larger than its fixed chunk.
#[test]
fn stream_buffer_stays_bounded() {
    let mut p = Pcap::new(false, false, 65535, 1);
    p.record(1, 2, &[0xab; 1514], 1514);
    let (header, record) = (p.out[..24].to_vec(), p.out[24..].to_vec());
    let records = 100_000_000 / record.len();
    let max_request = std::rc::Rc::new(std::cell::Cell::new(0));
    let generated = Generated {
        header,
        record,
        records,
        pos: 0,
        max_request: max_request.clone(),
    };
    let mut src = capture::from_reader("<stdin>", generated);
    let mut n = 0;
    while let Some(f) = src.next_frame().unwrap() {
        assert_eq!(f.data.len(), 1514);
        n += 1;
    }
    assert_eq!(n, records);
    assert_eq!(src.bytes_read(), 24 + records as u64 * 1530);
    assert!(
        max_request.get() <= 256 * 1024,
        "read buffer grew to {}",
        max_request.get()
    );
}

/// Frames come out of a pipe as soon as they are complete: the writer waits for the reader to see
/// the first frame before writing more, which would deadlock if the reader waited for a full buffer.
#[test]
fn live_pipe_yields_frames_as_they_arrive() {
    let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let mut p = Pcap::new(false, true, 65535, 1);
        p.record(1, 1, b"first", 5);
        tx.write_all(&p.out).unwrap();
        let waited = seen_rx.recv_timeout(std::time::Duration::from_secs(20)).is_ok();
        let mut more = Pcap::new(false, true, 65535, 1);
        more.record(2, 2, b"second", 6);
        tx.write_all(&more.out[24..]).unwrap();
        waited
    });
    let mut src = capture::from_reader("<stdin>", rx);
    assert_eq!(src.next_frame().unwrap().unwrap().data, b"first");
    seen_tx.send(()).unwrap();
    assert_eq!(src.next_frame().unwrap().unwrap().data, b"second");
    assert!(src.next_frame().unwrap().is_none());
    assert!(
        writer.join().unwrap(),
        "the reader waited for more than one frame"
    );
}

#[test]
fn open_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Pcap::new(false, false, 65535, 1);
    p.record(1, 0, b"hello", 5);
    let path = dir.path().join("a.pcap");
    std::fs::write(&path, &p.out).unwrap();
    let mut src = capture::open(&path).unwrap();
    assert_eq!(src.total_bytes(), Some(p.out.len() as u64));
    assert_eq!(src.next_frame().unwrap().unwrap().data, b"hello");
    assert!(src.next_frame().unwrap().is_none());
    assert_eq!(src.bytes_read(), p.out.len() as u64);

    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let err = capture::open(&empty).unwrap().next_frame().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: not a capture file (empty input): expected pcap or pcapng",
            empty.display()
        )
    );

    let missing = dir.path().join("missing.pcap");
    let err = capture::open(&missing).err().unwrap();
    assert!(matches!(err, CaptureError::Open { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot open: ", missing.display())),
        "{err}"
    );
    assert!(matches!(
        capture::open(dir.path()).err().unwrap(),
        CaptureError::Open { .. }
    ));
}

/// A FIFO (as from `<(tcpdump -w - ...)`) is streamed, not mapped.
#[test]
fn open_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(made, Ok(s) if s.success()) {
        eprintln!("skipped: mkfifo not available");
        return;
    }
    let (ng, expected) = two_sections();
    let path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(path, &ng.out).unwrap());
    let mut src = capture::open(&fifo).unwrap();
    assert_eq!(src.total_bytes(), None);
    let (frames, err) = drain(src.as_mut());
    writer.join().unwrap();
    assert!(err.is_none());
    assert_eq!(frames.len(), expected.len());
}

#[test]
fn large_blocks_stream_through() {
    let mut ng = Ng::default();
    ng.shb(false).idb(1, 0, &[]);
    ng.block(0x0000_0BAD, &vec![1; 3 << 20]); // 3 MiB custom block, larger than the stream chunk
    ng.epb(0, 1, &vec![2; 1 << 20], 1 << 20);
    let (frames, err) = drain(&mut capture::from_reader("big", std::io::Cursor::new(&ng.out)));
    assert!(err.is_none());
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data.len(), 1 << 20);
}

#[test]
fn error_offsets() {
    let (_, err) = drain_both("x", b"garbage!");
    assert_eq!(err.unwrap().offset(), Some(0));
}

/// Regression (a 4 GB sparse pcap read as 268 million empty frames at 1970): a record header of 16
/// zero bytes is a zero-filled region, named as damage at its first byte; a zero-length frame with a
/// time or a length on the wire is still a frame.
#[test]
fn zero_filled_region_is_damage_not_empty_frames() {
    let mut p = Pcap::new(false, false, 65535, 1);
    p.record(1, 0, b"ok", 2);
    p.record(2, 0, b"", 60);
    p.record(0, 0, b"", 0);
    p.record(3, 0, b"never read", 10);
    let hole = p.starts[3];
    let (n, offset, msg) = damaged("sparse.pcap", &p.out);
    assert_eq!((n, offset), (2, hole as u64));
    assert!(msg.contains("all zeros"), "{msg}");

    let mut ng = Ng::default();
    ng.shb(false).idb(1, 0, &[]).epb(0, 5, b"ok", 2);
    let hole = ng.out.len();
    ng.out.extend_from_slice(&[0; 64]);
    let (n, offset, msg) = damaged("sparse.pcapng", &ng.out);
    assert_eq!((n, offset), (1, hole as u64));
    assert!(
        msg.contains("damaged block at byte") && msg.contains("all zeros"),
        "{msg}"
    );
}
