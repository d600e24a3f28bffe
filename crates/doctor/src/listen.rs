//! Listeners and their accept queues, SYN-RECEIVED, and orphaned sockets.

use crate::Thresholds;
use lifecycle::kernel::{Finding, HostEvidence, KernelState, ListenerUse, Severity};
use std::collections::HashMap;

/// Every listener's queue (for a listener, Recv-Q is the accept queue and Send-Q its backlog), fullest
/// first; a full queue right now, or overflows since boot, are findings.
pub fn listeners(evidence: &HostEvidence, t: &Thresholds, findings: &mut Vec<Finding>) -> Vec<ListenerUse> {
    let mut half_open: HashMap<u16, u64> = HashMap::new();
    for s in evidence
        .sockets
        .iter()
        .filter(|s| matches!(s.state, KernelState::SynRecv | KernelState::NewSynRecv))
    {
        *half_open.entry(s.local.port()).or_default() += 1;
    }
    let mut listeners: Vec<ListenerUse> = evidence
        .sockets
        .iter()
        .filter(|s| s.state == KernelState::Listen)
        .map(|s| ListenerUse {
            local: s.local,
            queued: s.recv_q,
            backlog: s.send_q,
            syn_recv: half_open.get(&s.local.port()).copied().unwrap_or(0),
            owners: s.owners.clone(),
        })
        .collect();
    listeners.sort_by(|a, b| b.queued.cmp(&a.queued).then(a.local.cmp(&b.local)));
    let somaxconn = evidence.sysctls.int("core/somaxconn");
    for l in listeners
        .iter()
        .filter(|l| l.backlog > 0 && l.queued >= l.backlog)
    {
        let who = crate::human::holders(&l.owners);
        findings.push(Finding {
            severity: Severity::Critical,
            code: "accept-queue-full",
            summary: format!(
                "the accept queue of {} is full: {} connections waiting, backlog {} — held by {who}",
                l.local, l.queued, l.backlog
            ),
            evidence: vec![
                format!("Recv-Q {} / Send-Q {} on the listener", l.queued, l.backlog),
                format!("net.core.somaxconn = {}", somaxconn.map_or("?".into(), |v| v.to_string())),
            ],
            explanation: "Completed handshakes wait in the accept queue until the application calls accept(). \
                          When it is full, the kernel drops the client's final ACK (or, with tcp_abort_on_overflow, \
                          resets it); clients see retransmitted handshakes and timeouts, and ListenOverflows grows."
                .into(),
            next_step: "Find why the application is not accepting (blocked or too few accept threads); a larger \
                        listen() backlog (capped by net.core.somaxconn) only buys time."
                .into(),
        });
    }
    syn_recv_findings(evidence, &listeners, t, findings);
    let overflows = evidence.counters.get("TcpExt.ListenOverflows").unwrap_or(0);
    let drops = evidence.counters.get("TcpExt.ListenDrops").unwrap_or(0);
    if overflows > 0 || drops > 0 {
        findings.push(Finding {
            severity: Severity::Info,
            code: "listen-overflows-since-boot",
            summary: format!("{overflows} accept-queue overflows and {drops} listen drops since boot"),
            evidence: vec![format!("TcpExt.ListenOverflows = {overflows}"), format!("TcpExt.ListenDrops = {drops}")],
            explanation: "Counters since boot: a listener's accept queue was full when a handshake completed \
                          (ListenOverflows), or a SYN or final ACK was dropped at a listener (ListenDrops)."
                .into(),
            next_step: "Watch whether they grow (`tcpdoctor status --watch 5`) and check each listener's queue below."
                .into(),
        });
    }
    listeners
}

