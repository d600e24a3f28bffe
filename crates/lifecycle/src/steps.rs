//! The segments of the connections a caller asked to see, one step each (the ladder diagram's rows).
//!
//! Only watched connections pay: the tracker keeps a side table of recorders keyed by connection id
//! (`Watch`), so that [`crate::connection::Connection`] stays the same size and every other connection
//! costs nothing more. Long data phases fold as they are recorded (unless the caller asks for every
//! segment), and a ladder keeps at most [`MAX_ITEMS`] rows: memory stays bounded by the number of
//! watched connections, whatever their length.

use crate::connection::{Anomalies, Connection};
use crate::ending::Side;
use crate::segment::{Flags, Segment, Timestamp};
use crate::seq::Seq;
use crate::state::State;
use std::collections::{HashMap, VecDeque};

/// Plain segments shown before a long data phase folds.
pub const FOLD_HEAD: usize = 3;
/// Plain segments shown after it.
pub const FOLD_TAIL: usize = 2;
/// Rows a ladder keeps; the segments beyond them are counted in [`Steps::omitted`].
pub const MAX_ITEMS: usize = 100_000;

/// What a segment showed beyond its header. Names are the JSON names of [`Anomalies`]' fields, plus
/// two of the ladder's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The segment's sequence space was all sent before (a retransmitted SYN, FIN or payload), as far
    /// as the sender's earlier segments show.
    Retransmission,
    /// The connection was already reset: the receiver had no socket left for it (RFC 9293 §3.10.7.4).
    AfterReset,
    OutOfWindowRst,
    BadSynackAck,
    SynInSynchronized,
    DataAfterFin,
    ExtraRst,
    HalfOpenDiscovery,
    OutOfWindowData,
    IgnoredRst,
}

impl Mark {
    /// Every mark, in the order a ladder lists them.
    pub const ALL: [Mark; 10] = [
        Mark::Retransmission,
        Mark::AfterReset,
        Mark::OutOfWindowRst,
        Mark::BadSynackAck,
        Mark::SynInSynchronized,
        Mark::DataAfterFin,
        Mark::ExtraRst,
        Mark::HalfOpenDiscovery,
        Mark::OutOfWindowData,
        Mark::IgnoredRst,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Mark::Retransmission => "retransmission",
            Mark::AfterReset => "after_reset",
            Mark::OutOfWindowRst => "out_of_window_rst",
            Mark::BadSynackAck => "bad_synack_ack",
            Mark::SynInSynchronized => "syn_in_synchronized",
            Mark::DataAfterFin => "data_after_fin",
            Mark::ExtraRst => "extra_rst",
            Mark::HalfOpenDiscovery => "half_open_discovery",
            Mark::OutOfWindowData => "out_of_window_data",
            Mark::IgnoredRst => "ignored_rst",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Mark`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks(u16);

impl Marks {
    #[must_use]
    pub fn with(self, mark: Mark, on: bool) -> Marks {
        if on { Marks(self.0 | mark.bit()) } else { self }
    }

    #[must_use]
    pub fn contains(self, mark: Mark) -> bool {
        self.0 & mark.bit() != 0
    }

    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The marks set, in [`Mark::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Mark> {
        Mark::ALL.into_iter().filter(move |m| self.contains(*m))
    }
}

/// One segment of a watched connection, with both sides' states after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Timestamp,
    pub from: Side,
    pub flags: Flags,
    pub seq: Seq,
    pub ack: Seq,
    pub len: u32,
    pub client_state: State,
    pub server_state: State,
    pub marks: Marks,
}

/// A run of plain segments (no SYN, FIN or RST, no mark, no state change) folded into one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub first: Timestamp,
    pub last: Timestamp,
    /// Segments each way: `[client→server, server→client]`.
    pub segments: [u64; 2],
    /// Payload bytes each way, as the segments' lengths add up.
    pub bytes: [u64; 2],
    pub client_state: State,
    pub server_state: State,
}

