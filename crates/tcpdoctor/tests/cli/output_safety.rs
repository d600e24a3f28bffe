//! Output safety: text from the outside never puts a control character on the terminal, in any output
//! format, and JSON carries it escaped. A capture cannot name a process, but its file name can carry an
//! escape sequence; a process name (`comm`) can carry anything the process writes to it.

use super::generate::{Run, run_bounded, run_command};
use super::live::{Netns, is_root};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

/// An escape sequence that clears the screen, a bell, DEL and a C1 CSI (U+009B), in one name.
const EVIL: &str = "ev\x1b[2J\x07\x7f\u{9b}il";
/// [`EVIL`] as `report::safe::terminal` shows it.
const EVIL_SHOWN: &str = "ev\\u{1b}[2J\\u{7}\\u{7f}\\u{9b}il";

/// The control characters in `bytes` (as UTF-8, lossily), other than the newline and, for Zeek's TSV,
/// the tab.
fn controls(bytes: &[u8], allow_tab: bool) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|&c| c.is_control() && c != '\n' && !(allow_tab && c == '\t'))
        .collect()
}

fn assert_clean(run: &Run, what: &str, allow_tab: bool) {
    run.assert_no_crash(what);
    assert_eq!(
        controls(&run.stdout, allow_tab),
        [],
        "{what}: stdout {:?}",
        run.stdout()
    );
    assert_eq!(
        controls(run.stderr.as_bytes(), false),
        [],
        "{what}: stderr {:?}",
        run.stderr
    );
}

#[test]
fn a_capture_file_name_with_an_escape_sequence_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(super::shared().join("corpus/scenarios.pcap")).unwrap();
    let good = dir.path().join(format!("{EVIL}.pcap"));
    std::fs::write(&good, &bytes).unwrap();
    let cut = dir.path().join(format!("cut-{EVIL}.pcap"));
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 5]).unwrap();
    let missing = dir.path().join(format!("missing-{EVIL}.pcap"));
    let shown = |p: &std::path::Path| p.to_str().unwrap().replace(EVIL, EVIL_SHOWN);

    let summary = run_bounded(&["analyze", good.to_str().unwrap()], None, LIMIT);
    assert_clean(&summary, "summary", false);
    assert_eq!(summary.code, Some(0));
    assert!(
        summary
            .stdout()
            .starts_with(&format!("tcpdoctor analyze {}\n", shown(&good))),
        "{}",
        summary.stdout()
    );

    for (format, tab) in [
        ("--json", false),
        ("--connections", false),
        ("--zeek", true),
        ("--no-progress", false),
    ] {
        let run = run_bounded(&["analyze", format, cut.to_str().unwrap()], None, LIMIT);
        assert_clean(&run, format, tab);
        assert_eq!(run.code, Some(2), "{format}: {}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{format}: {}", run.stderr);
        assert!(
            lines[0].starts_with(&format!("tcpdoctor: {}: truncated", shown(&cut))),
            "{}",
            lines[0]
        );
        if format == "--json" {
            for l in run.stdout().lines() {
                serde_json::from_str::<Value>(l).unwrap();
            }
        }
        if format == "--no-progress" {
            assert!(
                run.stdout()
                    .contains(&format!("  input error: {}: truncated", shown(&cut))),
                "{}",
                run.stdout()
            );
        }
    }

    let run = run_bounded(&["analyze", missing.to_str().unwrap()], None, LIMIT);
    assert_clean(&run, "missing", false);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(&format!("{}: cannot open", shown(&missing))),
        "{}",
        run.stderr
    );
}

/// Holds one CLOSE-WAIT socket on 127.0.0.1:7311 under a process name of control characters, until
/// its stdin closes.
const HOLDER: &str = r#"
import socket, sys
open("/proc/self/comm", "wb").write(sys.argv[1].encode())
l = socket.socket(); l.bind(("127.0.0.1", 7311)); l.listen(1)
c = socket.create_connection(("127.0.0.1", 7311), timeout=5); s, _ = l.accept()
c.close()
print("ready", flush=True)
sys.stdin.readline()
"#;

