//! Entry points of the `pcap_slice` and `pcap_stream` fuzz targets (`fuzz/fuzz_targets/`), kept in
//! the library so that the fuzz targets and the regression replay test
//! (`tests/capture/fuzz_regressions.rs`) run the same code: a crash found by the fuzzer is replayed by
//! plain `cargo test`, without cargo-fuzz or nightly. Not part of the crate's API.
//!
//! The input is a whole capture file (pcap or pcapng, as the magic says), so real captures are seeds
//! as they are.

use crate::{FrameSource, MAX_BLOCK};
use std::io::{Cursor, Read};

/// A frame copied out of its source, to compare sources frame by frame.
#[derive(Debug, PartialEq, Eq)]
struct Owned {
    ts: u64,
    link_type: u32,
    data: Vec<u8>,
    orig_len: u32,
    offset: u64,
}

/// Every frame of `src`, then the text of the error it stopped on, checking what holds for any
/// input: frames are no larger than [`MAX_BLOCK`], lie within the input and come in file order (so a
/// source cannot loop), and an error is returned once and then `Ok(None)`.
fn drain(src: &mut dyn FrameSource, input_len: usize) -> (Vec<Owned>, Option<String>) {
    let mut frames: Vec<Owned> = Vec::new();
    let len = input_len as u64;
    loop {
        match src.next_frame() {
            Ok(Some(f)) => {
                assert!(f.data.len() <= MAX_BLOCK, "frame larger than MAX_BLOCK");
                assert!(
                    f.offset < len,
                    "frame offset {} beyond the input ({len})",
                    f.offset
                );
                if let Some(last) = frames.last() {
                    assert!(
                        f.offset > last.offset,
                        "frame offsets go back: {} after {}",
                        f.offset,
                        last.offset
                    );
                }
                frames.push(Owned {
                    ts: f.ts,
                    link_type: f.link_type,
                    data: f.data.to_vec(),
                    orig_len: f.orig_len,
                    offset: f.offset,
                });
            }
            Ok(None) => {
                assert!(matches!(src.next_frame(), Ok(None)), "end must stay the end");
                return (frames, None);
            }
            Err(e) => {
                if let Some(offset) = e.offset() {
                    assert!(
                        offset <= len,
                        "error offset {offset} beyond the input ({len}): {e}"
                    );
                }
                assert!(
                    matches!(src.next_frame(), Ok(None)),
                    "error must be returned once, then None"
                );
                return (frames, Some(e.to_string()));
            }
        }
        assert!(src.bytes_read() <= len, "read more bytes than the input holds");
    }
}

/// A reader that hands out the input in pieces of varying size (1 byte to larger than the stream
/// buffer), so that records and blocks straddle refills at every kind of boundary.
struct Pieces<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        const SIZES: [usize; 7] = [1, 7, 13, 4096, 3, 1 << 20, 24];
        self.n = (self.n + 1) % SIZES.len();
        let k = SIZES[self.n].min(buf.len()).min(self.data.len());
        let (head, tail) = self.data.split_at(k);
        buf[..k].copy_from_slice(head);
        self.data = tail;
        Ok(k)
    }
}

/// The in-memory source alone (what `tcpdoctor lab` and the tests read).
pub fn fuzz_pcap_slice(data: &[u8]) {
    let mut src = crate::from_bytes("fuzz", data);
    let (_, _) = drain(&mut src, data.len());
    assert_eq!(src.total_bytes(), Some(data.len() as u64));
}

/// The streaming source (stdin, pipes), read whole and in awkward pieces, against the in-memory
/// source: the same frames and the same error message, whatever the input.
pub fn fuzz_pcap_stream(data: &[u8]) {
    let slice = drain(&mut crate::from_bytes("fuzz", data), data.len());
    let cursor = drain(&mut crate::from_reader("fuzz", Cursor::new(data)), data.len());
    assert_eq!(slice, cursor, "slice and stream (whole reads) differ");
    let pieces = drain(&mut crate::from_reader("fuzz", Pieces { data, n: 0 }), data.len());
    assert_eq!(slice, pieces, "slice and stream (reads in pieces) differ");
}
