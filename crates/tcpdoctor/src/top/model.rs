//! Everything `tcpdoctor top` shows, and the one place it changes: [`Model::handle`] takes each
//! [`Event`] (a key, a snapshot from the worker, a batch of kernel events, a tick) in the order the
//! channel delivers them. The widgets only read the model, and the rows every pane shows are computed
//! here ([`Model::rows`]) so that sorting, filtering, selection and Enter agree on what a row is.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use doctor::Peer;
use lifecycle::kernel::{Counters, Diagnosis, HostEvidence, KernelState, SocketRecord};
use lifecycle::kernel_event::{EventKind, KernelEvent};
use report::safe::terminal;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Samples of the state counts kept for the sparklines: ten minutes at the default interval.
pub const HISTORY: usize = 600;
/// Kernel events kept for the feed, newest first.
pub const FEED: usize = 1000;
/// Sockets listed in a detail view: a process can hold hundreds of thousands.
pub const DETAIL_ROWS: usize = 1000;

/// One snapshot of the host, taken and diagnosed by the worker thread.
#[derive(Debug)]
pub struct Snapshot {
    pub evidence: HostEvidence,
    pub diagnosis: Diagnosis,
    /// When it was taken, and how long that took.
    pub taken: Instant,
    pub took: Duration,
}

/// What the model reacts to: everything arrives on one channel.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Snapshot(Box<Snapshot>),
    SnapshotFailed(String),
    /// Kernel events from the tracepoints, and whether this kernel gives reset reasons.
    Trace(Vec<KernelEvent>, bool),
    /// Why there is no trace feed (not root, no tracefs).
    TraceUnavailable(String),
    /// The terminal was resized: only a redraw is needed.
    Resize,
    /// Nothing happened for a while: time to check for signals.
    Tick,
}

/// The panes Tab cycles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    CloseWait,
    TimeWaitByPeer,
    TimeWaitByPort,
    Listeners,
    Feed,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::CloseWait,
        Pane::TimeWaitByPeer,
        Pane::TimeWaitByPort,
        Pane::Listeners,
        Pane::Feed,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::CloseWait => "CLOSE-WAIT",
            Pane::TimeWaitByPeer => "TIME-WAIT by peer",
            Pane::TimeWaitByPort => "TIME-WAIT by port",
            Pane::Listeners => "LISTENERS",
            Pane::Feed => "RESETS & STATES",
        }
    }

    /// The column titles of this pane's table.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Pane::CloseWait => &["PROCESS", "PEER", "COUNT", "UNREAD", "OLDEST IDLE"],
            Pane::TimeWaitByPeer => &["PEER", "COUNT", "CLOSED FIRST"],
            Pane::TimeWaitByPort => &["LOCAL PORT", "COUNT", "CLOSED FIRST"],
            Pane::Listeners => &[
                "LISTENING ON",
                "PROCESS",
                "QUEUED",
                "BACKLOG",
                "FILL",
                "SYN-RECEIVED",
            ],
            Pane::Feed => &["EVENT (newest first)"],
        }
    }

    /// The orders `s` cycles through, the first being the default.
    pub fn sorts(self) -> &'static [Sort] {
        match self {
            Pane::CloseWait => &[Sort::Count, Sort::Unread, Sort::Idle, Sort::Name],
            Pane::TimeWaitByPeer | Pane::TimeWaitByPort => &[Sort::Count, Sort::Name],
            Pane::Listeners => &[Sort::Fill, Sort::Count, Sort::Name],
            Pane::Feed => &[Sort::Newest],
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// A row order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Most sockets first (for listeners: most queued).
    Count,
    Unread,
    Idle,
    /// Accept queue fill, fullest first.
    Fill,
    /// By the first column's text.
    Name,
    Newest,
}

impl Sort {
    pub fn name(self) -> &'static str {
        match self {
            Sort::Count => "count",
            Sort::Unread => "unread",
            Sort::Idle => "idle",
            Sort::Fill => "fill",
            Sort::Name => "name",
            Sort::Newest => "newest",
        }
    }
}

