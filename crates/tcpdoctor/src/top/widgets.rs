//! The screen of `tcpdoctor top`, drawn from the [`Model`] alone: [`draw`] reads it and writes cells,
//! nothing else, so that a test can render any model into ratatui's `TestBackend` and compare the text.
//!
//! From top to bottom: a title line; counts per state with their sparklines and the rates from the
//! kernel's counters; the findings of `status`, one line each; what could not be read; the pane tabs;
//! the current pane's table; the keys. Help and the detail of a process or peer open over it.

use super::model::{Model, Pane, Subject};
use doctor::human;
use lifecycle::kernel::{Diagnosis, KernelState, Severity, SocketRecord};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize as _};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Sparkline, Table, TableState, Tabs, Wrap};
use report::safe::terminal;

/// Findings shown in full; the rest are counted.
const FINDINGS: usize = 4;

/// The header's two columns of states: the ones a lifecycle passes through, SYN-RECEIVED counting
/// request sockets too.
const HEADER_STATES: [[(&str, &[KernelState]); 5]; 2] = [
    [
        ("ESTABLISHED", &[KernelState::Established]),
        ("SYN-SENT", &[KernelState::SynSent]),
        ("SYN-RECEIVED", &[KernelState::SynRecv, KernelState::NewSynRecv]),
        ("FIN-WAIT-1", &[KernelState::FinWait1]),
        ("FIN-WAIT-2", &[KernelState::FinWait2]),
    ],
    [
        ("TIME-WAIT", &[KernelState::TimeWait]),
        ("CLOSE-WAIT", &[KernelState::CloseWait]),
        ("LAST-ACK", &[KernelState::LastAck]),
        ("CLOSING", &[KernelState::Closing]),
        ("LISTEN", &[KernelState::Listen]),
    ],
];

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, m: &Model) {
    let findings = m
        .latest
        .as_ref()
        .map_or(1, |s| s.diagnosis.findings.len().clamp(1, FINDINGS + 1));
    let not_read = not_read(m);
    // One line, or two when it does not fit in one.
    let not_read_lines = match not_read.chars().count() {
        0 => 0,
        n if n <= usize::from(frame.area().width) => 1,
        _ => 2,
    };
    let [title, header, findings_area, gaps_area, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(u16::try_from(findings).unwrap_or(1) + 1),
        Constraint::Length(not_read_lines),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(title_line(m), title);
    draw_header(frame, header, m);
    frame.render_widget(findings_list(m), findings_area);
    frame.render_widget(
        Paragraph::new(Line::from(not_read).fg(Color::Magenta)).wrap(Wrap { trim: true }),
        gaps_area,
    );
    draw_tabs(frame, tabs, m);
    draw_pane(frame, body, m);
    frame.render_widget(keys_line(m), footer);
    if m.detail.is_some() {
        draw_detail(frame, popup(frame.area(), 2), m);
    }
    if m.help {
        draw_help(frame, popup(frame.area(), 4));
    }
}

fn title_line(m: &Model) -> Line<'static> {
    let mut spans = vec![Span::from("tcpdoctor top").bold()];
    if let Some(s) = &m.latest {
        let total: u64 = s.diagnosis.states.iter().map(|c| c.v4 + c.v6).sum();
        spans.push(Span::from(format!(" · {total} TCP sockets")));
    }
    if let Some(ns) = &m.netns {
        spans.push(Span::from(format!(" in network namespace {}", terminal(ns))));
    }
    spans.push(Span::from(format!(
        " · every {}",
        human::seconds(u64::try_from(m.interval.as_millis()).unwrap_or(u64::MAX))
    )));
    if let Some(s) = &m.latest {
        spans.push(Span::from(format!(
            " (last scan {})",
            human::millis(u64::try_from(s.took.as_millis()).unwrap_or(u64::MAX))
        )));
    }
    if m.paused {
        spans.push(Span::from(" · PAUSED (space resumes)").reversed());
    }
    Line::from(spans)
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let [left, right, rates] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1), Constraint::Length(26)])
            .spacing(2)
            .areas(area);
    for (column, area) in HEADER_STATES.iter().zip([left, right]) {
        for ((name, states), row) in column.iter().zip(area.rows()) {
            let [label, spark] = Layout::horizontal([Constraint::Length(21), Constraint::Fill(1)])
                .spacing(1)
                .areas(row);
            let series: Vec<u64> = m
                .history
                .iter()
                .map(|sample| states.iter().map(|s| sample[usize::from(s.number() - 1)]).sum())
                .collect();
            let now = series.last().map_or_else(|| "-".to_string(), u64::to_string);
            frame.render_widget(Line::from(format!("{name:<13}{now:>8}")), label);
            let tail = &series[series.len().saturating_sub(usize::from(spark.width))..];
            frame.render_widget(Sparkline::default().data(tail).fg(Color::Cyan), spark);
        }
    }
    let rate = |label: &str, v: Option<f64>| {
        Line::from(format!(
            "{label:<15}{:>9}",
            v.map_or_else(|| "-".into(), |v| format!("{v:.1}/s"))
        ))
    };
    let r = m.rates;
    let lines = vec![
        rate("opened", r.map(|r| r.opened)),
        rate("TIME-WAIT in", r.map(|r| r.time_wait)),
        rate("resets sent", r.map(|r| r.resets_sent)),
        Line::from(format!("{:>24}", "(kernel counters)")).dim(),
    ];
    frame.render_widget(Paragraph::new(lines), rates);
}

