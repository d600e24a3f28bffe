//! Writers for synthetic captures and helpers to drain sources, shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // each test binary uses a different part

use capture::{CaptureError, FrameSource};
use std::io::Read;
use std::path::PathBuf;

/// A frame copied out of its source, to compare sources frame by frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub ts: u64,
    pub link_type: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub offset: u64,
}

/// Every frame of `src`, then the error it stopped on; checks that an error comes once and then None.
pub fn drain(src: &mut dyn FrameSource) -> (Vec<Owned>, Option<CaptureError>) {
    let mut frames = Vec::new();
    loop {
        match src.next_frame() {
            Ok(Some(f)) => frames.push(Owned {
                ts: f.ts,
                link_type: f.link_type,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
                offset: f.offset,
            }),
            Ok(None) => return (frames, None),
            Err(e) => {
                assert!(
                    matches!(src.next_frame(), Ok(None)),
                    "error must be returned once, then None"
                );
                assert!(matches!(src.next_frame(), Ok(None)));
                return (frames, Some(e));
            }
        }
    }
}

/// Same, through both the in-memory path and the streaming path (read in awkward small pieces),
/// asserting that both give the same frames and the same error message.
pub fn drain_both(name: &str, bytes: &[u8]) -> (Vec<Owned>, Option<CaptureError>) {
    let (frames, err) = drain(&mut capture::from_bytes(name, bytes));
    let (sframes, serr) = drain(&mut capture::from_reader(name, Dribble::new(bytes)));
    assert_eq!(frames, sframes, "slice and stream frames differ");
    assert_eq!(
        err.as_ref().map(ToString::to_string),
        serr.as_ref().map(ToString::to_string),
        "slice and stream errors differ"
    );
    (frames, err)
}

/// A reader that returns at most a few bytes per call (sizes cycling 1..=13), to exercise every
/// record boundary of the streaming reader's refills.
pub struct Dribble<'a> {
    data: &'a [u8],
    pos: usize,
    n: usize,
    /// Largest buffer the caller offered to `read`.
    pub max_request: usize,
}

impl<'a> Dribble<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Dribble {
            data,
            pos: 0,
            n: 0,
            max_request: 0,
        }
    }
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.max_request = self.max_request.max(buf.len());
        self.n = self.n % 13 + 1;
        let k = self.n.min(buf.len()).min(self.data.len() - self.pos);
        buf[..k].copy_from_slice(&self.data[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// The shared corpus directory (`shared/corpus` beside the repository), if present.
pub fn corpus_dir() -> Option<PathBuf> {
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    [beside, PathBuf::from("/work/shared")]
        .into_iter()
        .find(|p| p.join("corpus/mix.pcap").is_file())
}

/// A classic pcap file, written in either byte order.
pub struct Pcap {
    pub big: bool,
    pub out: Vec<u8>,
    /// Offset of the file header and of each record.
    pub starts: Vec<usize>,
}

impl Pcap {
    pub fn new(big: bool, nanos: bool, snaplen: u32, link_type_field: u32) -> Self {
        let mut p = Pcap {
            big,
            out: Vec::new(),
            starts: vec![0],
        };
        p.u32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        p.u16(2);
        p.u16(4);
        p.u32(0);
        p.u32(0);
        p.u32(snaplen);
        p.u32(link_type_field);
        p
    }
    pub fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }
    pub fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }
    pub fn record(&mut self, secs: u32, frac: u32, data: &[u8], orig_len: u32) -> &mut Self {
        self.starts.push(self.out.len());
        self.u32(secs);
        self.u32(frac);
        self.u32(data.len() as u32);
        self.u32(orig_len);
        self.out.extend_from_slice(data);
        self
    }
}

/// A pcapng file; each block is written in the byte order of the latest `shb`.
#[derive(Default)]
pub struct Ng {
    pub big: bool,
    pub out: Vec<u8>,
    /// Offset of each block.
    pub starts: Vec<usize>,
}

pub const IF_TSRESOL: u16 = 9;
pub const IF_TSOFFSET: u16 = 14;

