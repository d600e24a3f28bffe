//! `tcpdoctor status`, run as a program: against a known population in a network namespace the test
//! creates and removes (counts checked against `ss -tan` in the same namespace), on sysctl fixture
//! trees, unprivileged, and in `--watch`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

#[path = "../../../host/tests/host/lab/mod.rs"]
#[macro_use]
pub mod lab;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tcpdoctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args(args)
        .output()
        .expect("run tcpdoctor")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn json(args: &[&str]) -> Value {
    let text = stdout(&tcpdoctor(args));
    assert!(text.starts_with(r#"{"schema":"tcpdoctor.status/1""#), "{text}");
    serde_json::from_str(&text).expect("one JSON document")
}

/// An empty directory standing in for /etc, so the host's own sysctl.d cannot leak into a test.
struct EmptyDir(PathBuf);

impl EmptyDir {
    fn new(tag: &str) -> EmptyDir {
        let dir = std::env::temp_dir().join(format!("tcpd-status-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        EmptyDir(dir)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for EmptyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn json_on_a_known_population() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let pop = ns.populate();
    let etc = EmptyDir::new("etc-json");
    let v = json(&["status", "--netns", &ns.name, "--json", "--etc", etc.arg()]);

    // Counts per state agree with ss in the same namespace.
    let ss = ns.ss_counts();
    let mut ours = std::collections::BTreeMap::new();
    for (linux, n) in v["states"].as_object().unwrap() {
        let n = n.as_u64().unwrap();
        if n > 0 {
            *ours.entry(lab::ss_name(linux).to_string()).or_insert(0) += n;
        }
    }
    assert_eq!(ours, ss);
    assert_eq!(v["states"]["TIME_WAIT"], lab::SERVER_FIRST + lab::CLIENT_FIRST);
    assert_eq!(v["states"]["CLOSE_WAIT"], lab::CLOSE_WAIT);

    // TIME-WAIT: who closed first, grouped by peer.
    let tw = &v["time_wait"];
    assert_eq!(tw["closed_first_as_server"], lab::SERVER_FIRST);
    assert_eq!(tw["closed_first_as_client"], lab::CLIENT_FIRST);
    let peers = tw["by_remote"].as_array().unwrap();
    assert!(
        peers
            .iter()
            .any(|p| p["remote_port"] == 7002 && p["count"] == lab::CLIENT_FIRST),
        "{peers:?}"
    );
    assert!(
        peers
            .iter()
            .any(|p| p["local_port"] == 7001 && p["count"] == lab::SERVER_FIRST),
        "{peers:?}"
    );
    // The kernel's timers: every TIME-WAIT socket has less than its 60 s left.
    let left: Vec<u64> = tw["left_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(left[0] <= left[1] && left[1] <= 60_000, "{left:?}");
    let ports = tw["by_local_port"].as_array().unwrap();
    assert_eq!(ports[0]["port"], 7001);
    assert_eq!(ports[0]["server"], true);

    // CLOSE-WAIT: one group, the child, the unread bytes (without the FIN).
    let cw = v["close_wait"].as_array().unwrap();
    assert_eq!(cw.len(), 1, "{cw:?}");
    assert_eq!(cw[0]["pid"], pop.child);
    assert_eq!(cw[0]["count"], lab::CLOSE_WAIT);
    assert_eq!(cw[0]["unread_bytes"], lab::CLOSE_WAIT * lab::UNREAD);
    assert_eq!(cw[0]["peer_port"], 7003);
    assert_eq!(cw[0]["fds"].as_array().unwrap().len() as u64, lab::CLOSE_WAIT);

    // Who owns the table: the child holds exactly the CLOSE-WAIT sockets; TIME-WAIT, the parent's
    // closed ends and the unaccepted connections belong to no process.
    let procs = v["processes"].as_array().unwrap();
    let child = procs.iter().find(|p| p["pid"] == pop.child).expect("the child");
    assert_eq!(
        child["states"],
        serde_json::json!({"CLOSE_WAIT": lab::CLOSE_WAIT})
    );
    let held = &v["kernel_held"]["states"];
    assert_eq!(held["TIME_WAIT"], lab::SERVER_FIRST + lab::CLIENT_FIRST);
    assert_eq!(held["FIN_WAIT2"], lab::CLOSE_WAIT);
    assert_eq!(
        held["ESTABLISHED"],
        u64::from(lab::BACKLOG) + 1,
        "accepted by the kernel, not by the app"
    );
    assert_eq!(v["owners_unresolved"], 0);
    // The parent's closed ends: orphaned FIN-WAIT-2 kept as timewait sockets (tcp_fin_timeout is 60 s),
    // which the kernel's orphan count leaves out.
    assert_eq!(v["fin_wait2_timewait"], lab::CLOSE_WAIT);
    assert_eq!(v["orphans"], 0);

    // Findings, most severe first.
    let findings = v["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes[0], "accept-queue-full", "{codes:?}");
    assert!(
        findings[0]["summary"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:7004")
    );
    assert!(
        findings[0]["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {}", pop.parent))
    );
    let holder = findings
        .iter()
        .find(|f| f["code"] == "close-wait-holder")
        .expect("close-wait-holder");
    let summary = holder["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "(pid {}) holds 12 CLOSE-WAIT sockets to 127.0.0.1:7003",
            pop.child
        )),
        "{summary}"
    );
    assert!(summary.ends_with("1.2 KB unread"), "{summary}");
    assert!(codes.contains(&"fin-wait-2-orphans"));
    assert!(
        codes.contains(&"listen-overflows-since-boot"),
        "counters are per namespace: {codes:?}"
    );
}

/// By default only the holders of CLOSE-WAIT and listening sockets are looked up; `-p`, as in `ss`,
/// looks up every owner.
#[test]
fn processes_flag_looks_up_every_owner() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let pop = ns.populate();
    let etc = EmptyDir::new("etc-processes");
    let states_of = |v: &Value, pid: u32| {
        v["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pid"] == pid)
            .map(|p| p["states"].clone())
    };
    let named = json(&["status", "--netns", &ns.name, "--json", "--etc", etc.arg()]);
    assert_eq!(named["owner_states"], serde_json::json!(["CLOSE_WAIT", "LISTEN"]));
    assert_eq!(
        states_of(&named, pop.parent).unwrap(),
        serde_json::json!({"LISTEN": 5}),
        "only the listeners"
    );

    let every = json(&["status", "--netns", &ns.name, "--json", "-p", "--etc", etc.arg()]);
    assert_eq!(every["owner_states"].as_array().unwrap().len(), 9);
    // The listeners, both ends of the IPv6 connection, and the clients of the full accept queue (5
    // connects: BACKLOG + 1 completed, the others still in SYN-SENT).
    let queued = u64::from(lab::BACKLOG) + 1;
    assert_eq!(
        states_of(&every, pop.parent).unwrap(),
        serde_json::json!({"LISTEN": 5, "ESTABLISHED": 2 + queued, "SYN_SENT": 5 - queued})
    );
    assert_eq!(every["states"], named["states"]);
    assert_eq!(every["owners_unresolved"], 0);

    let text = stdout(&tcpdoctor(&["status", "--netns", &ns.name, "--etc", etc.arg()]));
    assert!(
        text.contains("SOCKETS BY PROCESS (only CLOSE_WAIT, LISTEN sockets: -p looks up every owner)"),
        "{text}"
    );
    let no = stdout(&tcpdoctor(&["status", "--netns", &ns.name, "--no-owners"]));
    assert!(no.contains("SOCKETS BY PROCESS (owners not looked up)"), "{no}");
    let clash = tcpdoctor(&["status", "--no-owners", "-p"]);
    assert_eq!(
        clash.status.code(),
        Some(2),
        "--no-owners and -p contradict each other"
    );
}

#[test]
fn text_report_puts_findings_first_and_filters_narrow() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let pop = ns.populate();
    let etc = EmptyDir::new("etc-text");
    let text = stdout(&tcpdoctor(&["status", "--netns", &ns.name, "--etc", etc.arg()]));
    let findings_at = text.find("\nFINDINGS\n").expect("findings");
    let states_at = text.find("\nSTATES").expect("states");
    assert!(findings_at < states_at);
    assert!(
        text.contains(
            "CRITICAL the accept queue of 127.0.0.1:7004 is full: 3 connections waiting, backlog 2"
        ),
        "{text}"
    );
    assert!(text.contains("TIME_WAIT       12       0  TIME-WAIT"), "{text}");
    assert!(
        text.contains("s: about 0.2 closes/s over the last minute"),
        "{text}"
    );
    assert!(
        text.contains("and 12 orphaned FIN-WAIT-2 kept as timewait sockets (counted with TIME-WAIT)"),
        "{text}"
    );
    assert!(text.contains("12 of them kept as timewait sockets"), "{text}");
    assert!(
        text.contains("      5  :7001   server port: this host, the server, closed first"),
        "{text}"
    );
    assert!(
        text.contains("      7  ephemeral ports: this host, the client, closed first"),
        "{text}"
    );

    let only = |args: &[&str]| {
        let mut all = vec!["status", "--netns", &ns.name, "--json", "--etc", etc.arg()];
        all.extend_from_slice(args);
        json(&all)
    };
    assert_eq!(only(&["--state", "close-wait"])["total"], lab::CLOSE_WAIT);
    assert_eq!(
        only(&["--state", "TIME_WAIT,LISTEN"])["total"],
        lab::SERVER_FIRST + lab::CLIENT_FIRST + 5
    );
    let port = only(&["--port", "7001"]);
    assert_eq!(port["states"]["TIME_WAIT"], lab::SERVER_FIRST);
    assert_eq!(port["states"]["LISTEN"], 1);
    let child = only(&["--process", &pop.child.to_string()]);
    assert_eq!(child["states"]["CLOSE_WAIT"], lab::CLOSE_WAIT);
    assert_eq!(child["states"]["TIME_WAIT"], 0, "TIME-WAIT has no owner to match");
}

#[test]
fn no_owners_skips_the_process_scan() {
    require_lab!();
    let mut ns = lab::Netns::new();
    ns.populate();
    let etc = EmptyDir::new("etc-no-owners");
    let v = json(&[
        "status",
        "--netns",
        &ns.name,
        "--json",
        "--no-owners",
        "--etc",
        etc.arg(),
    ]);
    assert_eq!(v["states"]["CLOSE_WAIT"], lab::CLOSE_WAIT);
    assert_eq!(v["processes"].as_array().unwrap().len(), 0);
    assert_eq!(v["close_wait"][0]["pid"], Value::Null);
    assert_eq!(v["close_wait"][0]["unread_bytes"], lab::CLOSE_WAIT * lab::UNREAD);
}

#[test]
fn an_empty_namespace_is_all_well() {
    require_lab!();
    let ns = lab::Netns::new();
    let etc = EmptyDir::new("etc-empty");
    let text = stdout(&tcpdoctor(&["status", "--netns", &ns.name, "--etc", etc.arg()]));
    assert!(text.contains("All is well"), "{text}");
    assert!(text.contains("(no TCP sockets)"), "{text}");
}

#[test]
fn unprivileged_run_shows_what_it_can_and_names_what_it_cannot() {
    require_lab!();
    let mut ns = lab::Netns::new();
    ns.populate();
    // Inside the namespace (entered by root), then as nobody: the sockets are visible, their owners'
    // fd tables are not.
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ])
        .arg(env!("CARGO_BIN_EXE_tcpdoctor"))
        .output()
        .expect("setpriv");
    let text = stdout(&out);
    assert!(text.contains("TIME_WAIT       12"), "{text}");
    assert!(text.contains("NOT READ"), "{text}");
    assert!(text.contains("not readable by this user"), "{text}");
}

