//! The bad-input set: damaged captures built at test time from the corpus (`scenarios.pcap` and
//! `scenarios.pcapng`), each run through the real binary with a time limit.
//!
//! For every file, `tcpdoctor analyze --json FILE` either exits 0 with the right connections, or exits 2
//! with exactly one stderr line naming the file and the byte offset of the damage (or saying it is not a
//! capture file) and, on stdout, exactly the connections that the undamaged part before that offset
//! gives. Never a panic, a signal, a hang, or a large resident set.

use super::generate::{Run, run_bounded, write_file};
use super::shared;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Longest a run on a damaged copy of a 2 MB capture may take before it counts as a hang.
const LIMIT: Duration = Duration::from_secs(30);
/// Peak resident set allowed for any run here: the binary, a 2 MB map, and a few hundred connections.
const MAX_RSS_KIB: u64 = 100 * 1024;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(shared().join("corpus").join(name)).unwrap()
}

/// One structural unit of a capture: a file header, record or block, at `off`, `len` bytes long.
#[derive(Clone, Copy, Debug)]
struct Unit {
    off: usize,
    len: usize,
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The file header and every record of a little-endian pcap.
fn pcap_units(b: &[u8]) -> Vec<Unit> {
    let mut units = vec![Unit { off: 0, len: 24 }];
    let mut off = 24;
    while off < b.len() {
        let len = 16 + u32le(b, off + 8) as usize;
        units.push(Unit { off, len });
        off += len;
    }
    assert_eq!(off, b.len());
    units
}

/// Every block of a little-endian pcapng.
fn pcapng_units(b: &[u8]) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut off = 0;
    while off < b.len() {
        let len = u32le(b, off + 4) as usize;
        units.push(Unit { off, len });
        off += len;
    }
    assert_eq!(off, b.len());
    units
}

/// Indexes of the units to cut: the first few and last few, and a sample in between.
fn sample(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n.min(5)).collect();
    v.extend((5..n.saturating_sub(3)).step_by(61));
    v.extend(n.saturating_sub(3)..n);
    v.sort_unstable();
    v.dedup();
    v
}

/// What a run must give.
enum Expect {
    /// Exit 0, and the same stdout as the undamaged capture `reference`.
    Good { reference: Vec<u8> },
    /// Exit 0, and every connection's duration non-negative (the exact connections are not fixed).
    Sane,
    /// Exit 2, one stderr line naming the file and `at byte OFFSET` with `needle` in it, and on stdout
    /// what the undamaged `good_prefix` (which may be no capture at all: then nothing) gives.
    Damage {
        good_prefix: Vec<u8>,
        offset: u64,
        needle: &'static str,
    },
    /// Exit 2, one stderr line naming the file and saying it is not a capture file; nothing on stdout.
    NotCapture,
}

