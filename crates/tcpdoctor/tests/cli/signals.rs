//! Signals on the commands that `capture.rs` and `trace.rs` do not cover: `analyze` reports what it read
//! when it is stopped (`tcpdump -w - | tcpdoctor analyze -` and Ctrl-C), and `status --watch`, which
//! changes nothing on the host or the terminal (no terminal mode, no child), simply ends.

use super::generate::{self, run_bounded};
use super::live::{signal, wait_bounded};
use super::shared;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first `n` records of the corpus' scenarios.pcap, whole.
fn pcap_prefix(n: usize) -> Vec<u8> {
    let b = std::fs::read(shared().join("corpus/scenarios.pcap")).unwrap();
    let mut off = 24;
    for _ in 0..n {
        off += 16 + u32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap()) as usize;
    }
    b[..off].to_vec()
}

/// Regression: Ctrl-C on `tcpdump -w - | tcpdoctor analyze -` reached both processes and killed
/// `analyze` before it printed anything. Now it finishes reading the pipe, which its writer (stopped by
/// the same signal) ends, and reports every connection in it.
#[test]
fn analyze_on_a_pipe_reports_what_it_read_when_interrupted() {
    for sig in ["-INT", "-TERM", "-HUP"] {
        let prefix = pcap_prefix(300);
        let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
            .args(["analyze", "--json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(&prefix).unwrap();
        pipe.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, sig);
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{sig}: analyze died on the signal"
        );
        drop(pipe); // the writer exits
        let out = wait_bounded(child, Duration::from_secs(20));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(0), "{sig}: {err}");
        assert_eq!(
            err,
            "tcpdoctor: interrupted: the connections read until then are reported\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = generate::write_file(dir.path(), "prefix.pcap", &prefix);
        let whole = run_bounded(&["analyze", "--json", &file], None, Duration::from_secs(20));
        assert!(!whole.stdout.is_empty());
        assert!(
            out.stdout == whole.stdout,
            "{sig}: not the connections of the pipe"
        );
    }
}

/// A second signal while the pipe stays quiet ends `analyze` at once, with 130.
#[test]
fn a_second_signal_ends_analyze_at_once() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args(["analyze", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(&pcap_prefix(10)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, "-INT");
    let out = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    drop(pipe);
}

/// A file stops at the next frame, and the summary covers the frames read until then.
#[test]
fn analyze_of_a_file_stops_at_once_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let flood = dir.path().join("flood.pcap");
    let syns = 2_000_000;
    generate::syn_flood(&flood, syns);
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args([
            "analyze",
            "--no-progress",
            "--max-connections",
            "1000",
            flood.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-TERM");
    let out = wait_bounded(child, Duration::from_secs(20));
    let (s, err) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    let read: u64 = s
        .lines()
        .find_map(|l| l.split(" TCP connections in ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(read > 0 && read < u64::from(syns), "read {read} of {syns}: {s}");
    assert!(s.contains("Connections by cause"), "{s}");
}

/// `status --watch` ends on each stop signal within the signal's delivery (it holds nothing to restore).
#[test]
fn status_watch_ends_on_a_signal() {
    for (sig, number) in [("-INT", 2), ("-TERM", 15), ("-HUP", 1)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
            .args(["status", "--json", "--watch", "0.2", "--no-owners"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kept open until the end: a closed pipe would end it by EPIPE instead.
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert!(first.starts_with(r#"{"schema":"tcpdoctor.status/1""#), "{first}");
        signal(&child, sig);
        let out = wait_bounded(child, Duration::from_secs(5));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(number), "{sig}: {:?}", out.status);
        drop(reader);
    }
}