#[test]
fn sysctl_audit_on_fixture_trees() {
    // No namespace needed: the socket table is this host's, the sysctls and /etc are fixtures.
    let sys = EmptyDir::new("sys");
    for (key, value) in [
        ("ipv4/tcp_tw_recycle", "1"),
        ("ipv4/tcp_tw_reuse", "1"),
        ("ipv4/tcp_timestamps", "0"),
        ("ipv4/tcp_fin_timeout", "30"),
        ("ipv4/tcp_syncookies", "1"),
        ("ipv4/ip_local_port_range", "32768\t60999"),
    ] {
        sys.write(key, &format!("{value}\n"));
    }
    let etc = EmptyDir::new("etc-seed");
    etc.write(
        "sysctl.d/99-crawler.conf",
        "net.ipv4.tcp_syncookies = 1\nnet.ipv4.tcp_tw_recycle = 1\n",
    );
    let v = json(&["status", "--json", "--sys-net", sys.arg(), "--etc", etc.arg()]);
    let findings = v["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"tw-recycle-enabled"), "{codes:?}");
    let configured = findings
        .iter()
        .find(|f| f["code"] == "tw-recycle-configured")
        .expect("configured");
    let file = Path::new(etc.arg()).join("sysctl.d/99-crawler.conf");
    assert_eq!(
        configured["summary"].as_str().unwrap(),
        format!(
            "{}:2 still sets net.ipv4.tcp_tw_recycle = 1 (the seed's advice, obsolete and harmful)",
            file.display()
        )
    );
    let audit = v["sysctls"].as_array().unwrap();
    let line = |name: &str| {
        audit
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(line("net.ipv4.tcp_tw_reuse")["ok"], false);
    assert_eq!(line("net.ipv4.tcp_fin_timeout")["value"], "30");
    assert_eq!(
        line("net.core.somaxconn")["value"],
        Value::Null,
        "absent from the fixture"
    );
}

/// Idle connections with and without keepalive (`keepalive.py`), made idle for 2 s and reported with
/// `--idle-threshold 2` (the default, the shortest idle timeout in the table, is minutes); with
/// conntrack tracking the namespace's connections.
#[test]
fn idle_connections_without_keepalive_and_the_namespace_s_conntrack_table() {
    require_lab!();
    let conntrack = lab::conntrack_unavailable();
    let mut ns = lab::Netns::new();
    if conntrack.is_none() {
        ns.track_connections();
    }
    let pop = ns.keepalive_population();
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    let etc = EmptyDir::new("etc-keepalive");
    let base = ["status", "--netns", &ns.name, "--etc", etc.arg()];
    let with = |extra: &[&str]| json(&[&base[..], &["--json"], extra].concat());
    let v = with(&["--idle-threshold", "2"]);
    let connections = lab::PLAIN + lab::KEEPALIVE;
    let k = &v["keepalive"];
    assert_eq!(k["idle_threshold_ms"], 2000);
    assert_eq!(k["established"], 2 * connections);
    assert_eq!(
        k["keepalive_armed"],
        connections + lab::KEEPALIVE,
        "the server ends and the clients that set SO_KEEPALIVE"
    );
    assert_eq!(k["idle_without_keepalive"], lab::PLAIN);
    assert_eq!(k["time_s"], 7200, "a new namespace's default");
    let groups = k["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let g = &groups[0];
    assert_eq!(g["pid"], pop.child);
    assert!(g["comm"].as_str().unwrap().starts_with("python"), "{g}");
    assert_eq!(g["peer_ip"], "127.0.0.1");
    assert_eq!(g["peer_port"], lab::KEEPALIVE_PORT);
    assert_eq!(g["count"], lab::PLAIN);
    assert_eq!(g["fds"].as_array().unwrap().len() as u64, lab::PLAIN);
    assert!(g["max_idle_ms"].as_u64().unwrap() >= 2000, "{g}");
    let findings: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "idle-without-keepalive")
        .collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["severity"], "warning");
    let summary = findings[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            " (pid {}) holds {} ESTABLISHED connections to 127.0.0.1:{} idle for over 2 s without keepalive: \
             a NAT, firewall or load balancer on the path may drop them silently",
            pop.child,
            lab::PLAIN,
            lab::KEEPALIVE_PORT
        )),
        "{summary}"
    );
    // The owners found for the finding do not enter the process table (ESTABLISHED owners were not all
    // looked up).
    let procs = v["processes"].as_array().unwrap();
    assert!(!procs.iter().any(|p| p["pid"] == pop.child), "{procs:?}");

    match conntrack {
        None => {
            let ct = &v["conntrack"];
            assert_eq!(ct["entries"], connections, "this namespace's connections alone");
            assert_eq!(ct["max_host_wide"], true);
        }
        Some(why) => eprintln!("conntrack part skipped: {why}"),
    }

    let text = stdout(&tcpdoctor(&[&base[..], &["--idle-threshold", "2"]].concat()));
    assert!(
        text.contains(&format!(
            "\n  {} ESTABLISHED: {} with a keepalive timer; {} held by a process, silent for 2 s or more with \
             no timer\n",
            2 * connections,
            connections + lab::KEEPALIVE,
            lab::PLAIN
        )),
        "{text}"
    );
    assert!(
        text.contains("\nKEEPALIVE  net.ipv4.tcp_keepalive_time 7200 s, intvl 75 s, probes 9: "),
        "{text}"
    );
    assert!(text.contains("WARNING  python"), "{text}");
    if lab::conntrack_unavailable().is_none() {
        assert!(
            text.contains("\n  nf_conntrack_max is host-wide: read-only in this network namespace"),
            "{text}"
        );
    }

    // By default the threshold is the table's shortest idle timeout, minutes away.
    let v = with(&[]);
    assert_eq!(v["keepalive"]["idle_threshold_ms"], 240_000);
    assert_eq!(v["keepalive"]["idle_without_keepalive"], 0);
    // Without owners, the group is still counted, with no name.
    let v = with(&["--idle-threshold", "2", "--no-owners"]);
    assert_eq!(v["keepalive"]["groups"][0]["count"], lab::PLAIN);
    assert_eq!(v["keepalive"]["groups"][0]["pid"], Value::Null);
}