/// Every string in a JSON document.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[test]
fn a_process_name_with_control_characters_is_escaped_in_status() {
    if !is_root() {
        println!("skipped: a private network namespace needs root");
        return;
    }
    let ns = Netns::new("safety");
    let mut holder = ns
        .cmd(&["python3", "-c", HOLDER, EVIL])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready\n");
    let bin = env!("CARGO_BIN_EXE_tcpdoctor");
    let run = |args: &[&str]| {
        let mut argv = vec![bin];
        argv.extend_from_slice(args);
        let mut cmd = ns.cmd(&argv);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        run_command(cmd, LIMIT, &args.join(" "))
    };
    let text = run(&["status", "--state", "close-wait"]);
    let json = run(&["status", "--json", "--state", "close-wait"]);
    holder.stdin.take().unwrap().write_all(b"done\n").unwrap();
    let _ = super::live::wait_bounded(holder, LIMIT);

    assert_clean(&text, "status", false);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    assert!(text.stdout().contains(EVIL_SHOWN), "{}", text.stdout());

    assert_clean(&json, "status --json", false);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let doc: Value = serde_json::from_str(json.stdout().trim_end()).unwrap();
    let mut all = Vec::new();
    strings(&doc, &mut all);
    assert!(
        all.iter().any(|s| s == EVIL),
        "the name, unescaped by a JSON parser: {all:?}"
    );
    assert!(
        json.stdout().contains(r"ev\u001b[2J\u0007\u007f\u009bil"),
        "{}",
        json.stdout()
    );
}

/// Closes a connection first (ESTABLISHED -> FIN-WAIT-1 runs in its own context, so trace names it)
/// under a process name of control characters and a byte that is not UTF-8, then waits for stdin.
const CLOSER: &str = r#"
import os, socket, sys
open("/proc/self/comm", "wb").write(os.fsencode(sys.argv[1]))
l = socket.socket(); l.bind(("127.0.0.1", 47290)); l.listen(1)
c = socket.create_connection(("127.0.0.1", 47290), timeout=5); s, _ = l.accept()
c.close()
print("ready", flush=True)
sys.stdin.readline()
"#;

/// Regression (trace read `/proc/PID/comm` as strict UTF-8, so a name with a non-UTF-8 byte showed as
/// `?`): trace lines, its summary and its JSON show a hostile process name escaped.
#[test]
fn a_process_name_with_control_characters_is_escaped_in_trace() {
    let tracefs = std::fs::read_to_string("/proc/filesystems")
        .unwrap_or_default()
        .contains("tracefs");
    if !is_root() || !tracefs {
        println!("skipped: tracing needs root and tracefs");
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    let mut name = EVIL.as_bytes().to_vec();
    name.push(0xff);
    let ns = Netns::new("safetrace");
    let text = super::trace::start_trace(&["--port", "47290"]);
    let json = super::trace::start_trace(&["--json", "--port", "47290"]);
    let mut closer = ns.cmd(&["python3", "-c", CLOSER]);
    closer
        .arg(std::ffi::OsStr::from_bytes(&name))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut closer = closer.spawn().unwrap();
    let mut ready = String::new();
    BufReader::new(closer.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready\n");
    std::thread::sleep(Duration::from_millis(300));
    super::live::signal(&text, "-INT");
    super::live::signal(&json, "-INT");
    let text = super::live::wait_bounded(text, LIMIT);
    let json = super::live::wait_bounded(json, LIMIT);
    closer.stdin.take().unwrap().write_all(b"done\n").unwrap();
    let _ = super::live::wait_bounded(closer, LIMIT);

    let shown = format!("{EVIL_SHOWN}\u{fffd}[");
    for (what, out, tab) in [("trace", &text, false), ("trace --json", &json, false)] {
        assert!(out.status.success(), "{what}: {out:?}");
        assert_eq!(
            controls(&out.stdout, tab),
            [],
            "{what}: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(controls(&out.stderr, false), [], "{what}");
    }
    let lines = String::from_utf8(text.stdout).unwrap();
    assert!(
        lines
            .lines()
            .any(|l| l.contains(&shown) && l.contains("ESTABLISHED -> FIN-WAIT-1")),
        "{lines}"
    );
    let docs: Vec<Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let wanted = format!("{EVIL}\u{fffd}");
    assert!(
        docs.iter()
            .any(|d| d["comm"] == wanted.as_str() && d["new_state"] == "FIN-WAIT-1"),
        "{docs:?}"
    );
}
