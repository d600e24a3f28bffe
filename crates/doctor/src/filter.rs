//! `--state`, `--port`, `--process`: narrowing the socket table before diagnosis. Counters and
//! sysctls are host-wide and stay as they are.

use lifecycle::kernel::{HostEvidence, KernelState, SocketRecord};

#[derive(Clone, Debug, Default)]
pub struct SocketFilter {
    /// Keep only these states (empty: all).
    pub states: Vec<KernelState>,
    /// Keep sockets whose local or remote port is one of these (empty: all).
    pub ports: Vec<u16>,
    /// Keep sockets owned by this pid, or by a process whose command contains this text.
    pub process: Option<String>,
}

impl SocketFilter {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.states.is_empty() && self.ports.is_empty() && self.process.is_none()
    }

    #[must_use]
    pub fn matches(&self, s: &SocketRecord) -> bool {
        (self.states.is_empty() || self.states.contains(&s.state))
            && (self.ports.is_empty()
                || self.ports.contains(&s.local.port())
                || self.ports.contains(&s.remote.port()))
            && self.process.as_deref().is_none_or(|p| {
                let pid: Option<u32> = p.parse().ok();
                s.owners.iter().any(|o| Some(o.pid) == pid || o.comm.contains(p))
            })
    }

    /// Drops the sockets that do not match.
    pub fn apply(&self, evidence: &mut HostEvidence) {
        if !self.is_empty() {
            evidence.sockets.retain(|s| self.matches(s));
        }
    }
}
