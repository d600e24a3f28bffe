//! The netfilter connection tracking table: its size against its limit (`/proc/sys/net/netfilter`),
//! its per-CPU counters (`/proc/net/stat/nf_conntrack`) and the TCP timeouts in force.
//!
//! What a non-initial network namespace shows, as tested on Linux 6.18 (`tests/host/conntrack.rs`):
//! `nf_conntrack_count`, the counters and the `nf_conntrack_tcp_timeout_*` sysctls are the namespace's
//! own (a new namespace starts from the kernel's default timeouts, not from the host's values), while
//! `nf_conntrack_max` is the host's, read-only there. Which of the two a `nf_conntrack_max` is, is read
//! from its file's mode rather than from where tcpdoctor thinks it runs, so that `ip netns exec NS
//! tcpdoctor` and `tcpdoctor --netns NS` say the same, and so would a kernel that made it per namespace.

use lifecycle::kernel::{Conntrack, Gap};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The directory of the conntrack sysctls, under `/proc/sys/net`.
const SYSCTL_DIR: &str = "netfilter";
/// Present exactly when nf_conntrack is loaded (the netfilter directory alone also holds `nf_log`).
const MAX: &str = "nf_conntrack_max";
const COUNT: &str = "nf_conntrack_count";
const TCP_TIMEOUT_PREFIX: &str = "nf_conntrack_tcp_timeout_";
/// The per-CPU counter table, under `/proc/net` (the calling thread's namespace's).
const STAT: &str = "stat/nf_conntrack";
/// The column of the counter table that is no counter: the table's size, repeated on every row.
const ENTRIES_COLUMN: &str = "entries";

/// Reads the table's numbers from `sys_net` (normally `/proc/sys/net`) and `proc_net` (normally
/// `/proc/thread-self/net`), both as the calling thread's network namespace shows them. `None` when
/// nf_conntrack is not loaded; what cannot be read is a gap.
pub fn read(sys_net: &Path, proc_net: &Path, gaps: &mut Vec<Gap>) -> Option<Conntrack> {
    let dir = sys_net.join(SYSCTL_DIR);
    let max_path = dir.join(MAX);
    let mode = match std::fs::metadata(&max_path) {
        Ok(meta) => meta.permissions().mode(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            gaps.push(gap(&max_path, &e.to_string()));
            return None;
        }
    };
    let mut number = |name: &str| {
        let path = dir.join(name);
        let read = std::fs::read_to_string(&path).map_err(|e| e.to_string());
        match read.and_then(|text| parse_number(&text)) {
            Ok(n) => Some(n),
            Err(why) => {
                gaps.push(gap(&path, &why));
                None
            }
        }
    };
    let entries = number(COUNT);
    let max = number(MAX);
    let mut tcp_timeouts = BTreeMap::new();
    match std::fs::read_dir(&dir) {
        Ok(names) => {
            for entry in names.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(state) = name.strip_prefix(TCP_TIMEOUT_PREFIX)
                    && let Some(seconds) = number(&name)
                {
                    tcp_timeouts.insert(state.to_string(), seconds);
                }
            }
        }
        Err(e) => gaps.push(gap(&dir, &e.to_string())),
    }
    let stat_path = proc_net.join(STAT);
    let stats = match std::fs::read_to_string(&stat_path)
        .map_err(|e| e.to_string())
        .and_then(|text| parse_stat(&text))
    {
        Ok(stats) => stats,
        Err(why) => {
            gaps.push(gap(&stat_path, &why));
            BTreeMap::new()
        }
    };
    Some(Conntrack {
        entries,
        max,
        // Outside the initial namespace the kernel makes the global limits read-only (mode 0444); in
        // it, root may write them (0644).
        max_host_wide: mode & 0o200 == 0,
        stats,
        tcp_timeouts,
    })
}

fn gap(path: &Path, why: &str) -> Gap {
    Gap {
        what: format!("conntrack {}", path.display()),
        why: why.to_string(),
    }
}

fn parse_number(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("not a number: {:?}", text.trim()))
}

