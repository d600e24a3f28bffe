//! Every socket once in every snapshot while sockets change state during it (`churn.py`): connections
//! opened and closed all the time, passing CLOSE-WAIT between the main walk and the `tcp_info` pass,
//! beside a stable set that must be counted exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use crate::lab;
use host::sockdiag::{self, PortBand};
use lifecycle::kernel::{KernelState, SocketRecord};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// What one snapshot held, reduced (the snapshots themselves would be large).
#[derive(Debug)]
struct Seen {
    /// Whether `tcp_info` was asked for in a second walk (ESTABLISHED not wanting it).
    two_walks: bool,
    records: usize,
    distinct_cookies: usize,
    /// The stable set, by state (FIN-WAIT-1 counted as FIN-WAIT-2).
    stable: BTreeMap<KernelState, u64>,
    /// Stable CLOSE-WAIT sockets without `tcp_info` (never in a snapshot that asked for it).
    stable_close_wait_without_info: usize,
    /// Churning sockets in CLOSE-WAIT, and in TIME-WAIT.
    churn_close_wait: usize,
    churn_time_wait: usize,
}

fn seen(two_walks: bool, sockets: &[SocketRecord]) -> Seen {
    let has_port = |s: &SocketRecord, port| s.local.port() == port || s.remote.port() == port;
    let cookies: HashSet<u64> = sockets.iter().map(|s| s.cookie).filter(|&c| c != 0).collect();
    let mut stable = BTreeMap::new();
    for s in sockets.iter().filter(|s| has_port(s, lab::CHURN_STABLE_PORT)) {
        // A closed client end is in FIN-WAIT-1 until its FIN is acknowledged, which a busy machine
        // can delay past the first snapshots: one socket either way.
        let state = match s.state {
            KernelState::FinWait1 => KernelState::FinWait2,
            state => state,
        };
        *stable.entry(state).or_insert(0) += 1;
    }
    let churn = |state| {
        sockets
            .iter()
            .filter(|s| has_port(s, lab::CHURN_PORT) && s.state == state)
            .count()
    };
    Seen {
        two_walks,
        records: sockets.len(),
        distinct_cookies: cookies.len(),
        stable,
        stable_close_wait_without_info: sockets
            .iter()
            .filter(|s| has_port(s, lab::CHURN_STABLE_PORT))
            .filter(|s| s.state == KernelState::CloseWait && s.idle.is_none())
            .count(),
        churn_close_wait: churn(KernelState::CloseWait),
        churn_time_wait: churn(KernelState::TimeWait),
    }
}

#[test]
fn every_socket_once_while_sockets_change_state() {
    require_lab!();
    let mut ns = lab::Netns::new();
    ns.churn();
    let all = KernelState::ALL.iter().fold(0, |m, s| m | s.mask_bit());
    let close_wait = KernelState::CloseWait.mask_bit();
    let established = KernelState::Established.mask_bit();
    let snapshots = host::netns::run_in(&ns.path(), move || {
        let bands = PortBand::split((32768, 60999), 2);
        let start = Instant::now();
        let mut snapshots = Vec::new();
        // Bounded in count and time; at least a few of each kind.
        while snapshots.len() < 400 && (start.elapsed() < Duration::from_secs(4) || snapshots.len() < 20) {
            // Alternately: `tcp_info` for CLOSE-WAIT only, in a second walk (`status --state
            // close-wait,...`), and for ESTABLISHED and CLOSE-WAIT in the one walk (the default).
            let two_walks = snapshots.len() % 2 == 0;
            let info = if two_walks {
                close_wait
            } else {
                close_wait | established
            };
            let mut sockets = Vec::new();
            sockdiag::dump(all, info, &bands, &mut sockets)?;
            snapshots.push(seen(two_walks, &sockets));
        }
        Ok(snapshots)
    })
    .expect("snapshots");

    let stable = BTreeMap::from([
        (KernelState::Established, 40),
        (KernelState::CloseWait, 10),
        (KernelState::FinWait2, 10),
        (KernelState::Listen, 1),
    ]);
    assert_eq!(stable.values().sum::<u64>(), lab::CHURN_STABLE_SOCKETS);
    for (i, s) in snapshots.iter().enumerate() {
        assert_eq!(
            s.records, s.distinct_cookies,
            "snapshot {i}: a socket counted twice: {s:?}"
        );
        assert_eq!(s.stable, stable, "snapshot {i}: the stable sockets: {s:?}");
        assert_eq!(s.stable_close_wait_without_info, 0, "snapshot {i}: {s:?}");
    }
    // The snapshots met the churn: connections in CLOSE-WAIT, TIME-WAIT piling up.
    let two_walks: Vec<_> = snapshots.iter().filter(|s| s.two_walks).collect();
    assert!(
        two_walks.len() >= 10,
        "{} snapshots in two walks",
        two_walks.len()
    );
    assert!(
        two_walks.iter().filter(|s| s.churn_close_wait > 0).count() >= 5,
        "churning connections in CLOSE-WAIT during the snapshots: {snapshots:?}"
    );
    let (first, last) = (&snapshots[0], &snapshots[snapshots.len() - 1]);
    assert!(last.churn_time_wait > first.churn_time_wait, "{first:?} {last:?}");
    eprintln!(
        "{} snapshots, {} to {} sockets",
        snapshots.len(),
        first.records,
        last.records
    );
}