impl Fold {
    fn of(s: &Step) -> Fold {
        let mut f = Fold {
            first: s.at,
            last: s.at,
            segments: [0; 2],
            bytes: [0; 2],
            client_state: s.client_state,
            server_state: s.server_state,
        };
        f.add(s);
        f
    }

    fn add(&mut self, s: &Step) {
        let i = index(s.from);
        self.last = s.at;
        self.segments[i] += 1;
        self.bytes[i] += u64::from(s.len);
    }

    /// Segments both ways.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.segments[0] + self.segments[1]
    }
}

/// A row of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Segment(Step),
    Folded(Fold),
}

/// The recorded segments of one watched connection, as its record carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Steps {
    pub items: Vec<Item>,
    /// Where relative sequence numbers count from, `[client, server]`: the side's ISN (its SYN's
    /// sequence number, or one below what its peer acknowledged of a SYN not seen), else its first
    /// segment's sequence number, else the first acknowledgement of it its peer sent.
    pub base: [Option<Seq>; 2],
    /// Segments past [`MAX_ITEMS`] rows, counted only.
    pub omitted: u64,
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// Builds one connection's [`Steps`] segment by segment, folding long data phases as they go.
#[derive(Debug)]
struct Recorder {
    steps: Steps,
    fold: bool,
    /// Both sides' states after the last segment.
    states: (State, State),
    /// Plain segments in the current run.
    run: usize,
    /// The run's last plain segments, shown after its fold.
    tail: VecDeque<Step>,
    folded: Option<Fold>,
    /// The fold's first segment, shown as itself if the fold ends with no other.
    fold_first: Option<Step>,
    first_seq: [Option<Seq>; 2],
    /// The end of each side's sequence space as its segments occupied it since its SYN: a segment that
    /// ends at or before it was all sent before. Payload outside the receiver's window does not move
    /// it, nor does a segment that occupies none (a bare ACK's number is no proof).
    sent_to: [Option<Seq>; 2],
    /// Each side's last SYN's sequence number (its ISN).
    syn_seq: [Option<Seq>; 2],
}

impl Recorder {
    fn new(fold: bool) -> Recorder {
        Recorder {
            steps: Steps::default(),
            fold,
            states: (State::Closed, State::Closed),
            run: 0,
            tail: VecDeque::new(),
            folded: None,
            fold_first: None,
            first_seq: [None; 2],
            sent_to: [None; 2],
            syn_seq: [None; 2],
        }
    }

    fn record(&mut self, mut step: Step) {
        let (me, peer) = (index(step.from), index(step.from.other()));
        self.first_seq[me].get_or_insert(step.seq);
        // RFC 9293 §3.4: SYN and FIN occupy a sequence number each, like a byte of payload.
        let seq_len = step
            .len
            .saturating_add(u32::from(step.flags.syn()) + u32::from(step.flags.fin()));
        let end = step.seq.plus(seq_len);
        let retransmission = if step.flags.syn() {
            // The same ISN again; a new one starts the side's sequence space anew.
            let again = self.syn_seq[me] == Some(step.seq);
            if !again {
                self.syn_seq[me] = Some(step.seq);
                self.sent_to[me] = Some(end);
            }
            again
        } else {
            seq_len > 0 && self.sent_to[me].is_some_and(|n| end.precedes_or_eq(n))
        };
        step.marks = step.marks.with(Mark::Retransmission, retransmission);
        if seq_len > 0 && !step.marks.contains(Mark::OutOfWindowData) {
            self.sent_to[me] = Some(self.sent_to[me].map_or(end, |n| n.max_seq(end)));
        }
        if step.flags.ack() {
            self.first_seq[peer].get_or_insert(step.ack);
        }
        let states = (step.client_state, step.server_state);
        let control = Flags::SYN | Flags::FIN | Flags::RST;
        let plain = step.flags.0 & control == 0 && step.marks.is_empty() && states == self.states;
        self.states = states;
        if !plain || !self.fold {
            self.end_run();
            self.push(Item::Segment(step));
            return;
        }
        self.run += 1;
        if self.run <= FOLD_HEAD {
            self.push(Item::Segment(step));
            return;
        }
        self.tail.push_back(step);
        if self.tail.len() > FOLD_TAIL
            && let Some(s) = self.tail.pop_front()
        {
            match &mut self.folded {
                Some(f) => f.add(&s),
                None => {
                    self.folded = Some(Fold::of(&s));
                    self.fold_first = Some(s);
                }
            }
        }
    }

