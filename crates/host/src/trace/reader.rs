//! The per-CPU binary ring buffer, one page (sub-buffer) at a time, as `trace_pipe_raw` hands it out.
//!
//! Why binary and not `trace_pipe` text: the kernel formats every text line itself (`%pI6c`, symbolic
//! tables) on the reading CPU, and the reader then parses it back; the raw pages are a copy of the
//! records the tracepoints wrote. `bench/trace.sh` measures both.
//!
//! Page layout (`kernel/trace/ring_buffer.c`, `struct buffer_data_page`, described at run time by
//! `events/header_page`): a timestamp, a `commit` word holding the number of data bytes (flags
//! `RB_MISSED_EVENTS` = bit 31 and `RB_MISSED_STORED` = bit 30 on top; with the latter, the number of
//! lost events is stored as a `long` right after the data), then the events. Each event starts with a
//! 32-bit header (`struct ring_buffer_event`): `type_len` in the low 5 bits, `time_delta` in the other
//! 27, then `array[]`:
//! - `type_len` 1..=28: `type_len * 4` data bytes in `array[0..]`;
//! - 0: `array[0]` holds the length (including itself), the data follows in `array[1..]`;
//! - 29 (`RINGBUF_TYPE_PADDING`): `array[0]` bytes to skip; with `time_delta` 0 the page ends here;
//! - 30 (`RINGBUF_TYPE_TIME_EXTEND`): `(array[0] << 27) + time_delta` is added to the time;
//! - 31 (`RINGBUF_TYPE_TIME_STAMP`): `(array[0] << 27) | time_delta` is an absolute time.
//!
//! libtraceevent's `kbuffer-parse.c` reads pages the same way. Every read here is bounds-checked: a
//! damaged page ends early, never panics.

use super::format::Field;
use std::fs::File;
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

const TYPE_PADDING: u32 = 29;
const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;
/// `TS_SHIFT` in ring_buffer.c: the bits of `time_delta`.
const TS_SHIFT: u32 = 27;
/// The bits of the commit word that count data bytes (libtraceevent's `COMMIT_MASK`).
const COMMIT_MASK: u64 = (1 << 27) - 1;
const MISSED_EVENTS: u64 = 1 << 31;
const MISSED_STORED: u64 = 1 << 30;
/// Absolute time stamps keep only 59 bits; the top ones come from the running time (`TS_MSB`).
const TS_MSB: u64 = 0xf << 59;

/// Where a page keeps its timestamp, commit word and data, from `events/header_page`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageLayout {
    timestamp: Field,
    commit: Field,
    data_offset: usize,
    /// Bytes per page as read from `trace_pipe_raw` (header and data).
    pub page_size: usize,
}

impl PageLayout {
    /// From the fields of `events/header_page`; `None` if one is missing.
    #[must_use]
    pub fn from_fields(fields: &[Field]) -> Option<PageLayout> {
        let get = |n: &str| fields.iter().find(|f| f.name == n).cloned();
        let data = get("data")?;
        Some(PageLayout {
            timestamp: get("timestamp")?,
            commit: get("commit")?,
            data_offset: data.offset,
            page_size: data.offset.checked_add(data.size)?,
        })
    }
}

/// What one page said besides its events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageSummary {
    pub events: u64,
    /// Events the kernel overwrote before this page was read, when it stored the number (it flags a
    /// loss it has no room to count; the per-CPU `stats` file counts every loss either way).
    pub lost: u64,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn uint(field: &Field, page: &[u8]) -> Option<u64> {
    uint_bytes(field.bytes(page))
}

