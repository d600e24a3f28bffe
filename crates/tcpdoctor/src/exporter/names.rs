//! Every metric the exporter exposes, spelled once: its name, type, help and labels. The mapping,
//! the README's table, the alert rules and the dashboard all use these names (a test scrapes the real
//! exporter and checks every name the rules and the dashboard use against it).
//!
//! Naming follows node_exporter and the Prometheus naming guide: a `tcpdoctor_` prefix, base units
//! (`_seconds`, `_bytes`, `_ratio` for 0..1), `_total` for counters, and labels whose values come from
//! small fixed sets or are bounded by `--top` (processes, listeners) and `--peer-labels` (peers).

/// How Prometheus should read a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only grows (until a reboot or a restart resets it): use `rate()` or `increase()`.
    Counter,
}

/// One metric family.
#[derive(Debug, PartialEq, Eq)]
pub struct Metric {
    /// As Prometheus stores it: counters end in `_total`.
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

impl Metric {
    /// The name without `_total`: what the OpenMetrics `# TYPE` line carries for a counter (the
    /// encoder adds the suffix back on the samples).
    pub fn family_name(&self) -> &'static str {
        match self.kind {
            Kind::Counter => self.name.strip_suffix("_total").unwrap_or(self.name),
            Kind::Gauge => self.name,
        }
    }
}

