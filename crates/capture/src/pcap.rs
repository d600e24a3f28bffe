//! Classic pcap files (draft-ietf-opsawg-pcap): a 24-byte file header, then 16-byte-headed records.

use crate::decode::{Endian, Incomplete, MAX_BLOCK, Record, Unit};
use crate::error::Problem;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const FILE_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
/// libpcap's largest snaplen (`MAXIMUM_SNAPLEN`): records up to this size are accepted whatever the
/// header's snaplen says, since some writers put 0 or a too-small value there.
const LIBPCAP_MAX_SNAPLEN: usize = 262_144;

/// Decoder state for one pcap file.
#[derive(Debug)]
pub(crate) struct Decoder {
    endian: Endian,
    /// Nanoseconds per unit of the sub-second timestamp field: 1000 (µs magic) or 1 (ns magic).
    frac_ns: u64,
    /// Set once the file header is read.
    header: Option<Header>,
}

#[derive(Debug)]
struct Header {
    link_type: u32,
    /// Largest captured length that is not damage.
    max_caplen: usize,
}

impl Decoder {
    /// The magic number (§4) gives both the byte order and the timestamp resolution.
    pub(crate) fn detect(magic: [u8; 4]) -> Option<Decoder> {
        let (endian, frac_ns) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (MAGIC_MICROS, _) => (Endian::Little, 1000),
            (MAGIC_NANOS, _) => (Endian::Little, 1),
            (_, MAGIC_MICROS) => (Endian::Big, 1000),
            (_, MAGIC_NANOS) => (Endian::Big, 1),
            _ => return None,
        };
        Some(Decoder {
            endian,
            frac_ns,
            header: None,
        })
    }

    pub(crate) fn decode(&mut self, buf: &[u8], offset: u64) -> Result<Unit, Problem> {
        match &self.header {
            Some(h) => self.record(h, buf, offset),
            None => Ok(self.file_header(buf)),
        }
    }

    /// File header, draft-ietf-opsawg-pcap §4. The version is not checked: libpcap accepts any 2.x
    /// and nothing else has ever been written.
    fn file_header(&mut self, buf: &[u8]) -> Unit {
        let Some(h) = buf.first_chunk::<FILE_HEADER_LEN>() else {
            return Unit::Incomplete(Incomplete {
                what: "file header",
                needed: FILE_HEADER_LEN,
                from_header: false,
                uncounted: 0,
            });
        };
        let snaplen = self.endian.u32([h[16], h[17], h[18], h[19]]);
        // §4 "LinkType and additional information": the link type is the low 16 bits; the upper
        // 16 hold the FCS length (bits 28-31), an FCS-present flag (bit 26) and reserved bits. This
        // is libpcap's LT_LINKTYPE() mask.
        let link_type = self.endian.u32([h[20], h[21], h[22], h[23]]) & 0xffff;
        let max_caplen = (snaplen as usize).clamp(LIBPCAP_MAX_SNAPLEN, MAX_BLOCK);
        self.header = Some(Header {
            link_type,
            max_caplen,
        });
        Unit::Skip(FILE_HEADER_LEN)
    }

    /// Packet record, draft-ietf-opsawg-pcap §5.
    fn record(&self, h: &Header, buf: &[u8], offset: u64) -> Result<Unit, Problem> {
        let Some(r) = buf.first_chunk::<RECORD_HEADER_LEN>() else {
            return Ok(Unit::Incomplete(Incomplete {
                what: "record header",
                needed: RECORD_HEADER_LEN,
                from_header: false,
                uncounted: 0,
            }));
        };
        if r == &[0; RECORD_HEADER_LEN] {
            // No writer produces a record of 0 bytes on the wire at time 0: this is a zero-filled
            // region (a preallocated, sparse or never-flushed file). Read as records, a 4 GB hole
            // would be 268 million empty frames at 1970; it is damage, named at its first byte.
            return Err(Problem::damaged(
                "record",
                offset,
                "the record header is all zeros: a zero-filled region (preallocated or never written)".into(),
            ));
        }
        let e = self.endian;
        let secs = u64::from(e.u32([r[0], r[1], r[2], r[3]]));
        let frac = u64::from(e.u32([r[4], r[5], r[6], r[7]]));
        let caplen = e.u32([r[8], r[9], r[10], r[11]]) as usize;
        let orig_len = e.u32([r[12], r[13], r[14], r[15]]);
        if caplen > h.max_caplen {
            return Err(Problem::damaged(
                "record",
                offset,
                format!(
                    "captured length {caplen} exceeds the largest possible ({})",
                    h.max_caplen
                ),
            ));
        }
        let len = RECORD_HEADER_LEN + caplen;
        if buf.len() < len {
            return Ok(Unit::Incomplete(Incomplete {
                what: "record",
                needed: len,
                from_header: true,
                uncounted: RECORD_HEADER_LEN,
            }));
        }
        // secs < 2^32 and frac < 2^32, so neither product nor sum can overflow a u64.
        Ok(Unit::Frame(Record {
            ts: secs * 1_000_000_000 + frac * self.frac_ns,
            link_type: h.link_type,
            orig_len,
            data: RECORD_HEADER_LEN..len,
            len,
        }))
    }
}
