//! What `status` concluded, as metric families: the mapping from a [`Diagnosis`] to series, with the
//! label cardinality bounded (`--top` processes and listeners, `--peer-labels` peers, the rest summed
//! as `other`).

use super::exposition::{Family, Sample, Value};
use super::names;
use lifecycle::kernel::{CloseWaitGroup, Diagnosis, KernelState, Severity};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The label value for the series that sums what `--top` left out.
pub const OTHER: &str = "other";
/// The process label of CLOSE_WAIT sockets whose holder was not found.
pub const UNKNOWN_PROCESS: &str = "(unknown)";

/// How many label values the unbounded dimensions may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Processes (and listeners) with their own series.
    pub top: usize,
    /// Peers with their own series, per state; 0: no peer labels at all.
    pub peer_labels: usize,
}

/// The families one diagnosis gives, in `names::ALL`'s order.
pub fn families(d: &Diagnosis, limits: Limits) -> Vec<Family> {
    let mut out = vec![
        sockets(d),
        Family::new(&names::CLOSE_WAIT_SOCKETS, Vec::new()),
        Family::new(&names::CLOSE_WAIT_UNREAD_BYTES, Vec::new()),
        Family::new(&names::CLOSE_WAIT_OLDEST_IDLE, Vec::new()),
    ];
    close_wait(d, limits.top, &mut out[1..4]);
    out.push(Family::new(
        &names::TIME_WAIT_SOCKETS,
        vec![
            Sample::new(
                &["local_client"],
                Value::Count(d.time_wait.closed_first_as_client),
            ),
            Sample::new(
                &["local_server"],
                Value::Count(d.time_wait.closed_first_as_server),
            ),
        ],
    ));
    out.push(Family::new(
        &names::EPHEMERAL_PORT_USAGE,
        vec![Sample::new(&[], Value::Real(port_usage(d)))],
    ));
    out.push(listen_queues(d, limits.top));
    out.push(findings(d));
    if limits.peer_labels > 0 {
        out.push(peers(d, limits.peer_labels));
    }
    out.extend(kernel_counters(d));
    out
}

/// Every state but NEW_SYN_RECV (the kernel dumps request sockets as SYN_RECV, and `ss` names them
/// so), for both families, zeros included: a series that disappears at zero breaks `rate()` and alerts.
fn sockets(d: &Diagnosis) -> Family {
    let mut counts: BTreeMap<KernelState, (u64, u64)> = BTreeMap::new();
    for c in &d.states {
        let state = match c.state {
            KernelState::NewSynRecv => KernelState::SynRecv,
            s => s,
        };
        let e = counts.entry(state).or_default();
        e.0 += c.v4;
        e.1 += c.v6;
    }
    let samples = counts
        .into_iter()
        .flat_map(|(state, (v4, v6))| {
            [
                Sample::new(&[state.linux_name(), "ipv4"], Value::Count(v4)),
                Sample::new(&[state.linux_name(), "ipv6"], Value::Count(v6)),
            ]
        })
        .collect();
    Family::new(&names::SOCKETS, samples)
}

/// CLOSE_WAIT per process name (a restarted service keeps its series; two processes of one name are
/// one series), the `top` largest by count, the rest summed as `other`.
#[derive(Clone, Copy, Default)]
struct CloseWaitTotals {
    count: u64,
    unread: u64,
    idle_ms: Option<u64>,
}

impl CloseWaitTotals {
    fn add(&mut self, o: CloseWaitTotals) {
        self.count += o.count;
        self.unread += o.unread;
        self.idle_ms = self.idle_ms.max(o.idle_ms);
    }

    fn of(g: &CloseWaitGroup) -> CloseWaitTotals {
        CloseWaitTotals {
            count: g.count,
            unread: g.unread_bytes,
            idle_ms: g.max_idle_ms,
        }
    }
}

