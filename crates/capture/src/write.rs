//! A pcap writer for `tcpdoctor capture -w FILE`: classic pcap, nanosecond timestamps, which tcpdump,
//! Wireshark and `tcpdoctor analyze` read (draft-ietf-opsawg-pcap §4, §5).

use std::io::{self, Write};

/// Nanosecond-resolution pcap magic (draft-ietf-opsawg-pcap §4).
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// Writes a pcap stream: the file header on creation, then one record per frame.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header for `link_type` frames of at most `snaplen` bytes, in host byte order (as
    /// libpcap does; readers detect the order from the magic).
    pub fn new(mut out: W, link_type: u32, snaplen: u32) -> io::Result<PcapWriter<W>> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_NANOS.to_ne_bytes());
        h[4..6].copy_from_slice(&2u16.to_ne_bytes());
        h[6..8].copy_from_slice(&4u16.to_ne_bytes());
        h[16..20].copy_from_slice(&snaplen.to_ne_bytes());
        h[20..24].copy_from_slice(&link_type.to_ne_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// Appends one frame; `data` longer than the snaplen is cut to it, `orig_len` is kept.
    pub fn write(&mut self, ts_nanos: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let keep = data.len().min(self.snaplen as usize);
        let incl = u32::try_from(keep).unwrap_or(u32::MAX);
        let secs = u32::try_from(ts_nanos / 1_000_000_000).unwrap_or(u32::MAX);
        let nanos = (ts_nanos % 1_000_000_000) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_ne_bytes());
        h[4..8].copy_from_slice(&nanos.to_ne_bytes());
        h[8..12].copy_from_slice(&incl.to_ne_bytes());
        h[12..16].copy_from_slice(&orig_len.max(incl).to_ne_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&data[..keep])
    }

    /// Flushes buffered records.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameSource;

    #[test]
    fn written_frames_read_back() {
        let mut w = PcapWriter::new(Vec::new(), 101, 100).unwrap();
        w.write(1_700_000_000_123_456_789, &[0x45; 60], 60).unwrap();
        w.write(1_700_000_001_000_000_001, &[0x60; 150], 150).unwrap();
        let bytes = w.out;
        let mut src = crate::from_bytes("w.pcap", bytes);
        let a = src.next_frame().unwrap().unwrap();
        assert_eq!(
            (a.ts, a.link_type, a.data.len(), a.orig_len),
            (1_700_000_000_123_456_789, 101, 60, 60)
        );
        let b = src.next_frame().unwrap().unwrap();
        assert_eq!(
            (b.ts, b.data.len(), b.orig_len),
            (1_700_000_001_000_000_001, 100, 150)
        );
        assert!(src.next_frame().unwrap().is_none());
    }
}