/// Runs the cases and keeps the outputs of the undamaged references.
struct Checker {
    dir: tempfile::TempDir,
    references: HashMap<Vec<u8>, Vec<u8>>,
    checked: usize,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            dir: tempfile::tempdir().unwrap(),
            references: HashMap::new(),
            checked: 0,
        }
    }

    fn analyze(&self, name: &str, bytes: &[u8]) -> (String, Run) {
        let path = write_file(self.dir.path(), name, bytes);
        let run = run_bounded(&["analyze", "--json", &path], None, LIMIT);
        run.assert_no_crash(name);
        assert!(
            run.max_rss_kib < MAX_RSS_KIB,
            "{name}: peak RSS {} KiB",
            run.max_rss_kib
        );
        (path, run)
    }

    /// The stdout of an undamaged capture (cached); for a prefix too short to be a capture, nothing.
    fn reference(&mut self, bytes: &[u8], short: usize) -> Vec<u8> {
        if bytes.len() < short {
            return Vec::new();
        }
        if let Some(out) = self.references.get(bytes) {
            return out.clone();
        }
        let (_, run) = self.analyze("reference.cap", bytes);
        assert_eq!(run.code, Some(0), "reference: {}", run.stderr);
        self.references.insert(bytes.to_vec(), run.stdout.clone());
        run.stdout
    }

    fn check(&mut self, name: &str, bytes: &[u8], expect: Expect) {
        let (path, run) = self.analyze(name, bytes);
        let lines: Vec<&str> = run.stderr.lines().collect();
        match expect {
            Expect::Good { reference } => {
                assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
                assert!(
                    run.stdout == reference,
                    "{name}: connections differ from the reference"
                );
            }
            Expect::Sane => {
                assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
                let conns = json(&run.stdout);
                assert!(!conns.is_empty(), "{name}: no connections");
                for c in conns {
                    let (start, end, d) = (
                        c["start"].as_f64().unwrap(),
                        c["end"].as_f64().unwrap(),
                        c["duration"].as_f64().unwrap(),
                    );
                    assert!(d >= 0.0 && end >= start, "{name}: {c}");
                    if let Some(rtt) = c["handshake_rtt"].as_f64() {
                        assert!(rtt >= 0.0, "{name}: {c}");
                    }
                }
            }
            Expect::Damage {
                good_prefix,
                offset,
                needle,
            } => {
                assert_eq!(run.code, Some(2), "{name}: {}", run.stderr);
                assert_eq!(lines.len(), 1, "{name}: {}", run.stderr);
                let prefix = format!("tcpdoctor: {path}: ");
                assert!(lines[0].starts_with(&prefix), "{name}: {}", lines[0]);
                assert!(
                    lines[0].contains(&format!(" at byte {offset}: ")) && lines[0].contains(needle),
                    "{name}: expected {needle:?} at byte {offset}: {}",
                    lines[0]
                );
                let reference = self.reference(&good_prefix, 24);
                assert!(
                    run.stdout == reference,
                    "{name}: the connections before byte {offset} differ from those of the undamaged part"
                );
            }
            Expect::NotCapture => {
                assert_eq!(run.code, Some(2), "{name}: {}", run.stderr);
                assert_eq!(lines.len(), 1, "{name}: {}", run.stderr);
                assert!(
                    lines[0].starts_with(&format!("tcpdoctor: {path}: not a capture file")),
                    "{name}: {}",
                    lines[0]
                );
                assert!(run.stdout.is_empty(), "{name}");
            }
        }
        self.checked += 1;
    }
}

fn json(out: &[u8]) -> Vec<Value> {
    std::str::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A pcap record or EPB carrying a non-IP Ethernet frame (local experimental EtherType 0x88b5) of
/// `len` bytes: counted as a frame, never a segment, so the connections stay those of the original.
fn ether_junk(len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..12].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    if len >= 14 {
        f[12..14].copy_from_slice(&[0x88, 0xb5]);
    }
    f
}

fn pcap_record(ts_sec: u32, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut r = Vec::new();
    for v in [ts_sec, 0, data.len() as u32, orig_len] {
        r.extend_from_slice(&v.to_le_bytes());
    }
    r.extend_from_slice(data);
    r
}

