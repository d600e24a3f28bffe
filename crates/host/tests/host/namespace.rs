//! Snapshots of a known socket population in a network namespace this test creates and removes,
//! checked exactly and against `ss -tan` run in the same namespace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use crate::lab;
use lifecycle::kernel::{Family, KernelState, SocketRecord};
use std::collections::BTreeMap;

fn snapshot(ns: &lab::Netns) -> Vec<SocketRecord> {
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        ..host::SnapshotOptions::default()
    };
    host::snapshot(&options).expect("snapshot").sockets
}

fn count(sockets: &[SocketRecord], state: KernelState) -> u64 {
    sockets.iter().filter(|s| s.state == state).count() as u64
}

#[test]
fn known_population_exact_counts_owners_and_queues() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let pop = ns.populate();
    let sockets = snapshot(&ns);

    assert_eq!(
        count(&sockets, KernelState::TimeWait),
        lab::SERVER_FIRST + lab::CLIENT_FIRST
    );
    assert_eq!(count(&sockets, KernelState::CloseWait), lab::CLOSE_WAIT);
    assert_eq!(
        count(&sockets, KernelState::FinWait2),
        lab::CLOSE_WAIT,
        "the parent's closed ends"
    );
    assert_eq!(count(&sockets, KernelState::Listen), 5);

    // TIME-WAIT: on the server's port for server-first closes, towards :7002 for client-first ones;
    // the kernel holds them alone (inode 0), so no owner is claimed.
    let tw: Vec<_> = sockets
        .iter()
        .filter(|s| s.state == KernelState::TimeWait)
        .collect();
    assert_eq!(
        tw.iter().filter(|s| s.local.port() == 7001).count() as u64,
        lab::SERVER_FIRST
    );
    assert_eq!(
        tw.iter().filter(|s| s.remote.port() == 7002).count() as u64,
        lab::CLIENT_FIRST
    );
    assert!(tw.iter().all(|s| s.inode == 0 && s.owners.is_empty()));

    // CLOSE-WAIT: held by the child, the unread bytes plus the FIN in Recv-Q, idle time from tcp_info.
    for s in sockets.iter().filter(|s| s.state == KernelState::CloseWait) {
        assert_eq!(s.remote.port(), 7003);
        assert_eq!(s.owners.len(), 1, "{s:?}");
        assert_eq!(s.owners[0].pid, pop.child);
        assert!(s.owners[0].comm.starts_with("python"), "{:?}", s.owners[0].comm);
        assert_eq!(u64::from(s.recv_q), lab::UNREAD + 1);
        assert!(s.idle.is_some(), "tcp_info was asked for CLOSE-WAIT");
    }
    let mut fds: Vec<u32> = sockets
        .iter()
        .filter(|s| s.state == KernelState::CloseWait)
        .map(|s| s.owners[0].fd)
        .collect();
    fds.sort_unstable();
    fds.dedup();
    assert_eq!(fds.len() as u64, lab::CLOSE_WAIT, "one fd each");

    // The listener that never accepts: queue over its backlog, held by the parent.
    let full = sockets
        .iter()
        .find(|s| s.state == KernelState::Listen && s.local.port() == 7004)
        .expect(":7004");
    assert_eq!(full.send_q, lab::BACKLOG);
    assert_eq!(full.recv_q, lab::BACKLOG + 1);
    assert_eq!(
        full.owners.iter().map(|o| o.pid).collect::<Vec<_>>(),
        [pop.parent]
    );

    // IPv6: one listener and one connection, both ends.
    let v6: Vec<_> = sockets.iter().filter(|s| s.family == Family::V6).collect();
    assert_eq!(v6.len(), 3, "{v6:?}");

    // The same counts as ss.
    let mut ours: BTreeMap<String, u64> = BTreeMap::new();
    for s in &sockets {
        *ours
            .entry(lab::ss_name(s.state.linux_name()).to_string())
            .or_default() += 1;
    }
    assert_eq!(ours, ns.ss_counts());
}

#[test]
fn empty_namespace_has_no_sockets() {
    require_lab!();
    let ns = lab::Netns::new();
    assert!(snapshot(&ns).is_empty());
    assert!(ns.ss_counts().is_empty());
}

#[test]
fn state_mask_is_applied_by_the_kernel() {
    require_lab!();
    let mut ns = lab::Netns::new();
    ns.populate();
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        states: vec![KernelState::TimeWait, KernelState::Listen],
        ..host::SnapshotOptions::default()
    };
    let sockets = host::snapshot(&options).expect("snapshot").sockets;
    assert!(
        sockets
            .iter()
            .all(|s| matches!(s.state, KernelState::TimeWait | KernelState::Listen))
    );
    assert_eq!(sockets.len() as u64, lab::SERVER_FIRST + lab::CLIENT_FIRST + 5);
}

#[test]
fn missing_namespace_is_an_error_not_a_panic() {
    let options = host::SnapshotOptions {
        netns: Some("/run/netns/tcpd-test-does-not-exist".into()),
        ..host::SnapshotOptions::default()
    };
    let err = host::snapshot(&options).expect_err("no such namespace");
    assert!(err.to_string().contains("tcpd-test-does-not-exist"), "{err}");
}

/// The two-family request, one request per family, and the table split into port bands side by side
/// are three ways to the same sockets.
#[test]
fn every_way_of_dumping_gives_the_same_table() {
    use host::sockdiag::{self, PortBand, Request};
    require_lab!();
    let mut ns = lab::Netns::new();
    ns.populate();
    let all = KernelState::ALL.iter().fold(0, |m, s| m | s.mask_bit());
    let key = |mut v: Vec<SocketRecord>| {
        let mut k: Vec<_> = v
            .drain(..)
            .map(|s| (s.family, s.state, s.local, s.remote, s.inode))
            .collect();
        k.sort();
        k
    };
    let (both, per_family, banded, timers) = host::netns::run_in(&ns.path(), move || {
        let socket = sockdiag::open()?;
        let mut both = Vec::new();
        sockdiag::run(&socket, Request::BothFamilies, all, 0, &[], &mut both)?;
        let mut per_family = Vec::new();
        for family in [Family::V4, Family::V6] {
            sockdiag::run(&socket, Request::Family(family), all, 0, &[], &mut per_family)?;
        }
        let mut banded = Vec::new();
        // Bands around the ports in use: 7001-7005 and the ephemeral ports of the connections.
        let without_v6 = sockdiag::dump(all, 0, &PortBand::split((7003, 60999), 3), &mut banded)?;
        assert!(without_v6.is_none());
        let timers: Vec<_> = both.iter().map(|s| (s.state, s.expires_in_ms)).collect();
        Ok((key(both), key(per_family), key(banded), timers))
    })
    .expect("dumps");
    assert_eq!(both.len(), ns.ss_counts().values().sum::<u64>() as usize);
    assert!(
        both.iter().any(|s| s.0 == Family::V4) && both.iter().any(|s| s.0 == Family::V6),
        "the two-family request gives both families in one walk"
    );
    assert_eq!(both, per_family);
    assert_eq!(both, banded);
    for (state, left) in timers {
        // The parent's orphaned FIN-WAIT-2 ends are timewait sockets too (tcp_fin_timeout, 60 s).
        match (state, left) {
            (KernelState::TimeWait | KernelState::FinWait2, Some(ms)) => {
                assert!(ms > 0 && ms <= 60_000, "{ms} ms left");
            }
            (KernelState::TimeWait, None) => panic!("a TIME-WAIT socket without its timer"),
            (_, left) => assert_eq!(left, None, "{state:?}"),
        }
    }
}