/// What Enter opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Process { pid: u32, comm: String },
    Peer(Peer),
}

impl Subject {
    fn holds(&self, s: &SocketRecord) -> bool {
        match self {
            Subject::Process { pid, .. } => s.owners.iter().any(|o| o.pid == *pid),
            Subject::Peer(p) => {
                s.remote.ip() == p.ip
                    && p.port.is_none_or(|port| s.remote.port() == port)
                    && p.local_port.is_none_or(|port| s.local.port() == port)
            }
        }
    }

    pub fn title(&self) -> String {
        match self {
            Subject::Process { pid, comm } => format!("{}[{pid}]", terminal(comm)),
            Subject::Peer(p) => format!("peer {p}"),
        }
    }
}

/// One row of a pane: its cells as shown, the numbers it sorts by, and what Enter opens.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub cells: Vec<String>,
    /// Count, unread bytes, idle ms, fill: the keys of [`Sort`].
    keys: [f64; 4],
    pub subject: Option<Subject>,
}

/// Rates from the kernel's counters between the last two snapshots, per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// `Tcp.ActiveOpens + Tcp.PassiveOpens`: connect()s that sent a SYN and handshakes accepted.
    pub opened: f64,
    /// The change in TIME-WAIT sockets plus those that left it on their timer or were reused
    /// (`TcpExt.TW`, `TWKilled`, `TWRecycled`). TIME-WAIT sockets ended early by a reset or a new SYN
    /// are counted nowhere, so this can be low, never high.
    pub time_wait: f64,
    /// `Tcp.OutRsts`: segments sent with RST.
    pub resets_sent: f64,
}

/// The filter being typed after `/`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Editing(pub String);

/// The state of the whole view.
#[derive(Debug)]
pub struct Model {
    pub interval: Duration,
    /// The `--netns` being shown.
    pub netns: Option<String>,
    pub latest: Option<Snapshot>,
    /// Total sockets per state (index: [`KernelState`] number − 1), oldest first.
    pub history: VecDeque<[u64; 12]>,
    pub rates: Option<Rates>,
    /// Kernel events rendered as lines, newest first.
    pub feed: VecDeque<String>,
    /// `None` until the tracer answered; then whether it runs, and if not why.
    pub feed_status: Option<Result<(), String>>,
    pub snapshot_error: Option<String>,
    pub pane: Pane,
    /// Per pane, the index into [`Pane::sorts`].
    sort: [usize; 5],
    pub filter: String,
    pub editing: Option<Editing>,
    pub paused: bool,
    /// While paused: the newest snapshot and the kernel events that arrived, applied on resume.
    held: Option<Box<Snapshot>>,
    held_feed: Vec<String>,
    pub help: bool,
    pub detail: Option<Subject>,
    /// Selected row of the current pane (clamped when drawn) and the detail view's scroll.
    pub selected: usize,
    pub detail_scroll: usize,
    pub quit: bool,
}

impl Model {
    pub fn new(interval: Duration, netns: Option<String>) -> Model {
        Model {
            interval,
            netns,
            latest: None,
            history: VecDeque::new(),
            rates: None,
            feed: VecDeque::new(),
            feed_status: None,
            snapshot_error: None,
            pane: Pane::CloseWait,
            sort: [0; 5],
            filter: String::new(),
            editing: None,
            paused: false,
            held: None,
            held_feed: Vec::new(),
            help: false,
            detail: None,
            selected: 0,
            detail_scroll: 0,
            quit: false,
        }
    }

