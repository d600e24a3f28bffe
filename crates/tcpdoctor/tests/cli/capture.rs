//! `tcpdoctor capture` on a namespace's loopback, against the ground truth of the traffic made there and
//! against `analyze` of the same traffic captured by tcpdump. Needs root (skips, saying so, without).

use super::live::{LISTENING, Netns, is_root, signal, wait_bounded, wait_for_line};
use super::{json_lines_by_client, stderr, stdout, tcpdoctor};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Starts `tcpdoctor capture ARGS` inside `ns` and waits until it says it is listening.
fn start_capture(ns: &Netns, args: &[&str]) -> Child {
    let mut argv = vec![env!("CARGO_BIN_EXE_tcpdoctor"), "capture"];
    argv.extend_from_slice(args);
    let mut cap = ns
        .cmd(&argv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = wait_for_line(&mut cap, LISTENING, Duration::from_secs(10));
    assert!(said.contains("listening on lo for TCP"), "{said}");
    cap
}

/// Held while `seed_traffic.py` runs: two runs at once in two namespaces make the same 4-tuples at the
/// same time, and the kernel's tracepoints (which do not say which namespace an event is from) would
/// mix them up for `--trace`.
static SEED_TRAFFIC: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The seed's situations made in `ns` by `seed_traffic.py` (still running: it holds some sockets open
/// until its stdin closes), and its ground truth, one object per connection.
fn seed_traffic(ns: &Netns) -> (Child, Vec<Value>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/seed_traffic.py");
    let mut traffic = ns
        .cmd(&["python3", script.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut truth = Vec::new();
    for l in BufReader::new(traffic.stdout.take().unwrap()).lines() {
        let l = l.unwrap();
        if l == "done" {
            break;
        }
        truth.push(serde_json::from_str::<Value>(&l).unwrap());
    }
    assert_eq!(truth.len(), 8);
    (traffic, truth)
}

#[test]
fn live_capture_agrees_with_the_truth_and_with_analyze() {
    if !is_root() {
        println!("skipped: live capture needs root (CAP_NET_RAW and network namespaces)");
        return;
    }
    let _alone = SEED_TRAFFIC
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.pcap");
    let theirs = dir.path().join("tcpdump.pcap");
    let report = dir.path().join("report.html");
    let ns = Netns::new("capture");
    let cap = start_capture(
        &ns,
        &[
            "-i",
            "lo",
            "--json",
            "-w",
            ours.to_str().unwrap(),
            "--html",
            report.to_str().unwrap(),
        ],
    );
    let tcpdump = crate::live::tcpdump(&ns, "lo", &theirs, &["tcp"]);
    let (mut traffic, truth) = seed_traffic(&ns);
    signal(&tcpdump, "-INT");
    signal(&cap, "-INT");
    let out = wait_bounded(cap, Duration::from_secs(10));
    let _ = wait_bounded(tcpdump, Duration::from_secs(10));
    let rest = stderr(&out);
    drop(traffic.stdin.take().unwrap().flush());
    let _ = wait_bounded(traffic, Duration::from_secs(10));
    assert!(out.status.success(), "{rest}");
    assert!(rest.contains("0 dropped by the kernel"), "{rest}");

    let live = json_lines_by_client(&stdout(&out));
    for t in &truth {
        let got = &live[t["client"].as_str().unwrap()];
        for f in ["server", "cause", "closer", "reset_by"] {
            assert_eq!(got[f], t[f], "live {f} of {t}");
        }
    }
    // `--html` at the end of the capture: the report counts what the JSON lines say.
    let html = std::fs::read_to_string(&report).unwrap();
    let mut by_cause = std::collections::BTreeMap::<&str, usize>::new();
    for v in live.values() {
        *by_cause.entry(v["cause"].as_str().unwrap()).or_default() += 1;
    }
    for (cause, n) in by_cause {
        let row = format!(
            "<tr data-cause=\"{cause}\"><th><a href=\"#cause={cause}\">{cause}</a></th><td class=\"n\">{n}</td>"
        );
        assert!(html.contains(&row), "{row} not in the report");
    }
    let name = ns.0.clone();
    drop(ns);
    let left = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(!stdout(&left).contains(&name), "namespace {name} left behind");
    // The same traffic from our own -w file and from tcpdump's capture: the same connections and causes.
    for pcap in [&ours, &theirs] {
        let analyzed = json_lines_by_client(&stdout(&tcpdoctor(&[
            "analyze",
            "--json",
            pcap.to_str().unwrap(),
        ])));
        for t in &truth {
            let (a, l) = (
                &analyzed[t["client"].as_str().unwrap()],
                &live[t["client"].as_str().unwrap()],
            );
            for f in [
                "cause",
                "closer",
                "reset_by",
                "handshake",
                "client_state",
                "server_state",
                "zeek_history",
            ] {
                assert_eq!(a[f], l[f], "{}: {f} of {t}", pcap.display());
            }
        }
    }
}

/// `capture --trace`: every reset in the packets gets the kernel's reason and the side that sent it,
/// and on every connection the kernel's account agrees with the packets'.
#[test]
fn capture_with_trace_gives_each_reset_the_kernels_reason() {
    if !is_root() {
        println!("skipped: capture --trace needs root (CAP_NET_RAW, tracefs, network namespaces)");
        return;
    }
    let _alone = SEED_TRAFFIC
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ns = Netns::new("captrace");
    let cap = start_capture(&ns, &["-i", "lo", "--json", "--trace"]);
    let (mut traffic, truth) = seed_traffic(&ns);
    signal(&cap, "-INT");
    let out = wait_bounded(cap, Duration::from_secs(10));
    drop(traffic.stdin.take().unwrap().flush());
    let _ = wait_bounded(traffic, Duration::from_secs(10));
    assert!(out.status.success(), "{}", stderr(&out));
    let live = json_lines_by_client(&stdout(&out));
    let mut resets = 0;
    for t in &truth {
        let got = &live[t["client"].as_str().unwrap()];
        let kernel = &got["kernel"];
        assert_eq!(kernel["agree"], true, "{t}: {kernel:#}");
        assert!(kernel["events"].as_u64().unwrap() > 0, "{t}: {kernel:#}");
        if t["reset_by"] == "none" {
            continue;
        }
        resets += 1;
        let sent: Vec<&Value> = kernel["resets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["direction"] == "sent")
            .collect();
        assert_eq!(sent.len(), 1, "{t}: {kernel:#}");
        assert_eq!(sent[0]["side"], t["reset_by"], "{t}: {kernel:#}");
        assert!(sent[0]["reason"].is_string(), "{t}: {kernel:#}");
    }
    assert!(
        resets >= 3,
        "the seed's traffic has refused, abort and reset-after-close"
    );
    // Without --trace the field is absent: the schema only grows where asked.
    let plain = stdout(&tcpdoctor(&[
        "analyze",
        "--json",
        &super::shared().join("corpus/scenarios.pcap").to_string_lossy(),
    ]));
    assert!(!plain.contains("\"kernel\""));
}

#[test]
fn capture_without_privilege_or_interface_says_why() {
    let out = tcpdoctor(&["capture", "-i", "no-such-if0", "--duration", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = super::stderr(&out);
    if is_root() {
        assert!(err.contains("no such interface: no-such-if0"), "{err}");
    }
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn capture_stops_cleanly_on_sigterm_and_sighup() {
    if !is_root() {
        println!("skipped: live capture needs root (CAP_NET_RAW and network namespaces)");
        return;
    }
    for sig in ["-TERM", "-HUP"] {
        let ns = Netns::new("signal");
        let cap = start_capture(&ns, &["-i", "lo"]);
        signal(&cap, sig);
        let out = wait_bounded(cap, Duration::from_secs(10));
        assert!(out.status.success(), "{sig}: {:?}", out.status);
        assert!(
            stdout(&out).contains("kernel: 0 packets passed the TCP filter, 0 dropped"),
            "{sig}"
        );
    }
}

#[test]
fn follow_prints_each_connection_as_it_ends_then_the_summary() {
    if !is_root() {
        println!("skipped: live capture needs root (CAP_NET_RAW and network namespaces)");
        return;
    }
    let ns = Netns::new("follow");
    let mut cap = start_capture(&ns, &["-i", "lo", "--follow", "--port", "47321"]);
    let mut out = BufReader::new(cap.stdout.take().unwrap());
    let refused = "import socket\ntry: socket.create_connection(('127.0.0.1', 47321), timeout=5)\nexcept OSError: pass\n";
    assert!(ns.cmd(&["python3", "-c", refused]).status().unwrap().success());
    // The row arrives while the capture still runs: read it before stopping the capture.
    let (mut header, mut row) = (String::new(), String::new());
    out.read_line(&mut header).unwrap();
    out.read_line(&mut row).unwrap();
    assert!(header.starts_with("    # CLIENT"), "{header}");
    assert!(
        row.contains("127.0.0.1:47321") && row.contains("refused"),
        "{row}"
    );
    signal(&cap, "-INT");
    let rest = wait_bounded(cap, Duration::from_secs(10));
    assert!(rest.status.success());
    let mut summary = String::new();
    std::io::Read::read_to_string(&mut out, &mut summary).unwrap();
    assert!(summary.contains("refused                     1"), "{summary}");
}
