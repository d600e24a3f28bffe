//! CLOSE-WAIT: the peer closed, this host's application never did (seed §6). Who holds them, towards
//! whom, how much they left unread, and for how long.

use crate::roles::{Peer, Roles};
use crate::{Thresholds, human};
use lifecycle::kernel::{CloseWaitGroup, Finding, HostEvidence, KernelState, Severity};
use std::collections::BTreeMap;

/// (pid, comm, peer).
type Key = (Option<u32>, Option<String>, Peer);

pub fn groups(
    evidence: &HostEvidence,
    roles: &Roles,
    t: &Thresholds,
    findings: &mut Vec<Finding>,
) -> Vec<CloseWaitGroup> {
    let mut by_key: BTreeMap<Key, CloseWaitGroup> = BTreeMap::new();
    for s in evidence
        .sockets
        .iter()
        .filter(|s| s.state == KernelState::CloseWait)
    {
        let owner = s.owners.first();
        let peer = roles.peer(s);
        let key = (owner.map(|o| o.pid), owner.map(|o| o.comm.clone()), peer);
        let g = by_key.entry(key).or_insert_with(|| CloseWaitGroup {
            pid: owner.map(|o| o.pid),
            comm: owner.map(|o| o.comm.clone()),
            peer_ip: peer.ip,
            peer_port: peer.port,
            local_port: peer.local_port,
            count: 0,
            unread_bytes: 0,
            max_idle_ms: None,
            fds: Vec::new(),
        });
        g.count += 1;
        g.unread_bytes += u64::from(s.state.unread_bytes(s.recv_q));
        if let Some(idle) = s.idle {
            let ms = u64::from(idle.last_data_recv_ms);
            g.max_idle_ms = Some(g.max_idle_ms.map_or(ms, |m| m.max(ms)));
        }
        g.fds.extend(owner.map(|o| o.fd));
    }
    let looked_up = evidence.owners.states.contains(&KernelState::CloseWait);
    let mut groups: Vec<CloseWaitGroup> = by_key.into_values().collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(b.unread_bytes.cmp(&a.unread_bytes)));
    for g in &mut groups {
        g.fds.sort_unstable();
    }
    for g in groups.iter().filter(|g| {
        g.count >= t.close_wait_count || g.max_idle_ms.is_some_and(|ms| ms >= t.close_wait_idle_ms)
    }) {
        findings.push(finding(g, looked_up));
    }
    groups
}

fn peer(g: &CloseWaitGroup) -> Peer {
    Peer {
        ip: g.peer_ip,
        port: g.peer_port,
        local_port: g.local_port,
    }
}

fn finding(g: &CloseWaitGroup, looked_up: bool) -> Finding {
    let who = human::holder(g.pid, g.comm.as_deref());
    let mut summary = format!("{who} holds {} CLOSE-WAIT sockets to {}", g.count, peer(g));
    if let Some(ms) = g.max_idle_ms {
        summary.push_str(&format!(", oldest idle {}", human::millis(ms)));
    }
    summary.push_str(&format!(", {} unread", human::bytes(g.unread_bytes)));
    let mut evidence = vec![format!(
        "{} sockets in CLOSE-WAIT, {} bytes unread (Recv-Q less the FIN)",
        g.count, g.unread_bytes
    )];
    if !g.fds.is_empty() {
        evidence.push(format!("file descriptors {}", human::fds(&g.fds)));
    }
    if let Some(ms) = g.max_idle_ms {
        evidence.push(format!(
            "longest time since data last arrived: {ms} ms (tcp_info)"
        ));
    }
    Finding {
        severity: if g.count >= 1000 { Severity::Critical } else { Severity::Warning },
        code: "close-wait-holder",
        summary,
        evidence,
        explanation: "The peer closed its side (its FIN arrived), but this process never called close() on the \
                      socket, so the kernel waits for it forever: CLOSE-WAIT has no timeout. Typically an error \
                      path or a pool that does not release the connection once the peer goes away."
            .into(),
        next_step: match g.pid {
            Some(pid) => format!(
                "It does not close connections after the peer closes: look at its error paths and connection \
                 pool (see `ls -l /proc/{pid}/fd`); restarting it only hides the leak."
            ),
            None if looked_up => {
                "Run as root to see which process holds them, then look at its error paths.".into()
            }
            None => "Run without --no-owners to see which process holds them, then look at its error paths.".into(),
        },
    }
}
