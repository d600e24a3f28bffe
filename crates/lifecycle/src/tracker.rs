//! The flow table: every connection in the evidence, with bounded memory.
//!
//! The sans-IO contract (after quinn-proto): the caller passes each segment with its timestamp to
//! [`Tracker::handle_segment`], calls [`Tracker::handle_timeout`] with the current time whenever
//! [`Tracker::poll_timeout`] says a deadline has passed (or simply every so often), drains ended
//! connections with [`Tracker::poll_event`], and calls [`Tracker::finish`] when the evidence ends.
//! TIME-WAIT and idle expiry happen only through `handle_timeout`: the tracker never reads a clock.
//!
//! # Example
//! A three-way handshake and a four-way close as a transcript: each segment, then both sides' states
//! as the tracker infers them (RFC 9293 §3.5 figure 7, §3.6 figure 12).
//! ```
//! use lifecycle::{Cause, Event, Flags, Segment, Seq, State::*, Timestamp, Tracker};
//! let client = "10.0.0.1:40000".parse().unwrap();
//! let server = "10.0.0.2:80".parse().unwrap();
//! const SYN: u8 = Flags::SYN;
//! const ACK: u8 = Flags::ACK;
//! const FIN: u8 = Flags::FIN;
//! // (sent by the client?, flags, seq, ack) => (client's state, server's state) after it
//! let transcript = [
//!     ((true, SYN, 100, 0), (SynSent, Closed)),
//!     ((false, SYN | ACK, 500, 101), (SynSent, SynReceived)),
//!     ((true, ACK, 101, 501), (Established, Established)),
//!     ((true, FIN | ACK, 101, 501), (FinWait1, Established)),
//!     ((false, ACK, 501, 102), (FinWait2, CloseWait)),
//!     ((false, FIN | ACK, 501, 102), (FinWait2, LastAck)),
//!     ((true, ACK, 102, 502), (TimeWait, Closed)),
//! ];
//! let mut tracker = Tracker::default();
//! for (ms, ((from_client, flags, seq, ack), states)) in (1..).zip(transcript) {
//!     let (src, dst) = if from_client { (client, server) } else { (server, client) };
//!     let mut seg = Segment::between(src, dst);
//!     (seg.flags, seg.seq, seg.ack) = (Flags(flags), Seq(seq), Seq(ack));
//!     tracker.handle_segment(Timestamp(ms * 1_000_000), &seg);
//!     let conn = tracker.connection(client, server).unwrap();
//!     assert_eq!((conn.client().state(), conn.server().state()), states);
//! }
//! tracker.finish();
//! let Some(Event::Ended(record)) = tracker.poll_event() else { unreachable!() };
//! assert_eq!(record.cause, Cause::Graceful);
//! assert_eq!(record.client_state, TimeWait); // the first closer holds TIME-WAIT
//! ```

use crate::connection::{Applied, Connection, ConnectionRecord};
use crate::ending::EndReason;
use crate::first_segment::FirstSegment;
use crate::flow_table::FlowTable;
use crate::segment::{Segment, Timestamp};
use crate::steps::{Watch, WatchOptions};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

const SECOND: u64 = 1_000_000_000;

/// Timeouts and limits. Durations are in nanoseconds of capture time.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// How long an active closer holds TIME-WAIT. Linux: 60 s (`TCP_TIMEWAIT_LEN`), not 2·MSL = 4 min.
    pub time_wait: u64,
    /// A connection with no segment for this long ends as `idle` (Zeek's `tcp_inactivity_timeout`: 5 min).
    pub idle_timeout: u64,
    /// A handshake that has not completed after this long ends (Linux gives up a SYN after ~127 s with
    /// `tcp_syn_retries` = 6).
    pub handshake_timeout: u64,
    /// How long a closed or reset connection stays in the table so that late retransmissions and extra
    /// RSTs are attributed to it rather than starting a midstream connection.
    pub closed_linger: u64,
    /// The most connections tracked at once; beyond it the least recently active one is evicted.
    pub max_connections: usize,
    /// Keep Zeek's view of every connection ([`ConnectionRecord::zeek`]), which only the conn.log and
    /// JSON print: without it a connection takes half the memory and a segment a fifth less work.
    pub zeek_view: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            time_wait: 60 * SECOND,
            idle_timeout: 300 * SECOND,
            handshake_timeout: 180 * SECOND,
            closed_linger: 5 * SECOND,
            max_connections: 500_000,
            zeek_view: true,
        }
    }
}

