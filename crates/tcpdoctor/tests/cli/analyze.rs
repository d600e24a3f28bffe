//! `tcpdoctor analyze` against the corpus ground truth, and its behaviour on pipes and bad input.

use super::{shared, stderr, stdout, tcpdoctor};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn corpus(name: &str) -> String {
    shared().join("corpus").join(name).to_str().unwrap().to_string()
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Every ground-truth field of every connection, for one capture.
fn agrees_with_ground_truth(capture: &str, truth: &str) {
    let out = tcpdoctor(&["analyze", "--json", &corpus(capture)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got: HashMap<(String, String), Value> = json_lines(&stdout(&out))
        .into_iter()
        .map(|v| {
            (
                (
                    v["client"].as_str().unwrap().to_string(),
                    v["server"].as_str().unwrap().to_string(),
                ),
                v,
            )
        })
        .collect();
    let truth = std::fs::read_to_string(corpus(truth)).unwrap();
    let mut checked = 0;
    for line in truth.lines() {
        let t: Value = serde_json::from_str(line).unwrap();
        let key = (
            t["client"].as_str().unwrap().to_string(),
            t["server"].as_str().unwrap().to_string(),
        );
        let g = got
            .get(&key)
            .unwrap_or_else(|| panic!("{capture}: no connection {key:?}"));
        for field in ["handshake", "closer", "reset_by", "cause", "family"] {
            assert_eq!(
                g[field], t[field],
                "{capture} {key:?} ({}) field {field}",
                t["scenario"]
            );
        }
        assert_eq!(
            g["zeek_conn_state"], t["zeek"],
            "{capture} {key:?} ({}) zeek",
            t["scenario"]
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        got.len(),
        "{capture}: connections beyond the ground truth"
    );
}

#[test]
fn scenarios_pcap_matches_ground_truth() {
    agrees_with_ground_truth("scenarios.pcap", "scenarios.truth.jsonl");
}

#[test]
fn scenarios_pcapng_matches_ground_truth() {
    agrees_with_ground_truth("scenarios.pcapng", "scenarios.truth.jsonl");
}

#[test]
fn mix_pcap_matches_ground_truth() {
    agrees_with_ground_truth("mix.pcap", "mix.truth.jsonl");
}

#[test]
fn mix_pcapng_matches_ground_truth() {
    agrees_with_ground_truth("mix.pcapng", "mix.truth.jsonl");
}

#[test]
fn json_schema_comes_first_with_the_promised_fields() {
    let out = tcpdoctor(&["analyze", "--json", &corpus("scenarios.pcap")]);
    let first = stdout(&out).lines().next().unwrap().to_string();
    assert!(
        first.starts_with(r#"{"schema":"tcpdoctor.connection/1","#),
        "{first}"
    );
    let v: Value = serde_json::from_str(&first).unwrap();
    for f in [
        "client",
        "server",
        "start",
        "end",
        "handshake",
        "closer",
        "reset_by",
        "cause",
        "client_state",
        "server_state",
        "zeek_conn_state",
        "zeek_history",
        "bytes_client",
        "bytes_server",
        "packets",
    ] {
        assert!(v.get(f).is_some(), "missing {f}");
    }
    assert!(v["start"].is_f64() && v["end"].as_f64() >= v["start"].as_f64());
}

#[test]
fn final_states_say_who_holds_time_wait_and_close_wait() {
    let out = tcpdoctor(&["analyze", "--json", &corpus("scenarios.pcap")]);
    for v in json_lines(&stdout(&out)) {
        let states = (
            v["client_state"].as_str().unwrap(),
            v["server_state"].as_str().unwrap(),
        );
        match (v["cause"].as_str().unwrap(), v["closer"].as_str().unwrap()) {
            ("graceful", "client") => assert_eq!(states, ("TIME-WAIT", "CLOSED")),
            ("graceful", "server") => assert_eq!(states, ("CLOSED", "TIME-WAIT")),
            ("close_wait", "client") => assert_eq!(states, ("FIN-WAIT-2", "CLOSE-WAIT")),
            ("open", _) => assert_eq!(states, ("ESTABLISHED", "ESTABLISHED")),
            ("refused" | "abort" | "reset_after_close", _) => assert_eq!(states, ("CLOSED", "CLOSED")),
            ("unanswered", _) => assert_eq!(states, ("SYN-SENT", "CLOSED")),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn summary_names_the_problems_with_examples() {
    let out = tcpdoctor(&["analyze", &corpus("scenarios.pcap")]);
    assert!(out.status.success());
    let s = stdout(&out);
    assert!(s.contains("66 TCP connections"), "{s}");
    for needle in [
        "reset_after_close x6",
        "abort x12",
        "close_wait x6",
        "refused x6",
        "unanswered x6",
        "connection reset by peer",
        "CLOSE-WAIT",
        "client reset in FIN-WAIT-2",
        "link types: EN10MB 570",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
}

#[test]
fn stdin_gives_the_same_answer_as_the_file() {
    let bytes = std::fs::read(corpus("mix.pcapng")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args(["analyze", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let from_file = tcpdoctor(&["analyze", "--json", &corpus("mix.pcapng")]);
    assert_eq!(stdout(&out), stdout(&from_file));
}

#[test]
fn truncated_capture_reports_what_came_before_then_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    let bytes = std::fs::read(corpus("scenarios.pcap")).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let out = tcpdoctor(&["analyze", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cut.pcap") && err.contains("truncated") && err.contains("at byte"),
        "{err}"
    );
    assert!(json_lines(&stdout(&out)).len() > 10);
}

/// Nothing read, nothing reported: a missing file (I/O: exit 1) or a file that is no capture (bad
/// input: exit 2) gives its one error line and no report (which would pass the error off as an empty
/// capture), in every format.
#[test]
fn an_input_never_read_gives_only_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "#!/bin/sh\necho this is not a capture\n").unwrap();
    let missing = dir.path().join("nope.pcap");
    let (notes, missing) = (notes.to_str().unwrap(), missing.to_str().unwrap());
    for (path, code, needle) in [
        (missing, 1, "nope.pcap: cannot open: "),
        (notes, 2, "notes.txt: not a capture file"),
    ] {
        for format in ["--no-progress", "--json", "--connections", "--zeek"] {
            let out = tcpdoctor(&["analyze", format, path]);
            assert_eq!(out.status.code(), Some(code), "{format} {path}");
            assert_eq!(stdout(&out), "", "{format} {path}");
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{format} {path}: {err}");
            assert!(err.starts_with("tcpdoctor: ") && err.contains(needle), "{err}");
        }
    }
    // Several inputs and not one frame: each error, still no report; the I/O failure sets the status.
    let both = tcpdoctor(&["analyze", notes, missing]);
    assert_eq!(both.status.code(), Some(1));
    assert_eq!(stdout(&both), "");
    assert_eq!(stderr(&both).lines().count(), 2, "{}", stderr(&both));
}

/// Once frames were read, the report of what they held comes first, then the error.
#[test]
fn a_partial_report_comes_only_after_frames_were_read() {
    let out = tcpdoctor(&["analyze", &corpus("scenarios.pcap"), "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(s.contains("\n66 TCP connections in 570 TCP segments"), "{s}");
    assert!(
        s.contains("  input error: /nonexistent/x.pcap: cannot open: "),
        "{s}"
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("tcpdoctor: /nonexistent/x.pcap: cannot open: "),
        "{err}"
    );
}

/// A raw-IP pcap of one UDP datagram: frames, none of them TCP.
fn udp_only_pcap(path: &std::path::Path) {
    let mut ip = [0u8; 28];
    ip[0] = 0x45; // IPv4, 20-byte header
    ip[2..4].copy_from_slice(&28u16.to_be_bytes());
    ip[8] = 64; // TTL
    ip[9] = 17; // UDP
    ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
    ip[20..22].copy_from_slice(&5353u16.to_be_bytes());
    ip[22..24].copy_from_slice(&53u16.to_be_bytes());
    ip[24..26].copy_from_slice(&8u16.to_be_bytes());
    let mut pcap = Vec::new();
    for word in [
        0xa1b2_c3d4u32,
        0x0004_0002,
        0,
        0,
        65_535,
        101,
        1_700_000_000,
        0,
        28,
        28,
    ] {
        pcap.extend_from_slice(&word.to_le_bytes());
    }
    pcap.extend_from_slice(&ip);
    std::fs::write(path, pcap).unwrap();
}

/// Without a connection the summary says there was no TCP, and why; it does not call the capture
/// clean ("Problems: none").
#[test]
fn a_capture_without_tcp_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let udp = dir.path().join("udp.pcap");
    udp_only_pcap(&udp);
    let out = tcpdoctor(&["analyze", udp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("\nNo TCP connection: 1 frames"), "{s}");
    assert!(s.contains(", none of them TCP\n"), "{s}");
    assert!(s.contains("frames without one: not TCP 1"), "{s}");
    assert!(!s.contains("Problems") && !s.contains("by cause"), "{s}");
    let filtered = tcpdoctor(&["analyze", "--port", "1", &corpus("scenarios.pcap")]);
    let s = stdout(&filtered);
    assert!(
        s.contains("\nNo TCP connection matched the filter: 570 TCP segments over 17.436 s"),
        "{s}"
    );
}

#[test]
fn broken_pipe_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args([
            "analyze",
            "--connections",
            &corpus("mix.pcap"),
            &corpus("mix.pcap"),
            &corpus("mix.pcap"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    drop(reader);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert_eq!(err, "");
}

#[test]
fn filters_follow_tcpdump() {
    let refused = tcpdoctor(&["analyze", "--json", "--port", "9998", &corpus("scenarios.pcap")]);
    let v = json_lines(&stdout(&refused));
    assert_eq!(v.len(), 6);
    assert!(v.iter().all(|c| c["cause"] == "refused"));
    let v6 = tcpdoctor(&["analyze", "--json", "--net", "::1/128", &corpus("scenarios.pcap")]);
    assert_eq!(json_lines(&stdout(&v6)).len(), 33);
    let host = tcpdoctor(&[
        "analyze",
        "--json",
        "--host",
        "127.0.0.1",
        "--port",
        "9999",
        &corpus("scenarios.pcap"),
    ]);
    let v = json_lines(&stdout(&host));
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|c| c["cause"] == "unanswered"));
}

#[test]
fn connections_table_and_zeek_log_have_headers() {
    let t = stdout(&tcpdoctor(&[
        "analyze",
        "--connections",
        &corpus("scenarios.pcap"),
    ]));
    assert!(t.starts_with("    # CLIENT"), "{t}");
    assert_eq!(t.lines().count(), 67);
    // Rows are numbered from 1 in output order (`--ladder N` draws row N).
    for (n, line) in (1..).zip(t.lines().skip(1)) {
        assert_eq!(line.split_whitespace().next(), Some(n.to_string().as_str()));
    }
    let z = stdout(&tcpdoctor(&["analyze", "--zeek", &corpus("scenarios.pcap")]));
    assert!(z.starts_with("#separator \\x09\n"));
    assert!(z.contains("#fields\tts\tuid\tid.orig_h"));
    assert_eq!(z.lines().filter(|l| !l.starts_with('#')).count(), 66);
    assert!(z.trim_end().lines().last().unwrap().starts_with("#close"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(tcpdoctor(&["analyze"]).status.code(), Some(2));
    assert_eq!(
        tcpdoctor(&["analyze", "--json", "--zeek", "x"]).status.code(),
        Some(2)
    );
}

#[test]
fn the_connection_cap_evicts_and_says_so() {
    let out = tcpdoctor(&["analyze", "--max-connections", "4", &corpus("scenarios.pcap")]);
    assert!(out.status.success());
    let s = stdout(&out);
    assert!(
        s.contains("connections tracked at most 4 at once (cap 4); evicted by the cap: "),
        "{s}"
    );
    assert!(!s.contains("evicted by the cap: 0"), "{s}");
    let json = tcpdoctor(&[
        "analyze",
        "--json",
        "--max-connections",
        "4",
        &corpus("scenarios.pcap"),
    ]);
    assert!(
        json_lines(&stdout(&json))
            .iter()
            .any(|v| v["end_reason"] == "evicted")
    );
}

/// `reset_at`: when the RST that ended a connection was captured, inside the connection's span; null
/// without a reset.
#[test]
fn a_reset_has_its_time() {
    let file = shared().join("corpus/scenarios.pcap");
    let out = tcpdoctor(&["analyze", "--json", file.to_str().unwrap()]);
    assert!(out.status.success());
    let mut resets = 0;
    for line in stdout(&out).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["reset_by"] == "none" {
            assert!(v["reset_at"].is_null(), "{v}");
            continue;
        }
        resets += 1;
        let at = v["reset_at"].as_f64().unwrap();
        let (start, end) = (v["start"].as_f64().unwrap(), v["end"].as_f64().unwrap());
        assert!(start <= at && at <= end, "{v}");
    }
    assert!(resets >= 20, "{resets}");
}
