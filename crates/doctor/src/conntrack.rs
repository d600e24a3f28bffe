//! The netfilter connection tracking table: how full it is, and what it has dropped since boot.
//!
//! A full table is one of the causes of "the SYN went unanswered" that no socket on either end shows:
//! the packet is dropped in the middle of the host's own stack.

use crate::Thresholds;
use lifecycle::kernel::{Conntrack, Finding, HostEvidence, Severity};

/// The counters of `/proc/net/stat/nf_conntrack` that say packets were lost or entries thrown away.
const DROP: &str = "drop";
const EARLY_DROP: &str = "early_drop";
const INSERT_FAILED: &str = "insert_failed";

pub fn check(evidence: &HostEvidence, t: &Thresholds, findings: &mut Vec<Finding>) -> Option<Conntrack> {
    let ct = evidence.conntrack.as_ref()?;
    if let Some(f) = near_full(ct, t) {
        findings.push(f);
    }
    if let Some(f) = drops(ct) {
        findings.push(f);
    }
    Some(ct.clone())
}

/// `nf_conntrack_max`, and where it can be changed.
fn max_line(ct: &Conntrack) -> String {
    let max = ct.max.map_or_else(|| "?".to_string(), |m| m.to_string());
    if ct.max_host_wide {
        format!(
            "net.netfilter.nf_conntrack_max = {max}: host-wide, read-only in this network namespace (set in \
             the initial one, held against each namespace's own count)"
        )
    } else {
        format!("net.netfilter.nf_conntrack_max = {max}")
    }
}

fn near_full(ct: &Conntrack, t: &Thresholds) -> Option<Finding> {
    let pct = ct.used_pct()?;
    if pct < t.conntrack_warn_pct as f64 {
        return None;
    }
    let (entries, max) = (ct.entries.unwrap_or(0), ct.max.unwrap_or(0));
    let critical = pct >= t.conntrack_critical_pct as f64;
    let summary = if entries >= max {
        format!(
            "the conntrack table is full ({entries} of {max} entries): new connections are dropped: clients \
             see SYN timeouts"
        )
    } else if critical {
        format!(
            "the conntrack table is {pct:.0}% full ({entries} of {max} entries): new connections are about \
             to be dropped: clients would see SYN timeouts"
        )
    } else {
        format!("the conntrack table is {pct:.0}% full ({entries} of {max} entries)")
    };
    let mut evidence = vec![
        format!("net.netfilter.nf_conntrack_count = {entries}"),
        max_line(ct),
    ];
    if let Some(s) = ct.tcp_timeouts.get("established") {
        evidence.push(format!(
            "net.netfilter.nf_conntrack_tcp_timeout_established = {s} s: how long an ESTABLISHED entry \
             outlives its last packet"
        ));
    }
    let early = ct.stat(EARLY_DROP);
    let dropped = ct.stat(DROP);
    if early + dropped > 0 {
        evidence.push(format!("{DROP} = {dropped}, {EARLY_DROP} = {early} since boot"));
    }
    let where_max = if ct.max_host_wide {
        " in the initial network namespace (it is read-only here)"
    } else {
        ""
    };
    Some(Finding {
        severity: if critical { Severity::Critical } else { Severity::Warning },
        code: "conntrack-table-full",
        summary,
        evidence,
        explanation: "Every connection that crosses a conntrack rule (NAT, a stateful firewall rule, kube-proxy, \
                      Docker) takes an entry until its timeout runs out. When the table is full, a new \
                      connection's first packet evicts an entry that has not yet seen traffic both ways \
                      (early_drop) or, when there is none, is dropped (\"nf_conntrack: table full, dropping \
                      packet\" in the kernel log): the client's SYN goes unanswered, is retransmitted, and the \
                      connection times out, while no socket on this host shows anything. An ESTABLISHED entry \
                      outlives its connection's last packet by nf_conntrack_tcp_timeout_established (5 days \
                      by default), so connections that vanished without a FIN or RST pile up."
            .into(),
        next_step: format!(
            "Raise net.netfilter.nf_conntrack_max{where_max} (and nf_conntrack_buckets with it); shorten \
             net.netfilter.nf_conntrack_tcp_timeout_established (to 86400 or less) so that vanished \
             connections leave the table; see who fills it with `conntrack -L`."
        ),
    })
}

fn drops(ct: &Conntrack) -> Option<Finding> {
    let (dropped, early, failed) = (ct.stat(DROP), ct.stat(EARLY_DROP), ct.stat(INSERT_FAILED));
    let mut parts = Vec::new();
    if dropped > 0 {
        parts.push(format!("{dropped} packets dropped for a full table"));
    }
    if early > 0 {
        parts.push(format!("{early} entries evicted early to make room"));
    }
    if failed > 0 {
        parts.push(format!("{failed} failed inserts"));
    }
    if parts.is_empty() {
        return None;
    }
    Some(Finding {
        // Dropped packets and failed inserts each cost a packet; an early drop only cost an entry that
        // had not yet seen a reply, but says the table was full.
        severity: if dropped + failed > 0 { Severity::Warning } else { Severity::Info },
        code: "conntrack-drops-since-boot",
        summary: format!("conntrack since boot: {}", parts.join(", ")),
        evidence: vec![
            format!(
                "{DROP} = {dropped}, {EARLY_DROP} = {early}, {INSERT_FAILED} = {failed} (/proc/net/stat/nf_conntrack, \
                 summed over the CPUs)"
            ),
            max_line(ct),
        ],
        explanation: "Counters since boot (in a network namespace, since it was created). drop: a new \
                      connection's packet was dropped because the table was full and no entry could be \
                      evicted; early_drop: an entry that had not yet seen traffic both ways was evicted to make \
                      room, so the table was full at that moment; insert_failed: a new entry could not be \
                      inserted, usually because two packets of one new flow raced on two CPUs (behind NAT, a \
                      known cause of 5 s DNS delays), and its packet was dropped. A dropped SYN is retransmitted \
                      after 1 s, then 2 s, ...: clients see slow or failed connects."
            .into(),
        next_step: "Watch whether they grow (`tcpdoctor status --watch 5`, `conntrack -S`): growing drops and \
                    early drops mean the table fills (see nf_conntrack_max and the TCP timeouts below); growing \
                    insert_failed alone points at racing packets of new flows through NAT."
            .into(),
    })
}
