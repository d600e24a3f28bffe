//! IP fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6), with bounded memory and
//! time passed in.
//!
//! Pieces are kept by datagram (addresses, protocol, identification, and the tunnel they came
//! through, so that two tunnels' overlapping address spaces stay apart) until every byte from 0 to
//! the end announced by the last piece has arrived. What a receiving stack would throw away is thrown
//! away here too, and counted:
//! - overlapping IPv6 fragments drop the whole datagram (RFC 5722 §4);
//! - overlapping IPv4 fragments whose bytes disagree drop the whole datagram (RFC 791 lets the later
//!   copy win; disagreeing overlaps are the IDS-evasion case, RFC 1858, and no honest sender makes
//!   them); overlaps that agree are accepted;
//! - a datagram not complete after [`Limits::timeout`] of capture time (Linux's `ipfrag_time`,
//!   30 s) is dropped;
//! - a datagram that would exceed 65,535 bytes, or pieces that contradict the announced end, drop it;
//! - over [`Limits::max_datagrams`] pending datagrams or [`Limits::max_bytes`] buffered bytes, the
//!   oldest pending datagram is dropped (as Linux does past `ipfrag_high_thresh`).
//!
//! Bytes cut by the snaplen are not there to copy: a reassembled datagram holds the bytes captured
//! from its start up to the first byte that was not captured, and its length is the announced one,
//! as for a whole packet cut by the snaplen.

use foldhash::fast::RandomState;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// The largest datagram: the IPv4 total length and the IPv6 payload length are 16-bit fields.
const MAX_DATAGRAM: u32 = 65_535;

/// Bounds on what is held for reassembly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Capture time a datagram may wait for its pieces, in nanoseconds.
    pub timeout: u64,
    /// Datagrams waiting at once.
    pub max_datagrams: usize,
    /// Bytes buffered at once, over every waiting datagram.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // Linux `net.ipv4.ipfrag_time` and `net.ipv6.ip6frag_time`.
            timeout: 30_000_000_000,
            max_datagrams: 4_096,
            // Linux's default `ipfrag_high_thresh` is 4 MiB per namespace; a capture spans many hosts.
            max_bytes: 32 << 20,
        }
    }
}

/// What happened to datagrams that were not delivered, and how many were.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FragmentStats {
    /// Datagrams reassembled whole.
    pub reassembled: u64,
    /// Datagrams dropped because pieces overlapped (IPv6) or overlapped and disagreed (IPv4).
    pub overlaps: u64,
    /// Datagrams still incomplete after the timeout.
    pub timeouts: u64,
    /// Datagrams dropped to stay within the limits.
    pub evicted: u64,
    /// Datagrams dropped for pieces that contradict each other's lengths or exceed 65,535 bytes.
    pub malformed: u64,
}

/// Identifies one datagram's pieces (RFC 791 §3.2: source, destination, protocol, identification;
/// RFC 8200 §4.5: source, destination, identification), and the tunnel that carried them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub id: u32,
    pub tunnel: u32,
}

/// One piece, as the IP header describes it.
#[derive(Clone, Copy, Debug)]
pub struct Piece<'a> {
    /// Offset in the datagram's fragmentable part, in bytes.
    pub offset: u32,
    /// Its length according to the IP header.
    pub len: u32,
    pub more: bool,
    /// The captured bytes: `len` of them, or fewer if the snaplen cut the piece.
    pub bytes: &'a [u8],
    /// IPv6: any overlap drops the datagram (RFC 5722).
    pub ipv6: bool,
}

/// A whole datagram's fragmentable part.
#[derive(Debug, PartialEq, Eq)]
pub struct Datagram {
    /// The bytes captured from its start, up to the first byte that was not captured.
    pub bytes: Vec<u8>,
    /// Its length, from the pieces' IP headers.
    pub len: u32,
}

struct Pending {
    /// The pieces received, as sorted, disjoint `[start, end)` ranges of the datagram.
    received: Vec<(u32, u32)>,
    /// The bytes captured so far, at their offsets (zeros where nothing was captured yet).
    bytes: Vec<u8>,
    /// Which of `bytes` were captured: sorted, disjoint ranges.
    captured: Vec<(u32, u32)>,
    /// The datagram's end, once the last piece (no more fragments) arrived.
    end: Option<u32>,
    generation: u64,
}

/// Pending datagrams. See the module documentation.
pub struct Reassembler {
    limits: Limits,
    pending: HashMap<Key, Pending, RandomState>,
    /// Deadlines in arrival order, with the generation of the datagram they were queued for: an
    /// entry whose datagram is gone (or was replaced) is skipped when it comes up.
    queue: VecDeque<(u64, Key, u64)>,
    bytes: usize,
    generation: u64,
    stats: FragmentStats,
}