fn severity_style(s: Severity) -> (&'static str, Style) {
    match s {
        Severity::Critical => (
            "CRITICAL",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Severity::Warning => ("WARNING ", Style::new().fg(Color::Yellow)),
        Severity::Info => ("INFO    ", Style::new().fg(Color::Blue)),
    }
}

fn findings_list(m: &Model) -> Paragraph<'static> {
    let mut lines = vec![Line::from("FINDINGS").bold()];
    match (&m.latest, &m.snapshot_error) {
        (_, Some(e)) => lines.push(Line::from(format!("cannot read the socket table: {}", terminal(e))).red()),
        (None, None) => lines.push(Line::from("taking the first snapshot...").dim()),
        (Some(s), None) if s.diagnosis.findings.is_empty() => lines.push(
            Line::from("All is well: no TIME-WAIT, CLOSE-WAIT, keepalive, listen-queue, conntrack or sysctl problem found.")
                .green(),
        ),
        (Some(s), None) => {
            let all = &s.diagnosis.findings;
            let shown = if all.len() > FINDINGS + 1 { FINDINGS } else { all.len() };
            for f in &all[..shown] {
                let (label, style) = severity_style(f.severity);
                lines.push(Line::from(vec![
                    Span::styled(label, style),
                    Span::from(format!(" {}", terminal(&f.summary))),
                ]));
            }
            if all.len() > shown {
                lines.push(
                    Line::from(format!(
                        "... and {} more: `tcpdoctor status` explains each",
                        all.len() - shown
                    ))
                    .dim(),
                );
            }
        }
    }
    Paragraph::new(lines)
}

/// What could not be read: the trace feed (short, so first), then the snapshot's gaps.
fn not_read(m: &Model) -> String {
    let mut parts = Vec::new();
    if let Some(Err(why)) = &m.feed_status {
        parts.push(format!("the resets & states feed ({why})"));
    }
    parts.extend(
        m.latest
            .iter()
            .flat_map(|s| &s.diagnosis.gaps)
            .map(|g| format!("{} ({})", g.what, g.why)),
    );
    if parts.is_empty() {
        return String::new();
    }
    terminal(&format!("NOT READ: {}", parts.join("; "))).into_owned()
}

fn draw_tabs(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let mut right = format!("sort: {}", m.sort().name());
    if !m.filter.is_empty() {
        right.push_str(&format!("  filter: {}", terminal(&m.filter)));
    }
    let [tabs, info] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(u16::try_from(right.chars().count()).unwrap_or(u16::MAX)),
    ])
    .areas(area);
    let selected = Pane::ALL.iter().position(|p| *p == m.pane);
    frame.render_widget(
        Tabs::new(Pane::ALL.map(Pane::title))
            .select(selected)
            .highlight_style(Style::new().reversed()),
        tabs,
    );
    frame.render_widget(Line::from(right).yellow(), info);
}

