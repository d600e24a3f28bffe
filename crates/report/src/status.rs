//! `tcpdoctor status`: the host's TCP picture as a terminal report or one JSON document
//! (schema `tcpdoctor.status/1`).
//!
//! Findings come first because they are the answer; the tables after them are the evidence. Text from
//! outside (process names, file names) goes through [`crate::safe::terminal`] before reaching a
//! terminal; JSON escapes it by construction.

use crate::safe::terminal;
use lifecycle::kernel::{
    CloseWaitGroup, Conntrack, CounterLine, Diagnosis, Finding, Gap, KeepaliveAudit, KernelHeld, KernelState,
    ListenerUse, ProcessSockets, Severity, SocketOwner, StateCount, SysctlLine, TimeWaitSummary,
};
use serde::Serialize;
use serde::ser::SerializeMap;
use std::io::{self, Write};

/// The schema name, the first key of the JSON document.
pub const SCHEMA: &str = "tcpdoctor.status/1";

/// Rows shown per grouping in the terminal report (JSON carries what the diagnosis holds).
const ROWS: usize = 10;

/// What the diagnosis itself does not know: where it was taken, and what it is compared with.
#[derive(Debug, Default)]
pub struct StatusContext<'a> {
    /// The network namespace inspected (`None`: this process's own).
    pub netns: Option<&'a str>,
    /// `--state`/`--port`/`--process` narrowed the socket table.
    pub filtered: bool,
    /// In `--watch`: the previous diagnosis and the seconds since it, for deltas and rates.
    pub previous: Option<(&'a Diagnosis, f64)>,
}

/// Renders the terminal report.
pub fn write_text(w: &mut impl Write, d: &Diagnosis, ctx: &StatusContext<'_>) -> io::Result<()> {
    let (v4, v6) = d.states.iter().fold((0, 0), |(a, b), s| (a + s.v4, b + s.v6));
    write!(
        w,
        "tcpdoctor status: {} TCP sockets (IPv4 {v4}, IPv6 {v6})",
        v4 + v6
    )?;
    if let Some(ns) = ctx.netns {
        write!(w, " in network namespace {}", terminal(ns))?;
    }
    if ctx.filtered {
        write!(w, ", filtered")?;
    }
    writeln!(w)?;
    findings(w, &d.findings)?;
    states(w, &d.states, ctx.previous.map(|(p, _)| p.states.as_slice()))?;
    processes(w, d)?;
    time_wait(w, &d.time_wait)?;
    close_wait(w, &d.close_wait)?;
    keepalive(w, &d.keepalive)?;
    listeners(w, &d.listeners)?;
    orphans(w, d)?;
    let since = if ctx.netns.is_some() {
        "since the namespace was created"
    } else {
        "since boot"
    };
    writeln!(w, "\nRESETS AND ABORTS {since}")?;
    counters(
        w,
        &d.counters,
        ctx.previous.map(|(p, secs)| (p.counters.as_slice(), secs)),
    )?;
    conntrack(w, d.conntrack.as_ref(), since)?;
    sysctls(w, &d.sysctls)?;
    gaps(w, &d.gaps)
}

fn findings(w: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    writeln!(w, "\nFINDINGS")?;
    if findings.is_empty() {
        return writeln!(
            w,
            "  All is well: no TIME-WAIT, CLOSE-WAIT, keepalive, listen-queue, conntrack or sysctl problem found."
        );
    }
    for f in findings {
        let label = match f.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING ",
            Severity::Info => "INFO    ",
        };
        writeln!(w, "  {label} {}", terminal(&f.summary))?;
        for e in &f.evidence {
            writeln!(w, "           - {}", terminal(e))?;
        }
        writeln!(w, "           why:  {}", terminal(&f.explanation))?;
        writeln!(w, "           next: {}", terminal(&f.next_step))?;
    }
    Ok(())
}