impl Reassembler {
    #[must_use]
    pub fn new(limits: Limits) -> Reassembler {
        Reassembler {
            limits,
            pending: HashMap::default(),
            queue: VecDeque::new(),
            bytes: 0,
            generation: 0,
            stats: FragmentStats::default(),
        }
    }

    #[must_use]
    pub fn stats(&self) -> FragmentStats {
        self.stats
    }

    /// Datagrams waiting for pieces.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes buffered.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.bytes
    }

    /// Adds one piece seen at `now` (nanoseconds of capture time); returns the datagram it completes.
    pub fn add(&mut self, key: Key, piece: Piece<'_>, now: u64) -> Option<Datagram> {
        self.expire(now);
        let end = piece.offset.checked_add(piece.len)?;
        if end > MAX_DATAGRAM || (piece.more && piece.len % 8 != 0) {
            // RFC 791 and RFC 8200 §4.5: every piece but the last is a multiple of 8 bytes.
            self.drop_datagram(&key);
            self.stats.malformed += 1;
            return None;
        }
        if !self.pending.contains_key(&key) {
            self.evict_while(|r| r.pending.len() >= r.limits.max_datagrams);
            self.generation += 1;
            let deadline = now.saturating_add(self.limits.timeout);
            self.queue.push_back((deadline, key, self.generation));
            self.pending.insert(
                key,
                Pending {
                    received: Vec::new(),
                    bytes: Vec::new(),
                    captured: Vec::new(),
                    end: None,
                    generation: self.generation,
                },
            );
        }
        let p = self.pending.get_mut(&key)?;
        match Self::place(p, &piece, end) {
            Placed::Bad(overlap) => {
                if overlap {
                    self.stats.overlaps += 1;
                } else {
                    self.stats.malformed += 1;
                }
                self.drop_datagram(&key);
                None
            }
            Placed::Waiting(added) => {
                self.bytes += added;
                self.evict_while(|r| r.bytes > r.limits.max_bytes);
                None
            }
            Placed::Complete => {
                let done = self.pending.remove(&key)?;
                self.bytes = self.bytes.saturating_sub(done.bytes.len());
                self.stats.reassembled += 1;
                let len = done.end.unwrap_or(0);
                let captured_to = match done.captured.first() {
                    Some(&(0, e)) => e,
                    _ => 0,
                };
                let mut bytes = done.bytes;
                bytes.truncate(captured_to as usize);
                Some(Datagram { bytes, len })
            }
        }
    }

    /// Checks a piece against what the datagram already holds and copies it in.
    fn place(p: &mut Pending, piece: &Piece<'_>, end: u32) -> Placed {
        let start = piece.offset;
        if !piece.more {
            if p.end.is_some_and(|e| e != end) || p.received.last().is_some_and(|&(_, e)| e > end) {
                return Placed::Bad(false);
            }
            p.end = Some(end);
        } else if p.end.is_some_and(|e| end > e) {
            return Placed::Bad(false);
        }
        let captured_len = u32::try_from(piece.bytes.len())
            .unwrap_or(u32::MAX)
            .min(piece.len);
        for &(a, b) in &p.received {
            if a < end && start < b {
                if piece.ipv6 {
                    return Placed::Bad(true);
                }
                // IPv4: the overlap must say the same thing, where both copies were captured.
                let lo = a.max(start);
                let hi = b.min(end);
                for (ca, cb) in &p.captured {
                    let (lo, hi) = (lo.max(*ca), hi.min(*cb).min(start + captured_len));
                    if lo < hi {
                        let old = p.bytes.get(lo as usize..hi as usize);
                        let new = piece.bytes.get((lo - start) as usize..(hi - start) as usize);
                        if old != new {
                            return Placed::Bad(true);
                        }
                    }
                }
            }
        }
        let before = p.bytes.len();
        let cap_end = start + captured_len;
        if p.bytes.len() < cap_end as usize {
            p.bytes.resize(cap_end as usize, 0);
        }
        if let (Some(dst), Some(src)) = (
            p.bytes.get_mut(start as usize..cap_end as usize),
            piece.bytes.get(..captured_len as usize),
        ) {
            dst.copy_from_slice(src);
        }
        insert_range(&mut p.received, (start, end));
        if captured_len > 0 {
            insert_range(&mut p.captured, (start, cap_end));
        }
        let complete = p.end.is_some_and(|e| p.received.as_slice() == [(0, e)]);
        if complete {
            Placed::Complete
        } else {
            Placed::Waiting(p.bytes.len() - before)
        }
    }

    /// Drops every datagram whose deadline is at or before `now`.
    fn expire(&mut self, now: u64) {
        while let Some(&(deadline, key, generation)) = self.queue.front() {
            if deadline > now {
                break;
            }
            self.queue.pop_front();
            if self.pending.get(&key).is_some_and(|p| p.generation == generation) {
                self.drop_datagram(&key);
                self.stats.timeouts += 1;
            }
        }
    }

    /// Drops the oldest pending datagrams while `over` holds (a limit is exceeded).
    fn evict_while(&mut self, over: impl Fn(&Reassembler) -> bool) {
        while over(self) {
            let Some((_, key, generation)) = self.queue.pop_front() else {
                return;
            };
            if self.pending.get(&key).is_some_and(|p| p.generation == generation) {
                self.drop_datagram(&key);
                self.stats.evicted += 1;
            }
        }
        // Entries of datagrams completed or dropped early stay queued until they come up; keep the
        // queue proportional to what is pending.
        if self.queue.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.queue
                .retain(|(_, k, g)| pending.get(k).is_some_and(|p| p.generation == *g));
        }
    }

    fn drop_datagram(&mut self, key: &Key) {
        if let Some(p) = self.pending.remove(key) {
            self.bytes = self.bytes.saturating_sub(p.bytes.len());
        }
    }
}