/// The pane's caption: what its numbers add up to, or why it is empty.
fn caption(m: &Model) -> String {
    let Some(d) = m.latest.as_ref().map(|s| &s.diagnosis) else {
        return String::new();
    };
    match m.pane {
        Pane::CloseWait => close_wait_caption(d),
        Pane::TimeWaitByPeer | Pane::TimeWaitByPort => {
            let tw = &d.time_wait;
            let mut c = format!(
                "{} TIME-WAIT; this host closed first: {} as server, {} as client",
                tw.total, tw.closed_first_as_server, tw.closed_first_as_client
            );
            if let Some((least, most)) = tw.left_ms {
                c.push_str(&format!(
                    "; {} to {} left",
                    human::millis(u64::from(least)),
                    human::millis(u64::from(most))
                ));
            }
            c
        }
        Pane::Listeners => format!(
            "{} listening sockets; FILL is the accept queue against its backlog",
            d.listeners.len()
        ),
        Pane::Feed => match &m.feed_status {
            None => "starting the kernel's tracepoints...".into(),
            Some(Ok(())) => "every namespace's TCP state changes and resets, as the kernel makes them".into(),
            Some(Err(why)) => format!("no feed: {why}"),
        },
    }
}

fn close_wait_caption(d: &Diagnosis) -> String {
    let total: u64 = d.close_wait.iter().map(|g| g.count).sum();
    let unknown: u64 = d
        .close_wait
        .iter()
        .filter(|g| g.pid.is_none())
        .map(|g| g.count)
        .sum();
    let mut c = format!("{total} CLOSE-WAIT: the peer closed, the process has not");
    if unknown > 0 {
        c.push_str(&format!("; {unknown} with no owner found (see NOT READ)"));
    }
    c
}

fn draw_pane(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let [caption_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Line::from(terminal(&caption(m)).into_owned()).dim(), caption_area);
    let rows = m.rows();
    let widths: Vec<Constraint> = match m.pane {
        Pane::CloseWait => vec![
            Constraint::Fill(1),
            Constraint::Fill(2),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(11),
        ],
        Pane::TimeWaitByPeer | Pane::TimeWaitByPort => {
            vec![Constraint::Fill(1), Constraint::Length(7), Constraint::Length(22)]
        }
        Pane::Listeners => vec![
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(12),
        ],
        Pane::Feed => vec![Constraint::Fill(1)],
    };
    let table = Table::new(rows.iter().map(|r| Row::new(r.cells.clone())), widths)
        .header(Row::new(m.pane.columns().to_vec()).bold().underlined())
        .row_highlight_style(Style::new().reversed());
    let mut state = TableState::default();
    if m.pane != Pane::Feed && !rows.is_empty() {
        state.select(Some(m.selected.min(rows.len() - 1)));
    }
    frame.render_stateful_widget(table, table_area, &mut state);
}

fn keys_line(m: &Model) -> Line<'static> {
    match &m.editing {
        Some(e) => Line::from(vec![
            Span::from("filter: ").yellow(),
            Span::from(format!("{}_", terminal(&e.0))),
            Span::from("   Enter applies · Esc cancels").dim(),
        ]),
        None => Line::from(
            "Tab pane · s sort · / filter · Esc clear · space pause · ↑↓ select · Enter detail · ? help · q quit",
        )
        .dim(),
    }
}

/// A centred rectangle `margin` cells in from every side of `area`.
fn popup(area: Rect, margin: u16) -> Rect {
    area.inner(ratatui::layout::Margin {
        horizontal: margin * 2,
        vertical: margin,
    })
}