    /// Applies one event. Returns whether the screen must be redrawn.
    pub fn handle(&mut self, event: Event) -> bool {
        match event {
            Event::Key(key) => {
                self.key(key);
                true
            }
            Event::Snapshot(s) if self.paused => {
                self.held = Some(s);
                false
            }
            Event::Snapshot(s) => {
                self.apply(*s);
                true
            }
            Event::SnapshotFailed(e) => {
                self.snapshot_error = Some(e);
                true
            }
            Event::Trace(events, reasons) => {
                // The first batch (empty) says that the tracer started.
                self.feed_status.get_or_insert(Ok(()));
                let lines = events.iter().filter_map(|e| feed_line(e, reasons));
                if self.paused {
                    self.held_feed.extend(lines);
                    self.held_feed.drain(..self.held_feed.len().saturating_sub(FEED));
                    false
                } else {
                    for line in lines {
                        self.push_feed(line);
                    }
                    self.pane == Pane::Feed
                }
            }
            Event::TraceUnavailable(why) => {
                self.feed_status = Some(Err(why));
                true
            }
            Event::Resize => true,
            Event::Tick => false,
        }
    }

    fn push_feed(&mut self, line: String) {
        self.feed.push_front(line);
        self.feed.truncate(FEED);
    }

    fn apply(&mut self, s: Snapshot) {
        if let Some(prev) = &self.latest {
            let secs = s.taken.duration_since(prev.taken).as_secs_f64();
            self.rates = rates(
                &prev.evidence.counters,
                &s.evidence.counters,
                &prev.diagnosis,
                &s.diagnosis,
                secs,
            );
        }
        let mut sample = [0u64; 12];
        for c in &s.diagnosis.states {
            sample[usize::from(c.state.number() - 1)] = c.v4 + c.v6;
        }
        self.history.push_back(sample);
        if self.history.len() > HISTORY {
            self.history.pop_front();
        }
        self.snapshot_error = None;
        self.latest = Some(s);
    }

    fn key(&mut self, key: KeyEvent) {
        let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl_c {
            self.quit = true;
            return;
        }
        if let Some(Editing(text)) = &mut self.editing {
            match key.code {
                KeyCode::Char(c) => text.push(c),
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Enter => {
                    self.filter = std::mem::take(text);
                    self.editing = None;
                    self.selected = 0;
                }
                KeyCode::Esc => self.editing = None,
                _ => {}
            }
            return;
        }
        if self.help {
            match key.code {
                KeyCode::Char('q') => self.quit = true,
                _ => self.help = false,
            }
            return;
        }
        if self.detail.is_some() {
            match key.code {
                KeyCode::Char('q') => self.quit = true,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Backspace => self.detail = None,
                KeyCode::Down | KeyCode::Char('j') => self.detail_scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => self.detail_scroll = self.detail_scroll.saturating_sub(1),
                KeyCode::PageDown => self.detail_scroll += 10,
                KeyCode::PageUp => self.detail_scroll = self.detail_scroll.saturating_sub(10),
                KeyCode::Char(' ') => self.toggle_pause(),
                _ => {}
            }
            return;
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Tab => self.switch(1),
            KeyCode::BackTab => self.switch(Pane::ALL.len() - 1),
            KeyCode::Char('s') => {
                let i = self.pane.index();
                self.sort[i] = (self.sort[i] + 1) % self.pane.sorts().len();
                self.selected = 0;
            }
            KeyCode::Char('/') => self.editing = Some(Editing(self.filter.clone())),
            KeyCode::Esc => {
                self.filter.clear();
                self.selected = 0;
            }
            KeyCode::Char(' ') => self.toggle_pause(),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(self.rows().len().saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Enter => {
                self.detail = self.rows().get(self.selected).and_then(|r| r.subject.clone());
                self.detail_scroll = 0;
            }
            _ => {}
        }
    }

    fn switch(&mut self, by: usize) {
        self.pane = Pane::ALL[(self.pane.index() + by) % Pane::ALL.len()];
        self.selected = 0;
    }

    fn toggle_pause(&mut self) {
        self.paused = !self.paused;
        if !self.paused {
            if let Some(s) = self.held.take() {
                self.apply(*s);
            }
            for line in std::mem::take(&mut self.held_feed) {
                self.push_feed(line);
            }
        }
    }

    /// The current pane's order.
    pub fn sort(&self) -> Sort {
        let sorts = self.pane.sorts();
        sorts[self.sort[self.pane.index()] % sorts.len()]
    }

    /// The current pane's rows: sorted, then narrowed by the filter (a row matches when any cell
    /// contains the text, ignoring case).
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = match (self.pane, &self.latest) {
            (Pane::Feed, _) => self
                .feed
                .iter()
                .map(|l| Row {
                    cells: vec![l.clone()],
                    keys: [0.0; 4],
                    subject: None,
                })
                .collect(),
            (_, None) => Vec::new(),
            (pane, Some(s)) => table_rows(pane, &s.diagnosis),
        };
        let key = match self.sort() {
            Sort::Count => Some(0),
            Sort::Unread => Some(1),
            Sort::Idle => Some(2),
            Sort::Fill => Some(3),
            Sort::Name | Sort::Newest => None,
        };
        match key {
            Some(k) => rows.sort_by(|a, b| b.keys[k].total_cmp(&a.keys[k])),
            None if self.sort() == Sort::Name => rows.sort_by(|a, b| a.cells[0].cmp(&b.cells[0])),
            None => {}
        }
        if !self.filter.is_empty() {
            let wanted = self.filter.to_lowercase();
            rows.retain(|r| r.cells.iter().any(|c| c.to_lowercase().contains(&wanted)));
        }
        rows
    }

