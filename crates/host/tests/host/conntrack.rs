//! The conntrack table as a network namespace this test creates shows it: which of its numbers are the
//! namespace's own and which are the host's, tested rather than assumed. The host's own settings are
//! read, never changed: `nf_conntrack_max` is host-wide, so a small limit cannot be set for the test's
//! namespace alone, and a full table is left to the rule tests (`doctor/tests/rules.rs`) and the
//! program's fixture-tree test (`tcpdoctor/tests/cli/status.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use crate::lab;
use std::process::Command;

const SYSCTLS: &str = "/proc/sys/net/netfilter";

/// A conntrack sysctl as this test's own namespace shows it.
fn own(name: &str) -> String {
    std::fs::read_to_string(format!("{SYSCTLS}/{name}"))
        .unwrap()
        .trim()
        .to_string()
}

/// Writes a conntrack sysctl inside `ns`; whether the kernel let it.
fn set_in(ns: &lab::Netns, name: &str, value: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &ns.name, "sh", "-c"])
        .arg(format!("echo {value} > {SYSCTLS}/{name}"))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_namespace_has_its_own_count_counters_and_timeouts_but_the_host_s_limit() {
    require_lab!();
    if let Some(why) = lab::conntrack_unavailable() {
        eprintln!("skipped: {why}");
        return;
    }
    let host_max = own("nf_conntrack_max");
    let host_established = own("nf_conntrack_tcp_timeout_established");
    let mut ns = lab::Netns::new();
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        ..host::SnapshotOptions::default()
    };
    let fresh = host::snapshot(&options).unwrap().conntrack.expect("loaded");
    assert_eq!(fresh.entries, Some(0));
    assert_eq!(
        fresh.tcp_timeouts["established"], 432_000,
        "a new namespace starts from the kernel's default (5 days), whatever the host's ({host_established})"
    );

    // The limit cannot be set from inside: it is the host's.
    assert!(
        !set_in(&ns, "nf_conntrack_max", "64"),
        "nf_conntrack_max is writable in a namespace"
    );
    // The TCP timeouts can, and only for the namespace.
    assert!(set_in(&ns, "nf_conntrack_tcp_timeout_established", "3600"));
    assert_eq!(own("nf_conntrack_tcp_timeout_established"), host_established);

    ns.track_connections();
    ns.keepalive_population();
    let connections = lab::PLAIN + lab::KEEPALIVE;
    let evidence = host::snapshot(&options).unwrap();
    let ct = evidence.conntrack.expect("loaded");
    assert_eq!(
        ct.entries,
        Some(connections),
        "one entry per connection, this namespace's alone"
    );
    assert_eq!(ct.max, Some(host_max.parse().unwrap()));
    assert!(ct.max_host_wide, "read-only in the namespace");
    assert_eq!(ct.tcp_timeouts["established"], 3600);
    assert!(ct.tcp_timeouts.contains_key("time_wait"), "{:?}", ct.tcp_timeouts);
    for counter in ["drop", "early_drop", "insert_failed"] {
        assert_eq!(ct.stats.get(counter), Some(&0), "{counter} in {:?}", ct.stats);
    }
    assert!(!ct.stats.contains_key("entries"));
    assert!(
        !evidence.gaps.iter().any(|g| g.what.contains("conntrack")),
        "{:?}",
        evidence.gaps
    );

    // The counter table's `entries` column is the namespace's count on every CPU's row, not a
    // per-CPU share: summing it would multiply the count by the number of CPUs.
    let stat = Command::new("ip")
        .args(["netns", "exec", &ns.name, "cat", "/proc/net/stat/nf_conntrack"])
        .output()
        .unwrap();
    let text = String::from_utf8(stat.stdout).unwrap();
    let rows: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| u64::from_str_radix(l.split_whitespace().next().unwrap(), 16).unwrap())
        .collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|n| *n == connections), "{text}");
}
