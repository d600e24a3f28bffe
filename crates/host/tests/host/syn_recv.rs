//! Half-open connections made for real (`lab::Netns::half_open`: hand-built SYNs whose SYN-ACKs go
//! nowhere), snapshotted exactly and checked against `ss` run in the same namespace.
//!
//! In the kernel's tables a request socket is `TCP_NEW_SYN_RECV` (12), but `inet_req_diag_fill`
//! reports it as `TCP_SYN_RECV` (3), as `/proc/net/tcp` does. So a snapshot holds `KernelState::SynRecv`
//! records and never `NewSynRecv` ones.

use crate::lab;
use lifecycle::kernel::{Family, KernelState, SocketRecord};
use std::collections::BTreeMap;

const PORT: u16 = 7010;
const HALF_OPEN: usize = 4;

fn snapshot(ns: &lab::Netns, states: &[KernelState]) -> Vec<SocketRecord> {
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        states: states.to_vec(),
        ..host::SnapshotOptions::default()
    };
    host::snapshot(&options).expect("snapshot").sockets
}

#[test]
fn request_sockets_are_syn_recv_with_no_owner_and_agree_with_ss() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let half = ns.half_open(PORT, HALF_OPEN);
    let sockets = snapshot(&ns, &KernelState::ALL);

    let syn_recv: Vec<&SocketRecord> = sockets
        .iter()
        .filter(|s| matches!(s.state, KernelState::SynRecv | KernelState::NewSynRecv))
        .collect();
    assert_eq!(syn_recv.len(), HALF_OPEN, "{sockets:#?}");
    for s in &syn_recv {
        assert_eq!(s.state, KernelState::SynRecv, "reported as TCP_SYN_RECV: {s:?}");
        assert_eq!(s.family, Family::V4);
        assert_eq!(s.local, half.listener);
        assert_eq!(s.remote.ip(), half.peer);
        // A request socket has no file and is the kernel's alone (no accept() has happened yet).
        assert_eq!(s.inode, 0, "{s:?}");
        assert_eq!((s.recv_q, s.send_q), (0, 0), "{s:?}");
    }
    let mut peer_ports: Vec<u16> = syn_recv.iter().map(|s| s.remote.port()).collect();
    peer_ports.sort_unstable();
    assert_eq!(peer_ports, half.peer_ports, "one request socket per SYN sent");

    // The listener and nothing else: held by the script, nothing in its accept queue, since no
    // handshake completed.
    let rest: Vec<&SocketRecord> = sockets
        .iter()
        .filter(|s| s.state != KernelState::SynRecv)
        .collect();
    assert_eq!(rest.len(), 1, "{rest:#?}");
    let listener = rest[0];
    assert_eq!(listener.state, KernelState::Listen);
    assert_eq!(listener.local, half.listener);
    assert_eq!(listener.recv_q, 0, "accept queue");
    assert_eq!(
        listener.owners.iter().map(|o| o.pid).collect::<Vec<_>>(),
        [half.pid]
    );

    // ss, asking the kernel for syn-recv itself, lists the same sockets; and the whole table agrees.
    assert_eq!(ns.ss_state_count("syn-recv"), HALF_OPEN as u64);
    let mut ours: BTreeMap<String, u64> = BTreeMap::new();
    for s in &sockets {
        *ours
            .entry(lab::ss_name(s.state.linux_name()).to_string())
            .or_default() += 1;
    }
    assert_eq!(ours, ns.ss_counts());
    assert_eq!(ours.get("SYN-RECV"), Some(&(HALF_OPEN as u64)));
}

/// Either bit of the dump's state mask selects request sockets: the kernel widens a request for
/// SYN_RECV to NEW_SYN_RECV as well (`tcp_diag_dump`, formerly `inet_diag_dump_icsk`), and reports
/// them as SYN_RECV either way.
#[test]
fn request_sockets_are_dumped_for_either_syn_recv_bit() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let half = ns.half_open(PORT, HALF_OPEN);
    for bit in [KernelState::SynRecv, KernelState::NewSynRecv] {
        let sockets = snapshot(&ns, &[bit]);
        assert_eq!(sockets.len(), HALF_OPEN, "{bit:?}: {sockets:#?}");
        assert!(
            sockets
                .iter()
                .all(|s| s.state == KernelState::SynRecv && s.local == half.listener),
            "{bit:?}: {sockets:#?}"
        );
    }
}