fn states(w: &mut impl Write, states: &[StateCount], previous: Option<&[StateCount]>) -> io::Result<()> {
    let change = if previous.is_some() { "  change" } else { "" };
    writeln!(
        w,
        "\n{:<14}{:>6}{:>8}  {:<14}{change}",
        "STATES", "IPv4", "IPv6", "RFC 9293"
    )?;
    let mut any = false;
    for s in states
        .iter()
        .filter(|s| s.v4 + s.v6 > 0 || previous.is_some_and(|p| total(p, s.state) > 0))
    {
        any = true;
        write!(
            w,
            "  {:<12}{:>6}{:>8}  {:<14}",
            s.state.linux_name(),
            s.v4,
            s.v6,
            s.state.rfc_name()
        )?;
        if let Some(p) = previous {
            write!(w, "  {:+}", (s.v4 + s.v6) as i64 - total(p, s.state) as i64)?;
        }
        writeln!(w)?;
    }
    if !any {
        writeln!(w, "  (no TCP sockets)")?;
    }
    Ok(())
}

/// "Who owns it": the biggest holders, then what no process holds.
fn processes(w: &mut impl Write, d: &Diagnosis) -> io::Result<()> {
    if d.processes.is_empty() && d.kernel_held.total == 0 && d.owners_unresolved == 0 {
        return Ok(());
    }
    if KernelState::WITH_FILES.iter().all(|s| d.owner_states.contains(s)) {
        writeln!(w, "\nSOCKETS BY PROCESS")?;
    } else if d.owner_states.is_empty() {
        writeln!(w, "\nSOCKETS BY PROCESS (owners not looked up)")?;
    } else {
        let names: Vec<&str> = d.owner_states.iter().map(|s| s.linux_name()).collect();
        writeln!(
            w,
            "\nSOCKETS BY PROCESS (only {} sockets: -p looks up every owner)",
            names.join(", ")
        )?;
    }
    let tally = |states: &std::collections::BTreeMap<&'static str, u64>| {
        let mut v: Vec<_> = states.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for p in d.processes.iter().take(ROWS) {
        writeln!(
            w,
            "  {:>7}  {:>8}  {:<16} {}",
            p.total,
            p.pid,
            terminal(&p.comm),
            tally(&p.states)
        )?;
    }
    if d.processes.len() > ROWS {
        writeln!(
            w,
            "  ... {} more processes (--json shows 20)",
            d.processes.len() - ROWS
        )?;
    }
    if d.kernel_held.total > 0 {
        writeln!(
            w,
            "  {:>7}  {:>8}  {:<16} {}",
            d.kernel_held.total,
            "-",
            "(kernel-held)",
            tally(&d.kernel_held.states)
        )?;
        writeln!(
            w,
            "           no owner: no file refers to them (TIME-WAIT, closed or not yet accepted)"
        )?;
    }
    if d.owners_unresolved > 0 {
        writeln!(
            w,
            "  {:>7}  {:>8}  {:<16} see NOT READ below",
            d.owners_unresolved, "?", "(owner unknown)"
        )?;
    }
    Ok(())
}

fn total(states: &[StateCount], state: KernelState) -> u64 {
    states
        .iter()
        .find(|s| s.state == state)
        .map_or(0, |s| s.v4 + s.v6)
}

