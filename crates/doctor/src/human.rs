//! Numbers as an operator reads them in a one-line finding (and in `tcpdoctor top`'s tables).

/// `2.1 MB`, `512 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `41 min`, `12 s`, `3.5 h`.
pub fn millis(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..120_000 => format!("{} s", ms / 1000),
        120_000..7_200_000 => format!("{} min", ms / 60_000),
        _ => format!("{:.1} h", ms as f64 / 3_600_000.0),
    }
}

/// `java (pid 4121)`, or `an unknown process` when no owner was found.
pub fn holder(pid: Option<u32>, comm: Option<&str>) -> String {
    match (comm, pid) {
        (Some(comm), Some(pid)) => format!("{comm} (pid {pid})"),
        _ => "an unknown process".to_string(),
    }
}

/// The processes holding one socket (its owners, ordered by pid): `nginx (pid 10)`; several (a
/// pre-fork server's workers sharing its listener) `nginx (pid 10) and 3 other processes (pids 11, 12,
/// 13)`; `no owner found` when none was.
pub fn holders(owners: &[lifecycle::kernel::SocketOwner]) -> String {
    let Some(first) = owners.first() else {
        return "no owner found".to_string();
    };
    let mut others: Vec<u32> = owners.iter().map(|o| o.pid).filter(|&p| p != first.pid).collect();
    others.dedup(); // a process may hold it at several fds
    let who = holder(Some(first.pid), Some(&first.comm));
    match others.len() {
        0 => who,
        1 => format!("{who} and 1 other process (pid {})", others[0]),
        n => format!("{who} and {n} other processes (pids {})", fds(&others)),
    }
}

/// `3, 4, 5` or, past ten, `3, 4, ..., 12 and 2 more`: the file descriptors (or pids) a finding names.
pub fn fds(fds: &[u32]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = fds.iter().take(SHOWN).map(u32::to_string).collect();
    match fds.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{} and {more} more", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// `240 s`, `2 s`, `1.5 s`: a threshold as it was given.
pub fn seconds(ms: u64) -> String {
    format!("{} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn readable() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(2_100_000), "2.1 MB");
        assert_eq!(super::millis(41 * 60_000), "41 min");
        assert_eq!(super::millis(12_345), "12 s");
        assert_eq!(super::seconds(240_000), "240 s");
        assert_eq!(super::seconds(1_500), "1.5 s");
    }
}