    /// The sockets of the open detail view, in state then address order, at most [`DETAIL_ROWS`], and
    /// how many there are in all.
    pub fn detail_sockets(&self) -> (Vec<&SocketRecord>, usize) {
        let (Some(subject), Some(s)) = (&self.detail, &self.latest) else {
            return (Vec::new(), 0);
        };
        let mut all: Vec<&SocketRecord> = s.evidence.sockets.iter().filter(|r| subject.holds(r)).collect();
        let total = all.len();
        all.sort_by_key(|r| (r.state, r.remote, r.local));
        all.truncate(DETAIL_ROWS);
        (all, total)
    }
}

/// The rows of a table pane, unsorted, from the diagnosis `status` prints.
fn table_rows(pane: Pane, d: &Diagnosis) -> Vec<Row> {
    let count = |n: u64| n.to_string();
    match pane {
        Pane::CloseWait => d
            .close_wait
            .iter()
            .map(|g| {
                let peer = Peer {
                    ip: g.peer_ip,
                    port: g.peer_port,
                    local_port: g.local_port,
                };
                let (process, subject) = match (g.pid, &g.comm) {
                    (Some(pid), Some(comm)) => (
                        format!("{}[{pid}]", terminal(comm)),
                        Subject::Process {
                            pid,
                            comm: comm.clone(),
                        },
                    ),
                    _ => ("(owner unknown)".to_string(), Subject::Peer(peer)),
                };
                Row {
                    cells: vec![
                        process,
                        peer.to_string(),
                        count(g.count),
                        doctor::human::bytes(g.unread_bytes),
                        g.max_idle_ms.map_or_else(|| "?".into(), doctor::human::millis),
                    ],
                    keys: [
                        g.count as f64,
                        g.unread_bytes as f64,
                        g.max_idle_ms.unwrap_or(0) as f64,
                        0.0,
                    ],
                    subject: Some(subject),
                }
            })
            .collect(),
        Pane::TimeWaitByPeer => d
            .time_wait
            .by_remote
            .iter()
            .map(|r| {
                let peer = Peer {
                    ip: r.remote_ip,
                    port: r.remote_port,
                    local_port: r.local_port,
                };
                let first = if r.local_port.is_some() {
                    "this host, as server"
                } else {
                    "this host, as client"
                };
                Row {
                    cells: vec![peer.to_string(), count(r.count), first.into()],
                    keys: [r.count as f64, 0.0, 0.0, 0.0],
                    subject: Some(Subject::Peer(peer)),
                }
            })
            .collect(),
        Pane::TimeWaitByPort => d
            .time_wait
            .by_local_port
            .iter()
            .map(|p| Row {
                cells: vec![
                    format!(":{}", p.port),
                    count(p.count),
                    if p.server {
                        "this host, as server"
                    } else {
                        "this host, as client"
                    }
                    .into(),
                ],
                keys: [p.count as f64, 0.0, 0.0, 0.0],
                subject: None,
            })
            .collect(),
        Pane::Listeners => d
            .listeners
            .iter()
            .map(|l| {
                let owner = l.owners.first();
                let fill = if l.backlog > 0 {
                    f64::from(l.queued) * 100.0 / f64::from(l.backlog)
                } else {
                    0.0
                };
                Row {
                    cells: vec![
                        l.local.to_string(),
                        holders(&l.owners),
                        l.queued.to_string(),
                        l.backlog.to_string(),
                        format!("{fill:.0}%"),
                        count(l.syn_recv),
                    ],
                    keys: [f64::from(l.queued), 0.0, 0.0, fill],
                    subject: owner.map(|o| Subject::Process {
                        pid: o.pid,
                        comm: o.comm.clone(),
                    }),
                }
            })
            .collect(),
        Pane::Feed => Vec::new(),
    }
}

