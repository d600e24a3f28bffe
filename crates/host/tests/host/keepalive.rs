//! Socket timers and idle times from a real kernel: idle connections with and without keepalive
//! (`keepalive.py`) in a network namespace this test creates, against `ss -o` in the same namespace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use crate::lab;
use lifecycle::kernel::{KernelState, SocketRecord, SocketTimer};
use std::process::Command;
use std::time::Duration;

/// The silence the test waits for, and asks about: far below any real idle timeout, so that the test
/// does not wait minutes.
const IDLE_MS: u64 = 1_000;

#[test]
fn keepalive_timers_idle_times_and_the_owners_of_idle_connections() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let pop = ns.keepalive_population();
    std::thread::sleep(Duration::from_millis(IDLE_MS + 500));
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        idle_owners_ms: Some(IDLE_MS),
        ..host::SnapshotOptions::default()
    };
    let sockets = host::snapshot(&options).expect("snapshot").sockets;
    let established: Vec<_> = sockets
        .iter()
        .filter(|s| s.state == KernelState::Established)
        .collect();
    let connections = lab::PLAIN + lab::KEEPALIVE;
    assert_eq!(established.len() as u64, 2 * connections);

    // Timers: the server ends inherit SO_KEEPALIVE from the listener; of the clients, KEEPALIVE set it.
    let timers = |client: bool, timer: SocketTimer| {
        established
            .iter()
            .filter(|s| (s.remote.port() == lab::KEEPALIVE_PORT) == client && s.timer == timer)
            .count() as u64
    };
    assert_eq!(timers(true, SocketTimer::Keepalive), lab::KEEPALIVE);
    assert_eq!(timers(true, SocketTimer::Off), lab::PLAIN);
    assert_eq!(timers(false, SocketTimer::Keepalive), connections);
    let ss = Command::new("ip")
        .args(["netns", "exec", &ns.name, "ss", "-tnoH", "state", "established"])
        .output()
        .unwrap();
    let ss = String::from_utf8(ss.stdout).unwrap();
    assert_eq!(
        ss.matches("timer:(keepalive,").count() as u64,
        lab::KEEPALIVE + connections,
        "{ss}"
    );

    // Idle times: every ESTABLISHED socket carries tcp_info, silent since the handshake.
    for s in &established {
        let idle = s.idle.expect("tcp_info for ESTABLISHED");
        assert!(u64::from(idle.quiet_ms()) >= IDLE_MS, "{s:?}");
        assert!(idle.last_data_sent_ms >= idle.quiet_ms());
    }

    // Owners: looked up for exactly the idle clients without keepalive (ESTABLISHED is not among the
    // named states), all held by the child.
    let (idle, other): (Vec<&&SocketRecord>, Vec<_>) = established
        .iter()
        .partition(|s| s.idle_without_keepalive(IDLE_MS));
    assert_eq!(idle.len() as u64, lab::PLAIN);
    for s in &idle {
        assert_eq!(s.remote.port(), lab::KEEPALIVE_PORT);
        let pids: Vec<u32> = s.owners.iter().map(|o| o.pid).collect();
        assert_eq!(pids, [pop.child], "{s:?}");
    }
    assert!(other.iter().all(|s| s.owners.is_empty()), "{other:?}");
}