fn time_wait(w: &mut impl Write, tw: &TimeWaitSummary) -> io::Result<()> {
    if tw.total == 0 {
        return Ok(());
    }
    write!(
        w,
        "\nTIME-WAIT  {} sockets: {} closed first by this host as client, {} as server",
        tw.total, tw.closed_first_as_client, tw.closed_first_as_server
    )?;
    if let Some(max) = tw.max_tw_buckets {
        write!(w, "; tcp_max_tw_buckets {max}")?;
    }
    if let Some(o) = tw.overflow_since_boot {
        write!(w, "; overflows since boot {o}")?;
    }
    writeln!(w)?;
    if let Some((lo, hi)) = tw.left_ms {
        // Each lasts a fixed 60 s: the count is the closes of the last minute.
        writeln!(
            w,
            "  ending in {:.1}-{:.1} s: about {:.1} closes/s over the last minute",
            f64::from(lo) / 1000.0,
            f64::from(hi) / 1000.0,
            tw.total as f64 / 60.0
        )?;
    }
    writeln!(w, "  by peer")?;
    for r in tw.by_remote.iter().take(ROWS) {
        let peer = match (r.remote_port, r.local_port) {
            (Some(port), _) => std::net::SocketAddr::new(r.remote_ip, port).to_string(),
            (None, Some(local)) => format!("clients at {} of :{local}", r.remote_ip),
            (None, None) => r.remote_ip.to_string(),
        };
        writeln!(w, "    {:>7}  {peer}", r.count)?;
    }
    writeln!(w, "  by local port")?;
    for p in tw.by_local_port.iter().filter(|p| p.server).take(ROWS) {
        writeln!(
            w,
            "    {:>7}  :{:<6} server port: this host, the server, closed first",
            p.count, p.port
        )?;
    }
    if tw.closed_first_as_client > 0 {
        writeln!(
            w,
            "    {:>7}  ephemeral ports: this host, the client, closed first",
            tw.closed_first_as_client
        )?;
    }
    if !tw.port_use.is_empty() {
        writeln!(
            w,
            "  local ports in use per (local IP, remote endpoint), against ip_local_port_range"
        )?;
        for u in tw.port_use.iter().take(ROWS) {
            let range = u.range_size.map_or_else(|| "?".to_string(), |r| r.to_string());
            writeln!(
                w,
                "    {:>7} of {range:<6} {} -> {} ({} TIME-WAIT)",
                u.total, u.local_ip, u.remote, u.time_wait
            )?;
        }
    }
    Ok(())
}

fn close_wait(w: &mut impl Write, groups: &[CloseWaitGroup]) -> io::Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    writeln!(w, "\nCLOSE-WAIT by process and peer")?;
    writeln!(
        w,
        "  {:>7}  {:>8}  {:<16} {:>10} {:>10}  {:<28} fds",
        "sockets", "pid", "command", "unread B", "idle ms", "peer"
    )?;
    for g in groups.iter().take(ROWS) {
        let (pid, comm) = holder(g.pid, g.comm.as_deref());
        let idle = g.max_idle_ms.map_or_else(|| "-".to_string(), |ms| ms.to_string());
        let fds: Vec<String> = g.fds.iter().take(8).map(u32::to_string).collect();
        writeln!(
            w,
            "  {:>7}  {pid:>8}  {comm:<16} {:>10} {idle:>10}  {:<28} {}",
            g.count,
            g.unread_bytes,
            peer(g.peer_ip, g.peer_port, g.local_port),
            fds.join(",")
        )?;
    }
    if groups.len() > ROWS {
        writeln!(w, "  ... {} more groups (--json shows all)", groups.len() - ROWS)?;
    }
    Ok(())
}

/// `10.0.3.7:8080` when this host is the client, `10.0.3.7 -> :8080` when the peers are its clients.
fn peer(ip: std::net::IpAddr, port: Option<u16>, local_port: Option<u16>) -> String {
    match (port, local_port) {
        (Some(port), _) => std::net::SocketAddr::new(ip, port).to_string(),
        (None, Some(local)) => format!("{ip} -> :{local}"),
        (None, None) => ip.to_string(),
    }
}

/// `(pid, command)` of a group, `?`/`(unknown)` when no owner was found.
fn holder(pid: Option<u32>, comm: Option<&str>) -> (String, String) {
    (
        pid.map_or_else(|| "?".to_string(), |p| p.to_string()),
        comm.map_or_else(|| "(unknown)".to_string(), |c| terminal(c).into_owned()),
    )
}