    fn push(&mut self, item: Item) {
        if self.steps.items.len() < MAX_ITEMS {
            self.steps.items.push(item);
        } else {
            self.steps.omitted += match item {
                Item::Segment(_) => 1,
                Item::Folded(f) => f.total(),
            };
        }
    }

    /// A run of plain segments ended: its fold and its tail become rows.
    fn end_run(&mut self) {
        match (self.folded.take(), self.fold_first.take()) {
            (Some(f), Some(s)) if f.total() == 1 => self.push(Item::Segment(s)),
            (Some(f), _) => self.push(Item::Folded(f)),
            _ => {}
        }
        while let Some(s) = self.tail.pop_front() {
            self.push(Item::Segment(s));
        }
        self.run = 0;
    }

    fn finish(mut self, conn: &Connection) -> Steps {
        self.end_run();
        let isn = [conn.client().isn, conn.server().isn];
        self.steps.base = [isn[0].or(self.first_seq[0]), isn[1].or(self.first_seq[1])];
        self.steps
    }
}

/// Which connections to watch and how: see [`crate::tracker::Tracker::watch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchOptions {
    /// The most connections watched; later matches are only counted.
    pub limit: usize,
    /// Fold long data phases (the ladder's default; `--all` turns it off).
    pub fold: bool,
}

/// The tracker's side table of watched connections.
pub(crate) struct Watch {
    select: Box<dyn FnMut(&Connection) -> bool + Send>,
    options: WatchOptions,
    recorders: HashMap<u64, Recorder>,
    watched: usize,
    pub(crate) matched: u64,
}

/// What a segment's step is measured against: its connection just before it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Before {
    id: u64,
    anomalies: Anomalies,
    reset: bool,
}

impl Watch {
    pub(crate) fn new(select: Box<dyn FnMut(&Connection) -> bool + Send>, options: WatchOptions) -> Watch {
        Watch {
            select,
            options,
            recorders: HashMap::new(),
            watched: 0,
            matched: 0,
        }
    }

    /// A connection starts: watch it if it matches and the limit allows.
    pub(crate) fn consider(&mut self, conn: &Connection) {
        if !(self.select)(conn) {
            return;
        }
        self.matched += 1;
        if self.watched < self.options.limit {
            self.watched += 1;
            self.recorders.insert(conn.id, Recorder::new(self.options.fold));
        }
    }

    /// The connection as it stands before a segment, if it is watched.
    pub(crate) fn before(&self, conn: &Connection) -> Option<Before> {
        self.recorders.contains_key(&conn.id).then(|| Before {
            id: conn.id,
            anomalies: conn.anomalies(),
            reset: conn.was_reset(),
        })
    }

    /// `seg` was applied to `conn` (`before` is the connection before it, if it already existed).
    pub(crate) fn record(
        &mut self,
        conn: &Connection,
        seg: &Segment,
        now: Timestamp,
        before: Option<Before>,
    ) {
        let Some(recorder) = self.recorders.get_mut(&conn.id) else {
            return;
        };
        let before = before.filter(|b| b.id == conn.id).unwrap_or(Before {
            id: conn.id,
            anomalies: Anomalies::default(),
            reset: false,
        });
        let from = if seg.src == conn.client().addr {
            Side::Client
        } else {
            Side::Server
        };
        let marks = conn
            .anomalies()
            .marks_since(&before.anomalies)
            .with(Mark::AfterReset, before.reset && conn.was_reset());
        recorder.record(Step {
            at: now,
            from,
            flags: seg.flags,
            seq: seg.seq,
            ack: seg.ack,
            len: seg.payload_len,
            client_state: conn.client().state(),
            server_state: conn.server().state(),
            marks,
        });
    }

