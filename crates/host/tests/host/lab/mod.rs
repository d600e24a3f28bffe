//! A network namespace with a known TCP population (`populate.py`), removed on drop even when the test
//! fails. Shared by the host and tcpdoctor integration tests (`#[path]`-included).

#![allow(dead_code)] // each test binary uses its own part of it

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Why these tests cannot run here, if they cannot.
pub fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1));
    if uid != Some("0") {
        return Some("not root: creating network namespaces needs CAP_SYS_ADMIN".into());
    }
    for tool in [["ip", "-V"], ["ss", "-V"], ["python3", "-V"]] {
        if !Command::new(tool[0])
            .arg(tool[1])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Some(format!(
                "{} is not installed (apt-get install -y iproute2 python3)",
                tool[0]
            ));
        }
    }
    None
}

/// Skips the calling test, with the reason, when namespaces cannot be used.
#[macro_export]
macro_rules! require_lab {
    () => {
        if let Some(why) = lab::unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// An empty network namespace with loopback up.
pub struct Netns {
    pub name: String,
    children: Vec<Child>,
    extra_pids: Vec<u32>,
}

impl Netns {
    pub fn new() -> Netns {
        let name = format!(
            "tcpd-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(&["ip", "netns", "add", &name]);
        let ns = Netns {
            name,
            children: Vec::new(),
            extra_pids: Vec::new(),
        };
        run(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Starts `populate.py` inside and waits (at most 30 s) for its report of what it built.
    pub fn populate(&mut self) -> Population {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host/tests/host/populate.py");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "python3"])
            .arg(script)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn populate.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let pid = child.id();
        self.children.push(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("populate.py did not report within 30 s");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        let population = Population {
            parent: v["parent"].as_u64().expect("parent") as u32,
            child: v["child"].as_u64().expect("child") as u32,
        };
        assert_eq!(population.parent, pid, "ip netns exec execs python3 in place");
        self.extra_pids.push(population.child);
        population
    }

    /// `ss -tan` in this namespace, tallied per state as `ss` names them.
    pub fn ss_counts(&self) -> BTreeMap<String, u64> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "ss", "-tan"])
            .output()
            .expect("ss");
        let mut counts = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
            if let Some(state) = line.split_whitespace().next() {
                *counts.entry(state.to_string()).or_insert(0) += 1;
            }
        }
        counts
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Only the processes this lab started, by pid.
        for pid in &self.extra_pids {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// What `populate.py` built (its constants are mirrored here).
#[derive(Debug, Clone, Copy)]
pub struct Population {
    pub parent: u32,
    /// Holds the CLOSE-WAIT sockets.
    pub child: u32,
}

pub const SERVER_FIRST: u64 = 5;
pub const CLIENT_FIRST: u64 = 7;
pub const CLOSE_WAIT: u64 = 12;
pub const UNREAD: u64 = 100;
pub const BACKLOG: u32 = 2;

/// The name `ss` prints for a kernel state name.
pub fn ss_name(linux: &str) -> &'static str {
    match linux {
        "ESTABLISHED" => "ESTAB",
        "SYN_SENT" => "SYN-SENT",
        "SYN_RECV" | "NEW_SYN_RECV" => "SYN-RECV",
        "FIN_WAIT1" => "FIN-WAIT-1",
        "FIN_WAIT2" => "FIN-WAIT-2",
        "TIME_WAIT" => "TIME-WAIT",
        "CLOSE" => "UNCONN",
        "CLOSE_WAIT" => "CLOSE-WAIT",
        "LAST_ACK" => "LAST-ACK",
        "LISTEN" => "LISTEN",
        "CLOSING" => "CLOSING",
        _ => "?",
    }
}

fn run(cmd: &[&str]) {
    let status = Command::new(cmd[0]).args(&cmd[1..]).status().expect("run");
    assert!(status.success(), "{cmd:?} failed");
}
