//! `tcpdoctor lab`: every scenario run for real (root), the three kinds of evidence agreeing with each
//! other and with each scenario's known truth, and nothing left behind.

use super::generate::run_command;
use super::live::is_root;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

fn lab(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"));
    cmd.arg("lab")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn lab_all_agrees_with_the_known_truth_and_leaves_nothing_behind() {
    if !is_root() {
        println!("skipped: the lab needs root (network namespaces, AF_PACKET, tracefs)");
        return;
    }
    let keep = tempfile::tempdir().unwrap();
    let netns_before = names_in(Path::new("/run/netns"));
    let run = run_command(
        lab(&["all", "--json", "--keep", keep.path().to_str().unwrap()]),
        LIMIT,
        "lab all",
    );
    run.assert_no_crash("lab all");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(doc["schema"], "tcpdoctor.lab/1");
    assert_eq!(doc["kernel_events"], "available", "{}", run.stderr);
    let scenarios = doc["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 13);
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        assert_eq!(s["sources_agree"], true, "{name}: {s:#}");
        assert_eq!(s["truth_met"], true, "{name}: {:#}", s["truth"]);
    }
    assert_eq!(doc["ok"], true);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let by_name = |n: &str| scenarios.iter().find(|s| s["name"] == n).unwrap();
    // §7: the reset's reason comes from the kernel, the error from the application.
    let reset = &by_name("reset-unread")["connections"][0];
    assert_eq!(reset["packets"]["reset_by"], "server");
    let sent = reset["kernel"]["resets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["direction"] == "sent")
        .unwrap();
    assert_eq!(sent["side"], "server");
    assert_eq!(sent["reason"], "TCP_ABORT_ON_CLOSE");
    let ladder: Vec<&str> = reset["ladder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(ladder.iter().any(|l| l.contains("──SYN seq=0")), "{ladder:?}");
    assert!(
        ladder.iter().any(|l| l.starts_with("ending: abort")),
        "{ladder:?}"
    );
    // §6: the socket table names the process that never closed (the lab itself) and the 6 bytes it
    // never read.
    let leak = &by_name("close-wait-leak")["connections"][0];
    let row = leak["table"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["state"] == "CLOSE-WAIT")
        .unwrap();
    assert_eq!(row["side"], "server");
    assert_eq!(row["recv_q"], 7, "6 bytes and the FIN");
    assert_eq!(row["unread_bytes"], 6);
    let pid = u64::from(run.pid);
    assert_eq!(row["owners"][0]["pid"], pid, "{row:#}");
    // §5: 100 TIME-WAIT sockets at the client, then EADDRNOTAVAIL.
    let pileup = by_name("time-wait-pileup");
    let snap = &pileup["snapshots"][0];
    let tw = snap["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "TIME-WAIT")
        .count();
    assert_eq!(tw, 100, "{}", snap["label"]);

    // Nothing left behind: the tracefs instance is gone, no named namespace appeared (the lab's have
    // no name and die with it), and --keep holds exactly three files per scenario.
    for root in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        let instances = names_in(&Path::new(root).join("instances"));
        assert!(
            !instances.contains(&format!("tcpdoctor-{}", run.pid)),
            "{root}: {instances:?}"
        );
    }
    let appeared: Vec<String> = names_in(Path::new("/run/netns"))
        .difference(&netns_before)
        .filter(|n| !n.starts_with("tcpd-")) // other tests' namespaces, made meanwhile
        .cloned()
        .collect();
    assert!(appeared.is_empty(), "{appeared:?}");
    let kept = names_in(keep.path());
    assert_eq!(kept.len(), 13 * 3, "{kept:?}");
    // What --keep saved opens in `analyze`, with the lab's verdict.
    let pcap = keep.path().join("reset-unread.pcap");
    let out = super::tcpdoctor(&["analyze", "--json", pcap.to_str().unwrap()]);
    assert!(out.status.success(), "{}", super::stderr(&out));
    let line: serde_json::Value = serde_json::from_str(super::stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(line["cause"], "abort");
    assert_eq!(line["reset_by"], "server");
    let events = std::fs::read_to_string(keep.path().join("reset-unread.events.jsonl")).unwrap();
    assert!(events.contains("TCP_ABORT_ON_CLOSE"), "{events}");
}

#[test]
fn lab_list_and_bad_names() {
    let run = run_command(lab(&["list"]), LIMIT, "lab list");
    assert_eq!(run.code, Some(0));
    let names: Vec<String> = run
        .stdout()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 13);
    for needed in [
        "handshake",
        "close-wait-leak",
        "reset-unread",
        "reset-by-peer",
        "refused",
    ] {
        assert!(names.iter().any(|n| n == needed), "{names:?}");
    }
    let run = run_command(lab(&["nope"]), LIMIT, "lab nope");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("no scenario \"nope\""), "{}", run.stderr);
}

/// The text a person reads: the story, the calls, the ladder, the sources side by side, the truth.
#[test]
fn lab_text_tells_the_story_with_a_ladder() {
    if !is_root() {
        println!("skipped: the lab needs root (network namespaces, AF_PACKET, tracefs)");
        return;
    }
    let run = run_command(lab(&["reset-unread"]), LIMIT, "lab reset-unread");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = run.stdout();
    for needle in [
        "━━ reset-unread · seed §7",
        "client  recv",
        "ECONNRESET (Connection reset by peer)",
        "──SYN seq=0",
        "RST,ACK seq=1 ack=29──",
        "ending: abort",
        "reset: the server sent it: TCP_ABORT_ON_CLOSE (closed with unread data)",
        "agree    yes, on handshake; reset",
        "ok   kernel's reason  TCP_ABORT_ON_CLOSE",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
    assert!(!text.contains('\x1b'), "no colour when piped");
}
