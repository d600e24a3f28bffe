//! A memory-mapped capture file that gives back the pages already read.
//!
//! A mapped file's pages count in the process's resident set once touched, so a 1 GB capture read through
//! a plain map ends with a 1 GB RSS although nothing is kept: `analyze` must grow with the connections
//! open at once, not with the file. Every [`RELEASE_STEP`] bytes the reader drops the pages behind it from
//! its mapping (`MADV_DONTNEED`); they stay in the page cache, so a second run is as fast.

use memmap2::{Mmap, UncheckedAdvice};

/// How far the reader gets before it releases what lies behind it.
pub const RELEASE_STEP: usize = 32 << 20;

/// A read-only file mapping with a release mark.
#[derive(Debug)]
pub struct MappedFile {
    map: Mmap,
    /// Everything before this offset has been released.
    released: usize,
}

impl MappedFile {
    pub(crate) fn new(map: Mmap) -> MappedFile {
        MappedFile { map, released: 0 }
    }

    /// Releases the pages before `upto` (rounded down to whole steps) once the reader is a step past the
    /// last release. `upto` must be an offset no frame still borrowed lies before: the start of the
    /// record about to be returned.
    pub(crate) fn release_before(&mut self, upto: usize) {
        if upto < self.released + RELEASE_STEP {
            return;
        }
        let end = upto - upto % RELEASE_STEP;
        // SAFETY: MADV_DONTNEED on a read-only, file-backed shared mapping only drops this process's page
        // table entries; a later read of the range faults the pages back in from the file (page cache),
        // with the same contents. No Rust reference into the range is live: frames are lent one at a time
        // and the caller passes the start of the next one. A failure only means the pages stay resident.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(UncheckedAdvice::DontNeed, self.released, end - self.released)
        };
        self.released = end;
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    /// A mapped file several release steps long reads whole and in order while its pages are given back.
    #[test]
    fn reads_past_several_release_steps() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        // pcap global header: microsecond magic, v2.4, snaplen 65535, Ethernet.
        let mut header = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&65_535u32.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes());
        f.write_all(&header).unwrap();
        let records = 3 * super::RELEASE_STEP / (16 + 4000) + 10;
        let mut rec = Vec::with_capacity(16 + 4000);
        for i in 0..records as u32 {
            rec.clear();
            for v in [i, 0, 4000, 4000] {
                rec.extend_from_slice(&v.to_le_bytes());
            }
            rec.extend(std::iter::repeat_n((i % 251) as u8, 4000));
            f.write_all(&rec).unwrap();
        }
        f.flush().unwrap();
        let mut src = crate::open(f.path()).unwrap();
        let mut n = 0u32;
        while let Some(frame) = src.next_frame().unwrap() {
            assert_eq!(frame.ts, u64::from(n) * 1_000_000_000);
            assert_eq!(frame.data.len(), 4000);
            assert!(frame.data.iter().all(|&b| b == (n % 251) as u8));
            n += 1;
        }
        assert_eq!(n as usize, records);
    }
}
