//! TIME-WAIT: who closed first, towards whom, and how close it comes to the limits (seed §5, corrected).

use crate::Thresholds;
use crate::roles::Roles;
use lifecycle::kernel::{
    Finding, HostEvidence, KernelState, LocalPortCount, PortUse, RemoteCount, Severity, TimeWaitSummary,
};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// Groups beyond this many are left out: the largest are the ones that explain a pileup.
const TOP: usize = 20;

/// The seed's §5 with SEED-NOTES.md's corrections, shared by every TIME-WAIT finding.
const WHY: &str = "The side that closes first holds TIME-WAIT, so that stray segments of the old connection die \
out and its last ACK can be resent. On Linux it lasts a fixed 60 s (TCP_TIMEWAIT_LEN), not 2 minutes; \
tcp_fin_timeout does not shorten it (it bounds orphaned FIN-WAIT-2). tcp_tw_reuse (with timestamps) lets only \
new outgoing connections reuse a TIME-WAIT port; tcp_tw_recycle was removed in Linux 4.12 because it broke \
clients behind NAT; syncookies are a SYN-flood defence and do nothing here.";

pub fn summarize(
    evidence: &HostEvidence,
    roles: &Roles,
    t: &Thresholds,
    findings: &mut Vec<Finding>,
) -> TimeWaitSummary {
    let mut summary = TimeWaitSummary {
        max_tw_buckets: evidence.sysctls.int("ipv4/tcp_max_tw_buckets"),
        overflow_since_boot: evidence.counters.get("TcpExt.TCPTimeWaitOverflow"),
        ..TimeWaitSummary::default()
    };
    let mut by_remote: HashMap<(IpAddr, Option<u16>, Option<u16>), u64> = HashMap::new();
    let mut by_port: HashMap<u16, (u64, bool)> = HashMap::new();
    let mut use_by_triple: HashMap<(IpAddr, SocketAddr), (u64, u64)> = HashMap::new();
    for s in &evidence.sockets {
        let client_side = !roles.is_server(s);
        if s.state != KernelState::Listen && client_side {
            let entry = use_by_triple.entry((s.local.ip(), s.remote)).or_default();
            entry.1 += 1;
            if s.state == KernelState::TimeWait {
                entry.0 += 1;
            }
        }
        if s.state != KernelState::TimeWait {
            continue;
        }
        summary.total += 1;
        if let Some(left) = s.expires_in_ms {
            let (lo, hi) = summary.left_ms.get_or_insert((left, left));
            (*lo, *hi) = ((*lo).min(left), (*hi).max(left));
        }
        if client_side {
            summary.closed_first_as_client += 1;
        } else {
            summary.closed_first_as_server += 1;
        }
        let peer = if client_side {
            (s.remote.ip(), Some(s.remote.port()), None)
        } else {
            (s.remote.ip(), None, Some(s.local.port()))
        };
        *by_remote.entry(peer).or_default() += 1;
        let port = by_port.entry(s.local.port()).or_default();
        port.0 += 1;
        port.1 |= !client_side;
    }
    summary.by_remote = top(by_remote, |((remote_ip, remote_port, local_port), count)| {
        RemoteCount {
            remote_ip,
            remote_port,
            local_port,
            count,
        }
    });
    summary.by_local_port = top(by_port, |(port, (count, server))| LocalPortCount {
        port,
        count,
        server,
    });
    let range = evidence
        .sysctls
        .get("ipv4/ip_local_port_range")
        .and_then(range_size);
    // Every (local IP, remote endpoint) this host reaches as a client counts, TIME-WAIT or not: a pool
    // of open connections to one destination exhausts the range as surely as closed ones do.
    let mut port_use: Vec<PortUse> = use_by_triple
        .into_iter()
        .map(|((local_ip, remote), (time_wait, total))| PortUse {
            local_ip,
            remote,
            time_wait,
            total,
            range_size: range,
        })
        .collect();
    port_use.sort_by(|a, b| b.total.cmp(&a.total).then(a.remote.cmp(&b.remote)));
    port_use.truncate(TOP);
    summary.port_use = port_use;
    findings_for(&summary, evidence, t, findings);
    summary
}

/// The largest groups first (ties in key order, so output is stable).
fn top<K, V, T>(counts: HashMap<K, V>, make: impl Fn((K, V)) -> T) -> Vec<T>
where
    K: Ord + Copy,
    V: Ord + Copy,
{
    let mut v: Vec<(K, V)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().take(TOP).map(make).collect()
}

/// `"32768\t60999"` → 28232 ports.
fn range_size(value: &str) -> Option<u64> {
    let mut it = value.split_whitespace().map(str::parse::<u64>);
    let (Some(Ok(lo)), Some(Ok(hi))) = (it.next(), it.next()) else {
        return None;
    };
    hi.checked_sub(lo).map(|d| d + 1)
}

