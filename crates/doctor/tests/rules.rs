//! The rules on hand-built evidence: each finding appears exactly when its numbers say so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use doctor::{SocketFilter, Thresholds, diagnose};
use lifecycle::kernel::{
    ConfLine, Family, HostEvidence, KernelState, Severity, SocketOwner, SocketRecord, Sysctls, TcpIdle,
};

fn sock(state: KernelState, local: &str, remote: &str) -> SocketRecord {
    SocketRecord {
        family: Family::V4,
        state,
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        recv_q: 0,
        send_q: 0,
        uid: 0,
        inode: 0,
        expires_in_ms: None,
        idle: None,
        owners: Vec::new(),
    }
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
                last_ack_recv_ms: 0,
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
        last_ack_recv_ms: 0,
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
