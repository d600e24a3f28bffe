//! Sysctls and the sysctl configuration, read from fixture trees: the host's settings are never
//! read or changed by these tests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed on drop.
struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str) -> Tree {
        let dir = std::env::temp_dir().join(format!("tcpd-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tree(dir)
    }

    fn file(&self, rel: &str, text: &str) -> &Tree {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn sysctls_are_read_under_the_given_root_and_absent_keys_stay_absent() {
    let tree = Tree::new("sys");
    tree.file("ipv4/tcp_tw_reuse", "1\n")
        .file("ipv4/ip_local_port_range", "32768\t60999\n")
        .file("core/somaxconn", "4096\n");
    let mut gaps = Vec::new();
    let sysctls = host::sysctl::read(tree.path(), &mut gaps);
    assert_eq!(sysctls.int("ipv4/tcp_tw_reuse"), Some(1));
    assert_eq!(sysctls.get("ipv4/ip_local_port_range"), Some("32768 60999"));
    assert_eq!(sysctls.int("core/somaxconn"), Some(4096));
    assert_eq!(
        sysctls.get("ipv4/tcp_tw_recycle"),
        None,
        "removed in 4.12: absent, not an error"
    );
    assert!(gaps.is_empty(), "{gaps:?}");
}

#[test]
fn conf_scan_covers_sysctl_conf_and_sysctl_d_in_order() {
    let tree = Tree::new("etc");
    tree.file("sysctl.conf", "net.ipv4.tcp_fin_timeout = 30\n")
        .file(
            "sysctl.d/99-seed.conf",
            "# from a blog\nnet.ipv4.tcp_tw_recycle = 1\n",
        )
        .file("sysctl.d/10-other.conf", "net.core.somaxconn=1024\n")
        .file("sysctl.d/README", "net.ipv4.tcp_tw_recycle = 1\n");
    let mut gaps = Vec::new();
    let lines = host::sysctl::scan_conf(tree.path(), &mut gaps);
    let seen: Vec<(String, usize, &str)> = lines
        .iter()
        .map(|l| {
            (
                Path::new(&l.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                l.line,
                l.key.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("sysctl.conf".to_string(), 1, "ipv4/tcp_fin_timeout"),
            ("10-other.conf".to_string(), 1, "core/somaxconn"),
            ("99-seed.conf".to_string(), 2, "ipv4/tcp_tw_recycle"),
        ]
    );
    assert!(gaps.is_empty());
}

#[test]
fn counters_are_read_from_the_given_directory() {
    let tree = Tree::new("net");
    tree.file(
        "netstat",
        "TcpExt: ListenOverflows TCPTimeWaitOverflow\nTcpExt: 4 9\n",
    )
    .file("snmp", "Tcp: OutRsts\nTcp: 12\n")
    .file("sockstat", "TCP: inuse 3 orphan 1 tw 7 alloc 4 mem 1\n");
    let mut gaps = Vec::new();
    let c = host::counters::read(tree.path(), &mut gaps);
    assert_eq!(c.get("TcpExt.TCPTimeWaitOverflow"), Some(9));
    assert_eq!(c.get("Tcp.OutRsts"), Some(12));
    assert_eq!(c.get("sockstat.TCP.tw"), Some(7));
    assert!(
        gaps.is_empty(),
        "optional IPv6 files missing is not a gap: {gaps:?}"
    );
}
