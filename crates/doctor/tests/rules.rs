//! The rules on hand-built evidence: each finding appears exactly when its numbers say so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use doctor::{SocketFilter, Thresholds, diagnose};
use lifecycle::kernel::{
    ConfLine, Conntrack, HostEvidence, KernelState, Severity, SocketOwner, SocketRecord, SocketTimer,
    Sysctls, TcpIdle,
};

fn sock(state: KernelState, local: &str, remote: &str) -> SocketRecord {
    SocketRecord::new(state, local.parse().unwrap(), remote.parse().unwrap())
}

fn sysctls(pairs: &[(&str, &str)]) -> Sysctls {
    Sysctls(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    )
}

fn codes(evidence: &HostEvidence, t: &Thresholds) -> Vec<&'static str> {
    diagnose(evidence, t).findings.iter().map(|f| f.code).collect()
}

#[test]
fn nothing_wrong_means_no_findings() {
    let evidence = HostEvidence {
        sockets: vec![sock(KernelState::Listen, "0.0.0.0:80", "0.0.0.0:0")],
        sysctls: sysctls(&[("ipv4/tcp_timestamps", "1"), ("ipv4/tcp_syncookies", "1")]),
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(d.states.len(), 12);
    assert_eq!(d.states[KernelState::Listen as usize].v4, 1);
}

#[test]
fn client_time_wait_exhausting_the_port_range() {
    // 80 TIME-WAIT to one server from ephemeral ports, in a range of 100 ports.
    let sockets = (0..80)
        .map(|i| {
            sock(
                KernelState::TimeWait,
                &format!("10.0.0.1:{}", 40000 + i),
                "10.0.3.7:8080",
            )
        })
        .collect();
    let evidence = HostEvidence {
        sockets,
        sysctls: sysctls(&[
            ("ipv4/ip_local_port_range", "40000 40099"),
            ("ipv4/tcp_tw_reuse", "0"),
        ]),
        ..HostEvidence::default()
    };
    let t = Thresholds {
        time_wait_total: 50,
        ..Thresholds::default()
    };
    let d = diagnose(&evidence, &t);
    assert_eq!(d.time_wait.closed_first_as_client, 80);
    assert_eq!(d.time_wait.closed_first_as_server, 0);
    assert_eq!(d.time_wait.port_use[0].total, 80);
    assert_eq!(d.time_wait.port_use[0].range_size, Some(100));
    let f = &d.findings[0];
    assert_eq!(
        (f.code, f.severity),
        ("ephemeral-ports-exhausting", Severity::Warning)
    );
    assert!(f.summary.contains("80 of 100 local ports (80%)"), "{}", f.summary);
    assert!(f.explanation.contains("fixed 60 s") && f.explanation.contains("removed in Linux 4.12"));
    assert!(codes(&evidence, &t).contains(&"time-wait-pileup"));
}

/// A pool of open connections to one destination uses up the ephemeral range without a single
/// TIME-WAIT socket: the ports are still counted, and the finding says what holds them.
#[test]
fn an_open_pool_exhausting_the_port_range_is_found_without_time_wait() {
    let sockets = (0..95)
        .map(|i| {
            sock(
                KernelState::Established,
                &format!("10.0.0.1:{}", 40000 + i),
                "10.0.0.9:5432",
            )
        })
        .collect();
    let evidence = HostEvidence {
        sockets,
        sysctls: sysctls(&[("ipv4/ip_local_port_range", "40000 40099")]),
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert_eq!(d.time_wait.port_use[0].total, 95);
    assert_eq!(d.time_wait.port_use[0].time_wait, 0);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "ephemeral-ports-exhausting")
        .expect("the finding");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.summary.contains("95 of 100 local ports (95%)"), "{}", f.summary);
    assert!(f.explanation.contains("still open"), "{}", f.explanation);
    assert!(!f.explanation.contains("60 s"), "{}", f.explanation);
}