    /// The connection ended: its steps, if it was watched.
    pub(crate) fn take(&mut self, conn: &Connection) -> Option<Box<Steps>> {
        self.recorders.remove(&conn.id).map(|r| Box::new(r.finish(conn)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment that follows the sender's previous one in sequence space.
    fn step(from: Side, flags: u8, len: u32, states: (State, State)) -> Step {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(1);
        Step {
            at: Timestamp(1),
            from,
            flags: Flags(flags),
            seq: Seq(NEXT.fetch_add(len + 1, Ordering::Relaxed)),
            ack: Seq(0),
            len,
            client_state: states.0,
            server_state: states.1,
            marks: Marks::default(),
        }
    }

    const EST: (State, State) = (State::Established, State::Established);

    fn kinds(r: &Recorder) -> Vec<String> {
        r.steps
            .items
            .iter()
            .map(|i| match i {
                Item::Segment(s) => format!("{:?}", s.flags),
                Item::Folded(f) => format!("fold {}", f.total()),
            })
            .collect()
    }

    #[test]
    fn a_long_data_phase_folds_between_its_first_and_last_segments() {
        let mut r = Recorder::new(true);
        r.record(step(Side::Client, Flags::ACK, 0, EST)); // a state change: shown
        for i in 0..20 {
            let from = if i % 2 == 0 { Side::Server } else { Side::Client };
            r.record(step(
                from,
                Flags::ACK,
                if from == Side::Server { 1000 } else { 0 },
                EST,
            ));
        }
        r.record(step(
            Side::Client,
            Flags::FIN | Flags::ACK,
            0,
            (State::FinWait1, State::Established),
        ));
        let fold = r.steps.items.iter().find_map(|i| match i {
            Item::Folded(f) => Some(*f),
            _ => None,
        });
        assert_eq!(
            kinds(&r),
            ["[.]", "[.]", "[.]", "[.]", "fold 15", "[.]", "[.]", "[F.]"]
        );
        let f = fold.unwrap();
        assert_eq!(f.segments, [8, 7]);
        assert_eq!(f.bytes, [0, 7000]);
    }

    #[test]
    fn a_fold_of_one_segment_is_shown_as_that_segment() {
        let mut r = Recorder::new(true);
        r.record(step(Side::Client, Flags::ACK, 0, EST));
        for _ in 0..FOLD_HEAD + FOLD_TAIL + 1 {
            r.record(step(Side::Server, Flags::ACK, 10, EST));
        }
        r.record(step(Side::Client, Flags::RST, 0, (State::Closed, State::Closed)));
        assert!(kinds(&r).iter().all(|k| !k.starts_with("fold")));
        assert_eq!(r.steps.items.len(), FOLD_HEAD + FOLD_TAIL + 3);
    }

    #[test]
    fn without_folding_every_segment_is_a_row() {
        let mut r = Recorder::new(false);
        for _ in 0..50 {
            r.record(step(Side::Server, Flags::ACK, 10, EST));
        }
        r.end_run();
        assert_eq!(r.steps.items.len(), 50);
    }

    #[test]
    fn marked_segments_break_a_run() {
        let mut r = Recorder::new(true);
        r.record(step(Side::Client, Flags::ACK, 0, EST));
        for i in 0..30 {
            let mut s = step(Side::Server, Flags::ACK, 10, EST);
            s.marks = s.marks.with(Mark::Retransmission, i == 15);
            r.record(s);
        }
        r.end_run();
        assert_eq!(
            kinds(&r).iter().filter(|k| k.starts_with("fold")).count(),
            2,
            "{:?}",
            kinds(&r)
        );
    }

    #[test]
    fn rows_past_the_cap_are_counted() {
        let mut r = Recorder::new(false);
        for _ in 0..MAX_ITEMS + 7 {
            r.record(step(Side::Server, Flags::ACK, 10, EST));
        }
        assert_eq!(r.steps.items.len(), MAX_ITEMS);
        assert_eq!(r.steps.omitted, 7);
    }

    /// Watching adds nothing to a connection: the steps live in the tracker's side table. 640 bytes
    /// on x86-64 (1288 before Zeek's view moved out to its own box); a change here costs every tracked
    /// connection.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_connection_is_no_larger_for_the_ladder() {
        assert_eq!(std::mem::size_of::<Connection>(), 640);
    }

    /// The tracker's doc transcript, with one of two connections watched: its record carries a step
    /// per segment, with both sides' states after it; the other's carries none.
    #[test]
    fn only_the_watched_connection_records_steps() {
        use crate::{Event, Tracker};
        use State::*;
        let server: std::net::SocketAddr = "10.0.0.2:80".parse().unwrap();
        let clients: [std::net::SocketAddr; 2] = [
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.1:40001".parse().unwrap(),
        ];
        const SYN: u8 = Flags::SYN;
        const ACK: u8 = Flags::ACK;
        const FIN: u8 = Flags::FIN;
        let transcript = [
            ((true, SYN, 100, 0), (SynSent, Closed)),
            ((true, SYN, 100, 0), (SynSent, Closed)),
            ((false, SYN | ACK, 500, 101), (SynSent, SynReceived)),
            ((true, ACK, 101, 501), (Established, Established)),
            ((true, FIN | ACK, 101, 501), (FinWait1, Established)),
            ((false, ACK, 501, 102), (FinWait2, CloseWait)),
            ((false, FIN | ACK, 501, 102), (FinWait2, LastAck)),
            ((true, ACK, 102, 502), (TimeWait, Closed)),
        ];
        let mut tracker = Tracker::default();
        let watched = clients[1];
        tracker.watch(
            move |c| c.client().addr == watched,
            WatchOptions { limit: 5, fold: true },
        );
        for (ms, ((from_client, flags, seq, ack), _)) in (1..).zip(transcript) {
            for client in clients {
                let (src, dst) = if from_client {
                    (client, server)
                } else {
                    (server, client)
                };
                let mut seg = Segment::between(src, dst);
                (seg.flags, seg.seq, seg.ack) = (Flags(flags), Seq(seq), Seq(ack));
                tracker.handle_segment(Timestamp(ms * 1_000_000), &seg);
            }
        }
        tracker.finish();
        assert_eq!(tracker.stats().watch_matched, 1);
        let mut records = Vec::new();
        while let Some(Event::Ended(r)) = tracker.poll_event() {
            records.push(r);
        }
        assert_eq!(records.len(), 2);
        assert!(records[0].steps.is_none());
        let steps = records[1].steps.as_deref().unwrap();
        assert_eq!(steps.base, [Some(Seq(100)), Some(Seq(500))]);
        let got: Vec<_> = steps
            .items
            .iter()
            .map(|i| match i {
                Item::Segment(s) => (
                    (s.client_state, s.server_state),
                    s.marks.iter().collect::<Vec<_>>(),
                ),
                Item::Folded(_) => unreachable!(),
            })
            .collect();
        let want: Vec<_> = transcript
            .iter()
            .enumerate()
            .map(|(i, (_, states))| {
                (
                    *states,
                    if i == 1 {
                        vec![Mark::Retransmission]
                    } else {
                        vec![]
                    },
                )
            })
            .collect();
        assert_eq!(got, want);
    }

    /// Past the limit, matches are counted and not recorded.
    #[test]
    fn the_watch_limit_holds() {
        use crate::{Event, Tracker};
        let mut tracker = Tracker::default();
        tracker.watch(|_| true, WatchOptions { limit: 2, fold: true });
        for port in 0..5u16 {
            let src = std::net::SocketAddr::from(([10, 0, 0, 1], 40_000 + port));
            let mut seg = Segment::between(src, "10.0.0.2:80".parse().unwrap());
            seg.flags = Flags(Flags::SYN);
            tracker.handle_segment(Timestamp(u64::from(port) + 1), &seg);
        }
        tracker.finish();
        assert_eq!(tracker.stats().watch_matched, 5);
        let mut with_steps = 0;
        while let Some(Event::Ended(r)) = tracker.poll_event() {
            with_steps += usize::from(r.steps.is_some());
        }
        assert_eq!(with_steps, 2);
    }
}