/// Counters over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrackerStats {
    pub segments: u64,
    pub connections: u64,
    pub evicted: u64,
    pub port_reuses: u64,
    pub peak_tracked: usize,
    /// Connections the watch selector matched ([`Tracker::watch`]), those past its limit included.
    pub watch_matched: u64,
}

/// What the tracker reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The tracker stopped following a connection; the record says how it ended.
    Ended(Box<ConnectionRecord>),
}

/// A 4-tuple with its two endpoints in a fixed order, so both directions find the same entry, and
/// the tunnel that carried it ([`Segment::tunnel`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct FlowKey(SocketAddr, SocketAddr, u32);

/// Hashed on every segment: one write per endpoint (address and port together) rather than the derived
/// walk over each field of each `SocketAddr` (variant, octets, port, IPv6 flow label and scope id, which
/// are 0 in packets). Keys that are equal hash alike, as `Eq` requires.
impl Hash for FlowKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        for a in [self.0, self.1] {
            match a {
                SocketAddr::V4(v) => h.write_u64(u64::from(v.ip().to_bits()) << 16 | u64::from(v.port())),
                SocketAddr::V6(v) => {
                    h.write_u128(v.ip().to_bits());
                    h.write_u16(v.port());
                }
            }
        }
        h.write_u32(self.2);
    }
}

impl FlowKey {
    fn new(a: SocketAddr, b: SocketAddr, tunnel: u32) -> FlowKey {
        if a <= b {
            FlowKey(a, b, tunnel)
        } else {
            FlowKey(b, a, tunnel)
        }
    }

    fn of(seg: &Segment) -> FlowKey {
        FlowKey::new(seg.src, seg.dst, seg.tunnel)
    }
}

/// A tracked connection in the flow table.
struct Entry {
    /// Its first segment, with its id and start: all there is of it until a second segment comes, if
    /// that was a SYN ([`FirstSegment`]).
    first: FirstSegment,
    /// The connection, once built: boxed, since the table's slots are all as large as one of them.
    conn: Option<Box<Connection>>,
    /// The earliest deadline queued in the timer heap for this entry.
    queued: Timestamp,
}

impl Entry {
    fn id(&self) -> u64 {
        self.first.id
    }

    /// The connection, built now (with Zeek's view if `zeek_view`) if it was not yet.
    #[inline]
    fn built(&mut self, key: &FlowKey, zeek_view: bool) -> &mut Connection {
        let first = &self.first;
        self.conn
            .get_or_insert_with(|| first.build((key.0, key.1), key.2, zeek_view))
    }

    /// When the connection should stop being tracked if nothing else arrives ([`Tracker::deadline`]):
    /// an unbuilt one waits for its handshake.
    fn deadline(&self, config: &Config) -> Timestamp {
        match &self.conn {
            Some(conn) => Tracker::deadline(config, conn),
            None => self.first.at.plus_nanos(config.handshake_timeout),
        }
    }
}

