//! A network namespace with a known TCP population (`populate.py`) or half-open connections
//! (`half_open.py`), removed on drop even when the test fails. Shared by the host and tcpdoctor
//! integration tests (`#[path]`-included).

#![allow(dead_code)] // each test binary uses its own part of it

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::{IpAddr, SocketAddr};
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
        let (pid, v) = self.start("populate.py", &[], Duration::from_secs(30));
        let population = Population {
            parent: v["parent"].as_u64().expect("parent") as u32,
            child: v["child"].as_u64().expect("child") as u32,
        };
        assert_eq!(population.parent, pid, "ip netns exec execs python3 in place");
        self.extra_pids.push(population.child);
        population
    }

    /// Makes `n` half-open connections to a listener on `HALF_OPEN_LISTENER:port`: request sockets in
    /// SYN-RECEIVED that stay there for about a minute (`half_open.py`). Waits at most 15 s.
    ///
    /// The SYNs come from `HALF_OPEN_PEER`, an address on a veth link whose far end is up but has no
    /// address and whose MAC nobody has: the SYN-ACKs go out on it and are dropped there, and since the
    /// peer's neighbour entry is permanent no ARP is tried (a failed one would send an ICMP host
    /// unreachable back, which makes the kernel drop the request sockets at once). A `dummy` link would
    /// do the same, but not every kernel has it built; veth is everywhere network namespaces are.
    pub fn half_open(&mut self, port: u16, n: usize) -> HalfOpen {
        let ip = |words: &str| {
            let mut cmd = vec!["ip", "-n", self.name.as_str()];
            cmd.extend(words.split_whitespace());
            run(&cmd);
        };
        ip("link add tcpd-near type veth peer name tcpd-far");
        ip(&format!("addr add {HALF_OPEN_LISTENER}/24 dev tcpd-near"));
        ip("link set tcpd-near up");
        ip("link set tcpd-far up");
        ip(&format!(
            "neigh replace {HALF_OPEN_PEER} lladdr 02:00:00:00:00:02 dev tcpd-near nud permanent"
        ));
        let (port_arg, n_arg) = (port.to_string(), n.to_string());
        let args = [HALF_OPEN_LISTENER, &port_arg, HALF_OPEN_PEER, &n_arg];
        let (pid, v) = self.start("half_open.py", &args, Duration::from_secs(15));
        assert_eq!(
            v["pid"].as_u64(),
            Some(u64::from(pid)),
            "ip netns exec execs python3 in place"
        );
        let peer_ports: Vec<u16> = v["peer_ports"]
            .as_array()
            .expect("peer_ports")
            .iter()
            .map(|p| p.as_u64().and_then(|p| u16::try_from(p).ok()).expect("a port"))
            .collect();
        assert_eq!(peer_ports.len(), n);
        HalfOpen {
            pid,
            listener: SocketAddr::new(HALF_OPEN_LISTENER.parse().expect("an address"), port),
            peer: HALF_OPEN_PEER.parse().expect("an address"),
            peer_ports,
        }
    }

    /// Starts `keepalive.py` inside and waits (at most 15 s) for its report: idle ESTABLISHED connections
    /// to `127.0.0.1:KEEPALIVE_PORT`, with and without keepalive.
    pub fn keepalive_population(&mut self) -> KeepalivePopulation {
        let (pid, v) = self.start("keepalive.py", &[], Duration::from_secs(15));
        let population = KeepalivePopulation {
            parent: v["parent"].as_u64().expect("parent") as u32,
            child: v["child"].as_u64().expect("child") as u32,
        };
        assert_eq!(population.parent, pid, "ip netns exec execs python3 in place");
        assert_eq!(v["plain"], PLAIN);
        assert_eq!(v["keepalive"], KEEPALIVE);
        assert_eq!(v["port"], KEEPALIVE_PORT);
        self.extra_pids.push(population.child);
        population
    }

    /// Starts `churn.py` inside and waits (at most 15 s) for its report: a stable set of sockets on
    /// `CHURN_STABLE_PORT` beside connections opened and closed continuously, until the namespace is
    /// dropped.
    pub fn churn(&mut self) {
        let (pid, v) = self.start("churn.py", &[], Duration::from_secs(15));
        assert_eq!(
            v["pid"].as_u64(),
            Some(u64::from(pid)),
            "ip netns exec execs python3 in place"
        );
        assert_eq!(v["stable_port"], CHURN_STABLE_PORT);
        assert_eq!(v["churn_port"], CHURN_PORT);
        assert_eq!(
            1 + 2 * (v["stable"].as_u64().unwrap() + v["held_close_wait"].as_u64().unwrap()),
            CHURN_STABLE_SOCKETS
        );
    }

    /// Starts `prefork.py` inside with `workers` forked workers and waits (at most 15 s) for its
    /// report: a listener on `127.0.0.1:port` and one connection to it (both ends), all three held by
    /// the parent and every worker at the same fds.
    pub fn prefork(&mut self, port: u16, workers: usize) -> Prefork {
        let args = [port.to_string(), workers.to_string()];
        let (pid, v) = self.start("prefork.py", &[&args[0], &args[1]], Duration::from_secs(15));
        let fd = |name: &str| v["fds"][name].as_u64().expect("an fd") as u32;
        let prefork = Prefork {
            parent: v["parent"].as_u64().expect("parent") as u32,
            workers: v["workers"]
                .as_array()
                .expect("workers")
                .iter()
                .map(|p| p.as_u64().expect("a pid") as u32)
                .collect(),
            listener: fd("listener"),
            client: fd("client"),
            accepted: fd("accepted"),
        };
        assert_eq!(prefork.parent, pid, "ip netns exec execs python3 in place");
        assert_eq!(prefork.workers.len(), workers);
        self.extra_pids.extend(&prefork.workers);
        prefork
    }

    /// Makes conntrack track this namespace's connections from now on. A new namespace tracks nothing
    /// until a rule there needs conntrack: here an nftables rule counting new connections.
    pub fn track_connections(&self) {
        for rule in [
            "add table inet tcpd_track",
            "add chain inet tcpd_track out { type filter hook output priority 0; }",
            "add rule inet tcpd_track out ct state new counter",
        ] {
            let mut cmd = vec!["ip", "netns", "exec", self.name.as_str(), "nft"];
            cmd.extend(rule.split_whitespace());
            run(&cmd);
        }
    }

    /// Runs `script` (beside this module's parent) with python3 inside the namespace and waits at most
    /// `within` for the one line of JSON it prints when ready. Returns its pid and that line.
    fn start(&mut self, script: &str, args: &[&str], within: Duration) -> (u32, serde_json::Value) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../host/tests/host")
            .join(script);
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "python3"])
            .arg(path)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {script}: {e}"));
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
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("{script} did not report within {within:?}"));
        let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{script}: {e}: {line:?}"));
        (pid, v)
    }

    /// How many sockets `ss -tanH state STATE` lists in this namespace (`ss` asks the kernel for that
    /// state itself, so this is its filter, not ours).
    pub fn ss_state_count(&self, state: &str) -> u64 {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "ss", "-tanH", "state", state])
            .output()
            .expect("ss");
        assert!(out.status.success(), "ss state {state}: {out:?}");
        String::from_utf8_lossy(&out.stdout).lines().count() as u64
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