fn close_wait(d: &Diagnosis, top: usize, out: &mut [Family]) {
    let mut by_process: HashMap<&str, CloseWaitTotals> = HashMap::new();
    for g in &d.close_wait {
        let name = g.comm.as_deref().unwrap_or(UNKNOWN_PROCESS);
        by_process.entry(name).or_default().add(CloseWaitTotals::of(g));
    }
    let mut rows: Vec<(&str, CloseWaitTotals)> = by_process.into_iter().collect();
    rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    // A process really named "other" is summed with the rest rather than shown beside them.
    let mut shown = Vec::new();
    let mut other: Option<CloseWaitTotals> = None;
    for (i, (process, t)) in rows.into_iter().enumerate() {
        if i < top && process != OTHER {
            shown.push((process, t));
        } else {
            other.get_or_insert_default().add(t);
        }
    }
    for (process, t) in shown.into_iter().chain(other.map(|t| (OTHER, t))) {
        out[0]
            .samples
            .push(Sample::new(&[process], Value::Count(t.count)));
        out[1]
            .samples
            .push(Sample::new(&[process], Value::Count(t.unread)));
        if let Some(ms) = t.idle_ms {
            out[2]
                .samples
                .push(Sample::new(&[process], Value::Real(ms as f64 / 1000.0)));
        }
    }
}

/// The fullest (local IP, remote endpoint) among those `doctor` lists (the fullest ones this host reaches as a client).
fn port_usage(d: &Diagnosis) -> f64 {
    d.time_wait
        .port_use
        .iter()
        .filter_map(|u| Some(u.total as f64 / u.range_size.filter(|r| *r > 0)? as f64))
        .fold(0.0, f64::max)
}