fn findings_for(s: &TimeWaitSummary, evidence: &HostEvidence, t: &Thresholds, findings: &mut Vec<Finding>) {
    let reuse = evidence.sysctls.get("ipv4/tcp_tw_reuse").unwrap_or("?");
    if let Some(u) = s.port_use.first()
        && let Some(range) = u.range_size
        && range > 0
        && u.total * 100 >= range * t.port_use_warn_pct
    {
        let pct = u.total * 100 / range;
        findings.push(Finding {
            severity: if pct >= 90 { Severity::Critical } else { Severity::Warning },
            code: "ephemeral-ports-exhausting",
            summary: format!(
                "{} of {range} local ports ({pct}%) in use from {} to {} ({} in TIME-WAIT): new connections there \
                 will fail with EADDRNOTAVAIL",
                u.total, u.local_ip, u.remote, u.time_wait
            ),
            evidence: vec![
                format!("{} sockets from {} to {}, {} of them TIME-WAIT", u.total, u.local_ip, u.remote, u.time_wait),
                format!(
                    "net.ipv4.ip_local_port_range = {} ({range} ports)",
                    evidence.sysctls.get("ipv4/ip_local_port_range").unwrap_or("?")
                ),
                format!("net.ipv4.tcp_tw_reuse = {reuse}"),
            ],
            explanation: if u.time_wait * 2 >= u.total {
                format!(
                    "Each (local IP, remote IP, remote port) can use each local port once; this host closes first \
                     as a client, so every closed connection keeps its port for 60 s. {WHY}"
                )
            } else {
                "Each (local IP, remote IP, remote port) can use each local port once, and most of these ports are \
                 held by connections still open: a pool, or connections leaked, towards one destination."
                    .into()
            },
            next_step: if u.time_wait * 2 >= u.total {
                "Reuse connections (keep-alive, pooling) instead of one per request; or let the server close \
                 first; or set net.ipv4.tcp_tw_reuse = 1 (outgoing only, needs tcp_timestamps = 1); or widen \
                 ip_local_port_range or spread over more local IPs or destinations."
            } else {
                "Bound the pool's size towards that destination, look for connections opened and never closed \
                 (`tcpdoctor -p` names their processes), or widen ip_local_port_range or spread over more local \
                 IPs or destinations."
            }
            .into(),
        });
    }
    if let Some(max) = s.max_tw_buckets
        && max > 0
        && (s.total as i64) * 100 >= max * t.tw_buckets_warn_pct as i64
    {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "tw-buckets-near-limit",
            summary: format!("{} TIME-WAIT sockets, {}% of tcp_max_tw_buckets ({max})", s.total, s.total as i64 * 100 / max),
            evidence: vec![format!("{} TIME-WAIT sockets", s.total), format!("net.ipv4.tcp_max_tw_buckets = {max}")],
            explanation: format!(
                "Past tcp_max_tw_buckets the kernel skips TIME-WAIT altogether (TCPTimeWaitOverflow, \
                 'TCP: time wait bucket table overflow'), losing its protection against old duplicates. {WHY}"
            ),
            next_step: "Cut the number of short connections (keep-alive, pooling) rather than raising the limit blindly."
                .into(),
        });
    }
    if let Some(overflow) = s.overflow_since_boot
        && overflow > 0
    {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "tw-overflow-since-boot",
            summary: format!("TIME-WAIT bucket table overflowed {overflow} times since boot"),
            evidence: vec![format!("TcpExt.TCPTimeWaitOverflow = {overflow}")],
            explanation: "Each overflow is a connection that closed without TIME-WAIT because tcp_max_tw_buckets \
                          was reached."
                .into(),
            next_step: "See whether it grows (`tcpdoctor status --watch 5`) and which peers the TIME-WAIT sockets are to."
                .into(),
        });
    }
    if s.total >= t.time_wait_total {
        let mut evidence_lines = vec![format!(
            "{} TIME-WAIT: {} closed first by this host as client (ephemeral local port), {} as server (listening local port)",
            s.total, s.closed_first_as_client, s.closed_first_as_server
        )];
        if let Some(r) = s.by_remote.first() {
            evidence_lines.push(format!("largest group: {} with {}", r.count, peer(r)));
        }
        if let Some(p) = s.by_local_port.iter().find(|p| p.server) {
            evidence_lines.push(format!("largest server port: {} on :{}", p.count, p.port));
        }
        evidence_lines.push(format!("net.ipv4.tcp_tw_reuse = {reuse}"));
        let client = s.closed_first_as_client >= s.closed_first_as_server;
        findings.push(Finding {
            severity: Severity::Info,
            code: "time-wait-pileup",
            summary: format!(
                "{} TIME-WAIT sockets, mostly because this host closes first as a {}",
                s.total,
                if client { "client" } else { "server" }
            ),
            evidence: evidence_lines,
            explanation: WHY.into(),
            next_step: if client {
                "Harmless until ports run short (see the port use below). Reuse connections (HTTP keep-alive, \
                 connection pools); net.ipv4.tcp_tw_reuse = 1 lets new outgoing connections reuse TIME-WAIT ports."
                    .into()
            } else {
                "Harmless for a server (a listening port does not run out). To move TIME-WAIT to the clients, let \
                 them close first (keep-alive with client-side idle close)."
                    .into()
            },
        });
    }
}

/// `127.0.0.1:7002` (this host the client) or `clients at 127.0.0.1 of :7001` (this host the server).
pub fn peer(r: &RemoteCount) -> String {
    match (r.remote_port, r.local_port) {
        (Some(port), _) => SocketAddr::new(r.remote_ip, port).to_string(),
        (None, Some(local)) => format!("clients at {} of :{local}", r.remote_ip),
        (None, None) => r.remote_ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn range_sizes() {
        assert_eq!(super::range_size("32768\t60999"), Some(28232));
        assert_eq!(super::range_size("1024 1024"), Some(1));
        assert_eq!(super::range_size("junk"), None);
    }
}
