//! `tcpdoctor trace` against the seed's situations, made for real on the loopback of namespaces these
//! tests create, and its cleanup after each way of stopping. Needs root and tracefs (skips, saying so,
//! without).
//!
//! Tracepoints are global and their records do not name the namespace, so each test filters by ports
//! of its own: 29100–29199, used by no other test, and below Linux's default ephemeral range
//! (32768–60999), so that no other test's client port lands on one of them.

use super::live::{LISTENING, Netns, is_root, wait_bounded, wait_for_line};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The seed's situations, one port each, as a Python script run inside the namespace.
const SITUATIONS: &str = r#"
import socket, struct, sys, time
base = int(sys.argv[1])
def pair(port):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port)); l.listen(8)
    c = socket.create_connection(("127.0.0.1", port), timeout=5); s, _ = l.accept(); l.close()
    return c, s
# refused: nothing listens on base+0
try: socket.create_connection(("127.0.0.1", base), timeout=5)
except ConnectionRefusedError: pass
# close with unread data: the server closes without reading the client's request
c, s = pair(base + 1); c.sendall(b"request"); time.sleep(0.05); s.close(); time.sleep(0.05); c.close()
# SO_LINGER 0: the client aborts
c, s = pair(base + 2); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close(); time.sleep(0.05); s.close()
# write after the peer closed: the client gave up; the server's late reply is answered by RST
c, s = pair(base + 3); c.close(); time.sleep(0.05); s.sendall(b"late reply"); time.sleep(0.05); s.close()
# client closes first, then the server
c, s = pair(base + 4); c.close(); time.sleep(0.05); s.close(); time.sleep(0.05)
# server closes first, then the client
c, s = pair(base + 5); s.close(); time.sleep(0.05); c.close(); time.sleep(0.05)
# CLOSE-WAIT: the client closes, the server holds its socket for 0.4 s before closing
c, s = pair(base + 6); c.close(); time.sleep(0.4); s.close(); time.sleep(0.05)
# IPv6: refused on ::1
try: socket.create_connection(("::1", base + 7), timeout=5)
except ConnectionRefusedError: pass
"#;

/// The situations' server ports, BASE to BASE + 7. They were 47100 to 47107, inside the ephemeral range,
/// and a client port another test's connection got there counted as one of them (`--port` matches
/// either end; seen once: five transitions where four were expected).
const BASE: u16 = 29100;

/// The tests of this module run one at a time: one kills a run outright and leaves an instance behind
/// on purpose, which the others' cleanup checks would otherwise see.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<&'static str> {
    if !is_root() {
        return Some("tracing needs root");
    }
    let tracefs = std::fs::read_to_string("/proc/filesystems")
        .unwrap_or_default()
        .contains("tracefs");
    if !tracefs {
        return Some("this kernel has no tracefs");
    }
    None
}

/// Starts `tcpdoctor trace ARGS` and waits until it says it is listening.
pub(crate) fn start_trace(args: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .arg("trace")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut child, LISTENING, Duration::from_secs(10));
    child
}

/// Where tracefs is mounted (tcpdoctor mounts it on /sys/kernel/tracing when it is nowhere).
fn tracefs_root() -> std::path::PathBuf {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    mounts
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2) == Some(&"tracefs")).then(|| std::path::PathBuf::from(f[1]))
        })
        .unwrap_or_else(|| "/sys/kernel/tracing".into())
}

fn instance_dir(pid: u32) -> std::path::PathBuf {
    tracefs_root().join(format!("instances/tcpdoctor-{pid}"))
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// After a run: its instance is gone, and so is every `tcpdoctor-*` instance of a process that no
/// longer runs.
fn assert_cleaned_up(pid: u32) {
    assert!(!instance_dir(pid).exists(), "instance of {pid} left behind");
    let leftovers: Vec<String> = std::fs::read_dir(tracefs_root().join("instances"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix("tcpdoctor-")
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|p| !Path::new("/proc").join(p.to_string()).exists())
        })
        .collect();
    assert!(leftovers.is_empty(), "instances left behind: {leftovers:?}");
}

fn json_lines(out: &Output) -> (Vec<Value>, Value) {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let mut all: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = all.pop().expect("a summary line");
    assert_eq!(summary["schema"], "tcpdoctor.trace_summary/1");
    for e in &all {
        assert_eq!(e["schema"], "tcpdoctor.event/1");
    }
    (all, summary)
}