/// `/proc/net/stat/nf_conntrack`: a header line naming the columns, then one row of 8-digit hex
/// numbers per possible CPU (`ct_cpu_seq_show`, `net/netfilter/nf_conntrack_standalone.c`). Each
/// column is summed over the rows, by the name the header gives it, so that a kernel that adds, drops
/// or moves a column is read right; except `entries`, which every row repeats.
pub fn parse_stat(text: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().ok_or("empty")?.split_whitespace().collect();
    if names.is_empty() {
        return Err("no header line".into());
    }
    let mut sums: BTreeMap<String, u64> = names
        .iter()
        .filter(|n| **n != ENTRIES_COLUMN)
        .map(|n| ((*n).to_string(), 0))
        .collect();
    for (row, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let values: Vec<&str> = line.split_whitespace().collect();
        if values.len() != names.len() {
            return Err(format!(
                "CPU row {row} has {} values for {} columns",
                values.len(),
                names.len()
            ));
        }
        for (name, value) in names.iter().zip(values) {
            let v = u64::from_str_radix(value, 16)
                .map_err(|_| format!("CPU row {row}, column {name}: not hexadecimal: {value:?}"))?;
            if let Some(sum) = sums.get_mut(*name) {
                *sum = sum.saturating_add(v);
            }
        }
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout Linux 6.18 prints, on two CPUs (the header byte for byte, with its two spaces before
    /// `clashres` and before `expect_new`), with counts made up so that every sum is distinct.
    const TWO_CPUS: &str = include_str!("testdata/nf_conntrack.stat");

    #[test]
    fn sums_every_column_but_entries_by_its_header_name() {
        let stats = parse_stat(TWO_CPUS).unwrap();
        assert_eq!(stats.len(), 16, "17 columns less entries");
        assert!(!stats.contains_key("entries"), "the count, not a counter");
        assert_eq!(stats["found"], 0x1f + 0x2a);
        assert_eq!(stats["invalid"], 0x3 + 0x10);
        assert_eq!(stats["insert_failed"], 0x2);
        assert_eq!(stats["drop"], 0x1 + 0xff);
        assert_eq!(stats["early_drop"], 0x100);
        assert_eq!(stats["search_restart"], 0x7);
        assert_eq!(stats["clashres"], 0);
    }

    #[test]
    fn columns_are_found_by_name_wherever_they_are() {
        let moved = "drop entries early_drop\n00000001 00000050 00000002\n00000003 00000050 00000000\n";
        let stats = parse_stat(moved).unwrap();
        assert_eq!(stats["drop"], 4);
        assert_eq!(stats["early_drop"], 2);
        assert_eq!(stats.len(), 2);
    }

    #[test]
    fn damage_is_an_error_not_a_wrong_number() {
        assert!(parse_stat("").is_err());
        assert!(parse_stat("\n00000001\n").is_err());
        let short = parse_stat("entries drop\n00000001\n").unwrap_err();
        assert!(short.contains("1 values for 2 columns"), "{short}");
        let bad = parse_stat("entries drop\n00000001 zz\n").unwrap_err();
        assert!(bad.contains("column drop"), "{bad}");
        assert_eq!(parse_stat("entries drop\n").unwrap()["drop"], 0, "no CPU rows");
    }

    #[test]
    fn a_tree_without_nf_conntrack_is_none_without_a_gap() {
        let root = std::env::temp_dir().join(format!("tcpd-ct-absent-{}", std::process::id()));
        std::fs::create_dir_all(root.join("netfilter")).unwrap();
        std::fs::write(root.join("netfilter/nf_log_all_netns"), "0\n").unwrap();
        let mut gaps = Vec::new();
        assert_eq!(read(&root, &root, &mut gaps), None);
        assert!(gaps.is_empty(), "{gaps:?}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn reads_a_fixture_tree_and_the_limit_s_scope_from_its_mode() {
        let root = std::env::temp_dir().join(format!("tcpd-ct-tree-{}", std::process::id()));
        let dir = root.join("netfilter");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(root.join("stat")).unwrap();
        for (name, value) in [
            ("nf_conntrack_count", "950"),
            ("nf_conntrack_max", "1000"),
            ("nf_conntrack_tcp_timeout_established", "432000"),
            ("nf_conntrack_tcp_timeout_time_wait", "120"),
            ("nf_conntrack_udp_timeout", "30"),
        ] {
            std::fs::write(dir.join(name), format!("{value}\n")).unwrap();
        }
        std::fs::write(root.join("stat/nf_conntrack"), TWO_CPUS).unwrap();
        let mut gaps = Vec::new();
        let ct = read(&root, &root, &mut gaps).unwrap();
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!((ct.entries, ct.max), (Some(950), Some(1000)));
        assert!(!ct.max_host_wide, "writable: this namespace's own");
        assert_eq!(
            ct.tcp_timeouts.into_iter().collect::<Vec<_>>(),
            [
                ("established".to_string(), 432_000),
                ("time_wait".to_string(), 120)
            ]
        );
        assert_eq!(ct.stats["early_drop"], 0x100);

        let max = dir.join("nf_conntrack_max");
        std::fs::set_permissions(&max, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::write(dir.join("nf_conntrack_count"), "many\n").unwrap();
        let ct = read(&root, &root, &mut gaps).unwrap();
        assert!(ct.max_host_wide, "read-only: the host's");
        assert_eq!(ct.entries, None);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].why.contains("not a number"), "{gaps:?}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