/// The conntrack table from a fixture tree: near full, a critical finding; absent, one line and no
/// finding. (A namespace cannot have a small limit of its own: `nf_conntrack_max` is host-wide.)
#[test]
fn conntrack_on_fixture_trees() {
    let sys = EmptyDir::new("sys-conntrack");
    for (key, value) in [
        ("netfilter/nf_conntrack_count", "950"),
        ("netfilter/nf_conntrack_max", "1000"),
        ("netfilter/nf_conntrack_tcp_timeout_established", "432000"),
        ("netfilter/nf_conntrack_tcp_timeout_time_wait", "120"),
    ] {
        sys.write(key, &format!("{value}\n"));
    }
    let etc = EmptyDir::new("etc-conntrack");
    let args = ["status", "--sys-net", sys.arg(), "--etc", etc.arg()];
    let v = json(&[&args[..], &["--json"]].concat());
    let ct = &v["conntrack"];
    assert_eq!(ct["entries"], 950);
    assert_eq!(ct["max"], 1000);
    assert_eq!(ct["max_host_wide"], false);
    assert_eq!(
        ct["tcp_timeouts"],
        serde_json::json!({"established": 432000, "time_wait": 120})
    );
    assert!(ct["stats"]["drop"].is_u64(), "this host's own counters: {ct}");
    let full = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "conntrack-table-full")
        .expect("conntrack-table-full");
    assert_eq!(full["severity"], "critical");

    let text = stdout(&tcpdoctor(&args));
    assert!(
        text.contains("CRITICAL the conntrack table is 95% full (950 of 1000 entries)"),
        "{text}"
    );
    assert!(
        text.contains(
            "\nCONNTRACK  950 of 1000 entries (nf_conntrack_count of nf_conntrack_max), 95% full\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  TCP timeouts (s): established 432000, time_wait 120\n"),
        "{text}"
    );

    let without = EmptyDir::new("sys-no-conntrack");
    without.write("ipv4/tcp_syncookies", "1\n");
    let args = ["status", "--sys-net", without.arg(), "--etc", etc.arg()];
    assert_eq!(json(&[&args[..], &["--json"]].concat())["conntrack"], Value::Null);
    let text = stdout(&tcpdoctor(&args));
    assert!(
        text.contains("\nCONNTRACK  nf_conntrack is not loaded: no connection tracking here\n"),
        "{text}"
    );
}