/// The keepalive settings, how many ESTABLISHED sockets have a keepalive timer, and the idle ones
/// without, by process and peer.
fn keepalive(w: &mut impl Write, k: &KeepaliveAudit) -> io::Result<()> {
    let setting = |v: Option<i64>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
    write!(
        w,
        "\nKEEPALIVE  net.ipv4.tcp_keepalive_time {} s, intvl {} s, probes {}",
        setting(k.time_s),
        setting(k.intvl_s),
        setting(k.probes)
    )?;
    if let (Some(time), Some(intvl), Some(probes)) = (k.time_s, k.intvl_s, k.probes) {
        write!(
            w,
            ": a socket with SO_KEEPALIVE (and no options of its own) gives up on a silent peer after {} s",
            time.saturating_add(intvl.saturating_mul(probes))
        )?;
    }
    writeln!(w)?;
    let threshold = format!("{} s", k.idle_threshold_ms as f64 / 1000.0);
    writeln!(
        w,
        "  {} ESTABLISHED: {} with a keepalive timer; {} held by a process, silent for {threshold} or more \
         with no timer",
        k.established, k.keepalive_armed, k.idle_without_keepalive
    )?;
    if k.groups.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "  {:>7}  {:>8}  {:<16} {:>10}  {:<28} fds",
        "sockets", "pid", "command", "silent ms", "peer"
    )?;
    for g in k.groups.iter().take(ROWS) {
        let (pid, comm) = holder(g.pid, g.comm.as_deref());
        let fds: Vec<String> = g.fds.iter().take(8).map(u32::to_string).collect();
        writeln!(
            w,
            "  {:>7}  {pid:>8}  {comm:<16} {:>10}  {:<28} {}",
            g.count,
            g.max_idle_ms,
            peer(g.peer_ip, g.peer_port, g.local_port),
            fds.join(",")
        )?;
    }
    if k.groups.len() > ROWS {
        writeln!(
            w,
            "  ... {} more groups (--json shows all)",
            k.groups.len() - ROWS
        )?;
    }
    Ok(())
}

fn listeners(w: &mut impl Write, ls: &[ListenerUse]) -> io::Result<()> {
    if !ls.is_empty() {
        writeln!(w, "\nLISTENERS (accept queue / backlog, half-open)")?;
        for l in ls.iter().take(ROWS) {
            let owner = holders(&l.owners);
            let full = if l.backlog > 0 && l.queued >= l.backlog {
                "  FULL"
            } else {
                ""
            };
            writeln!(
                w,
                "  {:<28} {:>6} / {:<6} {:>6}  {owner}{full}",
                l.local.to_string(),
                l.queued,
                l.backlog,
                l.syn_recv
            )?;
        }
        if ls.len() > ROWS {
            writeln!(w, "  ... {} more listeners", ls.len() - ROWS)?;
        }
    }
    Ok(())
}

/// The processes holding one socket, on one line: `nginx (pid 10, fd 6)`; several (a pre-fork
/// server's workers sharing its listener) as `ss -p` lists them, in pid order,
/// `("nginx",pid=10,fd=6),("nginx",pid=11,fd=6)`, the first [`SHOWN_HOLDERS`], then how many more.
fn holders(owners: &[SocketOwner]) -> String {
    match owners {
        [] => "no owner found".to_string(),
        [o] => format!("{} (pid {}, fd {})", terminal(&o.comm), o.pid, o.fd),
        _ => {
            let shown: Vec<String> = owners
                .iter()
                .take(SHOWN_HOLDERS)
                .map(|o| format!("(\"{}\",pid={},fd={})", terminal(&o.comm), o.pid, o.fd))
                .collect();
            match owners.len() - shown.len() {
                0 => shown.join(","),
                more => format!("{},... {more} more (--json lists all)", shown.join(",")),
            }
        }
    }
}

/// Holders shown on a listener's line.
const SHOWN_HOLDERS: usize = 4;