/// A kernel event as a feed line, as `tcpdoctor trace` prints it but without the date; retransmits
/// are left out (the feed is about the lifecycle: state changes and resets).
fn feed_line(e: &KernelEvent, reasons: bool) -> Option<String> {
    if matches!(e.kind, EventKind::Retransmit { .. }) {
        return None;
    }
    let mut buf = Vec::new();
    report::events::write_event_line(&mut buf, e, reasons).ok()?;
    let line = String::from_utf8_lossy(&buf);
    let line = line.trim_end();
    // `2026-11-29T18:12:31.123456Z cpu0 ...`: the date is the same on every line.
    Some(line.split_once('T').map_or(line, |(_, rest)| rest).to_string())
}

/// Per-second rates between two snapshots `secs` apart; `None` when a counter is missing or went
/// backwards (a namespace recreated, a counter that wrapped): no rate rather than a wrong one.
fn rates(
    before: &Counters,
    after: &Counters,
    d_before: &Diagnosis,
    d_after: &Diagnosis,
    secs: f64,
) -> Option<Rates> {
    if secs <= 0.0 {
        return None;
    }
    let delta = |keys: &[&str]| -> Option<f64> {
        let mut sum = 0i64;
        for k in keys {
            let d = after.get(k)? - before.get(k)?;
            if d < 0 {
                return None;
            }
            sum += d;
        }
        Some(sum as f64)
    };
    let tw = |d: &Diagnosis| {
        d.states
            .iter()
            .find(|s| s.state == KernelState::TimeWait)
            .map_or(0, |s| s.v4 + s.v6) as f64
    };
    let left = delta(&["TcpExt.TW", "TcpExt.TWKilled", "TcpExt.TWRecycled"])?;
    Some(Rates {
        opened: delta(&["Tcp.ActiveOpens", "Tcp.PassiveOpens"])? / secs,
        time_wait: ((tw(d_after) - tw(d_before)) + left).max(0.0) / secs,
        resets_sent: delta(&["Tcp.OutRsts"])? / secs,
    })
}

