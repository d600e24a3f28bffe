//! How long devices on a network path keep an idle TCP connection, by default: past it they forget
//! the flow, and the next segment is dropped or answered with a RST in the server's name
//! ([`crate::reset_origin`]). A connection reset after that long a silence was probably forgotten by
//! one of them; TCP keepalive (or an application ping) more often than the shortest keeps it alive.
//!
//! Every value is the documented default (all are configurable); the source is beside it.

/// One device's default idle timeout for an established TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleTimeout {
    /// The device or service.
    pub device: &'static str,
    pub seconds: u64,
    /// Where the value is documented.
    pub source: &'static str,
}

/// The table, shortest first.
pub const IDLE_TIMEOUTS: [IdleTimeout; 8] = [
    IdleTimeout {
        device: "Azure Load Balancer and NAT gateway",
        seconds: 240,
        source: "Microsoft Learn, \"Configure TCP reset and idle timeout for Azure Load Balancer\" (default 4 minutes)",
    },
    IdleTimeout {
        device: "AWS NAT gateway, Network Load Balancer, Gateway Load Balancer and Network Firewall",
        seconds: 350,
        source: "AWS documentation: NAT gateway troubleshooting, NLB and GWLB listener \"TCP idle timeout\", Network Firewall FlowTimeouts (default 350 s)",
    },
    IdleTimeout {
        device: "Linux IPVS (kube-proxy in IPVS mode)",
        seconds: 900,
        source: "Linux net/netfilter/ipvs/ip_vs_proto_tcp.c, established timeout 15 minutes (kube-proxy --ipvs-tcp-timeout 0 keeps it)",
    },
    IdleTimeout {
        device: "Google Cloud NAT",
        seconds: 1_200,
        source: "Google Cloud compute API, RouterNat.tcpEstablishedIdleTimeoutSec (default 1200 s)",
    },
    IdleTimeout {
        device: "Cisco ASA and Palo Alto firewalls",
        seconds: 3_600,
        source: "Cisco ASA `timeout conn` (default 1:00:00); PAN-OS TCP session timeout (default 3600 s)",
    },
    IdleTimeout {
        device: "Linux keepalive's first probe (net.ipv4.tcp_keepalive_time)",
        seconds: 7_200,
        source: "Linux Documentation/networking/ip-sysctl.rst, tcp_keepalive_time (default 7200 s): not a timeout, but keepalive comes later than all of the above",
    },
    IdleTimeout {
        device: "Linux conntrack (net.netfilter.nf_conntrack_tcp_timeout_established)",
        seconds: 432_000,
        source: "Linux Documentation/networking/nf_conntrack-sysctl.rst (default 432000 s, 5 days)",
    },
    IdleTimeout {
        device: "AWS security group connection tracking",
        seconds: 432_000,
        source: "Amazon EC2 API, ConnectionTrackingSpecification.TcpEstablishedTimeout (default 432000 s)",
    },
];

/// The shortest default in the table: a connection that is never silent for this long (keepalive
/// probes or application pings more often) stays known to every device listed.
#[must_use]
pub fn shortest() -> &'static IdleTimeout {
    &IDLE_TIMEOUTS[0] // the table is shortest first (tested below)
}

/// The devices whose default timeout a silence of `seconds` exceeds, the nearest (longest) first:
/// the ones that may have forgotten the connection. Keepalive's own line is left out.
#[must_use]
pub fn exceeded_by(seconds: u64) -> Vec<&'static IdleTimeout> {
    let mut fits: Vec<_> = IDLE_TIMEOUTS
        .iter()
        .filter(|t| t.seconds <= seconds && !t.device.contains("keepalive"))
        .collect();
    fits.reverse();
    fits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_shortest_first_and_the_nearest_comes_first() {
        assert!(IDLE_TIMEOUTS.windows(2).all(|w| w[0].seconds <= w[1].seconds));
        assert_eq!(shortest().seconds, 240);
        let names: Vec<_> = exceeded_by(400).iter().map(|t| t.seconds).collect();
        assert_eq!(names, [350, 240]);
        assert!(exceeded_by(100).is_empty());
        assert!(exceeded_by(8_000).iter().all(|t| !t.device.contains("keepalive")));
    }
}
