//! Kernel events (`tcpdoctor trace`): one line per event, JSON lines (schema `tcpdoctor.event/1`),
//! and the summary printed on exit (schema `tcpdoctor.trace_summary/1` in JSON).
//!
//! Field names and values of both schemas are a public interface for scripts: add fields, never rename
//! or remove them without a new schema version.

use crate::safe::terminal;
use lifecycle::State;
use lifecycle::endpoint_string;
use lifecycle::kernel::Family;
use lifecycle::kernel_event::{Direction, EventKind, KernelEvent};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;

pub const EVENT_SCHEMA: &str = "tcpdoctor.event/1";
pub const SUMMARY_SCHEMA: &str = "tcpdoctor.trace_summary/1";
/// Peers and closing processes listed in the summary.
const TOP: usize = 10;
/// Distinct peers and processes counted; beyond this, new ones go uncounted (bounded memory).
const MAX_KEYS: usize = 65_536;

/// "pid 1234 curl", or why there is no process.
fn who(e: &KernelEvent) -> String {
    match &e.task {
        Some(t) => format!("{}[{}]", terminal(t.comm.as_deref().unwrap_or("?")), t.pid),
        None => "(softirq)".into(),
    }
}

/// What happened, in words.
fn what(kind: &EventKind, reasons_available: bool) -> String {
    match kind {
        EventKind::StateChange { old, new } => format!("{old} -> {new}"),
        EventKind::Reset {
            direction,
            state,
            reason,
        } => {
            let state = match (direction, state) {
                (_, Some(s)) => format!(" in {s}"),
                (Direction::Sent, None) => " (no socket)".into(),
                // tcp_receive_reset records no state.
                (Direction::Received, None) => String::new(),
            };
            let why = match (direction, reason) {
                (Direction::Sent, Some(r)) => format!(
                    ": {} ({})",
                    r.name.clone().unwrap_or_else(|| format!("reason {}", r.code)),
                    r.words()
                ),
                (Direction::Sent, None) if !reasons_available => ": reason unavailable on this kernel".into(),
                _ => String::new(),
            };
            format!("RST {}{state}{why}", direction.name())
        }
        EventKind::Retransmit { state } => match state {
            Some(s) => format!("retransmit in {s}"),
            None => "retransmit".into(),
        },
    }
}

/// One event as a line: time, CPU, process, local and remote ends, what happened.
pub fn write_event_line(out: &mut impl Write, e: &KernelEvent, reasons_available: bool) -> io::Result<()> {
    writeln!(
        out,
        "{} cpu{} {:<22} {} > {}  {}",
        crate::connections::time(e.time.0),
        e.cpu,
        who(e),
        endpoint_string(e.local),
        endpoint_string(e.remote),
        terminal(&what(&e.kind, reasons_available))
    )
}

#[derive(Serialize)]
struct EventJson<'a> {
    schema: &'static str,
    time: f64,
    cpu: u32,
    /// Null when the event ran in interrupt context: the recorded pid was whoever the CPU interrupted.
    pid: Option<u32>,
    comm: Option<&'a str>,
    family: &'static str,
    local: String,
    remote: String,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    /// For resets and retransmits: the socket's state (null when no socket matched).
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<Option<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_code: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_text: Option<Option<&'static str>>,
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

/// One event as a JSON line.
pub fn write_event_json(out: &mut impl Write, e: &KernelEvent) -> io::Result<()> {
    let mut obj = EventJson {
        schema: EVENT_SCHEMA,
        time: e.time.as_secs_f64(),
        cpu: e.cpu,
        pid: e.task.as_ref().map(|t| t.pid),
        comm: e.task.as_ref().and_then(|t| t.comm.as_deref()),
        family: family_name(e.family),
        local: endpoint_string(e.local),
        remote: endpoint_string(e.remote),
        event: e.kind.name(),
        old_state: None,
        new_state: None,
        direction: None,
        state: None,
        reason: None,
        reason_code: None,
        reason_text: None,
    };
    match &e.kind {
        EventKind::StateChange { old, new } => {
            obj.old_state = Some(old.rfc_name());
            obj.new_state = Some(new.rfc_name());
        }
        EventKind::Reset {
            direction,
            state,
            reason,
        } => {
            obj.direction = Some(direction.name());
            obj.state = Some(state.map(State::rfc_name));
            obj.reason = Some(reason.as_ref().and_then(|r| r.name.as_deref()));
            obj.reason_code = Some(reason.as_ref().map(|r| r.code));
            obj.reason_text = Some(reason.as_ref().map(|r| r.words()));
        }
        EventKind::Retransmit { state } => obj.state = Some(state.map(State::rfc_name)),
    }
    crate::safe::write_json(&mut *out, &obj)?;
    writeln!(out)
}