/// A 4- or 8-byte unsigned integer in the host's byte order.
fn uint_bytes(b: Option<&[u8]>) -> Option<u64> {
    let b = b?;
    match b.len() {
        4 => Some(u64::from(u32::from_ne_bytes(b.try_into().ok()?))),
        8 => Some(u64::from_ne_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

/// Calls `each(timestamp, record)` for every data event of one page, in order.
pub fn parse_page(page: &[u8], layout: &PageLayout, mut each: impl FnMut(u64, &[u8])) -> PageSummary {
    let mut summary = PageSummary::default();
    let (Some(mut ts), Some(commit)) = (uint(&layout.timestamp, page), uint(&layout.commit, page)) else {
        return summary;
    };
    let Some(data) = page.get(layout.data_offset..) else {
        return summary;
    };
    let len = usize::try_from(commit & COMMIT_MASK)
        .unwrap_or(usize::MAX)
        .min(data.len());
    if commit & MISSED_EVENTS != 0 && commit & MISSED_STORED != 0 {
        // The count is a `long`, the size of the commit word.
        let end = len.checked_add(layout.commit.size);
        summary.lost = uint_bytes(end.and_then(|end| data.get(len..end))).unwrap_or(0);
    }
    let data = &data[..len];
    let mut pos = 0usize;
    while let Some(header) = u32_at(data, pos) {
        let type_len = header & 0x1f;
        let delta = u64::from(header >> 5);
        let next = match type_len {
            TYPE_PADDING => {
                if delta == 0 {
                    break; // The rest of the page is unused.
                }
                ts = ts.wrapping_add(delta);
                let Some(skip) = u32_at(data, pos + 4) else { break };
                pos.checked_add(4).and_then(|p| p.checked_add(skip as usize))
            }
            TYPE_TIME_EXTEND => {
                let Some(ext) = u32_at(data, pos + 4) else { break };
                ts = ts.wrapping_add((u64::from(ext) << TS_SHIFT).wrapping_add(delta));
                pos.checked_add(8)
            }
            TYPE_TIME_STAMP => {
                let Some(ext) = u32_at(data, pos + 4) else { break };
                ts = ((u64::from(ext) << TS_SHIFT) | delta) | (ts & TS_MSB);
                pos.checked_add(8)
            }
            0 => {
                let Some(length) = u32_at(data, pos + 4) else {
                    break;
                };
                let Some(body) = (length as usize).checked_sub(4) else {
                    break;
                };
                let start = pos + 8;
                let Some(record) = start.checked_add(body).and_then(|end| data.get(start..end)) else {
                    break;
                };
                ts = ts.wrapping_add(delta);
                summary.events += 1;
                each(ts, record);
                // Lengths are kept 4-byte aligned (kbuffer rounds the same way).
                start.checked_add(body.div_ceil(4) * 4)
            }
            n => {
                let start = pos + 4;
                let end = start + n as usize * 4;
                let Some(record) = data.get(start..end) else { break };
                ts = ts.wrapping_add(delta);
                summary.events += 1;
                each(ts, record);
                Some(end)
            }
        };
        match next {
            Some(n) if n > pos => pos = n,
            _ => break,
        }
    }
    summary
}

/// One CPU's `trace_pipe_raw`, opened non-blocking: a read returns the data ready now (a full page,
/// or the events of a partly written one) or nothing.
#[derive(Debug)]
pub struct CpuReader {
    pub cpu: u32,
    file: File,
}

impl CpuReader {
    pub fn open(path: &Path, cpu: u32) -> io::Result<CpuReader> {
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        Ok(CpuReader { cpu, file })
    }

    /// Reads one page into `page`; `Ok(0)` when nothing is ready.
    pub fn read_page(&mut self, page: &mut [u8]) -> io::Result<usize> {
        match self.file.read(page) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::parse_fields;
    use proptest::prelude::*;

    fn layout() -> PageLayout {
        PageLayout::from_fields(&parse_fields(include_str!("testdata/header_page.6.18"))).unwrap()
    }

    /// Builds a page: base timestamp, commit flags, and raw event bytes.
    fn page(ts: u64, flags: u64, events: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[0..8].copy_from_slice(&ts.to_ne_bytes());
        p[8..16].copy_from_slice(&(events.len() as u64 | flags).to_ne_bytes());
        p[16..16 + events.len()].copy_from_slice(events);
        p[16 + events.len()..16 + events.len() + tail.len()].copy_from_slice(tail);
        p
    }

    fn header(type_len: u32, delta: u32) -> [u8; 4] {
        (type_len | (delta << 5)).to_ne_bytes()
    }

    fn collect(p: &[u8]) -> (Vec<(u64, Vec<u8>)>, PageSummary) {
        let mut out = Vec::new();
        let s = parse_page(p, &layout(), |ts, r| out.push((ts, r.to_vec())));
        (out, s)
    }

    #[test]
    fn small_and_long_events_with_time_extend_and_padding() {
        let mut ev = Vec::new();
        ev.extend(header(2, 5)); // 8 data bytes, +5 ns
        ev.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        ev.extend(header(TYPE_TIME_EXTEND, 3)); // + (1 << 27) + 3
        ev.extend(1u32.to_ne_bytes());
        ev.extend(header(0, 10)); // length in array[0]: 4 + 6 data bytes, aligned to 8
        ev.extend(10u32.to_ne_bytes());
        ev.extend([9, 9, 9, 9, 9, 9, 0, 0]);
        ev.extend(header(TYPE_PADDING, 1)); // a discarded event: array[0] counts itself and 4 bytes
        ev.extend(8u32.to_ne_bytes());
        ev.extend([0; 4]);
        ev.extend(header(1, 2));
        ev.extend([7, 7, 7, 7]);
        ev.extend(header(TYPE_PADDING, 0)); // end of page
        ev.extend(header(1, 2));
        ev.extend([8, 8, 8, 8]);
        let (out, s) = collect(&page(1000, 0, &ev, &[]));
        assert_eq!(s.events, 3);
        assert_eq!(out[0], (1005, vec![1, 2, 3, 4, 5, 6, 7, 8]));
        let t = 1005 + (1 << 27) + 3 + 10;
        assert_eq!(out[1], (t, vec![9, 9, 9, 9, 9, 9]));
        assert_eq!(out[2], (t + 1 + 2, vec![7, 7, 7, 7]));
    }

    #[test]
    fn absolute_time_stamp() {
        let mut ev = Vec::new();
        ev.extend(header(TYPE_TIME_STAMP, 7));
        ev.extend(2u32.to_ne_bytes());
        ev.extend(header(1, 1));
        ev.extend([1, 1, 1, 1]);
        let (out, _) = collect(&page(5, 0, &ev, &[]));
        assert_eq!(out[0].0, (2 << 27 | 7) + 1);
    }

    #[test]
    fn lost_events_are_reported() {
        let mut ev = Vec::new();
        ev.extend(header(1, 1));
        ev.extend([1, 1, 1, 1]);
        let (_, s) = collect(&page(0, MISSED_EVENTS | MISSED_STORED, &ev, &42u64.to_ne_bytes()));
        assert_eq!((s.lost, s.events), (42, 1));
        let (_, s) = collect(&page(0, MISSED_EVENTS, &ev, &42u64.to_ne_bytes()));
        assert_eq!((s.lost, s.events), (0, 1));
    }

    #[test]
    fn truncated_and_hostile_pages_end_early() {
        // A long event claiming more bytes than the page holds.
        let mut ev = Vec::new();
        ev.extend(header(0, 0));
        ev.extend(u32::MAX.to_ne_bytes());
        assert_eq!(collect(&page(0, 0, &ev, &[])).1.events, 0);
        // A length below its own size.
        let mut ev = Vec::new();
        ev.extend(header(0, 0));
        ev.extend(2u32.to_ne_bytes());
        assert_eq!(collect(&page(0, 0, &ev, &[])).1.events, 0);
        // A page shorter than its header, and a commit beyond the page.
        assert_eq!(collect(&[0u8; 10]).1, PageSummary::default());
        let mut p = page(0, 0, &[], &[]);
        p[8..16].copy_from_slice(&COMMIT_MASK.to_ne_bytes());
        assert_eq!(collect(&p).1.events, 0);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4200)) {
            let _ = collect(&bytes);
        }

        #[test]
        fn never_panics_on_arbitrary_events(ev in proptest::collection::vec(any::<u8>(), 0..4080), flags in 0u64..4) {
            let _ = collect(&page(u64::MAX - 5, flags << 30, &ev, &[]));
        }
    }
}
