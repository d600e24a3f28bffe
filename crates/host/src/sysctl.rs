//! The tuning in force (`/proc/sys/net`) and the tuning configured to be applied at boot
//! (`/etc/sysctl.conf`, `/etc/sysctl.d/*.conf`). Both roots are parameters so that tests read fixture
//! trees and never touch the host's settings.

use lifecycle::kernel::{ConfLine, Gap, Sysctls};
use std::path::Path;

/// The keys the audit needs, relative to `/proc/sys/net`.
pub const AUDITED: &[&str] = &[
    "ipv4/tcp_tw_reuse",
    "ipv4/tcp_tw_reuse_delay",
    "ipv4/tcp_fin_timeout",
    "ipv4/tcp_max_tw_buckets",
    "ipv4/tcp_syncookies",
    "ipv4/ip_local_port_range",
    "ipv4/tcp_timestamps",
    "ipv4/tcp_max_syn_backlog",
    "ipv4/tcp_max_orphans",
    "ipv4/tcp_tw_recycle",
    "ipv4/tcp_keepalive_time",
    "ipv4/tcp_keepalive_intvl",
    "ipv4/tcp_keepalive_probes",
    "core/somaxconn",
];

/// Reads [`AUDITED`] under `root` (normally `/proc/sys/net`). A missing key is simply absent (it does
/// not exist on this kernel); any other failure is a gap.
pub fn read(root: &Path, gaps: &mut Vec<Gap>) -> Sysctls {
    let mut sysctls = Sysctls::default();
    for key in AUDITED {
        let path = root.join(key);
        match std::fs::read_to_string(&path) {
            Ok(v) => {
                let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
                sysctls.0.insert((*key).to_string(), v);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => gaps.push(Gap {
                what: format!("sysctl {}", path.display()),
                why: e.to_string(),
            }),
        }
    }
    sysctls
}

/// Adds the [`AUDITED`] keys that `sysctls` lacks from `root`: after reading inside a network
/// namespace, this fills in the global ones, which only the initial namespace shows.
pub fn fill_missing(root: &Path, sysctls: &mut Sysctls) {
    let mut ignored = Vec::new();
    for (key, value) in read(root, &mut ignored).0 {
        sysctls.0.entry(key).or_insert(value);
    }
}

/// Finds the lines under `etc` (normally `/etc`) that set a `net.*` key the audit cares about, in
/// `sysctl.conf` and `sysctl.d/*.conf` (sorted, as `sysctl --system` applies them).
pub fn scan_conf(etc: &Path, gaps: &mut Vec<Gap>) -> Vec<ConfLine> {
    let mut files = vec![etc.join("sysctl.conf")];
    if let Ok(dir) = std::fs::read_dir(etc.join("sysctl.d")) {
        let mut confs: Vec<_> = dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        confs.sort();
        files.extend(confs);
    }
    let mut lines = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => lines.extend(conf_lines(&file.display().to_string(), &text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => gaps.push(Gap {
                what: format!("sysctl config {}", file.display()),
                why: e.to_string(),
            }),
        }
    }
    lines
}

/// The `key = value` lines of one file whose key (dots or slashes) is one of [`AUDITED`].
pub fn conf_lines(file: &str, text: &str) -> Vec<ConfLine> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.trim().trim_start_matches('-');
            if line.starts_with('#') || line.starts_with(';') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            let key = key.trim().replace('.', "/");
            let key = key.strip_prefix("net/")?;
            AUDITED.contains(&key).then(|| ConfLine {
                file: file.to_string(),
                line: i + 1,
                key: key.to_string(),
                value: value.trim().to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_recycle_in_either_spelling_and_skips_comments() {
        let text = "# net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_tw_recycle = 1\n\
                    net/ipv4/tcp_fin_timeout=30\n-net.ipv4.tcp_tw_reuse = 1\nkernel.pid_max = 9\n";
        let lines = conf_lines("/etc/sysctl.conf", text);
        let keys: Vec<_> = lines
            .iter()
            .map(|l| (l.line, l.key.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                (2, "ipv4/tcp_tw_recycle", "1"),
                (3, "ipv4/tcp_fin_timeout", "30"),
                (4, "ipv4/tcp_tw_reuse", "1")
            ]
        );
    }
}