/// Orphans against their limit; orphaned FIN-WAIT-2 sockets kept as timewait sockets are apart.
fn orphans(w: &mut impl Write, d: &Diagnosis) -> io::Result<()> {
    let Some(n) = d.orphans else { return Ok(()) };
    // tcp_max_orphans is global: a network namespace other than the initial one does not show it.
    let max = d.max_orphans.map_or_else(
        || "not readable in this network namespace".to_string(),
        |m| m.to_string(),
    );
    write!(
        w,
        "\nORPHANS  {n} (closed by their application, still closing), tcp_max_orphans {max}"
    )?;
    if d.fin_wait2_timewait > 0 {
        write!(
            w,
            "\n         and {} orphaned FIN-WAIT-2 kept as timewait sockets (counted with TIME-WAIT)",
            d.fin_wait2_timewait
        )?;
    }
    writeln!(w)
}

fn counters(
    w: &mut impl Write,
    lines: &[CounterLine],
    previous: Option<(&[CounterLine], f64)>,
) -> io::Result<()> {
    for c in lines {
        let value = c.value.map_or_else(|| "?".to_string(), |v| v.to_string());
        write!(w, "  {:<28}{value:>12}", c.name)?;
        if let Some((prev, secs)) = previous
            && let (Some(now), Some(before)) = (
                c.value,
                prev.iter().find(|p| p.name == c.name).and_then(|p| p.value),
            )
        {
            let delta = now - before;
            write!(
                w,
                " {delta:+8} ({:.1}/s)",
                if secs > 0.0 { delta as f64 / secs } else { 0.0 }
            )?;
        }
        writeln!(w, "  {}", c.meaning)?;
    }
    Ok(())
}

/// The conntrack table against its limit, its nonzero counters, and the TCP timeouts in force; one line
/// when nf_conntrack is not loaded.
fn conntrack(w: &mut impl Write, ct: Option<&Conntrack>, since: &str) -> io::Result<()> {
    let Some(ct) = ct else {
        return writeln!(
            w,
            "\nCONNTRACK  nf_conntrack is not loaded: no connection tracking here"
        );
    };
    let number = |n: Option<u64>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
    write!(
        w,
        "\nCONNTRACK  {} of {} entries (nf_conntrack_count of nf_conntrack_max)",
        number(ct.entries),
        number(ct.max)
    )?;
    if let Some(pct) = ct.used_pct() {
        write!(w, ", {pct:.0}% full")?;
    }
    writeln!(w)?;
    if ct.max_host_wide {
        writeln!(
            w,
            "  nf_conntrack_max is host-wide: read-only in this network namespace, set in the initial one; \
             the count is this namespace's own, and the kernel holds it against that limit"
        )?;
    }
    let nonzero: Vec<String> = ct
        .stats
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(name, v)| format!("{name} {v}"))
        .collect();
    if nonzero.is_empty() {
        writeln!(w, "  counters {since}: all 0 (/proc/net/stat/nf_conntrack)")?;
    } else {
        writeln!(w, "  counters {since}: {} (the others 0)", nonzero.join(", "))?;
    }
    if !ct.tcp_timeouts.is_empty() {
        let timeouts: Vec<String> = ct
            .tcp_timeouts
            .iter()
            .map(|(state, s)| format!("{state} {s}"))
            .collect();
        writeln!(w, "  TCP timeouts (s): {}", timeouts.join(", "))?;
    }
    Ok(())
}

fn sysctls(w: &mut impl Write, lines: &[SysctlLine]) -> io::Result<()> {
    writeln!(w, "\nSYSCTL AUDIT")?;
    for s in lines {
        let mark = if s.ok { "ok" } else { "!!" };
        let value = s
            .value
            .as_deref()
            .map_or_else(|| "(absent)".to_string(), |v| terminal(v).into_owned());
        writeln!(w, "  {mark} {:<32} {value:<14} {}", s.name, s.note)?;
    }
    Ok(())
}