impl std::fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reassembler")
            .field("pending", &self.pending.len())
            .field("bytes", &self.bytes)
            .field("stats", &self.stats)
            .finish()
    }
}

enum Placed {
    /// Contradicts what is held: an overlap (`true`) or the lengths.
    Bad(bool),
    /// Held; the buffer grew by this many bytes.
    Waiting(usize),
    Complete,
}

/// Adds `r` to sorted, disjoint ranges, merging what touches or overlaps it.
fn insert_range(ranges: &mut Vec<(u32, u32)>, r: (u32, u32)) {
    let (mut lo, mut hi) = r;
    let mut out = Vec::with_capacity(ranges.len() + 1);
    let mut placed = false;
    for &(a, b) in ranges.iter() {
        if b < lo {
            out.push((a, b));
        } else if hi < a {
            if !placed {
                out.push((lo, hi));
                placed = true;
            }
            out.push((a, b));
        } else {
            lo = lo.min(a);
            hi = hi.max(b);
        }
    }
    if !placed {
        out.push((lo, hi));
    }
    *ranges = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(id: u32) -> Key {
        Key {
            src: IpAddr::from([10, 0, 0, 1]),
            dst: IpAddr::from([10, 0, 0, 2]),
            protocol: 6,
            id,
            tunnel: 0,
        }
    }

    fn piece(data: &[u8], offset: u32, len: u32, more: bool, ipv6: bool) -> Piece<'_> {
        let end = ((offset + len) as usize).min(data.len());
        Piece {
            offset,
            len,
            more,
            bytes: data.get(offset as usize..end).unwrap_or_default(),
            ipv6,
        }
    }

    #[test]
    fn ranges_merge() {
        let mut r = Vec::new();
        insert_range(&mut r, (16, 24));
        insert_range(&mut r, (0, 8));
        assert_eq!(r, [(0, 8), (16, 24)]);
        insert_range(&mut r, (8, 16));
        assert_eq!(r, [(0, 24)]);
    }

    #[test]
    fn ipv6_overlap_drops_the_datagram() {
        let data = [7u8; 48];
        let mut r = Reassembler::new(Limits::default());
        assert_eq!(r.add(key(1), piece(&data, 0, 24, true, true), 0), None);
        assert_eq!(r.add(key(1), piece(&data, 16, 32, false, true), 1), None);
        assert_eq!(r.stats().overlaps, 1);
        assert_eq!(r.pending(), 0);
        // A piece that arrives after the drop starts over and never completes alone.
        assert_eq!(r.add(key(1), piece(&data, 24, 24, false, true), 2), None);
        assert_eq!(r.pending(), 1);
    }

    #[test]
    fn ipv4_overlap_that_agrees_is_accepted_one_that_disagrees_is_not() {
        let data: Vec<u8> = (0..48).collect();
        let mut r = Reassembler::new(Limits::default());
        r.add(key(1), piece(&data, 0, 24, true, false), 0);
        let whole = r.add(key(1), piece(&data, 16, 32, false, false), 1);
        assert_eq!(whole.map(|d| d.bytes), Some(data.clone()));
        let mut forged = data.clone();
        forged[20] = 0xFF;
        r.add(key(2), piece(&data, 0, 24, true, false), 2);
        assert_eq!(r.add(key(2), piece(&forged, 16, 32, false, false), 3), None);
        assert_eq!(r.stats().overlaps, 1);
    }

    #[test]
    fn an_incomplete_datagram_times_out() {
        let data = [1u8; 32];
        let mut r = Reassembler::new(Limits::default());
        r.add(key(1), piece(&data, 0, 16, true, false), 0);
        r.add(key(2), piece(&data, 0, 16, true, false), 31_000_000_000);
        assert_eq!(r.stats().timeouts, 1);
        assert_eq!(r.pending(), 1);
    }

    #[test]
    fn pieces_cut_by_the_snaplen_give_the_captured_prefix_and_the_full_length() {
        let data: Vec<u8> = (0..64).collect();
        let mut r = Reassembler::new(Limits::default());
        let first = Piece {
            bytes: &data[..20],
            ..piece(&data, 0, 32, true, false)
        };
        r.add(key(1), first, 0);
        let d = r.add(key(1), piece(&data, 32, 32, false, false), 1).unwrap();
        assert_eq!((d.bytes.as_slice(), d.len), (&data[..20], 64));
    }

    #[test]
    fn contradictory_lengths_drop_the_datagram() {
        let data = [0u8; 64];
        let mut r = Reassembler::new(Limits::default());
        r.add(key(1), piece(&data, 32, 32, false, false), 0);
        assert_eq!(r.add(key(1), piece(&data, 0, 40, false, false), 1), None);
        assert_eq!(r.add(key(2), piece(&data, 0, 12, true, false), 1), None);
        assert_eq!(r.add(key(3), piece(&data, 65_528, 16, false, false), 1), None);
        assert_eq!(r.stats().malformed, 3);
    }

    /// A datagram of `len` bytes cut at multiples of 8 given by `cuts`.
    fn pieces_of(len: u32, cuts: &[u32]) -> Vec<(u32, u32)> {
        let mut points: Vec<u32> = cuts.iter().map(|c| c % len / 8 * 8).filter(|&c| c > 0).collect();
        points.push(0);
        points.push(len);
        points.sort_unstable();
        points.dedup();
        points.windows(2).map(|w| (w[0], w[1] - w[0])).collect()
    }

    proptest! {
        #[test]
        fn any_fragmentation_in_any_order_reassembles_to_the_original(
            data in proptest::collection::vec(any::<u8>(), 9..3000),
            cuts in proptest::collection::vec(any::<u32>(), 0..12),
            order in any::<u64>(),
            duplicate in any::<prop::sample::Index>(),
            ipv6: bool,
        ) {
            let len = u32::try_from(data.len()).unwrap();
            let mut pieces = pieces_of(len, &cuts);
            // A deterministic shuffle from `order`.
            let mut x = order | 1;
            for i in (1..pieces.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                pieces.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut r = Reassembler::new(Limits::default());
            let mut done = None;
            let n = pieces.len();
            for (i, &(offset, plen)) in pieces.iter().enumerate() {
                let more = offset + plen < len;
                if let Some(d) = r.add(key(9), piece(&data, offset, plen, more, ipv6), i as u64) {
                    prop_assert!(done.is_none());
                    prop_assert_eq!(i, n - 1, "complete only with the last piece");
                    done = Some(d);
                }
            }
            let d = done.expect("complete");
            prop_assert_eq!(d.len, len);
            prop_assert_eq!(&d.bytes, &data);
            prop_assert_eq!((r.pending(), r.buffered()), (0, 0));
            // IPv4 accepts an exact duplicate of a piece (it agrees); IPv6 drops the datagram.
            let (offset, plen) = pieces[duplicate.index(n)];
            let more = offset + plen < len;
            r.add(key(10), piece(&data, offset, plen, more, ipv6), 0);
            let again = r.add(key(10), piece(&data, offset, plen, more, ipv6), 1);
            if n == 1 {
                // A single piece completes on its own, each time.
                prop_assert!(again.is_some());
            } else if ipv6 {
                prop_assert_eq!(r.stats().overlaps, 1);
                prop_assert!(again.is_none());
            } else {
                prop_assert_eq!(r.stats().overlaps, 0);
                prop_assert!(again.is_none());
            }
        }

        #[test]
        fn a_flood_of_unfinished_datagrams_stays_bounded(
            ids in proptest::collection::vec(any::<u32>(), 1..3000),
            size in 8u32..2000,
        ) {
            let limits = Limits { max_datagrams: 100, max_bytes: 64 << 10, ..Limits::default() };
            let data = vec![0u8; 2000];
            let mut r = Reassembler::new(limits);
            for (i, id) in ids.iter().enumerate() {
                let plen = size / 8 * 8;
                r.add(key(*id), piece(&data, 0, plen.max(8), true, false), i as u64);
                prop_assert!(r.pending() <= 100);
                prop_assert!(r.buffered() <= (64 << 10) + 2000);
                prop_assert!(r.queue.len() <= 2 * r.pending() + 65);
            }
        }
    }
}