fn port_of(addr: &Value) -> u16 {
    addr.as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Events of the socket whose local (server side) or remote (client side) port is `port`.
fn server_side(events: &[Value], port: u16) -> Vec<&Value> {
    events.iter().filter(|e| port_of(&e["local"]) == port).collect()
}

fn client_side(events: &[Value], port: u16) -> Vec<&Value> {
    events.iter().filter(|e| port_of(&e["remote"]) == port).collect()
}

fn transitions(events: &[&Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["event"] == "state")
        .map(|e| {
            (
                e["old_state"].as_str().unwrap().to_string(),
                e["new_state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(events: &[&Value], old: &str, new: &str) -> bool {
    transitions(events).iter().any(|(o, n)| o == old && n == new)
}

fn resets<'a>(events: &[&'a Value], direction: &str) -> Vec<&'a Value> {
    events
        .iter()
        .copied()
        .filter(|e| e["event"] == "reset" && e["direction"] == direction)
        .collect()
}

#[test]
fn trace_reports_the_seed_situations_and_cleans_up_after_sigint() {
    let _serial = serial();
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let ports: Vec<String> = (0..8).map(|i| (BASE + i).to_string()).collect();
    let mut args = vec!["--json"];
    for p in &ports {
        args.extend(["--port", p.as_str()]);
    }
    let trace = start_trace(&args);
    let pid = trace.id();
    let ns_name = {
        let ns = Netns::new("seed");
        let ok = ns
            .cmd(&["python3", "-c", SITUATIONS, &BASE.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "the traffic script failed");
        ns.0.clone()
    };
    let namespaces = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&namespaces.stdout).contains(&ns_name));
    // Events are read every 50 ms; give the last ones time to be read before stopping.
    std::thread::sleep(Duration::from_millis(300));
    signal(&trace, "-INT");
    let out = wait_bounded(trace, Duration::from_secs(10));
    assert!(out.status.success(), "{out:?}");
    assert_cleaned_up(pid);
    assert!(!Path::new("/proc").join(pid.to_string()).exists(), "process left");
    let (events, summary) = json_lines(&out);
    let reasons = summary["reasons_available"].as_bool().unwrap();
    let reason_of = |e: &Value| e["reason"].as_str().map(str::to_string);
    if !reasons {
        let notes = summary["notes"].to_string();
        assert!(notes.contains("reasons unavailable"), "{notes}");
    }

    // Refused: a SYN to a closed port, answered by RST with no socket behind it.
    let (p, c) = (BASE, client_side(&events, BASE));
    let sent = resets(&server_side(&events, p), "sent");
    assert_eq!(sent.len(), 1, "{events:#?}");
    assert_eq!(sent[0]["state"], Value::Null);
    assert_eq!(
        sent[0]["pid"],
        Value::Null,
        "a reset sent in softirq names no process"
    );
    if reasons {
        assert_eq!(reason_of(sent[0]).as_deref(), Some("NO_SOCKET"));
        assert_eq!(
            sent[0]["reason_text"],
            "connection refused: no socket for this address"
        );
    }
    assert!(has(&c, "CLOSED", "SYN-SENT") && has(&c, "SYN-SENT", "CLOSED"));
    assert_eq!(resets(&c, "received").len(), 1);
    let connect = c.iter().find(|e| e["new_state"] == "SYN-SENT").unwrap();
    assert!(
        connect["pid"].is_u64(),
        "connect() runs in the process: {connect}"
    );

    // Closed with unread data: the server resets instead of sending FIN.
    let p = BASE + 1;
    let (s, c) = (server_side(&events, p), client_side(&events, p));
    assert!(has(&s, "ESTABLISHED", "CLOSED"), "{s:#?}");
    let sent = resets(&s, "sent");
    assert_eq!(sent.len(), 1);
    if reasons {
        assert_eq!(reason_of(sent[0]).as_deref(), Some("TCP_ABORT_ON_CLOSE"));
        assert_eq!(sent[0]["reason_text"], "closed with unread data");
    }
    assert_eq!(resets(&c, "received").len(), 1);
    assert!(has(&c, "ESTABLISHED", "CLOSED"));

    // SO_LINGER 0: the client aborts; Linux passes TCP_STATE (tcp_disconnect) on 6.x kernels.
    let p = BASE + 2;
    let (s, c) = (server_side(&events, p), client_side(&events, p));
    let sent = resets(&c, "sent");
    assert_eq!(sent.len(), 1, "{c:#?}");
    if reasons {
        let r = reason_of(sent[0]).unwrap_or_default();
        assert!(
            ["TCP_STATE", "NOT_SPECIFIED", "TCP_ABORT_ON_LINGER"].contains(&r.as_str()),
            "{r}"
        );
    }
    assert!(has(&c, "ESTABLISHED", "CLOSED") && !has(&c, "ESTABLISHED", "FIN-WAIT-1"));
    assert_eq!(resets(&s, "received").len(), 1);

    // Write after the peer closed: the closed client answers the late reply with RST.
    let p = BASE + 3;
    let (s, c) = (server_side(&events, p), client_side(&events, p));
    assert!(has(&c, "ESTABLISHED", "FIN-WAIT-1") && has(&s, "ESTABLISHED", "CLOSE-WAIT"));
    let sent = resets(&c, "sent");
    assert_eq!(sent.len(), 1, "{c:#?}");
    if reasons {
        let r = reason_of(sent[0]).unwrap_or_default();
        assert!(
            ["TCP_TIMEWAIT_SOCKET", "TCP_ABORT_ON_DATA"].contains(&r.as_str()),
            "{r}"
        );
    }
    assert_eq!(resets(&s, "received").len(), 1);
    assert!(has(&s, "CLOSE-WAIT", "CLOSED"));

    // Client closes first: the client goes through FIN-WAIT, the server through CLOSE-WAIT, LAST-ACK.
    let p = BASE + 4;
    let (s, c) = (server_side(&events, p), client_side(&events, p));
    assert!(has(&c, "ESTABLISHED", "FIN-WAIT-1") && has(&c, "FIN-WAIT-1", "FIN-WAIT-2"));
    assert!(
        has(&c, "FIN-WAIT-2", "CLOSED"),
        "entering TIME-WAIT shows as this"
    );
    assert!(has(&s, "ESTABLISHED", "CLOSE-WAIT") && has(&s, "CLOSE-WAIT", "LAST-ACK"));
    assert!(has(&s, "LAST-ACK", "CLOSED"));
    assert!(resets(&s, "sent").is_empty() && resets(&c, "sent").is_empty());
    let close = c.iter().find(|e| e["new_state"] == "FIN-WAIT-1").unwrap();
    assert_eq!(close["comm"], "python3", "close() names its process: {close}");

    // Server closes first: the roles swap.
    let p = BASE + 5;
    let (s, c) = (server_side(&events, p), client_side(&events, p));
    assert!(has(&s, "ESTABLISHED", "FIN-WAIT-1") && has(&s, "FIN-WAIT-2", "CLOSED"));
    assert!(has(&c, "ESTABLISHED", "CLOSE-WAIT") && has(&c, "LAST-ACK", "CLOSED"));

    // CLOSE-WAIT: the server sits in CLOSE-WAIT until its program closes, 0.4 s later.
    let p = BASE + 6;
    let s = server_side(&events, p);
    let at = |new: &str| {
        s.iter()
            .find(|e| e["new_state"] == new)
            .map(|e| e["time"].as_f64().unwrap())
            .unwrap()
    };
    let held = at("LAST-ACK") - at("CLOSE-WAIT");
    assert!(held >= 0.35, "CLOSE-WAIT held {held} s");

    // IPv6: the same refusal, with IPv6 addresses.
    let p = BASE + 7;
    let sent = resets(&server_side(&events, p), "sent");
    assert_eq!(sent.len(), 1, "{events:#?}");
    assert_eq!(sent[0]["family"], "ipv6");
    assert_eq!(sent[0]["local"], format!("[::1]:{p}"));
    if reasons {
        assert_eq!(reason_of(sent[0]).as_deref(), Some("NO_SOCKET"));
    }
    let c = client_side(&events, p);
    assert!(has(&c, "CLOSED", "SYN-SENT") && c.iter().all(|e| e["family"] == "ipv6"));

    // The summary: transitions, resets per reason, who closed first.
    let count = |from: &str, to: &str| {
        summary["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["from"] == from && t["to"] == to)
            .map_or(0, |t| t["count"].as_u64().unwrap())
    };
    // Write after close, client first, server first, CLOSE-WAIT: four orderly first closes, each
    // seen from both ends (the namespace's loopback is both hosts).
    assert_eq!(count("ESTABLISHED", "FIN-WAIT-1"), 4);
    assert_eq!(count("ESTABLISHED", "CLOSE-WAIT"), 4);
    assert_eq!(summary["closed_first"]["this_host"], 4);
    assert_eq!(summary["closed_first"]["peer"], 4);
    assert_eq!(summary["closed_first"]["by_process"][0]["comm"], "python3");
    let sent_total: u64 = summary["resets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["direction"] == "sent")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sent_total, 5);
    assert_eq!(summary["lost_events"], 0);
    assert_eq!(summary["events"].as_u64().unwrap() as usize, events.len());
}

#[test]
fn trace_cleans_up_after_sigterm_sighup_and_duration() {
    let _serial = serial();
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    for sig in ["-TERM", "-HUP"] {
        let trace = start_trace(&["--port", "29150"]);
        let pid = trace.id();
        signal(&trace, sig);
        let out = wait_bounded(trace, Duration::from_secs(10));
        assert!(out.status.success(), "{sig}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("events in"), "{sig}: summary missing: {text}");
        assert_cleaned_up(pid);
    }
    // --duration and --count end the run by themselves.
    let trace = start_trace(&["--json", "--port", "29151", "--duration", "0.5"]);
    let pid = trace.id();
    let out = wait_bounded(trace, Duration::from_secs(10));
    assert!(out.status.success(), "{out:?}");
    let (events, summary) = json_lines(&out);
    assert!(events.is_empty());
    assert_eq!(summary["events"], 0);
    assert_cleaned_up(pid);

    let trace = start_trace(&["--json", "--port", "29152", "--host", "127.0.0.1", "--count", "2"]);
    let pid = trace.id();
    {
        let ns = Netns::new("count");
        let script = "import socket\nfor _ in range(3):\n    try: socket.create_connection(('127.0.0.1', 29152), timeout=5)\n    except ConnectionRefusedError: pass\n";
        assert!(ns.cmd(&["python3", "-c", script]).status().unwrap().success());
    }
    let out = wait_bounded(trace, Duration::from_secs(10));
    assert!(out.status.success(), "{out:?}");
    let (events, _) = json_lines(&out);
    assert_eq!(events.len(), 2);
    assert_cleaned_up(pid);
}

#[test]
fn pid_follows_the_connections_of_one_process() {
    let _serial = serial();
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let ns = Netns::new("pid");
    // Two processes wait for a line on stdin, then each makes one connection that it closes first.
    let script = "import socket, sys, time\nport = int(sys.argv[1])\nsys.stdin.readline()\n\
        l = socket.socket(); l.bind(('127.0.0.1', port)); l.listen(1)\n\
        c = socket.create_connection(('127.0.0.1', port), timeout=5); s, _ = l.accept()\n\
        c.close(); time.sleep(0.05); s.close(); time.sleep(0.05)\n";
    let spawn = |port: &str| {
        ns.cmd(&["python3", "-c", script, port])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (mut mine, mut other) = (spawn("29170"), spawn("29171"));
    let pid = mine.id().to_string();
    let trace = start_trace(&["--json", "--pid", &pid, "--port", "29170", "--port", "29171"]);
    for child in [&mut mine, &mut other] {
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    }
    assert!(mine.wait().unwrap().success() && other.wait().unwrap().success());
    signal(&trace, "-INT");
    let out = wait_bounded(trace, Duration::from_secs(10));
    let (events, _) = json_lines(&out);
    assert!(
        events
            .iter()
            .all(|e| port_of(&e["local"]) == 29170 || port_of(&e["remote"]) == 29170),
        "{events:#?}"
    );
    let c = client_side(&events, 29170);
    assert!(has(&c, "ESTABLISHED", "FIN-WAIT-1"), "{events:#?}");
    // Raised in a softirq (no pid), kept because the process touched the connection before.
    let later = c
        .iter()
        .find(|e| e["new_state"] == "FIN-WAIT-2")
        .expect("FIN-WAIT-2 of the followed connection");
    assert_eq!(later["pid"], Value::Null);
}

#[test]
fn a_run_killed_outright_leaves_an_instance_that_the_next_run_removes() {
    let _serial = serial();
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut killed = start_trace(&["--port", "29160"]);
    let pid = killed.id();
    killed.kill().unwrap(); // SIGKILL: no chance to clean up
    killed.wait().unwrap();
    assert!(instance_dir(pid).exists());
    let next = start_trace(&["--port", "29160", "--duration", "0.2"]);
    let next_pid = next.id();
    let out = wait_bounded(next, Duration::from_secs(10));
    assert!(out.status.success(), "{out:?}");
    assert!(!instance_dir(pid).exists(), "the leftover was not removed");
    assert_cleaned_up(next_pid);
}

#[test]
fn trace_without_privilege_says_why() {
    let _serial = serial();
    if unavailable() == Some("this kernel has no tracefs") {
        println!("skipped: no tracefs");
        return;
    }
    // As root, drop to nobody with setpriv (util-linux); unprivileged already, run as is.
    let mut cmd = if unavailable().is_none() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(env!("CARGO_BIN_EXE_tcpdoctor"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
    };
    let Ok(out) = cmd.args(["trace", "--duration", "1"]).output() else {
        println!("skipped: setpriv is not installed");
        return;
    };
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("needs root"), "{err}");
    assert!(err.contains("ermission denied"), "{err}");
}
