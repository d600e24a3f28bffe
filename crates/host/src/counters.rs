//! Counters since boot from a `/proc/net` directory: `netstat` and `snmp` (header line + value line
//! per section), `sockstat` and `sockstat6` (`TCP: inuse 5 orphan 0 tw 0 ...`).

use lifecycle::kernel::{Counters, Gap};
use std::path::Path;

/// Reads every counter file under `dir` (normally `/proc/thread-self/net`, so that a thread moved into
/// another network namespace reads that namespace's counters). Unreadable files become gaps.
pub fn read(dir: &Path, gaps: &mut Vec<Gap>) -> Counters {
    let mut counters = Counters::default();
    for (file, pairs) in [
        ("netstat", true),
        ("snmp", true),
        ("snmp6", false),
        ("sockstat", false),
        ("sockstat6", false),
    ] {
        let path = dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) if pairs => parse_paired(&text, &mut counters),
            Ok(text) if file == "snmp6" => parse_snmp6(&text, &mut counters),
            Ok(text) => parse_sockstat(file, &text, &mut counters),
            // snmp6 and sockstat6 are absent when IPv6 is disabled: nothing to report then.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !pairs => {}
            Err(e) => gaps.push(Gap {
                what: format!("counters in {}", path.display()),
                why: e.to_string(),
            }),
        }
    }
    counters
}

/// `Section: Name1 Name2 ...` followed by `Section: v1 v2 ...`.
pub fn parse_paired(text: &str, counters: &mut Counters) {
    let mut lines = text.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let (Some((section, names)), Some((_, values))) = (names.split_once(':'), values.split_once(':'))
        else {
            continue;
        };
        for (name, value) in names.split_whitespace().zip(values.split_whitespace()) {
            if let Ok(v) = value.parse::<i64>() {
                counters.0.insert(format!("{section}.{name}"), v);
            }
        }
    }
}

/// `Tcp6InSegs  123` lines (IPv6 keeps one counter per line).
pub(crate) fn parse_snmp6(text: &str, counters: &mut Counters) {
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(Ok(v))) = (words.next(), words.next().map(str::parse::<i64>)) {
            counters.0.insert(format!("snmp6.{name}"), v);
        }
    }
}

/// `TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 1`, keyed `sockstat.TCP.orphan`.
pub fn parse_sockstat(file: &str, text: &str, counters: &mut Counters) {
    for line in text.lines() {
        let Some((section, rest)) = line.split_once(':') else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.chunks(2) {
            if let [name, value] = pair
                && let Ok(v) = value.parse::<i64>()
            {
                counters.0.insert(format!("{file}.{section}.{name}"), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_sections_are_keyed_by_section_and_name() {
        let mut c = Counters::default();
        parse_paired(
            "TcpExt: SyncookiesSent ListenOverflows\nTcpExt: 3 17\nIpExt: InNoRoutes\nIpExt: 2\n",
            &mut c,
        );
        assert_eq!(c.get("TcpExt.ListenOverflows"), Some(17));
        assert_eq!(c.get("TcpExt.SyncookiesSent"), Some(3));
        assert_eq!(c.get("IpExt.InNoRoutes"), Some(2));
    }

    #[test]
    fn snmp_keeps_negative_values() {
        let mut c = Counters::default();
        parse_paired("Tcp: RtoAlgorithm MaxConn OutRsts\nTcp: 1 -1 42\n", &mut c);
        assert_eq!(c.get("Tcp.MaxConn"), Some(-1));
        assert_eq!(c.get("Tcp.OutRsts"), Some(42));
    }

    #[test]
    fn sockstat_pairs() {
        let mut c = Counters::default();
        parse_sockstat(
            "sockstat",
            "sockets: used 9\nTCP: inuse 5 orphan 1 tw 30 alloc 7 mem 1\n",
            &mut c,
        );
        assert_eq!(c.get("sockstat.TCP.tw"), Some(30));
        assert_eq!(c.get("sockstat.TCP.orphan"), Some(1));
        assert_eq!(c.get("sockstat.sockets.used"), Some(9));
    }
}
