//! TCP keepalive: the settings in force, and the ESTABLISHED connections silent for longer than the
//! devices on a network path keep a connection, with nothing armed to keep them known (issue 16: a
//! reset that such a device sends, or the silence of one that dropped the flow, is blamed on the peer).

use crate::roles::{Peer, Roles};
use crate::{Thresholds, human};
use lifecycle::idle_timeouts::{IDLE_TIMEOUTS, shortest};
use lifecycle::kernel::{
    Finding, HostEvidence, IdleGroup, KeepaliveAudit, KernelState, Severity, SocketTimer,
};
use std::collections::BTreeMap;

/// (pid, comm, peer).
type Key = (Option<u32>, Option<String>, Peer);

pub fn audit(
    evidence: &HostEvidence,
    roles: &Roles,
    t: &Thresholds,
    findings: &mut Vec<Finding>,
) -> KeepaliveAudit {
    let sys = &evidence.sysctls;
    let mut audit = KeepaliveAudit {
        time_s: sys.int("ipv4/tcp_keepalive_time"),
        intvl_s: sys.int("ipv4/tcp_keepalive_intvl"),
        probes: sys.int("ipv4/tcp_keepalive_probes"),
        idle_threshold_ms: t.idle_without_keepalive_ms,
        ..KeepaliveAudit::default()
    };
    let mut by_key: BTreeMap<Key, IdleGroup> = BTreeMap::new();
    for s in evidence
        .sockets
        .iter()
        .filter(|s| s.state == KernelState::Established)
    {
        audit.established += 1;
        if s.timer == SocketTimer::Keepalive {
            audit.keepalive_armed += 1;
        }
        if !s.idle_without_keepalive(audit.idle_threshold_ms) {
            continue;
        }
        audit.idle_without_keepalive += 1;
        let owner = s.owners.first();
        let peer = roles.peer(s);
        let g = by_key
            .entry((owner.map(|o| o.pid), owner.map(|o| o.comm.clone()), peer))
            .or_insert_with(|| IdleGroup {
                pid: owner.map(|o| o.pid),
                comm: owner.map(|o| o.comm.clone()),
                peer_ip: peer.ip,
                peer_port: peer.port,
                local_port: peer.local_port,
                count: 0,
                max_idle_ms: 0,
                fds: Vec::new(),
            });
        g.count += 1;
        let quiet = s.idle.map_or(0, |i| u64::from(i.quiet_ms()));
        g.max_idle_ms = g.max_idle_ms.max(quiet);
        g.fds.extend(owner.map(|o| o.fd));
    }
    let mut groups: Vec<IdleGroup> = by_key.into_values().collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(b.max_idle_ms.cmp(&a.max_idle_ms)));
    for g in &mut groups {
        g.fds.sort_unstable();
        findings.push(finding(g, &audit));
    }
    audit.groups = groups;
    audit
}

fn finding(g: &IdleGroup, audit: &KeepaliveAudit) -> Finding {
    let peer = Peer {
        ip: g.peer_ip,
        port: g.peer_port,
        local_port: g.local_port,
    };
    let threshold = human::seconds(audit.idle_threshold_ms);
    let connections = if g.count == 1 { "connection" } else { "connections" };
    let mut evidence = vec![
        format!(
            "{} ESTABLISHED sockets with no timer armed (SO_KEEPALIVE off), silent for {threshold} or more",
            g.count
        ),
        format!(
            "longest silence: {} ms (tcp_info: since data was last sent or received and an ACK last received)",
            g.max_idle_ms
        ),
    ];
    if !g.fds.is_empty() {
        evidence.push(format!("file descriptors {}", human::fds(&g.fds)));
    }
    let shortest = shortest();
    if let Some(time) = audit.time_s {
        let late = if time.unsigned_abs() > shortest.seconds {
            format!(
                "; later than the shortest idle timeout ({} s), so SO_KEEPALIVE alone, without \
                 TCP_KEEPIDLE, would not keep them either",
                shortest.seconds
            )
        } else {
            String::new()
        };
        evidence.push(format!(
            "net.ipv4.tcp_keepalive_time = {time} s: when the first probe goes out on sockets that set \
             SO_KEEPALIVE{late}"
        ));
    }
    let known: Vec<String> = IDLE_TIMEOUTS
        .iter()
        .take(2)
        .map(|t| format!("{} s for {}", t.seconds, t.device))
        .collect();
    Finding {
        severity: Severity::Warning,
        code: "idle-without-keepalive",
        summary: format!(
            "{} holds {} ESTABLISHED {connections} to {peer} idle for over {threshold} without keepalive: a NAT, \
             firewall or load balancer on the path may drop them silently; the next write then gets a reset or \
             hangs",
            human::holder(g.pid, g.comm.as_deref()),
            g.count,
        ),
        evidence,
        explanation: format!(
            "Devices that keep per-connection state on a path (NAT gateways, stateful firewalls, load balancers, \
             conntrack) forget a connection that stays silent longer than their idle timeout, and tell neither \
             end: by default {}. The next segment either end sends is then dropped (the sender retransmits for \
             minutes before it gives up) or answered with a reset the device sends in the other end's name. \
             These sockets have no timer armed, so nothing goes out until the application writes. Keepalive \
             probes sent by the peer do not show on this side: if the peer probes more often than that, these \
             connections are kept alive.",
            known.join(", ")
        ),
        next_step: format!(
            "Enable SO_KEEPALIVE on these connections with TCP_KEEPIDLE below the shortest idle timeout on the \
             path (below {} s covers every device tcpdoctor knows; most database drivers and connection pools \
             have a keepalive setting), or have the application ping; lowering net.ipv4.tcp_keepalive_time \
             only affects sockets that set SO_KEEPALIVE.",
            shortest.seconds
        ),
    }
}