/// What the source of the events reports about itself, for the summary.
#[derive(Clone, Debug, Default)]
pub struct TraceFacts {
    pub lost_events: u64,
    pub undecoded: u64,
    pub reasons_available: bool,
    pub notes: Vec<String>,
    pub duration_ns: u64,
}

/// Counts over the events shown.
#[derive(Debug, Default)]
pub struct EventSummary {
    events: u64,
    transitions: BTreeMap<(State, State), u64>,
    resets: BTreeMap<(Direction, Option<String>), (u64, &'static str)>,
    retransmits: u64,
    /// Remote IP → (events, resets).
    peers: HashMap<IpAddr, (u64, u64)>,
    /// ESTABLISHED → FIN-WAIT-1: this host closed first; ESTABLISHED → CLOSE-WAIT: the peer did.
    closed_here: u64,
    closed_by_peer: u64,
    /// Processes that closed first: (pid, comm) → count. The transition runs in `close()`/`shutdown()`,
    /// so the process is known.
    closers: HashMap<(u32, String), u64>,
}

impl EventSummary {
    pub fn add(&mut self, e: &KernelEvent) {
        self.events += 1;
        let mut reset = 0;
        match &e.kind {
            EventKind::StateChange { old, new } => {
                *self.transitions.entry((*old, *new)).or_default() += 1;
                match (old, new) {
                    (State::Established, State::FinWait1) => {
                        self.closed_here += 1;
                        if let Some(t) = &e.task {
                            let key = (t.pid, t.comm.clone().unwrap_or_default());
                            if self.closers.len() < MAX_KEYS || self.closers.contains_key(&key) {
                                *self.closers.entry(key).or_default() += 1;
                            }
                        }
                    }
                    (State::Established, State::CloseWait) => self.closed_by_peer += 1,
                    _ => {}
                }
            }
            EventKind::Reset {
                direction, reason, ..
            } => {
                reset = 1;
                let name = reason
                    .as_ref()
                    .map(|r| r.name.clone().unwrap_or_else(|| format!("reason {}", r.code)));
                let words = reason.as_ref().map_or("", |r| r.words());
                self.resets.entry((*direction, name)).or_insert((0, words)).0 += 1;
            }
            EventKind::Retransmit { .. } => self.retransmits += 1,
        }
        let ip = e.remote.ip();
        if !ip.is_unspecified() && (self.peers.len() < MAX_KEYS || self.peers.contains_key(&ip)) {
            let p = self.peers.entry(ip).or_default();
            p.0 += 1;
            p.1 += reset;
        }
    }

