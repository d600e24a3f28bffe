//! Which side of a connection this host is: the seed's "who closes first" hinges on it.

use lifecycle::kernel::{HostEvidence, KernelState, SocketRecord};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

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

    /// Who `s` is connected with, as the groupings by peer count it.
    pub fn peer(&self, s: &SocketRecord) -> Peer {
        let server = self.is_server(s);
        Peer {
            ip: s.remote.ip(),
            port: (!server).then(|| s.remote.port()),
            local_port: server.then(|| s.local.port()),
        }
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

/// The other end of a group of connections: one remote endpoint when this host is the client, or the
/// clients at one IP of a listening port when it is the server (their ports are ephemeral and differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer {
    pub ip: IpAddr,
    /// The remote port when this host is the client.
    pub port: Option<u16>,
    /// The listening port when this host is the server.
    pub local_port: Option<u16>,
}

/// `10.0.3.7:8080`, or `clients of :8080 at 10.0.3.7`.
impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.port, self.local_port) {
            (Some(port), _) => write!(f, "{}", SocketAddr::new(self.ip, port)),
            (None, Some(local)) => write!(f, "clients of :{local} at {}", self.ip),
            (None, None) => write!(f, "{}", self.ip),
        }
    }
}
