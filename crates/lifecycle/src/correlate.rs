//! Joins the three kinds of evidence about one connection: what the packets showed (the tracker's
//! [`ConnectionRecord`]), what the kernel said as it happened ([`KernelEvent`]s from the tracepoints),
//! and what the socket table held at chosen moments ([`TableSnapshot`]s).
//!
//! The join key is the 4-tuple and the time span: an event or a socket-table row belongs to a
//! connection when its two addresses are the connection's (either way round: each end of a connection
//! on this host reports itself as `local`) and its time falls inside the connection's span, widened by
//! [`SLACK_NS`] because a `connect` fires its tracepoint before its SYN reaches the capture point, and
//! the kernel's last word on a socket can follow the last segment.
//!
//! Each kind of evidence answers the same questions (who reset, who closed first, what state a side
//! was in) in its own way; [`Joined::checks`] sets the answers side by side and says where they
//! disagree. A source that cannot see a side (a remote peer has no events here) gives no answer
//! rather than a disagreeing one.

use crate::ending::{Closer, EndReason, Handshake, Side};
use crate::kernel::{KernelState, SocketOwner, SocketRecord};
use crate::kernel_event::{Direction, EventKind, KernelEvent, ResetReason, Task};
use crate::record::ConnectionRecord;
use crate::reset_origin::ResetOrigin;
use crate::segment::Timestamp;
use crate::state::State;
use std::collections::HashMap;
use std::net::SocketAddr;

/// How far outside the connection's first and last segment an event or a socket-table row may fall
/// and still belong to it: `connect()` moves the socket to SYN-SENT before the SYN is on the wire, and
/// the kernel's own close of a socket can follow its last segment by a scheduler delay.
pub const SLACK_NS: u64 = 100_000_000;

/// How long after its last segment a side's socket may still be closed by the kernel on its own and
/// the event belong to the connection: an unanswered `connect()` gives up, an orphaned FIN-WAIT-2
/// times out. Only a move to CLOSED of a side not yet CLOSED is joined this late: any other event on
/// the 4-tuple then belongs to the next connection that reuses it.
pub const LATE_CLOSE_NS: u64 = 5_000_000_000;

/// The socket table at one moment (`status`'s snapshot), with a label saying why it was taken.
#[derive(Clone, Copy, Debug)]
pub struct TableSnapshot<'a> {
    pub time: Timestamp,
    pub label: &'a str,
    pub sockets: &'a [SocketRecord],
}

/// A reset the kernel sent or received on one end of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelReset {
    pub side: Side,
    pub direction: Direction,
    pub time: Timestamp,
    /// The socket's state as the kernel recorded it (`None` when no socket matched: refused).
    pub state: Option<State>,
    pub reason: Option<ResetReason>,
    /// The process on whose behalf it happened (a `close()` with unread data), when known.
    pub task: Option<Task>,
}

/// One end's socket as a socket-table snapshot showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRow {
    pub label: String,
    pub time: Timestamp,
    pub side: Side,
    pub state: KernelState,
    pub recv_q: u32,
    pub send_q: u32,
    pub owners: Vec<SocketOwner>,
}

impl TableRow {
    /// The bytes the application had not read ([`KernelState::unread_bytes`]).
    #[must_use]
    pub fn unread_bytes(&self) -> u32 {
        self.state.unread_bytes(self.recv_q)
    }
}

/// One question answered by each kind of evidence that can see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `reset`, `closer`, `state <label>`.
    pub aspect: String,
    pub packets: String,
    /// `None`: this source cannot see it (no events, or no row, for that end).
    pub kernel: Option<String>,
    pub table: Option<String>,
    /// The sources that answered agree with the packets.
    pub agree: bool,
}