/// What `prefork.py` built: its processes, and the fds at which each of them holds the listener and
/// the connection's two ends.
#[derive(Debug, Clone)]
pub struct Prefork {
    pub parent: u32,
    pub workers: Vec<u32>,
    pub listener: u32,
    pub client: u32,
    pub accepted: u32,
}

impl Prefork {
    /// The parent and every worker, by pid.
    pub fn holders(&self) -> Vec<u32> {
        let mut pids = self.workers.clone();
        pids.push(self.parent);
        pids.sort_unstable();
        pids
    }
}

/// What `populate.py` built (its constants are mirrored here).
#[derive(Debug, Clone, Copy)]
pub struct Population {
    pub parent: u32,
    /// Holds the CLOSE-WAIT sockets.
    pub child: u32,
}

/// What `keepalive.py` built (its constants are mirrored here).
#[derive(Debug, Clone, Copy)]
pub struct KeepalivePopulation {
    /// Holds the listener and the accepted ends, all with a keepalive timer.
    pub parent: u32,
    /// Holds the client ends: `PLAIN` without keepalive, `KEEPALIVE` with.
    pub child: u32,
}

pub const KEEPALIVE_PORT: u16 = 7100;
pub const PLAIN: u64 = 6;
pub const KEEPALIVE: u64 = 4;

/// What `churn.py` holds: sockets with port `CHURN_STABLE_PORT` that stay put (a listener, its
/// ESTABLISHED pairs, CLOSE-WAIT ends and their peers' FIN-WAIT-2), and connections on `CHURN_PORT`
/// that pass ESTABLISHED, CLOSE-WAIT, LAST-ACK, FIN-WAIT-2 and TIME-WAIT all the time.
pub const CHURN_STABLE_PORT: u16 = 7200;
pub const CHURN_PORT: u16 = 7201;
pub const CHURN_STABLE_SOCKETS: u64 = 61;

/// Why the conntrack tests cannot run here (beyond [`unavailable`]), if they cannot.
pub fn conntrack_unavailable() -> Option<String> {
    if !std::path::Path::new("/proc/sys/net/netfilter/nf_conntrack_max").exists() {
        return Some("nf_conntrack is not loaded (modprobe nf_conntrack)".into());
    }
    let nft = Command::new("nft")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !nft.is_ok_and(|s| s.success()) {
        return Some("nft is not installed (apt-get install -y nftables)".into());
    }
    None
}

pub const SERVER_FIRST: u64 = 5;
pub const CLIENT_FIRST: u64 = 7;
pub const CLOSE_WAIT: u64 = 12;
pub const UNREAD: u64 = 100;
pub const BACKLOG: u32 = 2;

/// Where `Netns::half_open` listens, and the address its half-open connections come from.
pub const HALF_OPEN_LISTENER: &str = "10.77.0.1";
pub const HALF_OPEN_PEER: &str = "10.77.0.2";

/// What `half_open.py` holds: a listener and its request sockets.
#[derive(Debug, Clone)]
pub struct HalfOpen {
    /// The script's pid; it holds the listener.
    pub pid: u32,
    pub listener: SocketAddr,
    pub peer: IpAddr,
    /// The source port of each SYN, one per request socket.
    pub peer_ports: Vec<u16>,
}

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
