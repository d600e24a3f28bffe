//! CLOSE-WAIT: the peer closed, this host's application never did (seed §6). Who holds them, towards
//! whom, how much they left unread, and for how long.

use crate::roles::{Peer, Roles};
use crate::{Thresholds, human};
use lifecycle::kernel::{CloseWaitGroup, Finding, HostEvidence, KernelState, Severity};
use std::collections::{BTreeMap, BTreeSet};

/// (pid, comm, peer).
type Key = (Option<u32>, Option<String>, Peer);

/// Processes holding a group's sockets besides the group's own: (pid, comm).
type Others = BTreeSet<(u32, String)>;

pub fn groups(
    evidence: &HostEvidence,
    roles: &Roles,
    t: &Thresholds,
    findings: &mut Vec<Finding>,
) -> Vec<CloseWaitGroup> {
    // A socket several processes hold (forked with it) goes to the group of the first, by pid; the
    // others are named in the finding: the kernel sends the FIN only once every holder has closed it.
    let mut by_key: BTreeMap<Key, (CloseWaitGroup, Others)> = BTreeMap::new();
    for s in evidence
        .sockets
        .iter()
        .filter(|s| s.state == KernelState::CloseWait)
    {
        let owner = s.owners.first();
        let peer = roles.peer(s);
        let key = (owner.map(|o| o.pid), owner.map(|o| o.comm.clone()), peer);
        let (g, others) = by_key.entry(key).or_insert_with(|| {
            let g = CloseWaitGroup {
                pid: owner.map(|o| o.pid),
                comm: owner.map(|o| o.comm.clone()),
                peer_ip: peer.ip,
                peer_port: peer.port,
                local_port: peer.local_port,
                count: 0,
                unread_bytes: 0,
                max_idle_ms: None,
                fds: Vec::new(),
            };
            (g, Others::new())
        });
        others.extend(
            s.owners
                .iter()
                .filter(|o| Some(o.pid) != g.pid)
                .map(|o| (o.pid, o.comm.clone())),
        );
        g.count += 1;
        g.unread_bytes += u64::from(s.state.unread_bytes(s.recv_q));
        if let Some(idle) = s.idle {
            let ms = u64::from(idle.last_data_recv_ms);
            g.max_idle_ms = Some(g.max_idle_ms.map_or(ms, |m| m.max(ms)));
        }
        // The group's process may hold the socket at several fds (`dup`).
        g.fds
            .extend(s.owners.iter().filter(|o| Some(o.pid) == g.pid).map(|o| o.fd));
    }
    let looked_up = evidence.owners.states.contains(&KernelState::CloseWait);
    let mut groups: Vec<(CloseWaitGroup, Others)> = by_key.into_values().collect();
    groups.sort_by(|(a, _), (b, _)| b.count.cmp(&a.count).then(b.unread_bytes.cmp(&a.unread_bytes)));
    for (g, others) in &mut groups {
        g.fds.sort_unstable();
        if g.count >= t.close_wait_count || g.max_idle_ms.is_some_and(|ms| ms >= t.close_wait_idle_ms) {
            findings.push(finding(g, others, looked_up));
        }
    }
    groups.into_iter().map(|(g, _)| g).collect()
}

fn peer(g: &CloseWaitGroup) -> Peer {
    Peer {
        ip: g.peer_ip,
        port: g.peer_port,
        local_port: g.local_port,
    }
}

fn finding(g: &CloseWaitGroup, others: &Others, looked_up: bool) -> Finding {
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
    if !others.is_empty() {
        let names: Vec<String> = others
            .iter()
            .take(10)
            .map(|(pid, comm)| human::holder(Some(*pid), Some(comm)))
            .collect();
        let more = others.len().saturating_sub(names.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        evidence.push(format!(
            "also held by {}{more} (forked with them): the FIN goes out only once every holder has closed them",
            names.join(", ")
        ));
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