    fn top_peers(&self) -> Vec<(IpAddr, u64, u64)> {
        let mut v: Vec<_> = self.peers.iter().map(|(ip, (n, r))| (*ip, *n, *r)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(TOP);
        v
    }

    fn top_closers(&self) -> Vec<(&(u32, String), u64)> {
        let mut v: Vec<_> = self.closers.iter().map(|(k, n)| (k, *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(TOP);
        v
    }

    /// The summary as text.
    pub fn write_text(&self, out: &mut impl Write, facts: &TraceFacts) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{} events in {} s; lost: {}{}",
            self.events,
            crate::connections::seconds(facts.duration_ns),
            facts.lost_events,
            if facts.undecoded > 0 {
                format!(" ({} records not decoded)", facts.undecoded)
            } else {
                String::new()
            }
        )?;
        for note in &facts.notes {
            writeln!(out, "note: {}", terminal(note))?;
        }
        if !self.transitions.is_empty() {
            writeln!(out, "\nState changes:")?;
            for ((old, new), n) in &self.transitions {
                writeln!(out, "  {n:>8}  {old} -> {new}")?;
            }
        }
        if !self.resets.is_empty() {
            writeln!(out, "\nResets:")?;
            for ((dir, name), (n, words)) in &self.resets {
                let name = match (dir, name) {
                    (Direction::Received, _) => "(the kernel gives no reason for received resets)".into(),
                    (_, Some(name)) => format!("{name}: {words}"),
                    (_, None) => "reason unavailable on this kernel".into(),
                };
                writeln!(out, "  {n:>8}  {:<8}  {}", dir.name(), terminal(&name))?;
            }
        }
        if self.retransmits > 0 {
            writeln!(out, "\nRetransmissions: {}", self.retransmits)?;
        }
        writeln!(
            out,
            "\nWho closed first: this host {} (ESTABLISHED -> FIN-WAIT-1), the peer {} (ESTABLISHED -> CLOSE-WAIT)",
            self.closed_here, self.closed_by_peer
        )?;
        for ((pid, comm), n) in self.top_closers() {
            writeln!(out, "  {n:>8}  {}[{pid}]", terminal(comm))?;
        }
        let peers = self.top_peers();
        if !peers.is_empty() {
            writeln!(out, "\nTop peers:")?;
            for (ip, n, r) in peers {
                writeln!(out, "  {n:>8} events  {r:>6} resets  {ip}")?;
            }
        }
        Ok(())
    }

    /// The summary as one JSON line.
    pub fn write_json(&self, out: &mut impl Write, facts: &TraceFacts) -> io::Result<()> {
        #[derive(Serialize)]
        struct Transition {
            from: &'static str,
            to: &'static str,
            count: u64,
        }
        #[derive(Serialize)]
        struct Reset<'a> {
            direction: &'static str,
            reason: Option<&'a str>,
            reason_text: Option<&'static str>,
            count: u64,
        }
        #[derive(Serialize)]
        struct Closer<'a> {
            pid: u32,
            comm: &'a str,
            count: u64,
        }
        #[derive(Serialize)]
        struct ClosedFirst<'a> {
            this_host: u64,
            peer: u64,
            by_process: Vec<Closer<'a>>,
        }
        #[derive(Serialize)]
        struct Peer {
            peer: IpAddr,
            events: u64,
            resets: u64,
        }
        #[derive(Serialize)]
        struct Summary<'a> {
            schema: &'static str,
            events: u64,
            duration: f64,
            lost_events: u64,
            undecoded: u64,
            reasons_available: bool,
            notes: &'a [String],
            transitions: Vec<Transition>,
            resets: Vec<Reset<'a>>,
            retransmits: u64,
            closed_first: ClosedFirst<'a>,
            top_peers: Vec<Peer>,
        }
        let s = Summary {
            schema: SUMMARY_SCHEMA,
            events: self.events,
            duration: facts.duration_ns as f64 / 1e9,
            lost_events: facts.lost_events,
            undecoded: facts.undecoded,
            reasons_available: facts.reasons_available,
            notes: &facts.notes,
            transitions: self
                .transitions
                .iter()
                .map(|((a, b), n)| Transition {
                    from: a.rfc_name(),
                    to: b.rfc_name(),
                    count: *n,
                })
                .collect(),
            resets: self
                .resets
                .iter()
                .map(|((d, name), (n, words))| Reset {
                    direction: d.name(),
                    reason: name.as_deref(),
                    reason_text: name.as_ref().map(|_| *words),
                    count: *n,
                })
                .collect(),
            retransmits: self.retransmits,
            closed_first: ClosedFirst {
                this_host: self.closed_here,
                peer: self.closed_by_peer,
                by_process: self
                    .top_closers()
                    .into_iter()
                    .map(|((pid, comm), n)| Closer {
                        pid: *pid,
                        comm,
                        count: n,
                    })
                    .collect(),
            },
            top_peers: self
                .top_peers()
                .into_iter()
                .map(|(peer, events, resets)| Peer { peer, events, resets })
                .collect(),
        };
        crate::safe::write_json(&mut *out, &s)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::kernel_event::{ResetReason, Task};
    use lifecycle::segment::Timestamp;

    fn event(kind: EventKind, task: Option<Task>) -> KernelEvent {
        KernelEvent {
            time: Timestamp(1_700_000_000_123_456_000),
            cpu: 1,
            task,
            family: Family::V4,
            local: "127.0.0.1:40101".parse().unwrap(),
            remote: "127.0.0.1:39762".parse().unwrap(),
            kind,
        }
    }

    fn refused() -> KernelEvent {
        event(
            EventKind::Reset {
                direction: Direction::Sent,
                state: None,
                reason: Some(ResetReason {
                    code: 1,
                    name: Some("NO_SOCKET".into()),
                }),
            },
            None,
        )
    }

    fn close(pid: u32, comm: &str) -> KernelEvent {
        event(
            EventKind::StateChange {
                old: State::Established,
                new: State::FinWait1,
            },
            Some(Task {
                pid,
                comm: Some(comm.into()),
            }),
        )
    }

    #[test]
    fn lines_name_process_states_and_reason() {
        let mut out = Vec::new();
        write_event_line(&mut out, &refused(), true).unwrap();
        write_event_line(&mut out, &close(42, "evil\x1b[2J"), true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "2023-11-14T22:13:20.123456Z cpu1 (softirq)              127.0.0.1:40101 > 127.0.0.1:39762  \
             RST sent (no socket): NO_SOCKET (connection refused: no socket for this address)\n\
             2023-11-14T22:13:20.123456Z cpu1 evil\\u{1b}[2J[42]      127.0.0.1:40101 > 127.0.0.1:39762  \
             ESTABLISHED -> FIN-WAIT-1\n"
        );
        let mut out = Vec::new();
        let old_kernel = event(
            EventKind::Reset {
                direction: Direction::Sent,
                state: Some(State::CloseWait),
                reason: None,
            },
            None,
        );
        write_event_line(&mut out, &old_kernel, false).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("RST sent in CLOSE-WAIT: reason unavailable on this kernel\n")
        );
    }

    #[test]
    fn json_schema_first_and_kind_fields() {
        let mut out = Vec::new();
        write_event_json(&mut out, &refused()).unwrap();
        write_event_json(&mut out, &close(42, "curl")).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("{\"schema\":\"tcpdoctor.event/1\","));
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["pid"], serde_json::Value::Null);
        assert_eq!(v["event"], "reset");
        assert_eq!(v["direction"], "sent");
        assert_eq!(v["state"], serde_json::Value::Null);
        assert_eq!(v["reason"], "NO_SOCKET");
        assert_eq!(v["reason_code"], 1);
        assert!(v.get("old_state").is_none());
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!((v["pid"].as_u64(), v["comm"].as_str()), (Some(42), Some("curl")));
        assert_eq!(
            (v["old_state"].as_str(), v["new_state"].as_str()),
            (Some("ESTABLISHED"), Some("FIN-WAIT-1"))
        );
        assert!(v.get("reason").is_none());
    }

    #[test]
    fn summary_counts_pairs_reasons_closers_and_peers() {
        let mut s = EventSummary::default();
        s.add(&refused());
        s.add(&refused());
        s.add(&close(42, "curl"));
        s.add(&event(
            EventKind::StateChange {
                old: State::Established,
                new: State::CloseWait,
            },
            None,
        ));
        let facts = TraceFacts {
            lost_events: 0,
            undecoded: 0,
            reasons_available: true,
            notes: vec![],
            duration_ns: 2_500_000_000,
        };
        let mut out = Vec::new();
        s.write_text(&mut out, &facts).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("4 events in 2.500 s; lost: 0"), "{text}");
        assert!(text.contains("       1  ESTABLISHED -> FIN-WAIT-1"));
        assert!(text.contains("       2  sent      NO_SOCKET: connection refused"));
        assert!(text.contains("this host 1 (ESTABLISHED -> FIN-WAIT-1), the peer 1"));
        assert!(text.contains("       1  curl[42]"));
        assert!(text.contains("       4 events       2 resets  127.0.0.1"));
        let mut out = Vec::new();
        s.write_json(&mut out, &facts).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema"], SUMMARY_SCHEMA);
        assert_eq!(v["resets"][0]["reason"], "NO_SOCKET");
        assert_eq!(v["resets"][0]["count"], 2);
        assert_eq!(v["closed_first"]["by_process"][0]["comm"], "curl");
        assert_eq!(v["transitions"].as_array().unwrap().len(), 2);
    }
}