fn draw_detail(frame: &mut Frame<'_>, area: Rect, m: &Model) {
    let Some(subject) = &m.detail else { return };
    let (sockets, total) = m.detail_sockets();
    let block = Block::bordered().title(format!(" {} · Esc closes ", subject.title()));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let mut summary = vec![Line::from(detail_summary(&sockets, total))];
    if let (Subject::Process { .. }, Some(s)) = (subject, &m.latest) {
        if !KernelState::WITH_FILES
            .iter()
            .all(|st| s.diagnosis.owner_states.contains(st))
        {
            let looked: Vec<&str> = s.diagnosis.owner_states.iter().map(|st| st.rfc_name()).collect();
            summary.push(
                Line::from(format!(
                    "only its {} sockets: owners of the others are not looked up (`status -p` does)",
                    looked.join(" and ")
                ))
                .dim(),
            );
        }
    }
    let [summary_area, table_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(summary).wrap(Wrap { trim: true }), summary_area);
    let rows = sockets.iter().skip(m.detail_scroll).map(|s| {
        Row::new(vec![
            s.state.rfc_name().to_string(),
            s.local.to_string(),
            s.remote.to_string(),
            holder(s, subject),
            age(s),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(14),
        ],
    )
    .header(
        Row::new(["STATE", "LOCAL", "REMOTE", "HELD BY (fd)", "AGE"])
            .bold()
            .underlined(),
    );
    frame.render_widget(table, table_area);
}

/// `12 sockets: CLOSE-WAIT 12`, in state order.
fn detail_summary(sockets: &[&SocketRecord], total: usize) -> String {
    let mut per_state: Vec<(KernelState, usize)> = Vec::new();
    for s in sockets {
        match per_state.iter_mut().find(|(st, _)| *st == s.state) {
            Some((_, n)) => *n += 1,
            None => per_state.push((s.state, 1)),
        }
    }
    let states: Vec<String> = per_state
        .iter()
        .map(|(s, n)| format!("{} {n}", s.rfc_name()))
        .collect();
    let mut line = format!("{total} sockets: {}", states.join(", "));
    if total > sockets.len() {
        line = format!(
            "{total} sockets (the first {} listed): {}",
            sockets.len(),
            states.join(", ")
        );
    }
    line
}

/// The process and fd holding `s`: for a process's detail, only its own fds.
fn holder(s: &SocketRecord, subject: &Subject) -> String {
    let owners: Vec<String> = s
        .owners
        .iter()
        .filter(|o| match subject {
            Subject::Process { pid, .. } => o.pid == *pid,
            Subject::Peer(_) => true,
        })
        .map(|o| format!("{}[{}] ({})", terminal(&o.comm), o.pid, o.fd))
        .collect();
    match (owners.is_empty(), s.inode) {
        (false, _) => owners.join(", "),
        (true, 0) => "(kernel)".into(),
        (true, _) => "?".into(),
    }
}

/// How old the socket's situation is: a TIME-WAIT's time left, or how long the connection has been
/// quiet (for CLOSE-WAIT: since data, and so the FIN, last arrived).
fn age(s: &SocketRecord) -> String {
    if let Some(ms) = s.expires_in_ms {
        return format!("{} left", human::millis(u64::from(ms)));
    }
    match (s.state, s.idle) {
        (KernelState::CloseWait, Some(i)) => {
            format!("idle {}", human::millis(u64::from(i.last_data_recv_ms)))
        }
        (_, Some(i)) => format!("quiet {}", human::millis(u64::from(i.quiet_ms()))),
        (_, None) => String::new(),
    }
}

const HELP: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "next / previous pane"),
    ("s", "next sort order for this pane"),
    (
        "/",
        "filter rows by text (Enter applies, Esc cancels); Esc clears it",
    ),
    ("space", "pause: the view stays still, snapshots and events wait"),
    ("↑ ↓  j k", "select a row"),
    ("Enter", "the sockets of the selected process or peer: fds, ages"),
    ("?", "this help (any key closes it)"),
    ("q  Ctrl-C", "quit"),
];

