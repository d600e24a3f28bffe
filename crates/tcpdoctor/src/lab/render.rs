//! What a lab run prints: the story, what each side did and what its calls returned, what each kind of
//! evidence concluded and whether they agree, the known truth; or all of it as one JSON document; and
//! the files `--keep` saves.

use super::runner::Run;
use super::scenarios::Scenario;
use lifecycle::correlate::{Joined, describe_reset};
use lifecycle::kernel::KernelState;
use lifecycle::{ConnectionRecord, endpoint_string};
use report::Context;
use report::ladder::{self, Layout, TextOptions};
use report::safe::terminal;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

/// The schema of `lab --json`.
pub const SCHEMA: &str = "tcpdoctor.lab/1";
const WIDTH: usize = 100;

/// `lab list`.
pub fn list(out: &mut impl Write, all: &[Scenario]) -> io::Result<()> {
    for s in all {
        writeln!(out, "{:<22} seed {:<16} {}", s.name, s.seed, s.title)?;
    }
    Ok(())
}

/// One scenario, for a person.
pub fn text(out: &mut impl Write, run: &Run, trace_note: Option<&str>, color: bool) -> io::Result<()> {
    let s = run.scenario;
    writeln!(out, "━━ {} · seed {} · {}", s.name, s.seed, s.title)?;
    for line in wrap(s.story, WIDTH) {
        writeln!(out, "   {line}")?;
    }
    writeln!(out)?;
    writeln!(out, "What each side did, and what its calls returned:")?;
    for (i, o) in run.outcomes.iter().enumerate() {
        writeln!(
            out,
            "  {:>2}  {:<6}  {:<52}  {}",
            i + 1,
            o.who.name(),
            o.action,
            o.result
        )?;
    }
    writeln!(out)?;
    write_connections(out, run)?;
    if let Some((record, joined)) = run.subject() {
        if record.steps.is_some() {
            writeln!(out, "The packets, as a ladder:")?;
            write_ladder(out, record, color)?;
            writeln!(out)?;
        }
        writeln!(
            out,
            "What each source says about {} > {}:",
            endpoint_string(record.client),
            endpoint_string(record.server)
        )?;
        write_sources(out, record, joined, trace_note)?;
    }
    write_tables(out, run)?;
    writeln!(out, "Known truth:")?;
    for t in &run.truth {
        let mark = if t.ok { "ok  " } else { "FAIL" };
        if t.ok {
            writeln!(out, "  {mark} {:<16} {}", t.what, t.found)?;
        } else {
            writeln!(
                out,
                "  {mark} {:<16} expected {}, found {}",
                t.what, t.expected, t.found
            )?;
        }
    }
    writeln!(out)?;
    Ok(())
}

/// How many connections the capture held, by cause, when there is more than one.
fn write_connections(out: &mut impl Write, run: &Run) -> io::Result<()> {
    if run.connections.len() <= 1 {
        return Ok(());
    }
    let mut causes: BTreeMap<&str, usize> = BTreeMap::new();
    for (r, _) in &run.connections {
        *causes.entry(r.cause.name()).or_default() += 1;
    }
    let parts: Vec<String> = causes.iter().map(|(c, n)| format!("{n} {c}")).collect();
    writeln!(
        out,
        "The capture holds {} connections: {}.",
        run.connections.len(),
        parts.join(", ")
    )?;
    writeln!(out)?;
    Ok(())
}

