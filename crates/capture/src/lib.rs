//! Frame sources for `tcpdoctor analyze FILE...|-`: the packets of pcap and pcapng captures, read from a
//! file or stdin through one bounded buffer.
//!
//! # Why files are read, not memory-mapped
//! Files were mapped until measured: on the 335 MB corpus mix (2 cores, page cache warm) `analyze`
//! took 126.9 ms on the mapped file and 113.4 ms reading the same file through `read(2)` into a
//! 256 KiB buffer (`--json`: 145.5 against 128.9 ms), with 105.8 against 70.5 ms of user time. A
//! mapping makes the decoder take a page fault and a cache miss on every fresh page of the page
//! cache, where `read` copies in large strides into a buffer that stays in cache; and a mapped
//! file's touched pages count in the resident set until they are given back. The copy is the price,
//! and it is smaller.
//!
//! # Formats
//! - pcap (draft-ietf-opsawg-pcap): microsecond (`a1b2c3d4`) and nanosecond (`a1b23c4d`) magic, in
//!   either byte order.
//! - pcapng (draft-ietf-opsawg-pcapng): any number of sections, each with its own byte order and
//!   interfaces; per-interface link type, snaplen, `if_tsresol` and `if_tsoffset`; Enhanced, Simple
//!   and obsolete Packet Blocks. Other blocks (name resolution, statistics, secrets, custom) are
//!   skipped by their length. Simple Packet Blocks carry no timestamp: they get the latest timestamp
//!   seen before them (0 if none).
//!
//! The format is detected from the magic number, not the file name.
//!
//! # Why hand-written decoding rather than `pcap-parser`
//! `pcap-parser` (rusticata) was evaluated and is not the bottleneck: on a 394 MB pcapng (60 copies
//! of the corpus' `mix.pcapng`, page cache warm, release build) its slice iterator read 8.2 M frames/s
//! against 9.2 M here, its streaming reader 5.9 M against 7.2 M; on pcap both were at 10 M/s. Offsets
//! could be derived from it too. It was not taken because of what it cannot say and do:
//! - its errors are nom errors, which do not separate a capture cut short from a damaged one, nor
//!   say which length was wrong, and this crate's one-line messages must;
//! - its streaming reader has a fixed-capacity buffer that the caller grows and refills by hand, so
//!   a bounded stdin reader is as much code with it as without;
//! - its timestamp helper takes an unsigned `if_tsoffset` (the draft's is signed) and returns 32-bit
//!   seconds.
//!
//! The formats are small (two fixed headers and a length-prefixed block walk), so decoding them
//! here is a few hundred lines with exact offsets and messages, no per-frame allocation or copy, and
//! one decoder shared by the in-memory and the streamed input.
//!
//! # Errors
//! A source that fails returns the [`CaptureError`] once, then `Ok(None)`: callers report the frames
//! read before the failure, then the error. Every length read from the input is checked before it
//! is used, and none above [`MAX_BLOCK`] is accepted, so damaged input cannot make a source panic,
//! loop or allocate more than that.

mod decode;
mod error;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(target_os = "linux")]
pub mod live;
mod pcap;
mod pcapng;
mod prefetch;
mod slice;
mod stream;
mod write;

pub use decode::MAX_BLOCK;
pub use error::CaptureError;
pub use prefetch::Prefetch;
pub use slice::SliceSource;
pub use stream::StreamSource;
pub use write::PcapWriter;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// One captured packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Capture time, nanoseconds since the Unix epoch (`lifecycle::Timestamp(frame.ts)`).
    pub ts: u64,
    /// Link-layer header type (tcpdump.org LINKTYPE_ values: 1 Ethernet, 101 raw IP, 113 Linux SLL...).
    pub link_type: u32,
    /// The captured bytes, possibly fewer than `orig_len` when the capture had a snaplen.
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// Byte offset in the input of the record or block holding this frame.
    pub offset: u64,
}

impl<'a> Frame<'a> {
    /// The frame `record` describes, for a record starting at `buf[at]` and at byte `offset` of the
    /// input. The decoders checked that the record lies within `buf`.
    fn new(record: decode::Record, buf: &'a [u8], at: usize, offset: u64) -> Frame<'a> {
        Frame {
            ts: record.ts,
            link_type: record.link_type,
            data: &buf[at + record.data.start..at + record.data.end],
            orig_len: record.orig_len,
            offset,
        }
    }
}

/// Something that yields the frames of one capture, in file order.
pub trait FrameSource {
    /// The next frame, `Ok(None)` at the end. After an error, every later call returns `Ok(None)`.
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError>;
    /// Bytes of the input consumed so far (for a progress bar).
    fn bytes_read(&self) -> u64;
    /// Size of the whole input, when known (files, not pipes).
    fn total_bytes(&self) -> Option<u64>;
}

/// The first two bytes of a gzip member (RFC 1952 §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens a capture: `-` is stdin, anything else that can be opened is read (a file, a FIFO,
/// `/dev/stdin`, a process substitution), on a thread of its own ([`Prefetch`]). A gzip-compressed
/// capture (`.pcap.gz`, as tshark and Wireshark read them) is decompressed as it streams; byte offsets
/// in its errors are in the decompressed capture. The name in errors is the path as given, or
/// `<stdin>`.
pub fn open(path: &Path) -> Result<Box<dyn FrameSource + Send>, CaptureError> {
    let stdin = path == Path::new("-");
    let name = if stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let open_error = |error| CaptureError::Open {
        name: name.clone(),
        error,
    };
    if stdin {
        return stream(&name, Prefetch::new(io::stdin()).map_err(open_error)?, None);
    }
    let file = File::open(path).map_err(open_error)?;
    let meta = file.metadata().map_err(open_error)?;
    if meta.is_dir() {
        return Err(open_error(io::ErrorKind::IsADirectory.into()));
    }
    let size = meta.is_file().then_some(meta.len());
    stream(&name, Prefetch::new(file).map_err(open_error)?, size)
}

/// A streamed source over `reader`, decompressed first if it starts as gzip does. `size` is the
/// input's length when known (a regular file), for a progress bar; a compressed input has none that
/// its offsets could be compared with.
fn stream<R: Read + Send + 'static>(
    name: &str,
    mut reader: R,
    size: Option<u64>,
) -> Result<Box<dyn FrameSource + Send>, CaptureError> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(CaptureError::Io {
                    name: name.to_string(),
                    offset: got as u64,
                    error,
                });
            }
        }
    }
    let whole = io::Cursor::new(head[..got].to_vec()).chain(reader);
    Ok(if head[..got] == GZIP_MAGIC {
        Box::new(from_reader(name, flate2::read::MultiGzDecoder::new(whole)))
    } else {
        Box::new(from_reader(name, whole).with_size(size))
    })
}

/// A source over a capture already in memory (a `Vec<u8>`, a `&[u8]`). `name` is used
/// in error messages.
pub fn from_bytes<B: AsRef<[u8]>>(name: &str, bytes: B) -> SliceSource<B> {
    SliceSource::new(name, bytes)
}

/// A source streaming a capture from `reader` with a bounded buffer. `name` is used in error
/// messages (`<stdin>` for standard input).
pub fn from_reader<R: Read>(name: &str, reader: R) -> StreamSource<R> {
    StreamSource::new(name, reader)
}