impl Ng {
    fn b16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn b32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    /// A block of `block_type` around `body` (padded to 32 bits).
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().next_multiple_of(4);
        let len = (12 + padded) as u32;
        self.starts.push(self.out.len());
        self.out.extend_from_slice(&self.b32(block_type));
        self.out.extend_from_slice(&self.b32(len));
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + padded - body.len(), 0);
        self.out.extend_from_slice(&self.b32(len));
        self
    }
    /// Options list (§3.5) ending with opt_endofopt.
    pub fn options(&self, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        for (code, value) in opts {
            v.extend_from_slice(&self.b16(*code));
            v.extend_from_slice(&self.b16(value.len() as u16));
            v.extend_from_slice(value);
            v.resize(v.len().next_multiple_of(4), 0);
        }
        if !opts.is_empty() {
            v.extend_from_slice(&[0; 4]);
        }
        v
    }
    pub fn shb(&mut self, big: bool) -> &mut Self {
        self.big = big;
        let mut body = Vec::new();
        body.extend_from_slice(&self.b32(0x1a2b_3c4d));
        body.extend_from_slice(&self.b16(1));
        body.extend_from_slice(&self.b16(0));
        body.extend_from_slice(&[0xff; 8]);
        let opts = self.options(&[(4, b"test writer")]);
        body.extend_from_slice(&opts);
        self.block(0x0a0d_0d0a, &body)
    }
    pub fn idb(&mut self, link_type: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.b16(link_type));
        body.extend_from_slice(&[0; 2]);
        body.extend_from_slice(&self.b32(snaplen));
        body.extend_from_slice(&self.options(opts));
        self.block(1, &body)
    }
    pub fn epb(&mut self, iface: u32, units: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.b32(iface));
        body.extend_from_slice(&self.b32((units >> 32) as u32));
        body.extend_from_slice(&self.b32(units as u32));
        body.extend_from_slice(&self.b32(data.len() as u32));
        body.extend_from_slice(&self.b32(orig_len));
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        body.extend_from_slice(&self.options(&[(1, b"a comment")]));
        self.block(6, &body)
    }
    /// Obsolete Packet Block (Appendix A).
    pub fn pb(&mut self, iface: u16, units: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.b16(iface));
        body.extend_from_slice(&self.b16(0));
        body.extend_from_slice(&self.b32((units >> 32) as u32));
        body.extend_from_slice(&self.b32(units as u32));
        body.extend_from_slice(&self.b32(data.len() as u32));
        body.extend_from_slice(&self.b32(orig_len));
        body.extend_from_slice(data);
        self.block(2, &body)
    }
    pub fn spb(&mut self, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.b32(orig_len));
        body.extend_from_slice(data);
        self.block(3, &body)
    }
}

/// A frame's timestamp, link type, data and original length.
pub type Expected = (u64, u32, Vec<u8>, u32);

pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_IPV4: u32 = 228;

/// A two-section pcapng (little-endian, then big-endian) with three interfaces of different link
/// types and clocks, every packet block type, and blocks to skip; and the frames it must give
/// (offsets left 0: filled by the caller from `starts` if needed).
pub fn two_sections() -> (Ng, Vec<Expected>) {
    let mut ng = Ng::default();
    ng.shb(false);
    ng.idb(1, 0, &[]); // 0: Ethernet, default microseconds
    ng.idb(101, 65535, &[(IF_TSRESOL, &[9])]); // 1: raw IP, nanoseconds
    let offset = 100i64.to_le_bytes();
    ng.idb(
        113,
        0,
        &[(2, b"eth0"), (IF_TSRESOL, &[0x80 | 20]), (IF_TSOFFSET, &offset)],
    ); // 2: 2^-20 s, +100 s
    ng.block(4, &[0, 0, 0, 0]); // name resolution block: skipped
    ng.epb(0, 1_500_000, b"first", 60);
    ng.epb(1, 123, b"second!", 7);
    ng.epb(2, 3 << 20, b"third", 5);
    ng.block(0x0000_0BAD, b"custom block payload"); // custom: skipped
    ng.block(5, &[0; 20]); // interface statistics: skipped
    ng.spb(b"simple", 6);
    ng.pb(1, 1_000_000_007, b"old packet block", 16);
    ng.shb(true);
    ng.idb(228, 4, &[(IF_TSRESOL, &[3])]); // new section: 0 is IPv4, milliseconds, snaplen 4
    ng.epb(0, 7, b"ms", 2);
    ng.spb(b"truncated by snaplen", 20);
    let frames = vec![
        (1_500_000_000, 1, b"first".to_vec(), 60),
        (123, 101, b"second!".to_vec(), 7),
        (103_000_000_000, 113, b"third".to_vec(), 5),
        // The simple packet block takes the previous timestamp.
        (103_000_000_000, 1, b"simple".to_vec(), 6),
        (1_000_000_007, 101, b"old packet block".to_vec(), 16),
        (7_000_000, 228, b"ms".to_vec(), 2),
        (7_000_000, 228, b"trun".to_vec(), 20),
    ];
    (ng, frames)
}