/// A listener's holders in a cell: `nginx[10]`; several (a pre-fork server's workers, ordered by pid)
/// `nginx[10] +3` (the first by pid, whose sockets the row opens, and how many other processes hold
/// it); `?` when none was found.
fn holders(owners: &[lifecycle::kernel::SocketOwner]) -> String {
    let Some(first) = owners.first() else {
        return "?".into();
    };
    let mut pids: Vec<u32> = owners.iter().map(|o| o.pid).collect();
    pids.dedup();
    match pids.len() - 1 {
        0 => format!("{}[{}]", terminal(&first.comm), first.pid),
        more => format!("{}[{}] +{more}", terminal(&first.comm), first.pid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::kernel::StateCount;

    fn counters(pairs: &[(&str, i64)]) -> Counters {
        Counters(pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect())
    }

    fn with_tw(n: u64) -> Diagnosis {
        Diagnosis {
            states: vec![StateCount {
                state: KernelState::TimeWait,
                v4: n,
                v6: 0,
            }],
            ..Diagnosis::default()
        }
    }

    #[test]
    fn rates_count_time_wait_entered_from_the_change_and_those_that_left() {
        let names = [
            "Tcp.ActiveOpens",
            "Tcp.PassiveOpens",
            "Tcp.OutRsts",
            "TcpExt.TW",
            "TcpExt.TWKilled",
            "TcpExt.TWRecycled",
        ];
        let before = counters(&names.map(|n| (n, 100)));
        let after = counters(&[
            ("Tcp.ActiveOpens", 110),
            ("Tcp.PassiveOpens", 110),
            ("Tcp.OutRsts", 104),
            ("TcpExt.TW", 106),
            ("TcpExt.TWKilled", 100),
            ("TcpExt.TWRecycled", 102),
        ]);
        // 20 TIME-WAIT more than before, 8 left: 28 entered in 2 s.
        let r = rates(&before, &after, &with_tw(10), &with_tw(30), 2.0).unwrap();
        assert_eq!(
            r,
            Rates {
                opened: 10.0,
                time_wait: 14.0,
                resets_sent: 2.0
            }
        );
        // A counter that went backwards gives no rate at all.
        assert_eq!(rates(&after, &before, &with_tw(0), &with_tw(0), 1.0), None);
    }

    /// A listener's cell names its first holder by pid and how many other processes hold it (a
    /// process holding it at two fds counts once).
    #[test]
    fn a_shared_listener_shows_its_first_holder_and_how_many_more() {
        let owner = |pid, fd| lifecycle::kernel::SocketOwner {
            pid,
            comm: "nginx".into(),
            fd,
        };
        assert_eq!(holders(&[]), "?");
        assert_eq!(holders(&[owner(10, 6)]), "nginx[10]");
        assert_eq!(
            holders(&[owner(10, 6), owner(10, 9), owner(11, 6), owner(12, 6)]),
            "nginx[10] +2"
        );
    }

    fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn keys_switch_panes_filter_and_quit() {
        let mut m = Model::new(Duration::from_secs(1), None);
        m.handle(key(KeyCode::Tab));
        assert_eq!(m.pane, Pane::TimeWaitByPeer);
        m.handle(key(KeyCode::BackTab));
        m.handle(key(KeyCode::BackTab));
        assert_eq!(m.pane, Pane::Feed);
        m.handle(key(KeyCode::Char('/')));
        for c in "a q".chars() {
            m.handle(key(KeyCode::Char(c)));
        }
        assert!(!m.quit, "q while typing a filter is text");
        m.handle(key(KeyCode::Enter));
        assert_eq!(m.filter, "a q");
        m.handle(key(KeyCode::Char('?')));
        assert!(m.help);
        m.handle(key(KeyCode::Char('x')));
        assert!(!m.help);
        m.handle(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert!(m.quit);
    }

    #[test]
    fn pause_holds_snapshots_and_events_until_resumed() {
        let mut m = Model::new(Duration::from_secs(1), None);
        m.handle(key(KeyCode::Char(' ')));
        let snapshot = Snapshot {
            evidence: HostEvidence::default(),
            diagnosis: with_tw(3),
            taken: Instant::now(),
            took: Duration::ZERO,
        };
        assert!(!m.handle(Event::Snapshot(Box::new(snapshot))));
        assert!(m.latest.is_none());
        m.handle(key(KeyCode::Char(' ')));
        assert_eq!(m.history.back().map(|s| s[5]), Some(3));
    }
}