fn gaps(w: &mut impl Write, gaps: &[Gap]) -> io::Result<()> {
    if gaps.is_empty() {
        return Ok(());
    }
    writeln!(w, "\nNOT READ (the report above is incomplete)")?;
    for g in gaps {
        writeln!(w, "  {}: {}", terminal(&g.what), terminal(&g.why))?;
    }
    Ok(())
}

/// The JSON document: `schema` first, `states` mapping Linux names to counts (IPv4 + IPv6), then the
/// full diagnosis.
#[derive(Serialize)]
struct Status<'a> {
    schema: &'static str,
    netns: Option<&'a str>,
    filtered: bool,
    total: u64,
    states: StatesByName<'a>,
    states_detail: Vec<StateDetail>,
    findings: &'a [Finding],
    time_wait: &'a TimeWaitSummary,
    close_wait: &'a [CloseWaitGroup],
    listeners: &'a [ListenerUse],
    processes: &'a [ProcessSockets],
    kernel_held: &'a KernelHeld,
    owners_unresolved: usize,
    /// Linux names of the states whose owners were looked up.
    owner_states: Vec<&'static str>,
    orphans: Option<i64>,
    max_orphans: Option<i64>,
    fin_wait2_timewait: u64,
    counters: &'a [CounterLine],
    sysctls: &'a [SysctlLine],
    keepalive: &'a KeepaliveAudit,
    /// `null` when nf_conntrack is not loaded.
    conntrack: Option<&'a Conntrack>,
    gaps: &'a [Gap],
}

/// `{"ESTABLISHED": 3, ...}` in kernel order.
struct StatesByName<'a>(&'a [StateCount]);