/// The packets' verdict, the kernel's and the socket table's, and where they part.
fn write_sources(
    out: &mut impl Write,
    r: &ConnectionRecord,
    j: &Joined,
    trace_note: Option<&str>,
) -> io::Result<()> {
    let mut packets = format!(
        "{} (handshake {}, closer {}",
        r.cause.name(),
        r.handshake.name(),
        r.closer.name()
    );
    if let Some(by) = r.reset_by {
        packets.push_str(&format!(", reset by the {}", by.name()));
        if let Some(state) = r.resetter_state {
            packets.push_str(&format!(" in {}", state.rfc_name()));
        }
    }
    packets.push_str(&format!(
        "); final states client {}, server {}",
        r.client_state.rfc_name(),
        r.server_state.rfc_name()
    ));
    writeln!(out, "  packets  {packets}")?;
    match trace_note {
        Some(note) => writeln!(out, "  kernel   {note}")?,
        None => {
            let changes: Vec<String> = j
                .events
                .iter()
                .filter_map(|(side, e)| match &e.kind {
                    lifecycle::kernel_event::EventKind::StateChange { new, .. } => {
                        Some(format!("{} {}", side.name(), new.rfc_name()))
                    }
                    _ => None,
                })
                .collect();
            writeln!(
                out,
                "  kernel   state changes: {}",
                if changes.is_empty() {
                    "none".to_string()
                } else {
                    changes.join(", ")
                }
            )?;
            for reset in &j.resets {
                if reset.direction == lifecycle::kernel_event::Direction::Sent {
                    writeln!(out, "           reset: {}", terminal(&describe_reset(reset)))?;
                }
            }
            if let Some(task) = &j.connector {
                writeln!(out, "           connect() by {}", task_words(task))?;
            }
        }
    }
    for row in &j.table {
        let owners: Vec<String> = row
            .owners
            .iter()
            .map(|o| format!("{} pid {} fd {}", terminal(&o.comm), o.pid, o.fd))
            .collect();
        writeln!(
            out,
            "  table    {}: {} {}, {} bytes unread, {} unacknowledged{}",
            row.label,
            row.side.name(),
            row.state.rfc_name(),
            row.unread_bytes(),
            row.send_q,
            if owners.is_empty() {
                String::new()
            } else {
                format!(", held by {}", owners.join(", "))
            }
        )?;
    }
    if j.checks.is_empty() {
        writeln!(out, "  agree    nothing to compare")?;
    } else if j.agrees() {
        let aspects: Vec<&str> = j.checks.iter().map(|c| c.aspect.as_str()).collect();
        writeln!(out, "  agree    yes, on {}", aspects.join("; "))?;
    }
    for c in j.checks.iter().filter(|c| !c.agree) {
        writeln!(
            out,
            "  DISAGREE {}: packets say {}; kernel says {}; table says {}",
            c.aspect,
            c.packets,
            c.kernel.as_deref().unwrap_or("-"),
            c.table.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out)?;
    Ok(())
}

/// `python3 pid 42`, or `pid 42` for a thread gone before its name was read.
fn task_words(task: &lifecycle::kernel_event::Task) -> String {
    match &task.comm {
        Some(comm) => format!("{} pid {}", terminal(comm), task.pid),
        None => format!("pid {}", task.pid),
    }
}

/// Each snapshot: the scenario's sockets counted by state, its counters that moved.
fn write_tables(out: &mut impl Write, run: &Run) -> io::Result<()> {
    let ip = run.server.ip();
    for snap in &run.snapshots {
        let mut states: BTreeMap<KernelState, usize> = BTreeMap::new();
        for s in snap
            .evidence
            .sockets
            .iter()
            .filter(|s| s.local.ip() == ip || s.remote.ip() == ip)
        {
            *states.entry(s.state).or_default() += 1;
        }
        let parts: Vec<String> = states
            .iter()
            .map(|(s, n)| format!("{} {n}", s.rfc_name()))
            .collect();
        writeln!(
            out,
            "Socket table, {}: {}",
            snap.label,
            if parts.is_empty() {
                "no socket".to_string()
            } else {
                parts.join(", ")
            }
        )?;
    }
    if !run.snapshots.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// The last lines of a text run: one verdict over every scenario.
pub fn verdict(out: &mut impl Write, runs: &[Run]) -> io::Result<()> {
    let bad: Vec<&str> = runs
        .iter()
        .filter(|r| !(r.sources_agree() && r.truth_met()))
        .map(|r| r.scenario.name)
        .collect();
    if bad.is_empty() {
        writeln!(
            out,
            "{} scenario(s): the packets, the kernel and the socket table agreed, and matched the known truth.",
            runs.len()
        )
    } else {
        writeln!(
            out,
            "{} of {} scenario(s) disagreed or missed the known truth: {}",
            bad.len(),
            runs.len(),
            bad.join(", ")
        )
    }
}

/// `--json`: every run as one document.
pub fn json(out: &mut impl Write, runs: &[Run], trace_note: Option<&str>) -> io::Result<()> {
    let scenarios: Vec<serde_json::Value> = runs.iter().map(run_json).collect();
    let doc = json!({
        "schema": SCHEMA,
        "kernel_events": trace_note.unwrap_or("available"),
        "ok": runs.iter().all(|r| r.sources_agree() && r.truth_met()),
        "scenarios": scenarios,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn run_json(run: &Run) -> serde_json::Value {
    let s = run.scenario;
    let steps: Vec<_> = run
        .outcomes
        .iter()
        .map(|o| json!({"who": o.who.name(), "action": o.action, "result": o.result, "errno": o.errno}))
        .collect();
    let connections: Vec<_> = run
        .connections
        .iter()
        .map(|(r, j)| connection_json(r, j))
        .collect();
    let truth: Vec<_> = run
        .truth
        .iter()
        .map(|t| json!({"what": t.what, "expected": t.expected, "found": t.found, "ok": t.ok}))
        .collect();
    json!({
        "name": s.name,
        "seed": s.seed,
        "title": s.title,
        "story": s.story,
        "server": run.server.to_string(),
        "steps": steps,
        "connections": connections,
        "snapshots": run.snapshots.iter().map(|s| json!({
            "label": s.label,
            "time": s.time.as_secs_f64(),
            "sockets": s.evidence.sockets.iter()
                .filter(|k| k.local.ip() == run.server.ip() || k.remote.ip() == run.server.ip())
                .map(|k| json!({
                    "state": k.state.rfc_name(),
                    "local": endpoint_string(k.local),
                    "remote": endpoint_string(k.remote),
                    "recv_q": k.recv_q,
                    "unread_bytes": k.state.unread_bytes(k.recv_q),
                    "send_q": k.send_q,
                    "owners": k.owners,
                }))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "sources_agree": run.sources_agree(),
        "truth": truth,
        "truth_met": run.truth_met(),
    })
}

fn connection_json(r: &ConnectionRecord, j: &Joined) -> serde_json::Value {
    json!({
        "client": endpoint_string(r.client),
        "server": endpoint_string(r.server),
        "packets": {
            "cause": r.cause.name(),
            "handshake": r.handshake.name(),
            "closer": r.closer.name(),
            "reset_by": r.reset_by.map(|s| s.name()),
            "resetter_state": r.resetter_state.map(|s| s.rfc_name()),
            "client_state": r.client_state.rfc_name(),
            "server_state": r.server_state.rfc_name(),
        },
        "kernel": kernel_json(j),
        "table": j.table.iter().map(|row| json!({
            "label": row.label,
            "side": row.side.name(),
            "state": row.state.rfc_name(),
            "recv_q": row.recv_q,
            "unread_bytes": row.unread_bytes(),
            "send_q": row.send_q,
            "owners": row.owners,
        })).collect::<Vec<_>>(),
        "agree": j.agrees(),
        "ladder": ladder_lines(r),
    })
}

/// The connection's ladder, as `analyze --ladder` draws it (nothing when its segments were not kept).
fn write_ladder(out: &mut impl Write, r: &ConnectionRecord, color: bool) -> io::Result<()> {
    let Some(steps) = r.steps.as_deref() else {
        return Ok(());
    };
    let layout = Layout::new(r, steps, &Context::default(), None);
    let options = TextOptions {
        absolute: false,
        color,
    };
    ladder::text::write(out, &layout, options)
}

/// The ladder without colour, one string per line; `null` when its segments were not kept.
fn ladder_lines(r: &ConnectionRecord) -> Option<Vec<String>> {
    r.steps.as_ref()?;
    let mut text = Vec::new();
    write_ladder(&mut text, r, false).ok()?;
    Some(
        String::from_utf8_lossy(&text)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// The kernel's part of a joined record, as `capture --trace` writes it.
fn kernel_json(j: &Joined) -> serde_json::Value {
    serde_json::to_value(report::kernel_view::KernelView::of(j)).unwrap_or_default()
}

/// `--keep DIR`: the capture, the events and the snapshots, under the scenario's name.
pub fn keep(dir: &Path, run: &Run) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let name = run.scenario.name;
    let path = |ext: &str| dir.join(format!("{name}.{ext}"));
    let pcap = path("pcap");
    std::fs::write(&pcap, &run.pcap).with_context(|| format!("{}: cannot write", pcap.display()))?;
    let events = path("events.jsonl");
    let mut f = io::BufWriter::new(
        std::fs::File::create(&events).with_context(|| format!("{}: cannot create", events.display()))?,
    );
    for e in &run.events {
        report::events::write_event_json(&mut f, e)?;
    }
    f.flush()?;
    let snaps = path("snapshots.json");
    let doc: Vec<_> = run
        .snapshots
        .iter()
        .map(|s| json!({"label": s.label, "time": s.time.as_secs_f64(), "evidence": s.evidence}))
        .collect();
    std::fs::write(&snaps, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("{}: cannot write", snaps.display()))?;
    Ok(())
}

/// Words wrapped to lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