fn epb(iface: u32, ts_micros: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let padded = data.len().next_multiple_of(4);
    let total = (32 + padded) as u32;
    let mut b = Vec::new();
    for v in [
        6,
        total,
        iface,
        (ts_micros >> 32) as u32,
        ts_micros as u32,
        data.len() as u32,
        orig_len,
    ] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(data);
    b.resize(b.len() + padded - data.len(), 0);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

fn splice(b: &[u8], at: usize, insert: &[u8]) -> Vec<u8> {
    let mut v = b[..at].to_vec();
    v.extend_from_slice(insert);
    v.extend_from_slice(&b[at..]);
    v
}

#[test]
fn damaged_pcap_files_give_the_connections_before_the_damage_and_one_error_line() {
    let b = corpus("scenarios.pcap");
    assert_eq!(
        u32le(&b, 0),
        0xa1b2_c3d4,
        "the corpus pcap is little-endian, microseconds"
    );
    let units = pcap_units(&b);
    let records = &units[1..];
    let mut c = Checker::new();
    let whole = c.reference(&b, 0);
    c.check(
        "whole.pcap",
        &b,
        Expect::Good {
            reference: whole.clone(),
        },
    );

    // Truncated in the file header.
    c.check("empty.pcap", &[], Expect::NotCapture);
    for cut in [1, 3] {
        c.check(&format!("hdr-{cut}.pcap"), &b[..cut], Expect::NotCapture);
    }
    for cut in [4, 12, 23] {
        let expect = Expect::Damage {
            good_prefix: Vec::new(),
            offset: 0,
            needle: "truncated file header",
        };
        c.check(&format!("hdr-{cut}.pcap"), &b[..cut], expect);
    }
    let empty = c.reference(&b[..24], 0);
    assert!(empty.is_empty());
    c.check("hdr-only.pcap", &b[..24], Expect::Good { reference: empty });

    // Truncated at and inside every part of a sample of records.
    for k in sample(records.len()) {
        let Unit { off, len } = records[k];
        let at_record = c.reference(&b[..off], 0);
        c.check(
            &format!("cut-{k}-at-start.pcap"),
            &b[..off],
            Expect::Good { reference: at_record },
        );
        for (inside, needle) in [
            (1, "truncated record header"),
            (8, "truncated record header"),
            (15, "truncated record header"),
            (16, "truncated record at"),
            (16 + (len - 16) / 2, "truncated record at"),
            (len - 1, "truncated record at"),
        ] {
            let expect = Expect::Damage {
                good_prefix: b[..off].to_vec(),
                offset: off as u64,
                needle,
            };
            c.check(&format!("cut-{k}+{inside}.pcap"), &b[..off + inside], expect);
        }
    }

    // Wrong magic.
    for magic in [*b"GIF8", [0xa1, 0xb2, 0xc3, 0xd5], [0; 4]] {
        let mut v = b.clone();
        v[..4].copy_from_slice(&magic);
        c.check("magic.pcap", &v, Expect::NotCapture);
    }

    // Absurd snaplens in the file header: records are judged by their own lengths.
    for snaplen in [0, 1, u32::MAX] {
        let mut v = b.clone();
        put32(&mut v, 16, snaplen);
        c.check(
            &format!("snaplen-{snaplen}.pcap"),
            &v,
            Expect::Good {
                reference: whole.clone(),
            },
        );
    }

    // Absurd record lengths.
    for k in [0, records.len() / 2, records.len() - 1] {
        let off = records[k].off;
        for caplen in [0xffff_fff0, u32::MAX, 16 << 20, 262_145] {
            let mut v = b.clone();
            put32(&mut v, off + 8, caplen);
            let expect = Expect::Damage {
                good_prefix: b[..off].to_vec(),
                offset: off as u64,
                needle: "damaged record",
            };
            c.check(&format!("caplen-{k}-{caplen}.pcap"), &v, expect);
        }
    }

    // Zero-length frames (a frame of 0 captured bytes, 60 on the wire) and a frame of 300 KiB (under a
    // file snaplen of 1 MiB), between the records: counted as frames, the connections unchanged.
    let mid = records[records.len() / 2].off;
    let zero = splice(&b, mid, &pcap_record(u32le(&b, mid), &[], 60));
    c.check(
        "zero-length.pcap",
        &zero,
        Expect::Good {
            reference: whole.clone(),
        },
    );
    let mut huge = splice(
        &b,
        mid,
        &pcap_record(u32le(&b, mid), &ether_junk(300 << 10), 300 << 10),
    );
    put32(&mut huge, 16, 1 << 20);
    c.check(
        "huge-frame.pcap",
        &huge,
        Expect::Good {
            reference: whole.clone(),
        },
    );

    // Timestamps going backwards: every record's time reversed, and one jump back by an hour.
    let mut reversed = b.clone();
    for (r, src) in records.iter().zip(records.iter().rev()) {
        reversed[r.off..r.off + 8].copy_from_slice(&b[src.off..src.off + 8]);
    }
    c.check("reversed-time.pcap", &reversed, Expect::Sane);
    let mut jump = b.clone();
    let at = records[records.len() / 3].off;
    put32(&mut jump, at, u32le(&b, at) - 3600);
    c.check("time-jump.pcap", &jump, Expect::Sane);

    println!("{} damaged pcap files checked", c.checked);
}

#[test]
fn damaged_pcapng_files_give_the_connections_before_the_damage_and_one_error_line() {
    let b = corpus("scenarios.pcapng");
    let units = pcapng_units(&b);
    let (shb, idb) = (units[0], units[1]);
    assert_eq!((shb.len, u32le(&b, idb.off)), (108, 1), "SHB then IDB");
    let epbs = &units[2..];
    let mut c = Checker::new();
    let whole = c.reference(&b, 0);
    c.check(
        "whole.pcapng",
        &b,
        Expect::Good {
            reference: whole.clone(),
        },
    );

    // Truncated inside the section header and the interface description.
    for cut in [1, 3] {
        c.check(&format!("shb-{cut}.pcapng"), &b[..cut], Expect::NotCapture);
    }
    for (cut, needle) in [
        (4, "truncated block header"),
        (11, "truncated block header"),
        (12, "truncated section header block"),
        (107, "truncated section header block"),
        (shb.len + 1, "truncated block header"),
        (shb.len + 12, "truncated interface description block"),
        (idb.off + idb.len - 1, "truncated interface description block"),
    ] {
        let good_off = if cut > shb.len { shb.len } else { 0 };
        let expect = Expect::Damage {
            good_prefix: b[..good_off].to_vec(),
            offset: good_off as u64,
            needle,
        };
        c.check(&format!("head-{cut}.pcapng"), &b[..cut], expect);
    }
    for cut in [shb.len, idb.off + idb.len] {
        c.check(
            &format!("head-{cut}.pcapng"),
            &b[..cut],
            Expect::Good {
                reference: Vec::new(),
            },
        );
    }

    // Truncated at and inside every part of a sample of packet blocks.
    for k in sample(epbs.len()) {
        let Unit { off, len } = epbs[k];
        let at_block = c.reference(&b[..off], 0);
        c.check(
            &format!("cut-{k}-at-start.pcapng"),
            &b[..off],
            Expect::Good { reference: at_block },
        );
        for (inside, needle) in [
            (1, "truncated block header"),
            (7, "truncated block header"),
            (12, "truncated enhanced packet block"),
            (28, "truncated enhanced packet block"),
            (len / 2, "truncated enhanced packet block"),
            (len - 4, "truncated enhanced packet block"),
            (len - 1, "truncated enhanced packet block"),
        ] {
            let expect = Expect::Damage {
                good_prefix: b[..off].to_vec(),
                offset: off as u64,
                needle,
            };
            c.check(&format!("cut-{k}+{inside}.pcapng"), &b[..off + inside], expect);
        }
    }

    // Block lengths that overflow, are too small, odd, or disagree with the trailing copy.
    for k in [0, epbs.len() / 2, epbs.len() - 1] {
        let Unit { off, len } = epbs[k];
        for total in [
            0xffff_fff0,
            0xffff_fffc,
            u32::MAX,
            0x8000_0000,
            (16 << 20) + 4,
            0,
            4,
            8,
            13,
            len as u32 + 2,
        ] {
            let mut v = b.clone();
            put32(&mut v, off + 4, total);
            let expect = Expect::Damage {
                good_prefix: b[..off].to_vec(),
                offset: off as u64,
                needle: "damaged enhanced packet block",
            };
            c.check(&format!("len-{k}-{total}.pcapng"), &v, expect);
        }
        let mut v = b.clone();
        put32(&mut v, off + len - 4, len as u32 + 4);
        let expect = Expect::Damage {
            good_prefix: b[..off].to_vec(),
            offset: off as u64,
            needle: "trailing block total length",
        };
        c.check(&format!("trailer-{k}.pcapng"), &v, expect);
        // A captured length larger than the block.
        let mut v = b.clone();
        put32(&mut v, off + 20, 0xffff_ff00);
        let expect = Expect::Damage {
            good_prefix: b[..off].to_vec(),
            offset: off as u64,
            needle: "captured length",
        };
        c.check(&format!("caplen-{k}.pcapng"), &v, expect);
    }
    // The last block's length pointing past the end of the file (within the largest block).
    let last = epbs[epbs.len() - 1];
    let mut v = b.clone();
    put32(&mut v, last.off + 4, last.len as u32 + 4096);
    let expect = Expect::Damage {
        good_prefix: b[..last.off].to_vec(),
        offset: last.off as u64,
        needle: "truncated enhanced packet block",
    };
    c.check("len-past-end.pcapng", &v, expect);
    for total in [0xffff_fff0, 0, 24] {
        let mut v = b.clone();
        put32(&mut v, 4, total);
        let expect = Expect::Damage {
            good_prefix: Vec::new(),
            offset: 0,
            needle: "damaged section header block",
        };
        c.check(&format!("shb-len-{total}.pcapng"), &v, expect);
    }

    // Wrong magic, byte-order magic and version.
    let mut v = b.clone();
    v[..4].copy_from_slice(b"\x0a\x0d\x0d\x0b");
    c.check("magic.pcapng", &v, Expect::NotCapture);
    let mut v = b.clone();
    put32(&mut v, 8, 0x1a2b_3c4e);
    let expect = Expect::Damage {
        good_prefix: Vec::new(),
        offset: 0,
        needle: "byte-order magic",
    };
    c.check("bom.pcapng", &v, expect);
    let mut v = b.clone();
    v[12..14].copy_from_slice(&2u16.to_le_bytes());
    let expect = Expect::Damage {
        good_prefix: Vec::new(),
        offset: 0,
        needle: "unsupported pcapng version 2.",
    };
    c.check("version.pcapng", &v, expect);

    // Interfaces referenced before they are described.
    let first = epbs[0];
    let mut v = b[..shb.len].to_vec();
    v.extend_from_slice(&b[first.off..first.off + first.len]);
    v.extend_from_slice(&b[idb.off..idb.off + idb.len]);
    v.extend_from_slice(&b[first.off + first.len..]);
    let expect = Expect::Damage {
        good_prefix: b[..shb.len].to_vec(),
        offset: shb.len as u64,
        needle: "packet for interface 0, but this section has described 0 interface(s)",
    };
    c.check("epb-before-idb.pcapng", &v, expect);
    let k = epbs.len() / 2;
    let mut v = b.clone();
    put32(&mut v, epbs[k].off + 8, 3);
    let expect = Expect::Damage {
        good_prefix: b[..epbs[k].off].to_vec(),
        offset: epbs[k].off as u64,
        needle: "packet for interface 3",
    };
    c.check("epb-interface-3.pcapng", &v, expect);
    // A new section forgets the interfaces of the previous one.
    let v = splice(&b, epbs[k].off, &b[..shb.len]);
    let expect = Expect::Damage {
        good_prefix: b[..epbs[k].off].to_vec(),
        offset: (epbs[k].off + shb.len) as u64,
        needle: "packet for interface 0, but this section has described 0 interface(s)",
    };
    c.check("second-section.pcapng", &v, expect);
    // A simple packet block (always interface 0) before any interface.
    let mut spb = Vec::new();
    for w in [3u32, 20, 4, 0, 20] {
        spb.extend_from_slice(&w.to_le_bytes());
    }
    let v = splice(&b, shb.len, &spb);
    let expect = Expect::Damage {
        good_prefix: b[..shb.len].to_vec(),
        offset: shb.len as u64,
        needle: "simple packet block",
    };
    c.check("spb-before-idb.pcapng", &v, expect);
    // An interface option whose length overruns the block.
    let mut bad_idb = Vec::new();
    for w in [1u32, 28, 1, 262_144] {
        bad_idb.extend_from_slice(&w.to_le_bytes());
    }
    bad_idb.extend_from_slice(&9u16.to_le_bytes());
    bad_idb.extend_from_slice(&0xffffu16.to_le_bytes());
    bad_idb.extend_from_slice(&[6, 0, 0, 0]);
    bad_idb.extend_from_slice(&28u32.to_le_bytes());
    let v = splice(&b, idb.off, &bad_idb);
    let expect = Expect::Damage {
        good_prefix: b[..shb.len].to_vec(),
        offset: shb.len as u64,
        needle: "overruns the block",
    };
    c.check("idb-option.pcapng", &v, expect);

    // Zero-length and 300 KiB frames between the blocks.
    let mid = epbs[epbs.len() / 2].off;
    let ts = (u64::from(u32le(&b, mid + 12)) << 32) | u64::from(u32le(&b, mid + 16));
    let zero = splice(&b, mid, &epb(0, ts, &[], 60));
    c.check(
        "zero-length.pcapng",
        &zero,
        Expect::Good {
            reference: whole.clone(),
        },
    );
    let huge = splice(&b, mid, &epb(0, ts, &ether_junk(300 << 10), 300 << 10));
    c.check(
        "huge-frame.pcapng",
        &huge,
        Expect::Good {
            reference: whole.clone(),
        },
    );

    // Timestamps going backwards.
    let mut reversed = b.clone();
    for (e, src) in epbs.iter().zip(epbs.iter().rev()) {
        reversed[e.off + 12..e.off + 20].copy_from_slice(&b[src.off + 12..src.off + 20]);
    }
    c.check("reversed-time.pcapng", &reversed, Expect::Sane);

    println!("{} damaged pcapng files checked", c.checked);
}

/// The same damage read from a pipe gives the same connections and the same message, naming `<stdin>`.
#[test]
fn damaged_input_on_stdin_gives_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    for (name, cut) in [("scenarios.pcap", 900_001), ("scenarios.pcapng", 1_000_003)] {
        let b = corpus(name);
        let path = write_file(dir.path(), name, &b[..cut]);
        let from_file = run_bounded(&["analyze", "--json", &path], None, LIMIT);
        let from_pipe = run_bounded(&["analyze", "--json", "-"], Some(Path::new(&path)), LIMIT);
        for r in [&from_file, &from_pipe] {
            r.assert_no_crash(name);
            assert_eq!(r.code, Some(2), "{name}: {}", r.stderr);
        }
        assert!(from_file.stdout == from_pipe.stdout, "{name}");
        assert_eq!(
            from_file.stderr.replace(&path, "<stdin>"),
            from_pipe.stderr,
            "{name}"
        );
    }
}

