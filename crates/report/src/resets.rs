//! The summary's account of resets: who really sent them (`reset_origin`), the ones a device on the
//! path probably forged, and the ones that came after a long silence, with the idle timeouts on the
//! path that such a silence exceeds.
//!
//! Memory is bounded: at most [`MAX_GROUPS`] forged groups and silent servers are kept apart, the
//! rest are counted together.

use crate::safe;
use lifecycle::correlate::Joined;
use lifecycle::idle_timeouts::exceeded_by;
use lifecycle::kernel_event::Direction;
use lifecycle::{ConnectionRecord, ResetOrigin, endpoint_string};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Distinct groups kept per kind.
pub const MAX_GROUPS: usize = 64;
/// A silence at least this long before a reset is reported (the shortest common middlebox idle
/// timeout, Azure's 4 minutes, is well above it).
pub const LONG_SILENCE_NS: u64 = 30_000_000_000;

/// A forged reset's group: who it claimed to be from, its TTL, and that sender's usual TTLs.
type ForgedKey = (String, u8, (u8, u8));

/// Resets seen so far.
#[derive(Debug, Default)]
pub struct Resets {
    /// By origin: endpoint, middlebox, unknown.
    origins: [u64; 3],
    forged: BTreeMap<ForgedKey, u64>,
    forged_other: u64,
    /// Per server: resets after a long silence, and the shortest and longest silence.
    silent: BTreeMap<String, (u64, u64, u64)>,
    silent_other: u64,
    /// `capture --trace`: the kernel's reasons for the resets this host sent, and the connections on
    /// which the kernel's account and the packets' parted.
    reasons: BTreeMap<String, u64>,
    reasons_other: u64,
    disagreements: u64,
}

impl Resets {
    /// The kernel's account of one connection (`capture --trace`).
    pub fn add_kernel(&mut self, j: &Joined) {
        for r in j.resets.iter().filter(|r| r.direction == Direction::Sent) {
            let name = r
                .reason
                .as_ref()
                .and_then(|x| x.name.clone())
                .unwrap_or_else(|| "no reason given".into());
            count(&mut self.reasons, &mut self.reasons_other, name, |n| *n += 1, 1);
        }
        self.disagreements += u64::from(!j.agrees());
    }

    pub fn add(&mut self, r: &ConnectionRecord) {
        let Some(origin) = r.reset_origin else {
            return;
        };
        self.origins[match origin {
            ResetOrigin::Endpoint => 0,
            ResetOrigin::Middlebox => 1,
            ResetOrigin::Unknown => 2,
        }] += 1;
        if origin == ResetOrigin::Middlebox
            && let (Some(by), Some(e)) = (r.reset_by, r.reset_ttls)
            && let Some(range) = e.ttl_range
        {
            let resetter = match by {
                lifecycle::Side::Client => r.client,
                lifecycle::Side::Server => r.server,
            };
            let key = (endpoint_string(resetter), e.rst_ttl, range);
            count(&mut self.forged, &mut self.forged_other, key, |n| *n += 1, 1);
        }
        if let Some(idle) = r.idle_before_reset_ns.filter(|&i| i >= LONG_SILENCE_NS) {
            count(
                &mut self.silent,
                &mut self.silent_other,
                endpoint_string(r.server),
                |(n, lo, hi)| {
                    *n += 1;
                    *lo = (*lo).min(idle);
                    *hi = (*hi).max(idle);
                },
                (1, idle, idle),
            );
        }
    }

    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let [endpoint, middlebox, unknown] = self.origins;
        let total = endpoint + middlebox + unknown;
        if total == 0 && self.reasons.is_empty() && self.disagreements == 0 {
            return Ok(());
        }
        writeln!(out, "Resets")?;
        writeln!(
            out,
            "  {total} resets: {endpoint} sent by the endpoint named in them, {middlebox} probably forged by a device on the path, {unknown} without evidence either way (reset_evidence in --json)"
        )?;
        for ((resetter, ttl, (lo, hi)), n) in &self.forged {
            let usual = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo} to {hi}")
            };
            writeln!(
                out,
                "  {n} resets were probably forged by a device between this capture point and {} (TTL {ttl}, while that endpoint's segments arrive with {usual})",
                safe::terminal(resetter)
            )?;
        }
        if self.forged_other > 0 {
            writeln!(
                out,
                "  {} more forged resets from other endpoints",
                self.forged_other
            )?;
        }
        for (server, (n, lo, hi)) in &self.silent {
            let (lo_s, hi_s) = (lo / 1_000_000_000, hi / 1_000_000_000);
            let span = if lo_s == hi_s {
                format!("{lo_s} s")
            } else {
                format!("{lo_s} to {hi_s} s")
            };
            writeln!(
                out,
                "  {n} resets after {span} of silence, on connections to {}",
                safe::terminal(server)
            )?;
            let fits: Vec<_> = exceeded_by(lo_s)
                .iter()
                .map(|t| format!("{} ({} s)", t.device, t.seconds))
                .collect();
            if !fits.is_empty() {
                writeln!(
                    out,
                    "    idle timeouts that silence exceeds, nearest first: {}",
                    fits.join("; ")
                )?;
                writeln!(
                    out,
                    "    a flow a device forgot is reset (or dropped) on its next segment: keep it alive with TCP keepalive (SO_KEEPALIVE, TCP_KEEPIDLE) below the shortest on the path; Linux's default first probe (tcp_keepalive_time) is 7200 s"
                )?;
            }
        }
        if self.silent_other > 0 {
            writeln!(
                out,
                "  {} more resets after a long silence, on connections to other servers",
                self.silent_other
            )?;
        }
        self.write_kernel(out)?;
        writeln!(out)
    }
}

impl Resets {
    fn write_kernel(&self, out: &mut impl Write) -> io::Result<()> {
        if !self.reasons.is_empty() {
            writeln!(out, "  the kernel's reasons for the resets this host sent:")?;
            for (name, n) in &self.reasons {
                writeln!(
                    out,
                    "    {n:>6}  {}: {}",
                    safe::terminal(name),
                    lifecycle::kernel_event::reason_words(name)
                )?;
            }
            if self.reasons_other > 0 {
                writeln!(out, "    {:>6}  other reasons", self.reasons_other)?;
            }
        }
        if self.disagreements > 0 {
            writeln!(
                out,
                "  {} connections where the kernel's account and the packets' differ (kernel.checks in --json)",
                self.disagreements
            )?;
        }
        Ok(())
    }
}

/// Counts `key` in `map`, or in `other` once the map holds [`MAX_GROUPS`] keys.
fn count<K: Ord, V>(map: &mut BTreeMap<K, V>, other: &mut u64, key: K, bump: impl FnOnce(&mut V), first: V) {
    if let Some(v) = map.get_mut(&key) {
        bump(v);
    } else if map.len() < MAX_GROUPS {
        map.insert(key, first);
    } else {
        *other += 1;
    }
}
