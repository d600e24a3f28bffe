//! Sockets several processes hold, as a pre-fork server's do (`prefork.py`, in a network namespace
//! this test creates and removes): every holder listed, ordered by pid, the same on every snapshot.

use crate::lab;
use lifecycle::kernel::{KernelState, SocketRecord};

/// (pid, fd) of each socket's owners, by state and the two addresses.
fn owners(sockets: &[SocketRecord]) -> Vec<(String, Vec<(u32, u32)>)> {
    let mut v: Vec<_> = sockets
        .iter()
        .map(|s| {
            let key = format!("{:?} {} {}", s.state, s.local, s.remote);
            for o in &s.owners {
                assert!(o.comm.starts_with("python"), "{o:?}");
            }
            (key, s.owners.iter().map(|o| (o.pid, o.fd)).collect())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_holder_of_a_pre_fork_servers_sockets_in_pid_order() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let server = ns.prefork(7400, 3);
    let every = |fd| -> Vec<(u32, u32)> { server.holders().iter().map(|&pid| (pid, fd)).collect() };
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        owner_states: KernelState::WITH_FILES.to_vec(),
        ..host::SnapshotOptions::default()
    };
    let first = host::snapshot(&options).expect("snapshot").sockets;
    let pick = |sockets: &[SocketRecord], state, local: bool| -> Vec<(u32, u32)> {
        let s: Vec<_> = sockets
            .iter()
            .filter(|s| s.state == state && (if local { s.local } else { s.remote }).port() == 7400)
            .collect();
        assert_eq!(s.len(), 1, "{sockets:?}");
        s[0].owners.iter().map(|o| (o.pid, o.fd)).collect()
    };
    assert_eq!(pick(&first, KernelState::Listen, true), every(server.listener));
    assert_eq!(
        pick(&first, KernelState::Established, true),
        every(server.accepted)
    );
    assert_eq!(
        pick(&first, KernelState::Established, false),
        every(server.client)
    );
    // The scanning threads race differently every time; the owners do not change.
    let expected = owners(&first);
    for run in 0..20 {
        let again = host::snapshot(&options).expect("snapshot").sockets;
        assert_eq!(owners(&again), expected, "snapshot {run}");
    }

    // A default snapshot wants the listener's owners only: they are in every process's first fds,
    // which it reads in full, so it names every worker too.
    let default = host::SnapshotOptions {
        netns: Some(ns.path()),
        ..host::SnapshotOptions::default()
    };
    for run in 0..5 {
        let sockets = host::snapshot(&default).expect("snapshot").sockets;
        assert_eq!(
            pick(&sockets, KernelState::Listen, true),
            every(server.listener),
            "run {run}"
        );
        assert_eq!(pick(&sockets, KernelState::Established, true), [], "not wanted");
    }
}