impl Serialize for StatesByName<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for s in self.0 {
            map.serialize_entry(s.state.linux_name(), &(s.v4 + s.v6))?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct StateDetail {
    linux: &'static str,
    rfc: &'static str,
    v4: u64,
    v6: u64,
}

/// Renders one JSON document followed by a newline (`--watch --json` gives one per line).
pub fn write_json(w: &mut impl Write, d: &Diagnosis, ctx: &StatusContext<'_>) -> io::Result<()> {
    let status = Status {
        schema: SCHEMA,
        netns: ctx.netns,
        filtered: ctx.filtered,
        total: d.states.iter().map(|s| s.v4 + s.v6).sum(),
        states: StatesByName(&d.states),
        states_detail: d
            .states
            .iter()
            .map(|s| StateDetail {
                linux: s.state.linux_name(),
                rfc: s.state.rfc_name(),
                v4: s.v4,
                v6: s.v6,
            })
            .collect(),
        findings: &d.findings,
        time_wait: &d.time_wait,
        close_wait: &d.close_wait,
        listeners: &d.listeners,
        processes: &d.processes,
        kernel_held: &d.kernel_held,
        owners_unresolved: d.owners_unresolved,
        owner_states: d.owner_states.iter().map(|s| s.linux_name()).collect(),
        orphans: d.orphans,
        max_orphans: d.max_orphans,
        fin_wait2_timewait: d.fin_wait2_timewait,
        counters: &d.counters,
        sysctls: &d.sysctls,
        keepalive: &d.keepalive,
        conntrack: d.conntrack.as_ref(),
        gaps: &d.gaps,
    };
    crate::safe::write_json(&mut *w, &status)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::kernel::{SocketOwner, StateCount};

    fn diagnosis() -> Diagnosis {
        Diagnosis {
            states: KernelState::ALL
                .into_iter()
                .map(|state| StateCount {
                    state,
                    v4: u64::from(state == KernelState::TimeWait) * 3,
                    v6: 0,
                })
                .collect(),
            listeners: vec![ListenerUse {
                local: "127.0.0.1:80".parse().unwrap(),
                queued: 0,
                backlog: 128,
                syn_recv: 0,
                owners: vec![SocketOwner {
                    pid: 7,
                    comm: "evil\x1b[2J".into(),
                    fd: 3,
                }],
            }],
            ..Diagnosis::default()
        }
    }

    #[test]
    fn json_starts_with_schema_and_maps_linux_names() {
        let mut out = Vec::new();
        write_json(&mut out, &diagnosis(), &StatusContext::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(r#"{"schema":"tcpdoctor.status/1""#), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["states"]["TIME_WAIT"], 3);
        assert_eq!(v["states"]["ESTABLISHED"], 0);
        assert_eq!(v["total"], 3);
    }

    #[test]
    fn keepalive_section_lists_the_idle_groups_and_json_carries_them() {
        let mut d = diagnosis();
        d.keepalive = KeepaliveAudit {
            time_s: Some(7200),
            intvl_s: Some(75),
            probes: Some(9),
            idle_threshold_ms: 240_000,
            established: 5,
            keepalive_armed: 1,
            idle_without_keepalive: 3,
            groups: vec![lifecycle::kernel::IdleGroup {
                pid: Some(4242),
                comm: Some("java\x1b".into()),
                peer_ip: "10.0.0.5".parse().unwrap(),
                peer_port: Some(5432),
                local_port: None,
                count: 3,
                max_idle_ms: 300_000,
                fds: vec![7, 8, 9],
            }],
        };
        let mut out = Vec::new();
        write_text(&mut out, &d, &StatusContext::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                "\nKEEPALIVE  net.ipv4.tcp_keepalive_time 7200 s, intvl 75 s, probes 9: a socket with \
                 SO_KEEPALIVE (and no options of its own) gives up on a silent peer after 7875 s\n  5 \
                 ESTABLISHED: 1 with a keepalive timer; 3 held by a process, silent for 240 s or more with \
                 no timer\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "        3      4242  java\\u{1b}           300000  10.0.0.5:5432                7,8,9\n"
            ),
            "{text}"
        );
        let mut out = Vec::new();
        write_json(&mut out, &d, &StatusContext::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["keepalive"]["groups"][0]["peer_port"], 5432);
        assert_eq!(v["keepalive"]["idle_without_keepalive"], 3);
        assert_eq!(v["conntrack"], serde_json::Value::Null);
    }

    #[test]
    fn text_says_all_is_well_and_escapes_process_names() {
        let mut out = Vec::new();
        write_text(&mut out, &diagnosis(), &StatusContext::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("All is well"), "{text}");
        assert!(text.contains("TIME_WAIT        3       0  TIME-WAIT"), "{text}");
        assert!(text.contains("evil\\u{1b}[2J (pid 7, fd 3)"), "{text}");
        assert!(!text.contains('\x1b'));
    }

    /// A listener several processes hold (a pre-fork server's workers) names them all in pid order, as
    /// `ss -p` does, up to four on its line; JSON carries every one.
    #[test]
    fn a_shared_listener_names_its_holders_as_ss_does() {
        let mut d = diagnosis();
        let owner = |pid| SocketOwner {
            pid,
            comm: "nginx".into(),
            fd: 6,
        };
        d.listeners[0].owners = (10..16).map(owner).collect();
        let mut out = Vec::new();
        write_text(&mut out, &d, &StatusContext::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(
                r#"("nginx",pid=10,fd=6),("nginx",pid=11,fd=6),("nginx",pid=12,fd=6),("nginx",pid=13,fd=6),... 2 more (--json lists all)"#
            ),
            "{text}"
        );
        d.listeners[0].owners.truncate(2);
        let mut out = Vec::new();
        write_text(&mut out, &d, &StatusContext::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#"  ("nginx",pid=10,fd=6),("nginx",pid=11,fd=6)"#),
            "{text}"
        );
        d.listeners[0].owners = (10..16).map(owner).collect();
        let mut out = Vec::new();
        write_json(&mut out, &d, &StatusContext::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let pids: Vec<u64> = v["listeners"][0]["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(pids, [10, 11, 12, 13, 14, 15]);
    }
}
