//! tcpdoctor's rules: evidence in, findings out. Pure: no I/O, no clock.
//!
//! [`diagnose`] turns one [`HostEvidence`] into a [`Diagnosis`]: counts per state, the TIME-WAIT and
//! CLOSE-WAIT groupings, listener queues, counters with their meanings, the sysctl audit, the conntrack
//! table, and the findings — each with the numbers it rests on, the seed's explanation as corrected in SEED-NOTES.md,
//! and the next step. No finding means nothing is wrong.
#![forbid(unsafe_code)]

mod close_wait;
mod conntrack;
mod counters;
pub mod filter;
pub mod human;
mod keepalive;
mod listen;
mod processes;
mod roles;
mod states;
mod sysctl_audit;
mod time_wait;

use lifecycle::kernel::{Diagnosis, HostEvidence};

pub use filter::SocketFilter;
pub use roles::Peer;

/// Where "worth knowing" becomes a finding. Tests lower them to exercise the rules on small populations.
#[derive(Clone, Debug)]
pub struct Thresholds {
    /// TIME-WAIT sockets in total before the pileup itself is reported.
    pub time_wait_total: u64,
    /// Share of the ephemeral range used towards one (local IP, remote IP, remote port), in percent.
    pub port_use_warn_pct: u64,
    /// Share of `tcp_max_tw_buckets` in use, in percent.
    pub tw_buckets_warn_pct: u64,
    /// CLOSE-WAIT sockets one process holds towards one peer before it is reported...
    pub close_wait_count: u64,
    /// ...or how long (ms) one of them has been idle.
    pub close_wait_idle_ms: u64,
    /// Share of `tcp_max_orphans` in use, in percent.
    pub orphans_warn_pct: u64,
    /// Half-open (SYN-RECEIVED) connections to one listening port.
    pub syn_recv_per_listener: u64,
    /// Share of `nf_conntrack_max` in use, in percent, for a warning...
    pub conntrack_warn_pct: u64,
    /// ...and for a critical finding: close enough to full that a burst of connections fills it.
    pub conntrack_critical_pct: u64,
    /// Silence (ms) past which an ESTABLISHED connection without keepalive is reported: by default the
    /// shortest idle timeout of a middlebox tcpdoctor knows (`lifecycle::idle_timeouts`).
    pub idle_without_keepalive_ms: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            time_wait_total: 1000,
            port_use_warn_pct: 50,
            tw_buckets_warn_pct: 80,
            close_wait_count: 10,
            close_wait_idle_ms: 60_000,
            orphans_warn_pct: 50,
            syn_recv_per_listener: 128,
            conntrack_warn_pct: 75,
            conntrack_critical_pct: 90,
            idle_without_keepalive_ms: lifecycle::idle_timeouts::shortest().seconds * 1000,
        }
    }
}

/// Applies every rule to `evidence`. Findings come out most severe first.
#[must_use]
pub fn diagnose(evidence: &HostEvidence, thresholds: &Thresholds) -> Diagnosis {
    let mut findings = Vec::new();
    let roles = roles::Roles::new(evidence);
    let time_wait = time_wait::summarize(evidence, &roles, thresholds, &mut findings);
    let close_wait = close_wait::groups(evidence, &roles, thresholds, &mut findings);
    let keepalive = keepalive::audit(evidence, &roles, thresholds, &mut findings);
    let listeners = listen::listeners(evidence, thresholds, &mut findings);
    let (orphans, max_orphans, fin_wait2_timewait) = listen::orphans(evidence, thresholds, &mut findings);
    let sysctls = sysctl_audit::audit(evidence, &mut findings);
    let conntrack = conntrack::check(evidence, thresholds, &mut findings);
    let (processes, kernel_held) = processes::tally(&evidence.sockets, &evidence.owners.states);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Diagnosis {
        findings,
        states: states::count(&evidence.sockets),
        time_wait,
        close_wait,
        keepalive,
        listeners,
        processes,
        kernel_held,
        owners_unresolved: evidence.owners.unresolved,
        owner_states: evidence.owners.states.clone(),
        orphans,
        max_orphans,
        fin_wait2_timewait,
        counters: counters::lines(&evidence.counters),
        sysctls,
        conntrack,
        gaps: evidence.gaps.clone(),
    }
}