fn draw_help(frame: &mut Frame<'_>, area: Rect) {
    let mut lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(k, what)| Line::from(vec![Span::from(format!("{k:<16}")).bold(), Span::from(*what)]))
        .collect();
    lines.extend([
        Line::default(),
        Line::from("Counts come from the socket table (sock_diag), findings from the rules of"),
        Line::from("`tcpdoctor status`. Rates are per second between two refreshes, from the kernel's"),
        Line::from("counters; TIME-WAIT in counts sockets that entered TIME-WAIT, less any ended"),
        Line::from("early by a reset. Without root, other users' sockets have no owner and there is"),
        Line::from("no resets & states feed (it reads the kernel's tracepoints)."),
    ]);
    let block = Block::bordered().title(" tcpdoctor top: keys ");
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::model::{Event, Snapshot};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use lifecycle::kernel::{
        Family, HostEvidence, KernelState, OwnerLookup, SocketOwner, SocketRecord, TcpIdle,
    };
    use lifecycle::kernel_event::{Direction, EventKind, KernelEvent, ResetReason, Task};
    use lifecycle::segment::Timestamp;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::time::{Duration, Instant};

    fn socket(state: KernelState, local: &str, remote: &str) -> SocketRecord {
        SocketRecord::new(state, local.parse().unwrap(), remote.parse().unwrap())
    }

    /// A small host: a listener on :7001 held by `server`, three CLOSE-WAIT sockets `java` holds
    /// towards 10.0.0.9:5432 with unread bytes, TIME-WAIT as server and as client.
    fn evidence() -> HostEvidence {
        let owner = |pid, comm: &str, fd| SocketOwner {
            pid,
            comm: comm.into(),
            fd,
        };
        let mut sockets = Vec::new();
        let mut listener = socket(KernelState::Listen, "0.0.0.0:7001", "0.0.0.0:0");
        listener.send_q = 128;
        listener.recv_q = 3;
        listener.inode = 10;
        listener.owners = vec![owner(300, "server", 3)];
        sockets.push(listener);
        for i in 0..3u16 {
            let mut s = socket(
                KernelState::CloseWait,
                &format!("10.0.0.1:{}", 40000 + i),
                "10.0.0.9:5432",
            );
            s.recv_q = 101;
            s.inode = 20 + u64::from(i);
            s.idle = Some(TcpIdle {
                last_data_recv_ms: 90_000 + u32::from(i) * 1000,
                last_ack_recv_ms: 0,
                last_data_sent_ms: 0,
            });
            s.owners = vec![owner(4121, "java", 7 + u32::from(i))];
            sockets.push(s);
        }
        for i in 0..5u16 {
            let mut s = socket(
                KernelState::TimeWait,
                "10.0.0.1:7001",
                &format!("10.0.0.7:{}", 50000 + i),
            );
            s.expires_in_ms = Some(30_000 + u32::from(i) * 1000);
            sockets.push(s);
        }
        for i in 0..2u16 {
            let mut s = socket(
                KernelState::TimeWait,
                &format!("10.0.0.1:{}", 41000 + i),
                "10.0.0.8:80",
            );
            s.expires_in_ms = Some(50_000);
            sockets.push(s);
        }
        let mut e = socket(KernelState::Established, "10.0.0.1:7001", "10.0.0.7:51000");
        e.inode = 40;
        sockets.push(e);
        HostEvidence {
            sockets,
            sysctls: lifecycle::kernel::Sysctls(
                [("ipv4/ip_local_port_range".to_string(), "32768 60999".to_string())].into(),
            ),
            owners: OwnerLookup {
                states: vec![KernelState::CloseWait, KernelState::Listen],
                unresolved: 0,
            },
            ..HostEvidence::default()
        }
    }

    fn model() -> Model {
        let mut m = Model::new(Duration::from_secs(1), Some("lab".into()));
        let evidence = evidence();
        let thresholds = doctor::Thresholds {
            close_wait_count: 2,
            ..doctor::Thresholds::default()
        };
        let diagnosis = doctor::diagnose(&evidence, &thresholds);
        let start = Instant::now();
        for i in 0..3u64 {
            // The history grows: one CLOSE-WAIT more at each refresh.
            let mut evidence = evidence.clone();
            let mut diagnosis = diagnosis.clone();
            if i < 2 {
                evidence
                    .sockets
                    .retain(|s| s.state != KernelState::CloseWait || s.local.port() > 40001 - i as u16);
                diagnosis = doctor::diagnose(&evidence, &thresholds);
            }
            // Per second: 10 opened, 2 resets sent, 1 TIME-WAIT ended on its timer.
            let n = i64::try_from(i).unwrap();
            evidence.counters = lifecycle::kernel::Counters(
                [
                    ("Tcp.ActiveOpens", 100 + 4 * n),
                    ("Tcp.PassiveOpens", 100 + 6 * n),
                    ("Tcp.OutRsts", 7 + 2 * n),
                    ("TcpExt.TW", 50 + n),
                    ("TcpExt.TWKilled", 0),
                    ("TcpExt.TWRecycled", 0),
                ]
                .map(|(k, v)| (k.to_string(), v))
                .into(),
            );
            m.handle(Event::Snapshot(Box::new(Snapshot {
                evidence,
                diagnosis,
                taken: start + Duration::from_secs(i),
                took: Duration::from_millis(12),
            })));
        }
        m.handle(Event::Trace(Vec::new(), true));
        m
    }

    fn key(m: &mut Model, code: KeyCode) {
        m.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// The screen as text, one line per row, trailing blanks trimmed.
    fn screen(m: &Model) -> String {
        let mut terminal = Terminal::new(TestBackend::new(110, 30)).unwrap();
        terminal.draw(|f| draw(f, m)).unwrap();
        let buf = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    #[test]
    fn close_wait_pane() {
        insta::assert_snapshot!(screen(&model()));
    }

    #[test]
    fn time_wait_panes_and_sort() {
        let mut m = model();
        key(&mut m, KeyCode::Tab);
        key(&mut m, KeyCode::Char('s'));
        insta::assert_snapshot!("time_wait_by_peer_sorted_by_name", screen(&m));
        key(&mut m, KeyCode::Tab);
        insta::assert_snapshot!("time_wait_by_port", screen(&m));
        key(&mut m, KeyCode::Tab);
        insta::assert_snapshot!("listeners", screen(&m));
    }

    #[test]
    fn filter_and_detail() {
        let mut m = model();
        key(&mut m, KeyCode::Tab);
        key(&mut m, KeyCode::Char('/'));
        for c in "10.0.0.8".chars() {
            key(&mut m, KeyCode::Char(c));
        }
        insta::assert_snapshot!("filter_typed", screen(&m));
        key(&mut m, KeyCode::Enter);
        key(&mut m, KeyCode::Enter);
        insta::assert_snapshot!("detail_of_a_peer", screen(&m));
        key(&mut m, KeyCode::Esc);
        key(&mut m, KeyCode::Esc);
        key(&mut m, KeyCode::BackTab);
        key(&mut m, KeyCode::Enter);
        insta::assert_snapshot!("detail_of_a_process", screen(&m));
    }

    #[test]
    fn help_and_pause() {
        let mut m = model();
        key(&mut m, KeyCode::Char(' '));
        key(&mut m, KeyCode::Char('?'));
        insta::assert_snapshot!("help_while_paused", screen(&m));
    }

    #[test]
    fn feed_and_what_was_not_read() {
        let mut m = model();
        let event = |kind, pid: Option<u32>| KernelEvent {
            time: Timestamp(1_764_440_000_123_456_000),
            cpu: 1,
            task: pid.map(|pid| Task {
                pid,
                comm: Some("java".into()),
            }),
            family: Family::V4,
            local: "10.0.0.1:40000".parse().unwrap(),
            remote: "10.0.0.9:5432".parse().unwrap(),
            kind,
        };
        m.handle(Event::Trace(
            vec![
                event(
                    EventKind::StateChange {
                        old: lifecycle::State::Established,
                        new: lifecycle::State::CloseWait,
                    },
                    None,
                ),
                event(EventKind::Retransmit { state: None }, None),
                event(
                    EventKind::Reset {
                        direction: Direction::Sent,
                        state: Some(lifecycle::State::CloseWait),
                        reason: Some(ResetReason {
                            code: 2,
                            name: Some("TCP_ABORT_ON_CLOSE".into()),
                        }),
                    },
                    Some(4121),
                ),
            ],
            true,
        ));
        for _ in 0..4 {
            key(&mut m, KeyCode::Tab);
        }
        insta::assert_snapshot!("feed", screen(&m));
        m.handle(Event::TraceUnavailable("needs root: tracefs".into()));
        if let Some(s) = &mut m.latest {
            s.diagnosis.gaps.push(lifecycle::kernel::Gap {
                what: "owners of 2 sockets".into(),
                why: "other users' processes: run as root".into(),
            });
        }
        insta::assert_snapshot!("not_read", screen(&m));
    }

    #[test]
    fn findings_are_coloured_by_severity() {
        let mut terminal = Terminal::new(TestBackend::new(110, 30)).unwrap();
        terminal.draw(|f| draw(f, &model())).unwrap();
        let buf = terminal.backend().buffer();
        let row = (0..buf.area.height)
            .find(|y| buf[(0, *y)].symbol() == "W" && buf[(1, *y)].symbol() == "A")
            .expect("a WARNING line");
        assert_eq!(buf[(0, row)].fg, Color::Yellow);
    }

    #[test]
    fn a_tiny_terminal_does_not_panic() {
        for (w, h) in [(1, 1), (20, 5), (40, 12)] {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            let mut m = model();
            terminal.draw(|f| draw(f, &m)).unwrap();
            key(&mut m, KeyCode::Enter);
            key(&mut m, KeyCode::Char('?'));
            terminal.draw(|f| draw(f, &m)).unwrap();
        }
    }
}