#[test]
fn watch_prints_one_document_per_refresh() {
    let etc = EmptyDir::new("etc-watch");
    let text = stdout(&tcpdoctor(&[
        "status",
        "--json",
        "--watch",
        "0.2",
        "--count",
        "2",
        "--etc",
        etc.arg(),
    ]));
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["schema"] == "tcpdoctor.status/1"));
}

#[test]
fn unknown_state_is_a_usage_error() {
    let out = tcpdoctor(&["status", "--state", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown TCP state"));
}

/// With no command, the program is `status`, and `status`'s options work without naming it (as
/// `tcpdoctor -p`); they do not mix with another command.
#[test]
fn bare_options_are_status_options() {
    let etc = EmptyDir::new("etc-bare");
    let v = json(&["--json", "--no-owners", "--etc", etc.arg()]);
    assert_eq!(v["owner_states"], serde_json::json!([]));
    let named = json(&["status", "--json", "--no-owners", "--etc", etc.arg()]);
    assert_eq!(v["sysctls"], named["sysctls"]);
    let mixed = tcpdoctor(&["-p", "analyze", "x.pcap"]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("cannot be used with"));
}

/// Half-open connections made for real (`lab::Netns::half_open`: hand-built SYNs whose SYN-ACKs go
/// nowhere): the kernel reports its request sockets as SYN_RECV, never NEW_SYN_RECV, and the diagnosis
/// counts them on their listener, in the library and in the program's JSON.
#[test]
fn half_open_connections_are_counted_on_their_listener() {
    const HALF_OPEN: usize = 4;
    require_lab!();
    let mut ns = lab::Netns::new();
    let half = ns.half_open(7010, HALF_OPEN);
    let n = HALF_OPEN as u64;

    // The rule on a real snapshot, in process: this binary links host and doctor as the program does.
    let options = host::SnapshotOptions {
        netns: Some(ns.path()),
        ..host::SnapshotOptions::default()
    };
    let evidence = host::snapshot(&options).expect("snapshot");
    let thresholds = doctor::Thresholds::default();
    let diagnosis = doctor::diagnose(&evidence, &thresholds);
    assert_eq!(diagnosis.listeners.len(), 1, "{:?}", diagnosis.listeners);
    let listener = &diagnosis.listeners[0];
    assert_eq!(listener.local, half.listener);
    assert_eq!(listener.syn_recv, n);
    assert_eq!(
        listener.queued, 0,
        "no handshake completed, so nothing waits for accept()"
    );

    // The program, against ss in the same namespace.
    let etc = EmptyDir::new("etc-half-open");
    let v = json(&["status", "--netns", &ns.name, "--json", "--etc", etc.arg()]);
    assert_eq!(v["states"]["SYN_RECV"], n);
    assert_eq!(
        v["states"]["NEW_SYN_RECV"], 0,
        "request sockets are reported as SYN_RECV"
    );
    assert_eq!(v["states"]["LISTEN"], 1);
    assert_eq!(v["total"], n + 1);
    assert_eq!(ns.ss_state_count("syn-recv"), n);
    let listeners = v["listeners"].as_array().unwrap();
    assert_eq!(listeners.len(), 1, "{listeners:?}");
    assert_eq!(listeners[0]["local"], half.listener.to_string());
    assert_eq!(listeners[0]["syn_recv"], n);
    assert_eq!(listeners[0]["queued"], 0);
    assert_eq!(listeners[0]["owners"][0]["pid"], half.pid);
    // Counted, but far below the pile-up that makes a finding.
    assert!(n < thresholds.syn_recv_per_listener);
    let findings = v["findings"].as_array().unwrap();
    assert!(
        !findings.iter().any(|f| f["code"] == "syn-recv-pileup"),
        "{findings:?}"
    );

    // `--state syn-recv` keeps exactly the request sockets.
    let only = json(&[
        "status",
        "--netns",
        &ns.name,
        "--json",
        "--etc",
        etc.arg(),
        "--state",
        "syn-recv",
    ]);
    assert_eq!(only["total"], n);
    assert_eq!(only["states"]["SYN_RECV"], n);
}

/// A pre-fork server's sockets (`prefork.py`: a listener and one connection to it, held by the parent
/// and three forked workers at the same fds): `status -p` names every holder of the listener in pid
/// order (JSON: all; text: as `ss -p` does), counts the shared sockets under each holder, and says the
/// same on every run whatever its scanning threads' race.
#[test]
fn p_lists_every_holder_of_a_pre_fork_servers_sockets() {
    require_lab!();
    let mut ns = lab::Netns::new();
    let server = ns.prefork(7400, 3);
    let etc = EmptyDir::new("etc-prefork");
    let args = ["status", "--netns", &ns.name, "--json", "-p", "--etc", etc.arg()];
    let first = json(&args);
    let listener = &first["listeners"][0];
    let owners: Vec<(u64, u64)> = listener["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["pid"].as_u64().unwrap(), o["fd"].as_u64().unwrap()))
        .collect();
    let holders = server.holders();
    let expected: Vec<(u64, u64)> = holders
        .iter()
        .map(|&pid| (u64::from(pid), u64::from(server.listener)))
        .collect();
    assert_eq!(owners, expected, "{listener}");
    // Each holds the listener and both ends of the connection: 3 sockets each, so by pid.
    let processes = first["processes"].as_array().unwrap();
    let pids: Vec<u64> = processes.iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids, expected.iter().map(|&(pid, _)| pid).collect::<Vec<_>>());
    for p in processes {
        assert_eq!(p["total"], 3, "{p}");
        assert_eq!(p["states"]["ESTABLISHED"], 2, "{p}");
        assert_eq!(p["states"]["LISTEN"], 1, "{p}");
    }
    for run in 0..20 {
        let again = json(&args);
        assert_eq!(again["listeners"], first["listeners"], "run {run}");
        assert_eq!(again["processes"], first["processes"], "run {run}");
    }
    let comm = listener["owners"][0]["comm"].as_str().unwrap();
    let ss_style: Vec<String> = expected
        .iter()
        .map(|(pid, fd)| format!("(\"{comm}\",pid={pid},fd={fd})"))
        .collect();
    let text = stdout(&tcpdoctor(&[
        "status",
        "--netns",
        &ns.name,
        "-p",
        "--etc",
        etc.arg(),
    ]));
    assert!(text.contains(&ss_style.join(",")), "{text}");
}
