//! `--ladder CONN`: which connections to draw.

use lifecycle::connection::Connection;
use lifecycle::{Timestamp, endpoint_string};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// The connections a ladder is drawn for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Every connection (`all`: for a small capture, and the lab, which draws every one of its own).
    All,
    /// A client or server address, any port.
    Host(IpAddr),
    /// A client or server address and port.
    Endpoint(SocketAddr),
    /// Both ends, in either order.
    Pair(SocketAddr, SocketAddr),
    /// Row N (1-based) of `--connections` on the same inputs and options.
    Row(u64),
    /// One connection exactly: what a row number comes to once the inputs were read.
    Exact {
        client: SocketAddr,
        server: SocketAddr,
        tunnel: u32,
        start: Timestamp,
    },
}

impl Selector {
    /// Whether `conn`, as it starts, is one of the selected. [`Selector::Row`] matches nothing: it
    /// must be resolved to [`Selector::Exact`] first.
    pub fn matches(&self, conn: &Connection) -> bool {
        let (c, s) = (conn.client().addr, conn.server().addr);
        match *self {
            Selector::All => true,
            Selector::Host(ip) => c.ip() == ip || s.ip() == ip,
            Selector::Endpoint(a) => c == a || s == a,
            Selector::Pair(a, b) => (c, s) == (a, b) || (c, s) == (b, a),
            Selector::Row(_) => false,
            Selector::Exact {
                client,
                server,
                tunnel,
                start,
            } => (c, s, conn.tunnel(), conn.start()) == (client, server, tunnel, start),
        }
    }
}

/// Why a CONN does not parse (clap prints it after the value).
const ROW_ZERO: &str = "rows are numbered from 1";
const INVALID: &str = "expected an address (10.0.0.1, 10.0.0.1:80, [::1]:80), both ends \
(10.0.0.1:40000-10.0.0.2:80), a row number of --connections, or all";

impl FromStr for Selector {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Selector, &'static str> {
        let s = s.trim();
        if s == "all" {
            return Ok(Selector::All);
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<u64>() {
                Ok(0) => Err(ROW_ZERO),
                Ok(n) => Ok(Selector::Row(n)),
                Err(_) => Err(INVALID),
            };
        }
        // An IPv6 address has no '-', so a '-' separates the two ends.
        if let Some((a, b)) = s.split_once('-') {
            return match (a.trim().parse(), b.trim().parse()) {
                (Ok(a), Ok(b)) => Ok(Selector::Pair(a, b)),
                _ => Err(INVALID),
            };
        }
        if let Ok(a) = s.parse() {
            return Ok(Selector::Endpoint(a));
        }
        let bare = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
        bare.parse().map(Selector::Host).map_err(|_| INVALID)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Selector::All => f.write_str("every connection"),
            Selector::Host(ip) => write!(f, "{ip}"),
            Selector::Endpoint(a) => f.write_str(&endpoint_string(a)),
            Selector::Pair(a, b) => write!(f, "{}-{}", endpoint_string(a), endpoint_string(b)),
            Selector::Row(n) => write!(f, "row {n}"),
            Selector::Exact { client, server, .. } => {
                write!(f, "{}-{}", endpoint_string(client), endpoint_string(server))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::{Flags, Segment};

    fn sel(s: &str) -> Result<Selector, &'static str> {
        s.parse()
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(sel("1.2.3.4"), Ok(Selector::Host("1.2.3.4".parse().unwrap())));
        assert_eq!(sel("::1"), Ok(Selector::Host("::1".parse().unwrap())));
        assert_eq!(sel("[::1]"), Ok(Selector::Host("::1".parse().unwrap())));
        assert_eq!(
            sel("1.2.3.4:80"),
            Ok(Selector::Endpoint("1.2.3.4:80".parse().unwrap()))
        );
        assert_eq!(
            sel("[::1]:80"),
            Ok(Selector::Endpoint("[::1]:80".parse().unwrap()))
        );
        assert_eq!(
            sel("[::1]:41146-[::1]:41259"),
            Ok(Selector::Pair(
                "[::1]:41146".parse().unwrap(),
                "[::1]:41259".parse().unwrap()
            ))
        );
        assert_eq!(sel(" 12 "), Ok(Selector::Row(12)));
        assert_eq!(sel("all"), Ok(Selector::All));
        assert_eq!(sel("0"), Err(ROW_ZERO));
        for bad in [
            "",
            "x",
            "1.2.3.4:80-",
            "1.2.3.4-5.6.7.8",
            "99999999999999999999999",
            "1.2.3.4:99999",
        ] {
            assert_eq!(sel(bad), Err(INVALID), "{bad}");
        }
    }

    #[test]
    fn addresses_match_either_end_and_pairs_either_order() {
        let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let server: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let mut syn = Segment::between(client, server);
        syn.flags = Flags(Flags::SYN);
        let conn = Connection::new(0, &syn, Timestamp(5), false);
        for yes in [
            "10.0.0.1",
            "10.0.0.2",
            "10.0.0.2:80",
            "10.0.0.2:80-10.0.0.1:40000",
            "10.0.0.1:40000-10.0.0.2:80",
        ] {
            assert!(sel(yes).unwrap().matches(&conn), "{yes}");
        }
        for no in ["10.0.0.3", "10.0.0.1:80", "10.0.0.1:40000-10.0.0.2:81", "1"] {
            assert!(!sel(no).unwrap().matches(&conn), "{no}");
        }
        assert!(Selector::All.matches(&conn));
        let exact = |start| Selector::Exact {
            client,
            server,
            tunnel: 0,
            start,
        };
        assert!(exact(Timestamp(5)).matches(&conn));
        assert!(
            !exact(Timestamp(6)).matches(&conn),
            "another connection on the same ports"
        );
    }
}