/// Writes a valid header and the first records of `name`, then extends the file to 4 GiB with a
/// hole; returns the path and the length of the valid part.
fn sparse_copy(dir: &Path, name: &str, units: fn(&[u8]) -> Vec<Unit>, keep: usize) -> (String, usize) {
    let b = corpus(name);
    let u = units(&b);
    let valid = u[keep].off;
    let path = write_file(dir, &format!("sparse-{name}"), &b[..valid]);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(4 << 30).unwrap();
    (path, valid)
}

/// A 4 GiB file that is a few records and then a hole (zeros, as a preallocated or crashed capture
/// leaves): the records are reported, the zeros are named as damage at the first zero byte, quickly
/// and without mapping the hole into memory.
#[test]
fn a_4_gib_sparse_capture_ends_with_a_clear_error_quickly() {
    let dir = tempfile::tempdir().unwrap();
    for (name, units, keep) in [
        ("scenarios.pcap", pcap_units as fn(&[u8]) -> Vec<Unit>, 41),
        ("scenarios.pcapng", pcapng_units, 42),
    ] {
        let (path, valid) = sparse_copy(dir.path(), name, units, keep);
        let used = std::fs::metadata(&path).unwrap();
        assert_eq!(used.len(), 4 << 30);
        let reference_path = write_file(dir.path(), &format!("valid-{name}"), &corpus(name)[..valid]);
        let reference = run_bounded(&["analyze", "--json", &reference_path], None, LIMIT);
        let run = run_bounded(&["analyze", "--json", &path], None, Duration::from_secs(60));
        run.assert_no_crash(name);
        println!(
            "{name}: 4 GiB sparse: exit {:?} in {:?}, peak RSS {} KiB: {}",
            run.code,
            run.elapsed,
            run.max_rss_kib,
            run.stderr.trim_end()
        );
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("{path}: damaged "))
                && run.stderr.contains(&format!(" at byte {valid}: "))
                && run.stderr.contains("all zeros: a zero-filled region"),
            "{}",
            run.stderr
        );
        assert!(
            run.stdout == reference.stdout,
            "{name}: connections before the hole"
        );
        assert!(!run.stdout.is_empty());
        assert!(
            run.elapsed < Duration::from_secs(10),
            "{name}: took {:?}",
            run.elapsed
        );
        assert!(
            run.max_rss_kib < 64 * 1024,
            "{name}: peak RSS {} KiB",
            run.max_rss_kib
        );
    }
}