/// Many half-open connections on one port: a SYN flood, or final ACKs lost on the way.
fn syn_recv_findings(
    evidence: &HostEvidence,
    listeners: &[ListenerUse],
    t: &Thresholds,
    findings: &mut Vec<Finding>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for l in listeners.iter().filter(|l| l.syn_recv >= t.syn_recv_per_listener) {
        if !seen.insert(l.local.port()) {
            continue; // one finding per port, even with IPv4 and IPv6 listeners on it
        }
        let cookies = evidence.sysctls.get("ipv4/tcp_syncookies").unwrap_or("?");
        let backlog = evidence.sysctls.get("ipv4/tcp_max_syn_backlog").unwrap_or("?");
        let sent = evidence.counters.get("TcpExt.SyncookiesSent").unwrap_or(0);
        let full = evidence.counters.get("TcpExt.TCPReqQFullDrop").unwrap_or(0);
        findings.push(Finding {
            severity: if cookies == "0" { Severity::Critical } else { Severity::Warning },
            code: "syn-recv-pileup",
            summary: format!(
                "{} half-open connections (SYN-RECEIVED) on port {}: a SYN flood, or handshakes whose final ACK is lost",
                l.syn_recv,
                l.local.port()
            ),
            evidence: vec![
                format!("{} SYN-RECEIVED sockets to :{}", l.syn_recv, l.local.port()),
                format!("net.ipv4.tcp_syncookies = {cookies}, net.ipv4.tcp_max_syn_backlog = {backlog}"),
                format!("TcpExt.SyncookiesSent = {sent}, TcpExt.TCPReqQFullDrop = {full} (since boot)"),
            ],
            explanation: "The SYN-ACK was sent and the client's final ACK has not arrived. Spoofed SYNs (a flood) \
                          never complete; past tcp_max_syn_backlog the kernel answers with syncookies \
                          (tcp_syncookies = 1) or drops new SYNs (tcp_syncookies = 0), and real clients time out."
                .into(),
            next_step: "Look at the peers (`tcpdoctor status --state syn-recv --json`): many sources that never \
                        complete point to a flood (keep tcp_syncookies = 1, filter upstream); a few real clients \
                        point to loss or a middlebox on the return path."
                .into(),
        });
    }
}

/// Orphans (closed by their application, still owned by the kernel) against `tcp_max_orphans`, and
/// orphaned FIN-WAIT-2 sockets, which `tcp_fin_timeout` bounds. Returns the orphan count, its limit,
/// and how many orphaned FIN-WAIT-2 sockets are timewait sockets (a kernel timer on an inode-0
/// FIN-WAIT-2: `tcp_time_wait(sk, TCP_FIN_WAIT2, ...)` in `tcp_close`), which the orphan count leaves
/// out.
pub fn orphans(
    evidence: &HostEvidence,
    t: &Thresholds,
    findings: &mut Vec<Finding>,
) -> (Option<i64>, Option<i64>, u64) {
    let orphans = evidence.counters.get("sockstat.TCP.orphan");
    let max = evidence.sysctls.int("ipv4/tcp_max_orphans");
    if let (Some(n), Some(m)) = (orphans, max)
        && m > 0
        && n.saturating_mul(100) >= m.saturating_mul(t.orphans_warn_pct as i64)
    {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "orphans-near-limit",
            summary: format!("{n} orphaned sockets, {}% of tcp_max_orphans ({m})", n * 100 / m),
            evidence: vec![format!("sockstat TCP orphan = {n}"), format!("net.ipv4.tcp_max_orphans = {m}")],
            explanation: "Orphans are sockets their application has closed while the close is still in progress \
                          (FIN-WAIT-1, FIN-WAIT-2, CLOSING, LAST-ACK). Past tcp_max_orphans the kernel resets them \
                          at once (TCPAbortOnMemory) and logs 'too many orphaned sockets'."
                .into(),
            next_step: "Look at the FIN-WAIT-1/FIN-WAIT-2 counts and their peers: peers that never acknowledge or \
                        never close keep orphans alive."
                .into(),
        });
    }
    let orphaned_fin_wait2 = || {
        evidence
            .sockets
            .iter()
            .filter(|s| s.state == KernelState::FinWait2 && s.inode == 0)
    };
    let fin_wait2_orphans = orphaned_fin_wait2().count();
    let as_timewait = orphaned_fin_wait2().filter(|s| s.expires_in_ms.is_some()).count();
    if fin_wait2_orphans > 0 {
        let timeout = evidence.sysctls.get("ipv4/tcp_fin_timeout").unwrap_or("?");
        findings.push(Finding {
            severity: Severity::Info,
            code: "fin-wait-2-orphans",
            summary: format!(
                "{fin_wait2_orphans} orphaned FIN-WAIT-2 sockets: closed here, waiting up to {timeout} s for the peer's FIN"
            ),
            evidence: [
                format!("{fin_wait2_orphans} FIN-WAIT-2 sockets with no file (inode 0)"),
                format!("net.ipv4.tcp_fin_timeout = {timeout}"),
            ]
            .into_iter()
            .chain((as_timewait > 0).then(|| {
                format!(
                    "{as_timewait} of them kept as timewait sockets (a kernel timer runs on them): they count \
                     against tcp_max_tw_buckets, not tcp_max_orphans"
                )
            }))
            .collect(),
            explanation: "This host closed first and the peer acknowledged but has not closed its side yet. \
                          tcp_fin_timeout bounds how long an orphaned FIN-WAIT-2 waits; it does not shorten \
                          TIME-WAIT, which is a fixed 60 s on Linux."
                .into(),
            next_step: "If many, the peer application is not closing its sockets (it sits in CLOSE-WAIT there)."
                .into(),
        });
    }
    (orphans, max, as_timewait as u64)
}