/// Everything the kernel and the socket table said about one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Joined {
    /// The connection's kernel events, in time order, each with the end it came from.
    pub events: Vec<(Side, KernelEvent)>,
    pub resets: Vec<KernelReset>,
    /// The process that called `connect()`, when exactly one connect from this client to this
    /// server fits the connection's start.
    pub connector: Option<Task>,
    pub table: Vec<TableRow>,
    pub checks: Vec<Check>,
}

impl Joined {
    /// Whether every source that could answer agreed with the packets.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.checks.iter().all(|c| c.agree)
    }

    /// Whether the kernel reported anything at all about this end (its host is this host).
    #[must_use]
    pub fn sees(&self, side: Side) -> bool {
        self.events.iter().any(|(s, _)| *s == side)
    }

    /// The reset this side's kernel sent, if any.
    #[must_use]
    pub fn sent_reset(&self, side: Side) -> Option<&KernelReset> {
        self.resets
            .iter()
            .find(|r| r.side == side && r.direction == Direction::Sent)
    }
}

/// Which end of the connection an address pair `(local, remote)` reported by this host is, if any.
fn side_of(record: &ConnectionRecord, local: SocketAddr, remote: SocketAddr) -> Option<Side> {
    if local == record.client && remote == record.server {
        Some(Side::Client)
    } else if local == record.server && remote == record.client {
        Some(Side::Server)
    } else {
        None
    }
}

fn within(record: &ConnectionRecord, t: Timestamp) -> bool {
    t.0.saturating_add(SLACK_NS) >= record.start.0 && t.0 <= record.end.0.saturating_add(SLACK_NS)
}

