//! What the live-host tests share: root detection, a network namespace that removes itself, and bounded
//! waits for the processes a test starts and for the line that says they are receiving.

use std::io::Read as _;
use std::process::{Child, Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Whether this process runs as root (the live tests need it; without it they skip, saying so).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// A network namespace that exists for the life of the value.
pub struct Netns(pub String);

impl Netns {
    /// `tcpd-TAG-PID`, with its loopback up.
    pub fn new(tag: &str) -> Netns {
        let name = format!("tcpd-{tag}-{}", std::process::id());
        assert!(
            Command::new("ip")
                .args(["netns", "add", &name])
                .status()
                .unwrap()
                .success()
        );
        let ns = Netns(name);
        assert!(
            ns.cmd(&["ip", "link", "set", "lo", "up"])
                .status()
                .unwrap()
                .success()
        );
        ns
    }

    /// `argv` to run inside the namespace.
    pub fn cmd(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(argv);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Sends `signal` (`-INT`, `-TERM`, ...) to a child of this test, by pid.
pub fn signal(child: &Child, signal: &str) {
    assert!(
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
}

/// Waits for a child of this test, killing it (by pid) if it overstays `limit`.
pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not stop within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The line `tcpdoctor capture` and `trace` (and tcpdump) print on stderr once they receive.
pub const LISTENING: &str = "listening on ";

/// Waits (at most `limit`) until a child of this test prints a line containing `needle` on its piped
/// stderr, and returns what it printed up to there. Stderr is read a byte at a time, then given back
/// to the child: nothing after the line is lost in a buffer, [`wait_bounded`] gets the rest, and the
/// child never writes into a closed pipe. A child that ends first, or overstays, fails the test.
pub fn wait_for_line(child: &mut Child, needle: &str, limit: Duration) -> String {
    let mut err = child.stderr.take().expect("stderr piped");
    let wanted = needle.to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut seen, mut line_start, mut byte) = (Vec::new(), 0, [0u8]);
        let found = loop {
            if err.read(&mut byte).unwrap_or(0) == 0 {
                break false;
            }
            seen.push(byte[0]);
            if byte[0] == b'\n' {
                if String::from_utf8_lossy(&seen[line_start..]).contains(&wanted) {
                    break true;
                }
                line_start = seen.len();
            }
        };
        let _ = tx.send((found, String::from_utf8_lossy(&seen).into_owned(), err));
    });
    match rx.recv_timeout(limit) {
        Ok((true, seen, err)) => {
            child.stderr = Some(err);
            seen
        }
        Ok((false, seen, _)) => panic!("process {} ended before {needle:?}: {seen}", child.id()),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not say {needle:?} within {limit:?}", child.id());
        }
    }
}

/// tcpdump writing everything on `iface` in `ns` (`filter`: a tcpdump expression, as words) to `out`,
/// started and listening: packet by packet (`-U`, `--immediate-mode`: what it captured is in the file
/// when it is stopped with SIGINT).
pub fn tcpdump(ns: &Netns, iface: &str, out: &std::path::Path, filter: &[&str]) -> Child {
    let mut argv = vec![
        "tcpdump",
        "-n",
        "-i",
        iface,
        "-s",
        "0",
        "--immediate-mode",
        "-U",
        "-w",
        out.to_str().unwrap(),
    ];
    argv.extend_from_slice(filter);
    let mut child = ns
        .cmd(&argv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut child, LISTENING, Duration::from_secs(10));
    child
}

/// Stops a [`tcpdump`] writing `out` once it has caught up: its file has not grown for half a second
/// (at most 10 s). SIGINT ends tcpdump without reading what is still queued for it, so stopping it
/// while it lags behind (a loaded machine) would lose the last packets.
pub fn stop_when_quiet(child: Child, out: &std::path::Path) {
    let size = || std::fs::metadata(out).map_or(0, |m| m.len());
    let start = Instant::now();
    let (mut last, mut quiet) = (size(), 0);
    while quiet < 5 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        let now = size();
        quiet = if now == last { quiet + 1 } else { 0 };
        last = now;
    }
    signal(&child, "-INT");
    let _ = wait_bounded(child, Duration::from_secs(10));
}

/// Starts `cmd` (stdout piped) and waits until the first line it prints is `listening`: a test's
/// server script, ready for its clients.
pub fn start_server(mut cmd: Command) -> Child {
    let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "listening");
    child
}
