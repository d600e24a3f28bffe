//! The format-independent half of decoding: one step turns the bytes at the current position into a
//! frame, a skipped header/block, or a request for more bytes.
//!
//! Decoders never own or copy input: they look at a slice that starts at the current record and return
//! lengths and ranges. That lets the in-memory source hand out frames that borrow its bytes and the
//! streaming source hand out frames that borrow its buffer, with one decoder for both, so a file gives
//! the same frames and the same error whichever way it is read.

use crate::error::Problem;
use crate::{pcap, pcapng};
use std::ops::Range;

/// Largest record or block accepted, in bytes. Real blocks are at most a packet (libpcap's largest
/// snaplen is 256 KiB) plus options; libpcap and Wireshark refuse pcapng blocks over 16 MiB too. A
/// larger length is damage, and refusing it bounds what the streaming reader buffers.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;

/// Byte order of the current pcap file or pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(crate) fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }

    pub(crate) fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }

    pub(crate) fn i64(self, b: [u8; 8]) -> i64 {
        match self {
            Endian::Little => i64::from_le_bytes(b),
            Endian::Big => i64::from_be_bytes(b),
        }
    }
}

/// `N` bytes of `b` at `at`, if there are that many.
pub(crate) fn bytes<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..)?.first_chunk::<N>().copied()
}

/// A packet found by a decoder, positioned relative to the start of the slice it was given.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) ts: u64,
    pub(crate) link_type: u32,
    pub(crate) orig_len: u32,
    /// Where the packet bytes are, within the record.
    pub(crate) data: Range<usize>,
    /// Length of the whole record or block, to step past it.
    pub(crate) len: usize,
}

/// The input ended (or has not yet arrived) inside something of `needed` bytes.
#[derive(Debug)]
pub(crate) struct Incomplete {
    pub(crate) what: &'static str,
    pub(crate) needed: usize,
    /// `needed` was read from a length field (as opposed to being a fixed header size).
    pub(crate) from_header: bool,
    /// Bytes of `needed` that the length field does not count (pcap's record header), left out of
    /// the message so that it quotes the field.
    pub(crate) uncounted: usize,
}

impl Incomplete {
    /// The message for an input that really ends here with `remain` bytes.
    pub(crate) fn describe(&self, remain: usize) -> String {
        if self.from_header {
            let (needed, remain) = (
                self.needed.saturating_sub(self.uncounted),
                remain.saturating_sub(self.uncounted),
            );
            format!("header says {needed} bytes, {remain} remain")
        } else {
            format!("{} bytes needed, {remain} remain", self.needed)
        }
    }
}

/// What the bytes at the current position are.
#[derive(Debug)]
pub(crate) enum Unit {
    Frame(Record),
    /// A file header or non-packet block of this many bytes.
    Skip(usize),
    Incomplete(Incomplete),
}

/// A decoder for whichever format the magic number said.
#[derive(Debug)]
pub(crate) enum Decoder {
    Pcap(pcap::Decoder),
    PcapNg(pcapng::Decoder),
}

impl Decoder {
    /// Bytes [`Decoder::detect`] wants to see, unless the input is shorter.
    pub(crate) const MAGIC_LEN: usize = 4;

    /// Picks the format from the magic number at the start of `head`, which holds the whole input or
    /// at least [`Decoder::MAGIC_LEN`] bytes of it.
    pub(crate) fn detect(head: &[u8]) -> Result<Decoder, Problem> {
        let Some(magic) = bytes::<4>(head, 0) else {
            return Err(Problem::NotCapture(match head.len() {
                0 => "empty input".to_owned(),
                n => format!("only {n} bytes"),
            }));
        };
        if let Some(d) = pcap::Decoder::detect(magic) {
            return Ok(Decoder::Pcap(d));
        }
        if magic == pcapng::SHB_MAGIC {
            return Ok(Decoder::PcapNg(pcapng::Decoder::new()));
        }
        Err(Problem::NotCapture(format!(
            "magic 0x{:08x} at byte 0",
            u32::from_be_bytes(magic)
        )))
    }

    /// Decodes what starts at `buf[0]`, which is at byte `offset` of the input.
    #[inline]
    pub(crate) fn decode(&mut self, buf: &[u8], offset: u64) -> Result<Unit, Problem> {
        match self {
            Decoder::Pcap(d) => d.decode(buf, offset),
            Decoder::PcapNg(d) => d.decode(buf, offset),
        }
    }
}
