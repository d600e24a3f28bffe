//! Which side of a connection this host is: the seed's "who closes first" hinges on it.

use lifecycle::kernel::{HostEvidence, KernelState, SocketRecord};
use std::collections::BTreeSet;

/// Decides server or client for a socket from the listeners and the ephemeral port range.
#[derive(Debug)]
pub struct Roles {
    listening: BTreeSet<u16>,
    ephemeral: Option<(u16, u16)>,
}

impl Roles {
    pub fn new(evidence: &HostEvidence) -> Roles {
        let listening = evidence
            .sockets
            .iter()
            .filter(|s| s.state == KernelState::Listen)
            .map(|s| s.local.port())
            .collect();
        let ephemeral = evidence.sysctls.get("ipv4/ip_local_port_range").and_then(|v| {
            let mut it = v.split_whitespace().map(str::parse::<u16>);
            match (it.next(), it.next()) {
                (Some(Ok(lo)), Some(Ok(hi))) if lo <= hi => Some((lo, hi)),
                _ => None,
            }
        });
        Roles { listening, ephemeral }
    }

    /// This host accepted the connection: its local port is listening, or (the listener being gone)
    /// the local port is outside the ephemeral range while the remote one is inside it.
    pub fn is_server(&self, s: &SocketRecord) -> bool {
        let local = s.local.port();
        self.listening.contains(&local)
            || self.ephemeral.is_some_and(|(lo, hi)| {
                let eph = |p: u16| (lo..=hi).contains(&p);
                !eph(local) && eph(s.remote.port())
            })
    }
}