#[test]
fn server_time_wait_is_attributed_to_the_server_even_after_the_listener_is_gone() {
    let sockets: Vec<_> = (0..3)
        .map(|i| {
            sock(
                KernelState::TimeWait,
                "10.0.0.1:8080",
                &format!("10.0.0.9:{}", 50000 + i),
            )
        })
        .collect();
    let evidence = HostEvidence {
        sockets,
        sysctls: sysctls(&[("ipv4/ip_local_port_range", "32768 60999")]),
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert_eq!(d.time_wait.closed_first_as_server, 3);
    assert_eq!(d.time_wait.by_local_port[0].port, 8080);
    assert!(d.time_wait.by_local_port[0].server);
    assert_eq!(d.time_wait.by_remote[0].local_port, Some(8080));
    assert_eq!(d.time_wait.by_remote[0].count, 3);
}

#[test]
fn tw_buckets_and_overflow() {
    let sockets = (0..9)
        .map(|i| {
            sock(
                KernelState::TimeWait,
                &format!("10.0.0.1:{}", 40000 + i),
                "10.0.3.7:80",
            )
        })
        .collect();
    let mut evidence = HostEvidence {
        sockets,
        sysctls: sysctls(&[("ipv4/tcp_max_tw_buckets", "10")]),
        ..HostEvidence::default()
    };
    evidence.counters.0.insert("TcpExt.TCPTimeWaitOverflow".into(), 4);
    let c = codes(&evidence, &Thresholds::default());
    assert!(
        c.contains(&"tw-buckets-near-limit") && c.contains(&"tw-overflow-since-boot"),
        "{c:?}"
    );
}

#[test]
fn close_wait_holder_names_process_peer_unread_and_idle() {
    let sockets = (0..3)
        .map(|i| SocketRecord {
            recv_q: 1001, // 1000 unread bytes and the FIN
            inode: 100 + i,
            expires_in_ms: None,
            idle: Some(TcpIdle {
                last_data_recv_ms: 41 * 60_000 + i as u32,
                ..TcpIdle::default()
            }),
            owners: vec![SocketOwner {
                pid: 4121,
                comm: "java".into(),
                fd: 10 + i as u32,
            }],
            ..sock(
                KernelState::CloseWait,
                &format!("10.0.0.1:{}", 40000 + i),
                "10.0.3.7:8080",
            )
        })
        .collect();
    let evidence = HostEvidence {
        sockets,
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    let g = &d.close_wait[0];
    assert_eq!(
        (g.pid, g.count, g.unread_bytes, g.peer_port),
        (Some(4121), 3, 3000, Some(8080))
    );
    assert_eq!(g.fds, [10, 11, 12]);
    let f = &d.findings[0];
    assert_eq!(f.code, "close-wait-holder");
    assert_eq!(
        f.summary,
        "java (pid 4121) holds 3 CLOSE-WAIT sockets to 10.0.3.7:8080, oldest idle 41 min, 3.0 KB unread"
    );
    assert!(f.next_step.contains("error paths"));
}

#[test]
fn a_fresh_close_wait_is_not_yet_a_finding() {
    let mut s = sock(KernelState::CloseWait, "10.0.0.1:40000", "10.0.3.7:8080");
    s.idle = Some(TcpIdle {
        last_data_recv_ms: 500,
        ..TcpIdle::default()
    });
    let evidence = HostEvidence {
        sockets: vec![s],
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert!(d.findings.is_empty());
    assert_eq!(d.close_wait.len(), 1);
}

#[test]
fn full_accept_queue_is_critical() {
    let mut l = sock(KernelState::Listen, "127.0.0.1:7004", "0.0.0.0:0");
    (l.recv_q, l.send_q) = (3, 2);
    let evidence = HostEvidence {
        sockets: vec![l],
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert_eq!(
        (d.findings[0].code, d.findings[0].severity),
        ("accept-queue-full", Severity::Critical)
    );
}

/// Sockets several processes hold, as after `fork` (owners come ordered by pid): a full listener
/// names every holder, a CLOSE-WAIT group goes to the first and names the others, and the process
/// table counts a socket once for each holder, once for a holder with two fds on it.
#[test]
fn shared_sockets_name_every_holder() {
    let owner = |pid, fd| SocketOwner {
        pid,
        comm: "prefork".into(),
        fd,
    };
    let mut l = sock(KernelState::Listen, "127.0.0.1:8080", "0.0.0.0:0");
    (l.recv_q, l.send_q, l.inode) = (3, 2, 1);
    l.owners = vec![owner(10, 3), owner(11, 3), owner(12, 3)];
    let mut cw = sock(KernelState::CloseWait, "127.0.0.1:8080", "10.0.3.7:40000");
    (cw.inode, cw.recv_q) = (2, 1);
    cw.idle = Some(TcpIdle {
        last_data_recv_ms: 3_600_000,
        ..TcpIdle::default()
    });
    cw.owners = vec![owner(10, 7), owner(10, 9), owner(12, 7)];
    let evidence = HostEvidence {
        sockets: vec![l, cw],
        owners: lifecycle::kernel::OwnerLookup {
            states: KernelState::WITH_FILES.to_vec(),
            unresolved: 0,
        },
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    let full = d.findings.iter().find(|f| f.code == "accept-queue-full").unwrap();
    assert!(
        full.summary
            .ends_with("held by prefork (pid 10) and 2 other processes (pids 11, 12)"),
        "{}",
        full.summary
    );
    let g = &d.close_wait[0];
    assert_eq!((g.pid, g.count, &g.fds), (Some(10), 1, &vec![7, 9]));
    let held = d.findings.iter().find(|f| f.code == "close-wait-holder").unwrap();
    assert!(
        held.evidence
            .iter()
            .any(|e| e
                .starts_with("also held by prefork (pid 12) (forked with them): the FIN goes out only once")),
        "{:?}",
        held.evidence
    );
    let tally: Vec<(u32, u64)> = d.processes.iter().map(|p| (p.pid, p.total)).collect();
    assert_eq!(tally, [(10, 2), (12, 2), (11, 1)]);
}

#[test]
fn seed_advice_is_audited() {
    let evidence = HostEvidence {
        sysctls: sysctls(&[
            ("ipv4/tcp_tw_recycle", "1"),
            ("ipv4/tcp_tw_reuse", "1"),
            ("ipv4/tcp_timestamps", "0"),
            ("ipv4/tcp_syncookies", "1"),
            ("ipv4/tcp_fin_timeout", "30"),
        ]),
        conf_lines: vec![ConfLine {
            file: "/etc/sysctl.conf".into(),
            line: 7,
            key: "ipv4/tcp_tw_recycle".into(),
            value: "1".into(),
        }],
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    let c: Vec<_> = d.findings.iter().map(|f| f.code).collect();
    assert_eq!(c, ["tw-recycle-enabled", "tw-recycle-configured"]);
    assert!(
        d.findings[1]
            .summary
            .starts_with("/etc/sysctl.conf:7 still sets net.ipv4.tcp_tw_recycle = 1")
    );
    let line = |name: &str| d.sysctls.iter().find(|s| s.name == name).unwrap();
    assert!(
        !line("net.ipv4.tcp_tw_reuse").ok,
        "reuse without timestamps does nothing"
    );
    assert!(!line("net.ipv4.tcp_timestamps").ok);
    assert!(
        line("net.ipv4.tcp_syncookies")
            .note
            .contains("unrelated to TIME-WAIT")
    );
    assert!(
        line("net.ipv4.tcp_fin_timeout")
            .note
            .contains("does not shorten TIME-WAIT")
    );
}

#[test]
fn filters_narrow_by_state_port_and_process() {
    let mut held = sock(KernelState::CloseWait, "10.0.0.1:40000", "10.0.3.7:8080");
    held.owners = vec![SocketOwner {
        pid: 77,
        comm: "crawler".into(),
        fd: 5,
    }];
    let mut evidence = HostEvidence {
        sockets: vec![
            held,
            sock(KernelState::TimeWait, "10.0.0.1:40001", "10.0.3.7:9090"),
        ],
        ..HostEvidence::default()
    };
    let by = |f: SocketFilter| {
        let mut e = evidence.clone();
        f.apply(&mut e);
        e.sockets.len()
    };
    assert_eq!(
        by(SocketFilter {
            states: vec![KernelState::TimeWait],
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(SocketFilter {
            ports: vec![8080],
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(SocketFilter {
            process: Some("77".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(SocketFilter {
            process: Some("crawl".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(SocketFilter {
            process: Some("nginx".into()),
            ..Default::default()
        }),
        0
    );
    SocketFilter::default().apply(&mut evidence);
    assert_eq!(evidence.sockets.len(), 2);
}

#[test]
fn half_open_pileup_on_a_listener() {
    let mut sockets = vec![sock(KernelState::Listen, "0.0.0.0:443", "0.0.0.0:0")];
    sockets.extend((0..130).map(|i| {
        sock(
            KernelState::SynRecv,
            "10.0.0.1:443",
            &format!("198.51.100.{}:4000", i % 250),
        )
    }));
    let mut evidence = HostEvidence {
        sockets,
        sysctls: sysctls(&[("ipv4/tcp_syncookies", "0")]),
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert_eq!(d.listeners[0].syn_recv, 130);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "syn-recv-pileup")
        .expect("finding");
    assert_eq!(
        f.severity,
        Severity::Critical,
        "no syncookies: real clients get dropped"
    );
    evidence.sysctls = sysctls(&[("ipv4/tcp_syncookies", "1")]);
    let d = diagnose(&evidence, &Thresholds::default());
    assert_eq!(
        d.findings
            .iter()
            .find(|f| f.code == "syn-recv-pileup")
            .map(|f| f.severity),
        Some(Severity::Warning)
    );
}

fn conntrack(entries: u64, max: u64, stats: &[(&str, u64)]) -> HostEvidence {
    HostEvidence {
        conntrack: Some(Conntrack {
            entries: Some(entries),
            max: Some(max),
            stats: stats.iter().map(|(k, v)| ((*k).to_string(), *v)).collect(),
            tcp_timeouts: [("established".to_string(), 432_000)].into(),
            ..Conntrack::default()
        }),
        ..HostEvidence::default()
    }
}

#[test]
fn a_near_full_conntrack_table_warns_then_is_critical() {
    let t = Thresholds::default();
    let d = diagnose(&conntrack(950, 1000, &[]), &t);
    let f = &d.findings[0];
    assert_eq!((f.code, f.severity), ("conntrack-table-full", Severity::Critical));
    assert_eq!(
        f.summary,
        "the conntrack table is 95% full (950 of 1000 entries): new connections are about to be dropped: \
         clients would see SYN timeouts"
    );
    assert!(
        f.evidence
            .contains(&"net.netfilter.nf_conntrack_max = 1000".to_string())
    );
    assert!(f.next_step.contains("nf_conntrack_tcp_timeout_established"));
    assert_eq!(d.conntrack.unwrap().entries, Some(950));

    let full = diagnose(&conntrack(1000, 1000, &[]), &t);
    assert_eq!(
        full.findings[0].summary,
        "the conntrack table is full (1000 of 1000 entries): new connections are dropped: clients see SYN \
         timeouts"
    );

    let d = diagnose(&conntrack(800, 1000, &[]), &t);
    assert_eq!(
        (d.findings[0].code, d.findings[0].severity),
        ("conntrack-table-full", Severity::Warning)
    );
    assert_eq!(
        d.findings[0].summary,
        "the conntrack table is 80% full (800 of 1000 entries)"
    );

    assert!(diagnose(&conntrack(749, 1000, &[]), &t).findings.is_empty());
}

/// In a network namespace the limit is the host's: the finding says so, and where to raise it.
#[test]
fn a_host_wide_limit_is_named_as_such() {
    let mut evidence = conntrack(990, 1000, &[]);
    evidence.conntrack.as_mut().unwrap().max_host_wide = true;
    let d = diagnose(&evidence, &Thresholds::default());
    let f = &d.findings[0];
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("host-wide, read-only in this network namespace")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.next_step.contains("in the initial network namespace"),
        "{}",
        f.next_step
    );
}

#[test]
fn conntrack_drops_since_boot_are_reported_with_what_they_cost() {
    let t = Thresholds::default();
    let d = diagnose(
        &conntrack(
            10,
            1000,
            &[("drop", 3), ("early_drop", 5), ("insert_failed", 2), ("found", 9)],
        ),
        &t,
    );
    assert_eq!(d.findings.len(), 1, "{:?}", d.findings);
    let f = &d.findings[0];
    assert_eq!(
        (f.code, f.severity),
        ("conntrack-drops-since-boot", Severity::Warning)
    );
    assert_eq!(
        f.summary,
        "conntrack since boot: 3 packets dropped for a full table, 5 entries evicted early to make room, \
         2 failed inserts"
    );
    assert!(f.explanation.contains("insert_failed"));

    // Early drops alone lost no packet: worth knowing, not a warning.
    let d = diagnose(&conntrack(10, 1000, &[("early_drop", 5), ("drop", 0)]), &t);
    assert_eq!(
        (d.findings[0].code, d.findings[0].severity),
        ("conntrack-drops-since-boot", Severity::Info)
    );
    assert!(
        diagnose(&conntrack(10, 1000, &[("drop", 0), ("found", 7)]), &t)
            .findings
            .is_empty()
    );
}

#[test]
fn no_conntrack_no_conntrack_finding() {
    let d = diagnose(&HostEvidence::default(), &Thresholds::default());
    assert!(d.findings.is_empty());
    assert_eq!(d.conntrack, None);
}

/// An ESTABLISHED socket held by `pid` as fd `fd`, silent for `quiet_ms` on every count.
fn established(
    local: &str,
    remote: &str,
    timer: SocketTimer,
    quiet_ms: u32,
    pid: u32,
    fd: u32,
) -> SocketRecord {
    SocketRecord {
        inode: 1000 + u64::from(fd),
        timer,
        idle: Some(TcpIdle {
            last_data_recv_ms: quiet_ms,
            last_ack_recv_ms: quiet_ms,
            last_data_sent_ms: quiet_ms,
        }),
        owners: vec![SocketOwner {
            pid,
            comm: "java".into(),
            fd,
        }],
        ..sock(KernelState::Established, local, remote)
    }
}

#[test]
fn idle_connections_without_keepalive_are_grouped_by_process_and_peer() {
    let over = 300_000; // 5 min: past the shortest idle timeout in the table (240 s)
    let mut sockets: Vec<SocketRecord> = (0..3)
        .map(|i| {
            established(
                &format!("10.0.0.1:{}", 40000 + i),
                "10.0.0.5:5432",
                SocketTimer::Off,
                over + i,
                4242,
                10 + i,
            )
        })
        .collect();
    // Not reported: a keepalive timer armed; silent for less; data in flight (the retransmission timer
    // hides whether keepalive is on, but the connection is not silent); not yet accepted (no file).
    sockets.push(established(
        "10.0.0.1:41000",
        "10.0.0.5:5432",
        SocketTimer::Keepalive,
        over,
        4242,
        20,
    ));
    sockets.push(established(
        "10.0.0.1:41001",
        "10.0.0.5:5432",
        SocketTimer::Off,
        200_000,
        4242,
        21,
    ));
    sockets.push(established(
        "10.0.0.1:41002",
        "10.0.0.5:5432",
        SocketTimer::Retransmit,
        over,
        4242,
        22,
    ));
    let mut queued = established("10.0.0.1:8080", "10.0.0.9:50000", SocketTimer::Off, over, 1, 1);
    (queued.inode, queued.owners) = (0, Vec::new());
    sockets.push(queued);
    // Recent ACKs from the peer (its keepalive probes or window updates) keep the path alive.
    let mut acked = established(
        "10.0.0.1:41003",
        "10.0.0.5:5432",
        SocketTimer::Off,
        over,
        4242,
        23,
    );
    acked.idle.as_mut().unwrap().last_ack_recv_ms = 5_000;
    sockets.push(acked);
    // The server side: clients of a listening port, grouped by their IP.
    sockets.push(sock(KernelState::Listen, "0.0.0.0:8443", "0.0.0.0:0"));
    sockets.extend((0..2).map(|i| {
        established(
            "10.0.0.1:8443",
            &format!("192.0.2.7:{}", 50000 + i),
            SocketTimer::Off,
            over,
            99,
            30 + i,
        )
    }));
    let evidence = HostEvidence {
        sockets,
        sysctls: sysctls(&[
            ("ipv4/tcp_keepalive_time", "7200"),
            ("ipv4/tcp_keepalive_intvl", "75"),
            ("ipv4/tcp_keepalive_probes", "9"),
        ]),
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    let k = &d.keepalive;
    assert_eq!((k.time_s, k.intvl_s, k.probes), (Some(7200), Some(75), Some(9)));
    assert_eq!(
        k.idle_threshold_ms, 240_000,
        "the shortest idle timeout in the table"
    );
    assert_eq!(
        (k.established, k.keepalive_armed, k.idle_without_keepalive),
        (10, 1, 5)
    );
    assert_eq!(k.groups.len(), 2);
    let g = &k.groups[0];
    assert_eq!(
        (g.pid, g.count, g.peer_port, g.local_port, g.max_idle_ms),
        (Some(4242), 3, Some(5432), None, u64::from(over) + 2)
    );
    assert_eq!(g.fds, [10, 11, 12]);
    let server = &k.groups[1];
    assert_eq!(
        (server.pid, server.count, server.peer_port, server.local_port),
        (Some(99), 2, None, Some(8443))
    );

    let findings: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.code == "idle-without-keepalive")
        .collect();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let f = findings[0];
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        f.summary,
        "java (pid 4242) holds 3 ESTABLISHED connections to 10.0.0.5:5432 idle for over 240 s without \
         keepalive: a NAT, firewall or load balancer on the path may drop them silently; the next write then \
         gets a reset or hangs"
    );
    assert!(
        f.evidence.iter().any(|e| e == "file descriptors 10, 11, 12"),
        "{:?}",
        f.evidence
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("tcp_keepalive_time = 7200 s") && e.contains("later than")),
        "{:?}",
        f.evidence
    );
    assert!(
        f.next_step
            .contains("TCP_KEEPIDLE below the shortest idle timeout")
    );
    assert!(
        f.explanation.contains("240 s for Azure Load Balancer"),
        "{}",
        f.explanation
    );
    assert!(
        findings[1].summary.starts_with(
            "java (pid 99) holds 2 ESTABLISHED connections to clients of :8443 at 192.0.2.7 idle"
        ),
        "{}",
        findings[1].summary
    );

    // A lower threshold (`status --idle-threshold`) reaches the connections silent for less.
    let t = Thresholds {
        idle_without_keepalive_ms: 100_000,
        ..Thresholds::default()
    };
    let d = diagnose(&evidence, &t);
    assert_eq!(d.keepalive.idle_without_keepalive, 6);
    assert!(d.findings[0].summary.contains("idle for over 100 s"));
}

/// The idle connections' owners are looked up beyond the named states; the process table still
/// counts only the states whose owners were all looked up.
#[test]
fn owners_found_for_the_keepalive_audit_do_not_skew_the_process_table() {
    let evidence = HostEvidence {
        sockets: vec![
            established(
                "10.0.0.1:40000",
                "10.0.0.5:5432",
                SocketTimer::Off,
                300_000,
                4242,
                10,
            ),
            SocketRecord {
                inode: 7,
                owners: vec![SocketOwner {
                    pid: 4242,
                    comm: "java".into(),
                    fd: 3,
                }],
                ..sock(KernelState::Listen, "0.0.0.0:8080", "0.0.0.0:0")
            },
        ],
        owners: lifecycle::kernel::OwnerLookup {
            states: vec![KernelState::CloseWait, KernelState::Listen],
            unresolved: 0,
        },
        ..HostEvidence::default()
    };
    let d = diagnose(&evidence, &Thresholds::default());
    assert_eq!(d.keepalive.groups[0].pid, Some(4242));
    assert_eq!(d.processes.len(), 1);
    assert_eq!(d.processes[0].states, [("LISTEN", 1)].into());
}