/// The flow table. See the module documentation for the calling contract.
pub struct Tracker {
    config: Config,
    table: FlowTable<FlowKey, Entry>,
    /// Deadlines, earliest first (the earliest connection first among equal ones), with the slot of the
    /// entry they are for. Entries go stale when a connection is active again; a stale entry is
    /// re-queued at the connection's real deadline when it comes up (lazy deletion).
    timers: BinaryHeap<Reverse<(Timestamp, u64, u32)>>,
    events: VecDeque<Event>,
    next_id: u64,
    now: Timestamp,
    stats: TrackerStats,
    /// The connections whose every segment is recorded (the ladder diagram): `None` unless asked for,
    /// and then the only cost to every other connection is one test of it per segment.
    watch: Option<Box<Watch>>,
    /// The slots of the connections [`Tracker::finish`] ended and [`Tracker::poll_event`] has not
    /// reported yet, the oldest last.
    finishing: Vec<u32>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("tracked", &self.table.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Default for Tracker {
    fn default() -> Tracker {
        Tracker::new(Config::default())
    }
}

impl Tracker {
    #[must_use]
    pub fn new(config: Config) -> Tracker {
        Tracker {
            config: Config {
                max_connections: config.max_connections.max(1),
                ..config
            },
            table: FlowTable::default(),
            timers: BinaryHeap::new(),
            events: VecDeque::new(),
            next_id: 0,
            now: Timestamp(0),
            stats: TrackerStats::default(),
            watch: None,
            finishing: Vec::new(),
        }
    }

    /// Records every segment of the connections `select` matches when they start (the first
    /// `options.limit` of them), with both sides' states after it and its marks; each one's record
    /// then carries them ([`ConnectionRecord::steps`](crate::ConnectionRecord::steps)). Every other
    /// connection's memory stays as it was.
    pub fn watch(&mut self, select: impl FnMut(&Connection) -> bool + Send + 'static, options: WatchOptions) {
        self.watch = Some(Box::new(Watch::new(Box::new(select), options)));
    }

    #[must_use]
    pub fn stats(&self) -> TrackerStats {
        TrackerStats {
            watch_matched: self.watch.as_ref().map_or(0, |w| w.matched),
            ..self.stats
        }
    }

    /// Connections tracked right now.
    #[must_use]
    pub fn tracked(&self) -> usize {
        self.table.len()
    }

    /// The connection tracked now between `a` and `b` (either order) outside any tunnel, to look at
    /// its endpoints' states between segments (built if it was not yet: that changes nothing it says).
    pub fn connection(&mut self, a: SocketAddr, b: SocketAddr) -> Option<&Connection> {
        let key = FlowKey::new(a, b, 0);
        let slot = self.table.find(self.table.hash(&key), &key)?;
        let (key, entry) = self.table.get_mut(slot)?;
        Some(entry.built(key, self.config.zeek_view))
    }

    /// Applies one observed segment.
    #[inline]
    pub fn handle_segment(&mut self, now: Timestamp, seg: &Segment) {
        if self.watch.is_some() {
            self.handle_watched(now, seg);
        } else {
            self.apply(now, seg);
        }
    }

    /// [`Tracker::handle_segment`] with a watch: the connection is looked at before and after (and
    /// every connection is built at once, which [`Watch::consider`] and [`Watch::record`] look at).
    #[cold]
    fn handle_watched(&mut self, now: Timestamp, seg: &Segment) {
        let key = FlowKey::of(seg);
        let slot = self.table.find(self.table.hash(&key), &key);
        let before = match (&self.watch, slot.and_then(|s| self.table.get(s))) {
            (Some(w), Some((_, e))) => e.conn.as_deref().and_then(|c| w.before(c)),
            _ => None,
        };
        self.apply(now, seg);
        let slot = self.table.find(self.table.hash(&key), &key);
        if let (Some(w), Some((_, e))) = (&mut self.watch, slot.and_then(|s| self.table.get(s))) {
            if let Some(conn) = &e.conn {
                w.record(conn, seg, now, before);
            }
        }
    }

    #[inline]
    fn apply(&mut self, now: Timestamp, seg: &Segment) {
        self.stats.segments += 1;
        if now > self.now {
            self.now = now;
        }
        let key = FlowKey::of(seg);
        let hash = self.table.hash(&key);
        if let Some(slot) = self.table.find(hash, &key) {
            if let Some((key, entry)) = self.table.get_mut(slot) {
                let conn = entry.built(key, self.config.zeek_view);
                match conn.handle_segment(seg, now) {
                    Applied::Ok => {
                        let due = Self::deadline(&self.config, conn);
                        if due < entry.queued {
                            entry.queued = due;
                            self.timers.push(Reverse((due, entry.id(), slot)));
                        }
                        return;
                    }
                    Applied::NewConnection => {
                        self.stats.port_reuses += 1;
                        conn.reopen(now);
                        self.end(slot, EndReason::PortReused);
                    }
                }
            }
        }
        if self.table.len() >= self.config.max_connections {
            self.evict_one();
        }
        let id = self.next_id;
        let first = FirstSegment::new(id, seg, now, key.0);
        let conn = if self.watch.is_none() && FirstSegment::unbuilt(seg) {
            None
        } else {
            let conn = Box::new(Connection::new(id, seg, now, self.config.zeek_view));
            if let Some(w) = &mut self.watch {
                w.consider(&conn);
            }
            Some(conn)
        };
        self.next_id += 1;
        self.stats.connections += 1;
        let mut entry = Entry {
            first,
            conn,
            queued: Timestamp(0),
        };
        entry.queued = entry.deadline(&self.config);
        let due = entry.queued;
        let slot = self.table.insert(hash, key, entry);
        self.timers.push(Reverse((due, id, slot)));
        self.stats.peak_tracked = self.stats.peak_tracked.max(self.table.len());
        if self.timers.len() > 4 * self.table.len() + 1024 {
            self.rebuild_timers();
        }
    }

    /// When the connection should stop being tracked if nothing else arrives.
    fn deadline(config: &Config, conn: &Connection) -> Timestamp {
        if conn.finished() {
            return match conn.time_wait_since() {
                Some(t) => t.plus_nanos(config.time_wait),
                None => conn.last_seen().plus_nanos(config.closed_linger),
            };
        }
        let timeout = if conn.established() {
            config.idle_timeout
        } else {
            config.handshake_timeout
        };
        conn.last_seen().plus_nanos(timeout)
    }

    /// The earliest time at which [`Tracker::handle_timeout`] has work to do.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    /// The entry in `slot` if it still holds connection `id` and its real deadline is at or before
    /// `now`; otherwise (the timer was stale) the timer is queued again at the real deadline when there
    /// is one.
    fn due(&mut self, slot: u32, id: u64, now: Timestamp) -> Option<&mut (FlowKey, Entry)> {
        let (_, entry) = self.table.get_mut(slot).filter(|(_, e)| e.id() == id)?;
        let real = entry.deadline(&self.config);
        if real > now {
            entry.queued = real;
            self.timers.push(Reverse((real, id, slot)));
            return None;
        }
        self.table.get_mut(slot)
    }

    /// Ends every connection whose deadline is at or before `now`: TIME-WAIT expiry, idle and handshake
    /// timeouts, the quiet period after a close.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
        while let Some(&Reverse((due, id, slot))) = self.timers.peek() {
            if due > now {
                break;
            }
            self.timers.pop();
            let config = self.config;
            let Some((_, entry)) = self.due(slot, id, now) else {
                continue;
            };
            let reason = match entry.conn.as_deref_mut() {
                Some(conn) if conn.time_wait_since().is_some() => {
                    conn.expire_time_wait(Self::deadline(&config, conn));
                    EndReason::TimeWaitExpired
                }
                Some(conn) if conn.finished() => EndReason::Closed,
                _ => EndReason::IdleTimeout,
            };
            self.end(slot, reason);
        }
    }

    /// The next ended connection, if any. After [`Tracker::finish`], the connections still tracked
    /// come one by one, each record made when it is asked for: at the end of a flood that is a million
    /// records, which would otherwise all be held at once.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(event) = self.events.pop_front() {
            return Some(event);
        }
        if self.finishing.is_empty() {
            return None;
        }
        self.next_finishing()
    }

    /// The next connection [`Tracker::finish`] ended, reported now.
    #[cold]
    fn next_finishing(&mut self) -> Option<Event> {
        while let Some(slot) = self.finishing.pop() {
            if let Some((key, e)) = self.table.remove(slot) {
                return Some(Event::Ended(self.record(&key, &e, EndReason::EndOfCapture)));
            }
        }
        None
    }

    /// The evidence ended: every connection still tracked ends as it stands, oldest first
    /// ([`Tracker::poll_event`] reports them).
    pub fn finish(&mut self) {
        let mut rest: Vec<(Timestamp, u64, u32)> = self
            .table
            .iter_mut()
            .map(|(slot, (_, e))| (e.first.at, e.id(), slot))
            .collect();
        // The oldest last, since they are taken from the end.
        rest.sort_unstable_by(|a, b| b.cmp(a));
        self.finishing = rest.into_iter().map(|(_, _, slot)| slot).collect();
        self.timers = BinaryHeap::new();
    }

    fn end(&mut self, slot: u32, reason: EndReason) {
        if let Some((key, e)) = self.table.remove(slot) {
            let record = self.record(&key, &e, reason);
            self.events.push_back(Event::Ended(record));
        }
    }

    /// The ended connection's record, with its steps if it was watched.
    fn record(&mut self, key: &FlowKey, entry: &Entry, reason: EndReason) -> Box<ConnectionRecord> {
        let mut record = Box::new(match &entry.conn {
            Some(conn) => conn.record(reason),
            None => entry
                .first
                .connection((key.0, key.1), key.2, self.config.zeek_view)
                .record(reason),
        });
        if let (Some(w), Some(conn)) = (&mut self.watch, &entry.conn) {
            record.steps = w.take(conn);
        }
        record
    }

    /// Evicts the connection with the earliest real deadline (the least recently active, roughly).
    fn evict_one(&mut self) {
        while let Some(Reverse((_, id, slot))) = self.timers.pop() {
            let Some((_, entry)) = self.table.get_mut(slot).filter(|(_, e)| e.id() == id) else {
                continue;
            };
            let real = entry.deadline(&self.config);
            if real > entry.queued {
                // Stale: the connection was active since; queue it at its real deadline and look again.
                entry.queued = real;
                self.timers.push(Reverse((real, id, slot)));
                continue;
            }
            self.stats.evicted += 1;
            self.end(slot, EndReason::Evicted);
            return;
        }
    }

    /// Drops stale timer entries so the heap stays proportional to the table.
    fn rebuild_timers(&mut self) {
        let config = self.config;
        self.timers = self
            .table
            .iter_mut()
            .map(|(slot, (_, e))| {
                e.queued = e.deadline(&config);
                Reverse((e.queued, e.id(), slot))
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, Entry, FlowKey, Tracker};
    use crate::first_segment::FirstSegment;
    use crate::segment::{Flags, Segment, Timestamp};

    /// An unbuilt connection's deadline ([`Entry::deadline`]) is the one the connection has once built,
    /// for every SYN that is kept unbuilt: with ECN bits, with Fast Open data.
    #[test]
    fn an_unbuilt_connection_keeps_the_deadline_of_a_built_one() {
        let config = Config::default();
        let mut syn = Segment::between("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
        for (flags, payload) in [
            (Flags::SYN, 0),
            (Flags::SYN | Flags::ECE | Flags::CWR, 0),
            (Flags::SYN | Flags::PSH, 100),
        ] {
            (syn.flags, syn.payload_len) = (Flags(flags), payload);
            assert!(FirstSegment::unbuilt(&syn));
            let key = FlowKey::of(&syn);
            let mut entry = Entry {
                first: FirstSegment::new(1, &syn, Timestamp(7), key.0),
                conn: None,
                queued: Timestamp(0),
            };
            let unbuilt = entry.deadline(&config);
            let built = Tracker::deadline(&config, entry.built(&key, true));
            assert_eq!(unbuilt, built, "flags {flags:#x}, {payload} bytes");
        }
    }
}