/// The `top` fullest listeners (no `other`: a ratio does not sum).
fn listen_queues(d: &Diagnosis, top: usize) -> Family {
    let mut rows: Vec<(String, f64)> = d
        .listeners
        .iter()
        .filter(|l| l.backlog > 0)
        .map(|l| (l.local.to_string(), f64::from(l.queued) / f64::from(l.backlog)))
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    // Two sockets on one address (SO_REUSEPORT) are one series: the fuller one.
    let mut seen = BTreeSet::new();
    rows.retain(|(l, _)| seen.insert(l.clone()));
    let samples = rows
        .into_iter()
        .take(top)
        .map(|(l, r)| Sample::new(&[&l], Value::Real(r)))
        .collect();
    Family::new(&names::LISTEN_QUEUE, samples)
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// One series per (code, severity) of the current findings (a code reported for several processes
/// is one series).
fn findings(d: &Diagnosis) -> Family {
    let set: BTreeSet<(&str, &str)> = d
        .findings
        .iter()
        .map(|f| (f.code, severity_name(f.severity)))
        .collect();
    let samples = set
        .into_iter()
        .map(|(code, sev)| Sample::new(&[code, sev], Value::Count(1)))
        .collect();
    Family::new(&names::FINDING, samples)
}

/// TIME_WAIT and CLOSE_WAIT towards the `n` busiest peers of each, the rest as `other`. `doctor`'s
/// groupings are already cut to its own top 20, so `other` is what they list beyond `n`.
fn peers(d: &Diagnosis, n: usize) -> Family {
    let mut samples = Vec::new();
    let time_wait = d.time_wait.by_remote.iter().map(|r| {
        let peer = match r.remote_port {
            Some(port) => std::net::SocketAddr::new(r.remote_ip, port).to_string(),
            None => r.remote_ip.to_string(),
        };
        (peer, r.count)
    });
    let mut close_wait: BTreeMap<String, u64> = BTreeMap::new();
    for g in &d.close_wait {
        let peer = match g.peer_port {
            Some(port) => std::net::SocketAddr::new(g.peer_ip, port).to_string(),
            None => g.peer_ip.to_string(),
        };
        *close_wait.entry(peer).or_default() += g.count;
    }
    for (state, rows) in [
        (KernelState::TimeWait, time_wait.collect::<Vec<_>>()),
        (KernelState::CloseWait, close_wait.into_iter().collect()),
    ] {
        let mut rows = rows;
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let other: u64 = rows.iter().skip(n).map(|r| r.1).sum();
        for (peer, count) in rows.iter().take(n) {
            samples.push(Sample::new(&[state.linux_name(), peer], Value::Count(*count)));
        }
        if rows.len() > n {
            samples.push(Sample::new(&[state.linux_name(), OTHER], Value::Count(other)));
        }
    }
    Family::new(&names::PEER_SOCKETS, samples)
}

/// The kernel counters `doctor` explains, each with its meaning as help; one the kernel does not have
/// is left out rather than shown as 0.
fn kernel_counters(d: &Diagnosis) -> Vec<Family> {
    let mut out: Vec<Family> = Vec::new();
    for (key, metric, reason) in names::KERNEL_COUNTERS {
        let Some(line) = d.counters.iter().find(|l| l.name == *key) else {
            continue;
        };
        let meaning = format!("{} ({key})", line.meaning);
        let pos = match out.iter().position(|f| std::ptr::eq(f.metric, *metric)) {
            Some(pos) => pos,
            None => {
                let help = if metric.help.is_empty() {
                    format!("Since boot: {meaning}")
                } else {
                    format!("{}, since boot", metric.help)
                };
                out.push(Family {
                    metric,
                    help,
                    samples: Vec::new(),
                });
                out.len() - 1
            }
        };
        let family = &mut out[pos];
        if let Some(reason) = reason {
            family.help.push_str(&format!("; {reason}: {meaning}"));
        }
        if let Some(value) = line.value.and_then(|v| u64::try_from(v).ok()) {
            let labels: &[&str] = reason.as_slice();
            family.samples.push(Sample::new(labels, Value::Count(value)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::kernel::{CounterLine, Finding, ListenerUse, StateCount};
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    const LIMITS: Limits = Limits {
        top: 2,
        peer_labels: 0,
    };

    fn group(comm: Option<&str>, count: u64, idle_ms: Option<u64>) -> CloseWaitGroup {
        CloseWaitGroup {
            pid: comm.map(|_| 1),
            comm: comm.map(str::to_string),
            peer_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            peer_port: Some(80),
            local_port: None,
            count,
            unread_bytes: count * 10,
            max_idle_ms: idle_ms,
            fds: Vec::new(),
        }
    }

    fn family<'a>(fs: &'a [Family], m: &names::Metric) -> &'a Family {
        fs.iter().find(|f| f.metric == m).unwrap()
    }

    fn series(f: &Family) -> Vec<(Vec<String>, Value)> {
        f.samples.iter().map(|s| (s.labels.clone(), s.value)).collect()
    }

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn eleven_states_two_families_zeros_included_request_sockets_as_syn_recv() {
        let mut d = Diagnosis {
            states: KernelState::ALL
                .into_iter()
                .map(|state| StateCount { state, v4: 0, v6: 0 })
                .collect(),
            ..Diagnosis::default()
        };
        d.states[2].v4 = 1; // SYN_RECV
        d.states[11].v4 = 3; // NEW_SYN_RECV
        let f = families(&d, LIMITS);
        let s = series(family(&f, &names::SOCKETS));
        assert_eq!(s.len(), 22);
        assert!(s.contains(&(labels(&["SYN_RECV", "ipv4"]), Value::Count(4))));
        assert!(s.contains(&(labels(&["CLOSING", "ipv6"]), Value::Count(0))));
        assert!(!s.iter().any(|(l, _)| l[0] == "NEW_SYN_RECV"));
    }

    #[test]
    fn close_wait_processes_beyond_top_are_summed_as_other() {
        let d = Diagnosis {
            close_wait: vec![
                group(Some("java"), 50, Some(90_000)),
                group(Some("java"), 10, Some(1_000)),
                group(Some("nginx"), 20, None),
                group(Some("curl"), 5, Some(3_000)),
                group(None, 7, Some(500)),
            ],
            ..Diagnosis::default()
        };
        let f = families(&d, LIMITS);
        assert_eq!(
            series(family(&f, &names::CLOSE_WAIT_SOCKETS)),
            vec![
                (labels(&["java"]), Value::Count(60)),
                (labels(&["nginx"]), Value::Count(20)),
                (labels(&["other"]), Value::Count(12)),
            ]
        );
        assert_eq!(
            series(family(&f, &names::CLOSE_WAIT_UNREAD_BYTES))[2],
            (labels(&["other"]), Value::Count(120))
        );
        // nginx had no tcp_info: no idle series rather than a made-up 0.
        assert_eq!(
            series(family(&f, &names::CLOSE_WAIT_OLDEST_IDLE)),
            vec![
                (labels(&["java"]), Value::Real(90.0)),
                (labels(&["other"]), Value::Real(3.0)),
            ]
        );
    }

    #[test]
    fn a_process_named_other_joins_the_other_series() {
        let d = Diagnosis {
            close_wait: vec![
                group(Some("other"), 9, None),
                group(Some("x"), 1, None),
                group(Some("y"), 1, None),
            ],
            ..Diagnosis::default()
        };
        let f = families(&d, LIMITS);
        assert_eq!(
            series(family(&f, &names::CLOSE_WAIT_SOCKETS)),
            vec![
                (labels(&["x"]), Value::Count(1)),
                (labels(&["other"]), Value::Count(10))
            ]
        );
    }

    #[test]
    fn listeners_fullest_first_findings_once_per_code() {
        let mut d = Diagnosis::default();
        let listener = |port, queued, backlog| ListenerUse {
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            queued,
            backlog,
            syn_recv: 0,
            owners: Vec::new(),
        };
        d.listeners = vec![
            listener(1, 1, 4),
            listener(2, 4, 4),
            listener(3, 0, 4),
            listener(4, 0, 0),
        ];
        let finding = |code, severity| Finding {
            severity,
            code,
            summary: String::new(),
            evidence: Vec::new(),
            explanation: String::new(),
            next_step: String::new(),
        };
        d.findings = vec![
            finding("close-wait-holder", Severity::Warning),
            finding("close-wait-holder", Severity::Warning),
            finding("accept-queue-full", Severity::Critical),
        ];
        let f = families(&d, LIMITS);
        assert_eq!(
            series(family(&f, &names::LISTEN_QUEUE)),
            vec![
                (labels(&["127.0.0.1:2"]), Value::Real(1.0)),
                (labels(&["127.0.0.1:1"]), Value::Real(0.25)),
            ]
        );
        assert_eq!(
            series(family(&f, &names::FINDING)),
            vec![
                (labels(&["accept-queue-full", "critical"]), Value::Count(1)),
                (labels(&["close-wait-holder", "warning"]), Value::Count(1)),
            ]
        );
        assert!(
            !f.iter().any(|f| f.metric == &names::PEER_SOCKETS),
            "no peers unless asked"
        );
    }

    #[test]
    fn kernel_counters_carry_doctors_meaning_and_aborts_share_one_family() {
        let d = Diagnosis {
            counters: vec![
                CounterLine {
                    name: "TcpExt.ListenOverflows".into(),
                    value: Some(7),
                    meaning: "completed handshakes dropped",
                },
                CounterLine {
                    name: "TcpExt.TCPAbortOnClose".into(),
                    value: Some(3),
                    meaning: "closed with unread data",
                },
                CounterLine {
                    name: "TcpExt.TCPAbortOnData".into(),
                    value: None,
                    meaning: "data after close",
                },
            ],
            ..Diagnosis::default()
        };
        let f = families(&d, LIMITS);
        let overflows = family(&f, &names::LISTEN_OVERFLOWS);
        assert_eq!(
            overflows.help,
            "Since boot: completed handshakes dropped (TcpExt.ListenOverflows)"
        );
        assert_eq!(series(overflows), vec![(vec![], Value::Count(7))]);
        let aborts = family(&f, &names::ABORTS);
        assert!(
            aborts
                .help
                .contains("on_close: closed with unread data (TcpExt.TCPAbortOnClose)")
        );
        // A counter this kernel lacks is left out, not shown as 0.
        assert_eq!(series(aborts), vec![(labels(&["on_close"]), Value::Count(3))]);
    }
}