const fn gauge(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Metric {
    Metric {
        name,
        kind: Kind::Gauge,
        help,
        labels,
    }
}

const fn counter(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Metric {
    Metric {
        name,
        kind: Kind::Counter,
        help,
        labels,
    }
}

pub const SOCKETS: Metric = gauge(
    "tcpdoctor_sockets",
    "TCP sockets in each Linux state (request sockets, NEW_SYN_RECV, counted as SYN_RECV as ss does), \
     per address family; every state is present, zeros included",
    &["state", "family"],
);
pub const CLOSE_WAIT_SOCKETS: Metric = gauge(
    "tcpdoctor_close_wait_sockets",
    "CLOSE_WAIT sockets per holding process (the peer closed, the application has not): the --top \
     processes holding the most, the rest summed as process=\"other\", unowned ones as \"(unknown)\"",
    &["process"],
);
pub const CLOSE_WAIT_UNREAD_BYTES: Metric = gauge(
    "tcpdoctor_close_wait_unread_bytes",
    "Bytes received but never read on those CLOSE_WAIT sockets, per process as in \
     tcpdoctor_close_wait_sockets",
    &["process"],
);
pub const CLOSE_WAIT_OLDEST_IDLE: Metric = gauge(
    "tcpdoctor_close_wait_oldest_idle_seconds",
    "The longest time any of the process's CLOSE_WAIT sockets has gone without receiving data \
     (tcp_info last_data_recv): how long the oldest leak has waited",
    &["process"],
);
pub const TIME_WAIT_SOCKETS: Metric = gauge(
    "tcpdoctor_time_wait_sockets",
    "TIME_WAIT sockets by which end of the connection this host was when it closed first: \
     local_client (an ephemeral port towards a server) or local_server (a listening port)",
    &["closer"],
);
pub const EPHEMERAL_PORT_USAGE: Metric = gauge(
    "tcpdoctor_ephemeral_port_usage_ratio",
    "The highest share of ip_local_port_range in use towards one (local IP, remote IP, remote port) \
     this host reaches as a client, open or in TIME_WAIT (0..1): at 1, connect() there fails with \
     EADDRNOTAVAIL",
    &[],
);
pub const LISTEN_QUEUE: Metric = gauge(
    "tcpdoctor_listen_queue_ratio",
    "Accept queue fill of the --top fullest listeners: connections waiting to be accepted over the \
     backlog; at 1 or more the queue is full (Linux admits backlog + 1) and completed handshakes are \
     dropped, see tcpdoctor_listen_overflows_total",
    &["listener"],
);
pub const FINDING: Metric = gauge(
    "tcpdoctor_finding",
    "1 for each finding `tcpdoctor status` would report now, by code and severity",
    &["code", "severity"],
);
pub const PEER_SOCKETS: Metric = gauge(
    "tcpdoctor_peer_sockets",
    "TIME_WAIT and CLOSE_WAIT sockets towards the --peer-labels N busiest peers of each state, the \
     rest summed as peer=\"other\" (only with --peer-labels)",
    &["state", "peer"],
);

// The kernel's counters that `status` explains. Their help is the meaning `doctor` gives them (one
// source for `status` and the exporter), prefixed by the line below.
pub const ESTABLISHED_RESETS: Metric = counter("tcpdoctor_established_resets_total", "", &[]);
pub const RESETS_SENT: Metric = counter("tcpdoctor_resets_sent_total", "", &[]);
pub const FAILED_CONNECTION_ATTEMPTS: Metric = counter("tcpdoctor_failed_connection_attempts_total", "", &[]);
pub const ABORTS: Metric = counter(
    "tcpdoctor_aborts_total",
    "Connections this host aborted with a RST, by the kernel's counter for why",
    &["reason"],
);
pub const TIME_WAIT_ENDED: Metric = counter("tcpdoctor_time_wait_ended_total", "", &[]);
pub const TIME_WAIT_RECYCLED: Metric = counter("tcpdoctor_time_wait_recycled_total", "", &[]);
pub const TIME_WAIT_KILLED: Metric = counter("tcpdoctor_time_wait_killed_total", "", &[]);
pub const TIME_WAIT_OVERFLOWS: Metric = counter("tcpdoctor_time_wait_overflows_total", "", &[]);
pub const LISTEN_OVERFLOWS: Metric = counter("tcpdoctor_listen_overflows_total", "", &[]);
pub const LISTEN_DROPS: Metric = counter("tcpdoctor_listen_drops_total", "", &[]);
pub const SYNCOOKIES_SENT: Metric = counter("tcpdoctor_syncookies_sent_total", "", &[]);
pub const SYN_QUEUE_FULL_DROPS: Metric = counter("tcpdoctor_syn_queue_full_drops_total", "", &[]);

/// Which metric (and which `reason`) each kernel counter `doctor` explains becomes.
pub const KERNEL_COUNTERS: &[(&str, &Metric, Option<&str>)] = &[
    ("Tcp.EstabResets", &ESTABLISHED_RESETS, None),
    ("Tcp.OutRsts", &RESETS_SENT, None),
    ("Tcp.AttemptFails", &FAILED_CONNECTION_ATTEMPTS, None),
    ("TcpExt.TCPAbortOnData", &ABORTS, Some("on_data")),
    ("TcpExt.TCPAbortOnClose", &ABORTS, Some("on_close")),
    ("TcpExt.TCPAbortOnLinger", &ABORTS, Some("on_linger")),
    ("TcpExt.TCPAbortOnTimeout", &ABORTS, Some("on_timeout")),
    ("TcpExt.TCPAbortOnMemory", &ABORTS, Some("on_memory")),
    ("TcpExt.TW", &TIME_WAIT_ENDED, None),
    ("TcpExt.TWRecycled", &TIME_WAIT_RECYCLED, None),
    ("TcpExt.TWKilled", &TIME_WAIT_KILLED, None),
    ("TcpExt.TCPTimeWaitOverflow", &TIME_WAIT_OVERFLOWS, None),
    ("TcpExt.ListenOverflows", &LISTEN_OVERFLOWS, None),
    ("TcpExt.ListenDrops", &LISTEN_DROPS, None),
    ("TcpExt.SyncookiesSent", &SYNCOOKIES_SENT, None),
    ("TcpExt.TCPReqQFullDrop", &SYN_QUEUE_FULL_DROPS, None),
];

// With --trace: counted from the kernel's tracepoints while the exporter runs.
pub const RESETS: Metric = counter(
    "tcpdoctor_resets_total",
    "RSTs seen on the kernel's tracepoints since the exporter started (all network namespaces): \
     direction sent (tcp:tcp_send_reset, with the kernel's reason on Linux 6.10 and later; \
     \"unavailable\" before) or received (tcp:tcp_receive_reset; reason \"none\": the kernel gives none)",
    &["direction", "reason"],
);
pub const STATE_TRANSITIONS: Metric = counter(
    "tcpdoctor_state_transitions_total",
    "TCP state changes seen on sock:inet_sock_set_state since the exporter started (all network \
     namespaces), by Linux state name; entering TIME_WAIT has no tracepoint (it shows as FIN_WAIT2 or \
     CLOSING to CLOSE)",
    &["from", "to"],
);
pub const TRACE_EVENTS_LOST: Metric = counter(
    "tcpdoctor_trace_events_lost_total",
    "Tracepoint events the kernel dropped (ring buffer full) or that could not be decoded: the \
     --trace counters are short by this much",
    &[],
);

// The exporter itself.
pub const SCRAPE_DURATION: Metric = gauge(
    "tcpdoctor_scrape_duration_seconds",
    "How long the last collection (socket table, owners, counters, diagnosis) took",
    &[],
);
pub const SCRAPE_ERRORS: Metric = counter(
    "tcpdoctor_scrape_errors_total",
    "Collections that failed (the reason is logged on stderr); a failed collection exposes only the \
     exporter's own metrics, never stale values",
    &[],
);

/// Every metric, in the order they are exposed (the tests check the README documents each).
#[cfg(test)]
pub const ALL: &[&Metric] = &[
    &SOCKETS,
    &CLOSE_WAIT_SOCKETS,
    &CLOSE_WAIT_UNREAD_BYTES,
    &CLOSE_WAIT_OLDEST_IDLE,
    &TIME_WAIT_SOCKETS,
    &EPHEMERAL_PORT_USAGE,
    &LISTEN_QUEUE,
    &FINDING,
    &PEER_SOCKETS,
    &ESTABLISHED_RESETS,
    &RESETS_SENT,
    &FAILED_CONNECTION_ATTEMPTS,
    &ABORTS,
    &TIME_WAIT_ENDED,
    &TIME_WAIT_RECYCLED,
    &TIME_WAIT_KILLED,
    &TIME_WAIT_OVERFLOWS,
    &LISTEN_OVERFLOWS,
    &LISTEN_DROPS,
    &SYNCOOKIES_SENT,
    &SYN_QUEUE_FULL_DROPS,
    &RESETS,
    &STATE_TRANSITIONS,
    &TRACE_EVENTS_LOST,
    &SCRAPE_DURATION,
    &SCRAPE_ERRORS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_prefixed_and_suffixed_by_kind() {
        let mut seen = std::collections::HashSet::new();
        for m in ALL {
            assert!(seen.insert(m.name), "{} twice", m.name);
            assert!(m.name.starts_with("tcpdoctor_"), "{}", m.name);
            assert_eq!(m.kind == Kind::Counter, m.name.ends_with("_total"), "{}", m.name);
        }
    }

    #[test]
    fn the_readme_documents_every_metric_with_an_example() {
        let readme = include_str!("../../../../README.md");
        let section = readme
            .split("\n## ")
            .find(|s| s.starts_with("Monitoring a fleet"))
            .expect("the README's \"Monitoring a fleet\" section");
        for m in ALL {
            assert!(
                section.contains(&format!("| `{}", m.name)),
                "{} has no row",
                m.name
            );
            // An example is a sample line: the name, maybe labels with values, a space, a number.
            let example = section.split('`').any(|code| {
                code.strip_prefix(m.name).is_some_and(|rest| {
                    let value = rest.rsplit(' ').next().unwrap_or("");
                    rest.contains(' ') && value.parse::<f64>().is_ok()
                })
            });
            assert!(example, "{} has no example", m.name);
        }
    }

    #[test]
    fn every_counter_doctor_explains_has_a_metric() {
        let diagnosis = doctor::diagnose(&Default::default(), &doctor::Thresholds::default());
        for line in &diagnosis.counters {
            assert!(
                KERNEL_COUNTERS.iter().any(|(key, _, _)| *key == line.name),
                "{} has no metric",
                line.name
            );
        }
        for (_, metric, _) in KERNEL_COUNTERS {
            assert!(ALL.contains(metric), "{} is not exposed", metric.name);
        }
    }
}
