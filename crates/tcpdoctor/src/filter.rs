//! `--host`, `--port`, `--net`: tcpdump's primitives of the same names, for either direction.
//!
//! As in tcpdump, `host H` matches a segment from or to H, `port P` a segment with P as source or
//! destination port, `net N` one whose source or destination is inside N. Repeating a flag means any of
//! those values; different flags must all match (tcpdump's `host A and port P`). `analyze`, `capture`
//! and `trace` take the same flags, from [`FilterArgs`].

use clap::Args;
use ipnet::IpNet;
use lifecycle::Segment;
use std::net::IpAddr;

/// tcpdump's `host`, `port` and `net`, on the command line of every command that filters traffic.
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Only traffic from or to this address (repeatable: any of them).
    #[arg(long, value_name = "ADDR")]
    pub host: Vec<IpAddr>,
    /// Only traffic from or to this port (repeatable).
    #[arg(long, value_name = "PORT")]
    pub port: Vec<u16>,
    /// Only traffic from or to this network, CIDR notation (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub net: Vec<IpNet>,
}

impl FilterArgs {
    pub fn filter(&self) -> Filter {
        Filter {
            hosts: self.host.clone(),
            ports: self.port.clone(),
            nets: self.net.clone(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub hosts: Vec<IpAddr>,
    pub ports: Vec<u16>,
    pub nets: Vec<IpNet>,
}

impl Filter {
    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ports.is_empty() && self.nets.is_empty()
    }

    pub fn matches(&self, seg: &Segment) -> bool {
        let (a, b) = (seg.src, seg.dst);
        (self.hosts.is_empty() || self.hosts.iter().any(|h| *h == a.ip() || *h == b.ip()))
            && (self.ports.is_empty() || self.ports.iter().any(|p| *p == a.port() || *p == b.port()))
            && (self.nets.is_empty()
                || self
                    .nets
                    .iter()
                    .any(|n| n.contains(&a.ip()) || n.contains(&b.ip())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(src: &str, dst: &str) -> Segment {
        Segment::between(src.parse().unwrap(), dst.parse().unwrap())
    }

    #[test]
    fn tcpdump_semantics() {
        let s = seg("10.0.0.1:40000", "192.168.1.5:443");
        let f = |hosts: &[&str], ports: &[u16], nets: &[&str]| Filter {
            hosts: hosts.iter().map(|h| h.parse().unwrap()).collect(),
            ports: ports.to_vec(),
            nets: nets.iter().map(|n| n.parse().unwrap()).collect(),
        };
        assert!(f(&[], &[], &[]).matches(&s));
        assert!(f(&["192.168.1.5"], &[], &[]).matches(&s));
        assert!(f(&["10.0.0.1"], &[443], &[]).matches(&s));
        assert!(!f(&["10.0.0.1"], &[80], &[]).matches(&s));
        assert!(f(&[], &[80, 443], &[]).matches(&s));
        assert!(f(&[], &[], &["192.168.0.0/16"]).matches(&s));
        assert!(!f(&[], &[], &["172.16.0.0/12"]).matches(&s));
        assert!(f(&[], &[], &["::/0", "10.0.0.0/8"]).matches(&s));
    }
}