/// Joins the kernel's events and the socket table's rows to one connection seen in packets.
#[must_use]
pub fn join(record: &ConnectionRecord, events: &[KernelEvent], snapshots: &[TableSnapshot<'_>]) -> Joined {
    let mut joined = Joined::default();
    if record.tunnel != 0 {
        // The kernel's addresses are the host's own; a tunnelled connection's are not.
        return joined;
    }
    let mut connects = Vec::new();
    for e in events {
        if !within(record, e.time) {
            continue;
        }
        if let Some(side) = side_of(record, e.local, e.remote) {
            joined.events.push((side, e.clone()));
        } else if is_connect_to(record, e) {
            connects.push(e);
        }
    }
    joined.events.sort_by_key(|(_, e)| e.time);
    for side in [Side::Client, Side::Server] {
        let closed = |e: &KernelEvent| {
            matches!(
                e.kind,
                EventKind::StateChange {
                    new: State::Closed,
                    ..
                }
            )
        };
        let last = joined.events.iter().rev().find(|(s, _)| *s == side);
        if last.is_none_or(|(_, e)| closed(e)) {
            continue;
        }
        let late = events.iter().find(|e| {
            e.time.0 > record.end.0.saturating_add(SLACK_NS)
                && e.time.0 <= record.end.0.saturating_add(LATE_CLOSE_NS)
                && side_of(record, e.local, e.remote) == Some(side)
        });
        if let Some(e) = late.filter(|e| closed(e)) {
            joined.events.push((side, e.clone()));
        }
    }
    if let [only] = connects.as_slice() {
        joined.connector = only.task.clone();
        joined.events.insert(0, (Side::Client, (*only).clone()));
    }
    joined.resets = joined
        .events
        .iter()
        .filter_map(|(side, e)| match &e.kind {
            EventKind::Reset {
                direction,
                state,
                reason,
            } => Some(KernelReset {
                side: *side,
                direction: *direction,
                time: e.time,
                state: *state,
                reason: reason.clone(),
                task: e.task.clone(),
            }),
            _ => None,
        })
        .collect();
    for snap in snapshots {
        if !within(record, snap.time) && snap.time < record.start {
            continue;
        }
        for s in snap.sockets {
            if let Some(side) = side_of(record, s.local, s.remote) {
                joined.table.push(TableRow {
                    label: snap.label.to_string(),
                    time: snap.time,
                    side,
                    state: s.state,
                    recv_q: s.recv_q,
                    send_q: s.send_q,
                    owners: s.owners.clone(),
                });
            }
        }
    }
    joined.checks = [
        handshake_check(record, &joined),
        reset_check(record, &joined),
        closer_check(record, &joined),
    ]
    .into_iter()
    .flatten()
    .chain(state_checks(record, &joined))
    .collect();
    joined
}

/// `connect()` moves the socket to SYN-SENT before it has picked its port: the event names the
/// server and the client's address with port 0, and the time is just before the first SYN.
fn is_connect_to(record: &ConnectionRecord, e: &KernelEvent) -> bool {
    matches!(
        e.kind,
        EventKind::StateChange {
            old: State::Closed,
            new: State::SynSent
        }
    ) && e.remote == record.server
        && e.local.port() == 0
        && (e.local.ip() == record.client.ip() || e.local.ip().is_unspecified())
        && e.time <= record.start
}

/// Whether the handshake completed: the packets' verdict against the kernel's ESTABLISHED on either
/// end (RFC 9293 §3.5). Only where the kernel saw the client's socket leave SYN-SENT, or an end
/// become ESTABLISHED: a connection picked up midstream has no handshake events.
fn handshake_check(record: &ConnectionRecord, joined: &Joined) -> Option<Check> {
    let established = joined.events.iter().any(|(_, e)| {
        matches!(
            e.kind,
            EventKind::StateChange {
                new: State::Established,
                ..
            }
        )
    });
    let gave_up = joined.events.iter().any(|(s, e)| {
        *s == Side::Client
            && matches!(
                e.kind,
                EventKind::StateChange {
                    old: State::SynSent,
                    new: State::Closed
                }
            )
    });
    if !established && !gave_up {
        return None;
    }
    let packets = matches!(record.handshake, Handshake::Complete | Handshake::Simultaneous);
    let words = |done: bool| if done { "completed" } else { "never completed" };
    Some(Check {
        aspect: "handshake".into(),
        packets: format!("{} ({})", words(packets), record.handshake.name()),
        kernel: Some(words(established).into()),
        table: None,
        agree: packets == established,
    })
}

/// Who reset, as the packets say and as the kernel says.
fn reset_check(record: &ConnectionRecord, joined: &Joined) -> Option<Check> {
    let kernel_sent: Vec<&KernelReset> = joined
        .resets
        .iter()
        .filter(|r| r.direction == Direction::Sent)
        .collect();
    let Some(by) = record.reset_by else {
        // The packets show no reset: the kernel should not have sent one either.
        let first = kernel_sent.first()?;
        return Some(Check {
            aspect: "reset".into(),
            packets: "no reset".into(),
            kernel: Some(format!(
                "the {} sent a reset the capture does not show",
                first.side.name()
            )),
            table: None,
            agree: false,
        });
    };
    let forged = record.reset_origin == Some(ResetOrigin::Middlebox);
    let packets = if forged {
        format!("a device on the path reset in the {}'s name", by.name())
    } else {
        format!(
            "the {} reset{}",
            by.name(),
            record
                .resetter_state
                .map(|s| format!(" in {}", s.rfc_name()))
                .unwrap_or_default()
        )
    };
    let (kernel, agree) = match joined.sent_reset(by) {
        Some(r) => (Some(describe_reset(r)), !forged),
        None if joined.sees(by) => (Some(format!("the {}'s kernel sent no reset", by.name())), forged),
        // A refused connection's server has no socket, hence no events but the reset itself.
        None => (None, true),
    };
    Some(Check {
        aspect: "reset".into(),
        packets,
        kernel,
        table: None,
        agree,
    })
}

/// The kernel's reset in words: who, why, in which state, for which process.
#[must_use]
pub fn describe_reset(r: &KernelReset) -> String {
    let mut s = format!("the {} sent it", r.side.name());
    if let Some(reason) = &r.reason {
        s.push_str(&format!(
            ": {} ({})",
            reason.name.as_deref().unwrap_or("unknown reason"),
            reason.words()
        ));
    }
    match r.state {
        Some(state) => s.push_str(&format!(", socket in {}", state.rfc_name())),
        None => s.push_str(", no socket"),
    }
    if let Some(t) = &r.task {
        match &t.comm {
            Some(comm) => s.push_str(&format!(", in {comm} pid {}", t.pid)),
            None => s.push_str(&format!(", in pid {}", t.pid)),
        }
    }
    s
}

/// Who closed first: the side whose socket left ESTABLISHED for FIN-WAIT-1 while the other had not
/// yet gone to CLOSE-WAIT (RFC 9293 §3.6). A side seen only by its CLOSE-WAIT says the peer did.
fn closer_check(record: &ConnectionRecord, joined: &Joined) -> Option<Check> {
    let entered = |side: Side, state: State| {
        joined.events.iter().find_map(|(s, e)| match e.kind {
            EventKind::StateChange { new, .. } if *s == side && new == state => Some(e.time),
            _ => None,
        })
    };
    let fin_wait = |side| entered(side, State::FinWait1);
    let close_wait = |side| entered(side, State::CloseWait);
    let kernel = match (fin_wait(Side::Client), fin_wait(Side::Server)) {
        (Some(_), Some(_)) => Closer::Both,
        (Some(_), None) => Closer::Client,
        (None, Some(_)) => Closer::Server,
        (None, None) => match (close_wait(Side::Client), close_wait(Side::Server)) {
            (Some(_), _) => Closer::Server,
            (_, Some(_)) => Closer::Client,
            (None, None) => Closer::None,
        },
    };
    if kernel == Closer::None && record.closer == Closer::None {
        return None;
    }
    if kernel == Closer::None && !(joined.sees(Side::Client) && joined.sees(Side::Server)) {
        // One end is not on this host, and this one did not close: the kernel cannot tell.
        return None;
    }
    Some(Check {
        aspect: "closer".into(),
        packets: closer_words(record.closer),
        kernel: Some(closer_words(kernel)),
        table: None,
        agree: kernel == record.closer,
    })
}

fn closer_words(c: Closer) -> String {
    match c {
        Closer::Client => "the client closed first".into(),
        Closer::Server => "the server closed first".into(),
        Closer::Both => "both closed at once".into(),
        Closer::None => "nobody closed".into(),
    }
}

/// Each socket-table row against the state the packets left that end in: only for rows taken after
/// the connection's last segment, when the packets' last word is the state at that moment. TIME-WAIT
/// that expired before the row was taken is not compared.
fn state_checks<'a>(record: &'a ConnectionRecord, joined: &'a Joined) -> impl Iterator<Item = Check> + 'a {
    joined
        .table
        .iter()
        // After a reopening SYN or TIME-WAIT's expiry the packets' last word (CLOSED) came later than
        // the last segment: the state at the row's time is not known from them.
        .filter(move |row| {
            row.time >= record.end
                && !matches!(
                    record.end_reason,
                    EndReason::PortReused | EndReason::TimeWaitExpired
                )
        })
        .map(move |row| {
            let packets = match row.side {
                Side::Client => record.client_state,
                Side::Server => record.server_state,
            };
            let table = row.state.rfc_state();
            Check {
                aspect: format!("{} state {}", row.side.name(), row.label),
                packets: packets.rfc_name().to_string(),
                kernel: None,
                table: Some(table.rfc_name().to_string()),
                agree: table == packets,
            }
        })
}

/// Kernel events kept per connection while a live capture runs, until the tracker ends the connection
/// they belong to (`capture --trace`). Bounded: at most [`KernelLog::MAX_FLOWS`] 4-tuples and
/// [`KernelLog::MAX_PER_FLOW`] events each; beyond that the oldest are dropped and counted.
#[derive(Debug, Default)]
pub struct KernelLog {
    flows: HashMap<(SocketAddr, SocketAddr), Vec<KernelEvent>>,
    /// Events dropped to stay within the bounds.
    pub dropped: u64,
}

impl KernelLog {
    pub const MAX_FLOWS: usize = 65_536;
    pub const MAX_PER_FLOW: usize = 64;

    /// Either way round: each end of a connection on this host reports itself as `local`.
    fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
        if a <= b { (a, b) } else { (b, a) }
    }

    /// Keeps one event (retransmissions are left out: the packets show them).
    pub fn push(&mut self, e: KernelEvent) {
        if matches!(e.kind, EventKind::Retransmit { .. }) {
            return;
        }
        if self.flows.len() >= Self::MAX_FLOWS {
            self.forget_oldest_half();
        }
        let events = self.flows.entry(Self::key(e.local, e.remote)).or_default();
        if events.len() >= Self::MAX_PER_FLOW {
            events.remove(0);
            self.dropped += 1;
        }
        events.push(e);
    }

    fn forget_oldest_half(&mut self) {
        let mut last: Vec<Timestamp> = self
            .flows
            .values()
            .filter_map(|v| v.last().map(|e| e.time))
            .collect();
        last.sort_unstable();
        let cut = last.get(last.len() / 2).copied().unwrap_or(Timestamp(u64::MAX));
        let mut dropped = 0;
        self.flows.retain(|_, v| {
            let keep = v.last().is_some_and(|e| e.time >= cut);
            if !keep {
                dropped += v.len() as u64;
            }
            keep
        });
        self.dropped += dropped;
    }

    /// Joins an ended connection with the events kept for it, then forgets those events (a connection
    /// that reuses the 4-tuple later starts with its own).
    pub fn join(&mut self, record: &ConnectionRecord) -> Joined {
        let mut connect = record.client;
        connect.set_port(0);
        let mut events = self
            .flows
            .remove(&Self::key(record.client, record.server))
            .unwrap_or_default();
        if let Some(pending) = self.flows.get_mut(&Self::key(connect, record.server)) {
            // `connect()`s to this server not yet bound to a port: take only those before this start.
            let (mine, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|e| e.time <= record.start);
            *pending = later;
            events.extend(mine);
        }
        join(record, &events, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Family;
    use crate::kernel_event::Task;
    use crate::transcript::{ACK, FIN, PSH, RST, Wire};

    fn ev(t: u64, local: SocketAddr, remote: SocketAddr, kind: EventKind) -> KernelEvent {
        KernelEvent {
            time: Timestamp(t),
            cpu: 0,
            task: Some(Task {
                pid: 42,
                comm: Some("python3".into()),
            }),
            family: Family::V4,
            local,
            remote,
            kind,
        }
    }

    fn change(old: State, new: State) -> EventKind {
        EventKind::StateChange { old, new }
    }

    /// The seed's §7: the server closes with unread data and resets in ESTABLISHED.
    #[test]
    fn reset_on_close_joins_the_kernels_reason_and_process() {
        let record = Wire::new()
            .handshake()
            .c(ACK | PSH, 101, 501, 28)
            .s(RST | ACK, 501, 101, 0)
            .finish();
        let (c, s) = (record.client, record.server);
        let t = record.end.0;
        let events = [
            ev(
                t,
                s,
                c,
                EventKind::Reset {
                    direction: Direction::Sent,
                    state: Some(State::Established),
                    reason: Some(ResetReason {
                        code: 9,
                        name: Some("TCP_ABORT_ON_CLOSE".into()),
                    }),
                },
            ),
            ev(
                t,
                c,
                s,
                EventKind::Reset {
                    direction: Direction::Received,
                    state: Some(State::Established),
                    reason: None,
                },
            ),
            // Another connection's event: not joined.
            ev(
                t,
                s,
                "10.9.9.9:1".parse().unwrap(),
                change(State::Established, State::CloseWait),
            ),
        ];
        let rows = [SocketRecord::new(KernelState::Close, c, s)];
        let snaps = [TableSnapshot {
            time: Timestamp(t + 1),
            label: "after the reset",
            sockets: &rows,
        }];
        let j = join(&record, &events, &snaps);
        assert_eq!(j.events.len(), 2);
        let sent = j.sent_reset(Side::Server).unwrap();
        assert_eq!(
            sent.reason.as_ref().unwrap().name.as_deref(),
            Some("TCP_ABORT_ON_CLOSE")
        );
        assert_eq!(
            describe_reset(sent),
            "the server sent it: TCP_ABORT_ON_CLOSE (closed with unread data), socket in \
             ESTABLISHED, in python3 pid 42"
        );
        assert_eq!(j.table.len(), 1);
        assert!(j.agrees(), "{:?}", j.checks);
        assert_eq!(j.checks.len(), 2, "reset and the client's state: {:?}", j.checks);
    }

    /// The packets blame the server, but the server's kernel (on this host) sent nothing.
    #[test]
    fn a_reset_the_kernel_did_not_send_is_a_disagreement() {
        let record = Wire::new().handshake().s(RST | ACK, 501, 101, 0).finish();
        let (c, s) = (record.client, record.server);
        let events = [ev(
            record.start.0,
            s,
            c,
            change(State::SynReceived, State::Established),
        )];
        let j = join(&record, &events, &[]);
        assert!(!j.agrees());
        let reset = j.checks.iter().find(|c| c.aspect == "reset").unwrap();
        assert_eq!(reset.kernel.as_deref(), Some("the server's kernel sent no reset"));
        let handshake = j.checks.iter().find(|c| c.aspect == "handshake").unwrap();
        assert!(handshake.agree, "{handshake:?}");
    }

    /// Close on both ends of this host: the kernel's FIN-WAIT-1 says who closed first.
    #[test]
    fn the_closer_from_fin_wait_1() {
        let record = Wire::new()
            .handshake()
            .c(FIN | ACK, 101, 501, 0)
            .s(ACK, 501, 102, 0)
            .s(FIN | ACK, 501, 102, 0)
            .c(ACK, 102, 502, 0)
            .finish();
        let (c, s) = (record.client, record.server);
        let t = record.start.0;
        let right = [
            ev(t, c, s, change(State::Established, State::FinWait1)),
            ev(t, s, c, change(State::Established, State::CloseWait)),
        ];
        let j = join(&record, &right, &[]);
        assert!(j.agrees(), "{:?}", j.checks);
        let wrong = [
            ev(t, s, c, change(State::Established, State::FinWait1)),
            ev(t, c, s, change(State::Established, State::CloseWait)),
        ];
        let j = join(&record, &wrong, &[]);
        assert!(!j.agrees());
        assert_eq!(j.checks[0].kernel.as_deref(), Some("the server closed first"));
    }

    /// Events outside the span (plus slack) are another connection on the same 4-tuple.
    #[test]
    fn events_outside_the_span_are_not_joined() {
        let record = Wire::new().handshake().finish();
        let (c, s) = (record.client, record.server);
        let late = record.end.0 + SLACK_NS + 1;
        let j = join(
            &record,
            &[ev(late, c, s, change(State::Established, State::FinWait1))],
            &[],
        );
        assert!(j.events.is_empty());
    }

    /// The one `connect()` that fits names the client's process.
    #[test]
    fn the_connecting_process() {
        let record = Wire::new().handshake().finish();
        let mut unbound = record.client;
        unbound.set_port(0);
        let t = record.start.0 - 1000;
        let events = [ev(
            t,
            unbound,
            record.server,
            change(State::Closed, State::SynSent),
        )];
        let j = join(&record, &events, &[]);
        assert_eq!(j.connector.as_ref().map(|t| t.pid), Some(42));
        let two = [events[0].clone(), events[0].clone()];
        assert_eq!(join(&record, &two, &[]).connector, None, "ambiguous: no guess");
    }
}
