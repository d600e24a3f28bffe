//! `tcpdoctor exporter`, run as a program on an ephemeral loopback port, collecting from a network
//! namespace the test fills with a known population: scraped over real HTTP (curl), parsed with a real
//! parser (`promtool check metrics` and the `prometheus-parse` crate), checked against `ss`, scraped by
//! a real Prometheus server; the alert rules and the dashboard checked against a real scrape.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

use crate::require_lab;
use crate::status::lab;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the tests that need Prometheus's tools cannot run here, if they cannot.
fn prometheus_unavailable() -> Option<String> {
    for tool in ["promtool", "prometheus", "curl"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!(
                "{tool} is not installed (apt-get install -y prometheus curl; scripts/test.sh does)"
            ));
        }
    }
    None
}

macro_rules! require_prometheus {
    () => {
        if let Some(why) = prometheus_unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// A running exporter, killed (by pid) on drop.
struct Exporter {
    _child: Killed,
    addr: String,
    /// What it printed on stderr before the listening line.
    preamble: Vec<String>,
}

impl Exporter {
    /// Starts `tcpdoctor exporter ARGS` and waits (at most 10 s) for its listening line.
    fn start(args: &[&str]) -> Exporter {
        Exporter::start_with(Command::new(env!("CARGO_BIN_EXE_tcpdoctor")), args)
    }

    /// On an ephemeral loopback port of the host, collecting from the namespace `ns`, with `extra`.
    fn watching(ns: &str, extra: &[&str]) -> Exporter {
        let mut args = vec!["--listen", "127.0.0.1:0", "--netns", ns];
        args.extend_from_slice(extra);
        Exporter::start(&args)
    }

    fn start_with(mut cmd: Command, args: &[&str]) -> Exporter {
        let mut child = Killed(
            cmd.arg("exporter")
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stderr = child.0.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut preamble = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no listening line; stderr so far: {preamble:?}"));
            if let Some(url) = line.strip_prefix("tcpdoctor: exporter listening on http://") {
                let addr = url.strip_suffix("/metrics").unwrap().to_string();
                return Exporter {
                    _child: child,
                    addr,
                    preamble,
                };
            }
            preamble.push(line);
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET /metrics in the Prometheus text format, parsed.
    fn scrape(&self) -> Scrape {
        let r = curl(&[&self.url("/metrics")]);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
        Scrape::parse(&r.body)
    }
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

/// One request with curl (at most 10 s): status, content type and body.
fn curl(args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-sS", "-m", "10", "-w", "\n%{http_code}\n%{content_type}"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parts = text.rsplitn(3, '\n');
    let content_type = parts.next().unwrap().to_string();
    let status = parts.next().unwrap().parse().unwrap();
    Reply {
        status,
        content_type,
        body: parts.next().unwrap_or_default().to_string(),
    }
}

/// A scrape parsed by `prometheus-parse`, and the metric names its `# TYPE` lines declare.
struct Scrape {
    text: String,
    samples: Vec<prometheus_parse::Sample>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        Scrape {
            text: text.to_string(),
            samples: parsed.samples,
        }
    }

    fn declared(&self) -> BTreeSet<String> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    }

    /// The series of `metric`: their labels (as one sorted map) and values.
    fn series(&self, metric: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|s| s.metric == metric)
            .map(|s| {
                let labels = s.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                let value = match s.value {
                    prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Untyped(v) => v,
                    ref other => panic!("{metric}: {other:?}"),
                };
                (labels, value)
            })
            .collect()
    }

    /// The value of the one series of `metric` whose labels include `want`.
    fn value(&self, metric: &str, want: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self
            .series(metric)
            .into_iter()
            .filter(|(l, _)| {
                want.iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, v)| v)
            .collect();
        assert_eq!(found.len(), 1, "{metric}{want:?}: {found:?}");
        found[0]
    }

    /// `promtool check metrics`: the exposition is valid and lint-clean.
    fn promtool_check(&self) {
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(self.text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn scrape_agrees_with_ss_on_a_known_population() {
    require_lab!();
    require_prometheus!();
    let mut ns = lab::Netns::new();
    let pop = ns.populate();
    let exporter = Exporter::watching(&ns.name, &["--min-interval", "0"]);
    let scrape = exporter.scrape();
    scrape.promtool_check();

    // Every state, both families, zeros included; per state the same counts as ss.
    let sockets = scrape.series("tcpdoctor_sockets");
    assert_eq!(sockets.len(), 22, "{sockets:?}");
    let mut ours = BTreeMap::new();
    for (labels, n) in &sockets {
        if *n > 0.0 {
            *ours
                .entry(lab::ss_name(&labels["state"]).to_string())
                .or_insert(0) += *n as u64;
        }
    }
    assert_eq!(ours, ns.ss_counts());
    let tw = lab::SERVER_FIRST + lab::CLIENT_FIRST;
    assert_eq!(ns.ss_state_count("time-wait"), tw);
    assert_eq!(
        scrape.value("tcpdoctor_sockets", &[("state", "TIME_WAIT"), ("family", "ipv4")]),
        tw as f64
    );
    assert_eq!(
        scrape.value(
            "tcpdoctor_sockets",
            &[("state", "ESTABLISHED"), ("family", "ipv6")]
        ),
        2.0
    );
    assert_eq!(
        scrape.value("tcpdoctor_time_wait_sockets", &[("closer", "local_server")]),
        lab::SERVER_FIRST as f64
    );
    assert_eq!(
        scrape.value("tcpdoctor_time_wait_sockets", &[("closer", "local_client")]),
        lab::CLIENT_FIRST as f64
    );

    // CLOSE-WAIT: the child (python3) holds all of them, with their unread bytes.
    assert_eq!(ns.ss_state_count("close-wait"), lab::CLOSE_WAIT);
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", pop.child)).unwrap();
    let process = [("process", comm.trim())];
    assert_eq!(scrape.series("tcpdoctor_close_wait_sockets").len(), 1);
    assert_eq!(
        scrape.value("tcpdoctor_close_wait_sockets", &process),
        lab::CLOSE_WAIT as f64
    );
    assert_eq!(
        scrape.value("tcpdoctor_close_wait_unread_bytes", &process),
        (lab::CLOSE_WAIT * lab::UNREAD) as f64
    );
    let idle = scrape.value("tcpdoctor_close_wait_oldest_idle_seconds", &process);
    assert!((0.0..60.0).contains(&idle), "{idle}");

    // The full accept queue: backlog 2, three connections waiting (the kernel admits backlog + 1).
    assert_eq!(
        scrape.value("tcpdoctor_listen_queue_ratio", &[("listener", "127.0.0.1:7004")]),
        f64::from(lab::BACKLOG + 1) / f64::from(lab::BACKLOG)
    );
    assert_eq!(
        scrape.value("tcpdoctor_finding", &[("code", "accept-queue-full")]),
        1.0
    );
    assert_eq!(
        scrape.value("tcpdoctor_finding", &[("code", "close-wait-holder")]),
        1.0
    );
    // The namespace's own counters: the full queue overflowed at least once.
    assert!(scrape.value("tcpdoctor_listen_overflows_total", &[]) >= 1.0);
    assert!(
        scrape.series("tcpdoctor_peer_sockets").is_empty(),
        "no peer labels by default"
    );
    assert_eq!(scrape.value("tcpdoctor_scrape_errors_total", &[]), 0.0);

    // OpenMetrics when asked for, as Prometheus asks.
    let om = curl(&[
        "-H",
        "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        &exporter.url("/metrics"),
    ]);
    assert_eq!(om.status, 200);
    assert_eq!(
        om.content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.body.ends_with("# EOF\n"), "{}", om.body);
    assert!(om.body.contains("# TYPE tcpdoctor_listen_overflows counter\n"));
}

/// 500 processes, each with its own name and one CLOSE-WAIT socket: `--top 10` gives ten process series
/// and `other`, and the series still add up to the total.
#[test]
fn process_labels_stay_bounded_with_500_close_wait_holders() {
    require_lab!();
    require_prometheus!();
    const N: u64 = 500;
    let ns = lab::Netns::new();
    let script = repo().join("crates/tcpdoctor/tests/cli/close_wait_crowd.py");
    let _crowd = Script::start(&ns, &script, &[&N.to_string()], Duration::from_secs(60));
    assert_eq!(ns.ss_state_count("close-wait"), N);
    let exporter = Exporter::watching(&ns.name, &["--top", "10"]);
    let scrape = exporter.scrape();
    scrape.promtool_check();
    for metric in [
        "tcpdoctor_close_wait_sockets",
        "tcpdoctor_close_wait_unread_bytes",
    ] {
        let series = scrape.series(metric);
        assert_eq!(series.len(), 11, "{metric}: {series:?}");
    }
    let series = scrape.series("tcpdoctor_close_wait_sockets");
    let named = series
        .iter()
        .filter(|(l, _)| l["process"].starts_with("cw"))
        .count();
    assert_eq!(named, 10, "{series:?}");
    assert_eq!(
        scrape.value("tcpdoctor_close_wait_sockets", &[("process", "other")]),
        (N - 10) as f64
    );
    let total: f64 = series.iter().map(|(_, v)| v).sum();
    assert_eq!(total, N as f64);
    assert!(scrape.series("tcpdoctor_listen_queue_ratio").len() <= 10);
}

/// A real Prometheus server (Debian's package) scrapes the exporter every second; its HTTP API then
/// answers `tcpdoctor_sockets{state="TIME_WAIT"}` with the population's count.
#[test]
fn a_real_prometheus_holds_the_series() {
    require_lab!();
    require_prometheus!();
    let mut ns = lab::Netns::new();
    let _pop = ns.populate();
    let exporter = Exporter::watching(&ns.name, &["--min-interval", "0"]);
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: tcpdoctor\n    \
             static_configs:\n      - targets: ['{}']\n",
            exporter.addr
        ),
    )
    .unwrap();
    let web = free_port();
    let mut prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let query = format!("http://{web}/api/v1/query");
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = String::new();
    let value = loop {
        assert!(
            Instant::now() < deadline,
            "Prometheus had no tcpdoctor_sockets within 40 s; last answer: {last}"
        );
        if let Ok(Some(status)) = prometheus.0.try_wait() {
            let mut err = String::new();
            prometheus
                .0
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("prometheus exited ({status}): {err}");
        }
        std::thread::sleep(Duration::from_millis(250));
        let out = Command::new("curl")
            .args(["-sS", "-m", "5", "-G", &query, "--data-urlencode"])
            .arg("query=sum(tcpdoctor_sockets{state=\"TIME_WAIT\",job=\"tcpdoctor\"})")
            .output()
            .unwrap();
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&last) else {
            continue; // not up yet
        };
        if let Some(sample) = v["data"]["result"].get(0) {
            break sample["value"][1].as_str().unwrap().to_string();
        }
    };
    assert_eq!(value, (lab::SERVER_FIRST + lab::CLIENT_FIRST).to_string());
    assert_eq!(
        ns.ss_state_count("time-wait"),
        lab::SERVER_FIRST + lab::CLIENT_FIRST
    );
}

/// The alert rules pass `promtool check rules` and their unit tests, and every metric the rules and the
/// dashboard use is one a real scrape declares (with `--trace` and `--peer-labels`, so every family is
/// there).
#[test]
fn rules_and_dashboard_use_only_exposed_metrics() {
    require_lab!();
    require_prometheus!();
    let deploy = repo().join("deploy");
    let rules = deploy.join("prometheus/tcpdoctor-rules.yml");
    let tests = deploy.join("prometheus/tcpdoctor-rules.test.yml");
    let dashboard = deploy.join("grafana/tcpdoctor-dashboard.json");
    for args in [vec!["check", "rules"], vec!["test", "rules"]] {
        let file = if args[0] == "check" { &rules } else { &tests };
        let out = Command::new("promtool").args(&args).arg(file).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&dashboard).unwrap())
        .expect("the dashboard is JSON");

    let mut ns = lab::Netns::new();
    let _pop = ns.populate();
    let exporter = Exporter::watching(&ns.name, &["--trace", "--peer-labels", "3"]);
    let declared = exporter.scrape().declared();
    for file in [&rules, &dashboard] {
        let used = metric_names(file);
        assert!(used.len() >= 5, "{}: {used:?}", file.display());
        let missing: Vec<&String> = used.difference(&declared).collect();
        assert!(
            missing.is_empty(),
            "{} uses {missing:?}, not exposed",
            file.display()
        );
    }
}

/// Every `tcpdoctor_...` name in a file.
fn metric_names(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("tcpdoctor_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

/// GET and HEAD only; a request head too large is refused; a client that connects and never finishes
/// its request does not hold up anyone else's scrape; / and /healthz answer.
#[test]
fn refuses_what_it_does_not_serve_and_outlasts_stalled_clients() {
    require_prometheus!();
    let exporter = Exporter::start(&["--listen", "127.0.0.1:0"]);
    let post = curl(&["-X", "POST", "--data", "x", &exporter.url("/metrics")]);
    assert_eq!(post.status, 405);
    let head = curl(&["-I", &exporter.url("/metrics")]);
    assert_eq!(head.status, 200);
    assert!(
        head.body
            .to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        head.body
    );
    assert_eq!(curl(&[&exporter.url("/nope")]).status, 404);
    let index = curl(&[&exporter.url("/")]);
    assert!(index.body.contains("href=\"/metrics\""), "{}", index.body);
    let health = curl(&[&exporter.url("/healthz")]);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let huge = format!("X-Filler: {}", "a".repeat(16 * 1024));
    assert_eq!(curl(&["-H", &huge, &exporter.url("/metrics")]).status, 431);

    // Clients that send half a request and stall: the others are still answered at once.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(&exporter.addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").unwrap();
        stalled.push(s);
    }
    for _ in 0..3 {
        let started = Instant::now();
        exporter.scrape();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    // The stalled ones are cut after the header timeout (5 s), not left open.
    let s = &mut stalled[0];
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"), "{buf:?}");
}

/// A non-loopback address is served only when asked for, with a warning (inside a namespace of its own,
/// so that nothing is exposed beyond it).
#[test]
fn warns_when_serving_beyond_loopback() {
    require_lab!();
    let ns = lab::Netns::new();
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_tcpdoctor")]);
    let exporter = Exporter::start_with(cmd, &["--listen", "0.0.0.0:0"]);
    assert!(
        exporter
            .preamble
            .iter()
            .any(|l| l.starts_with("tcpdoctor: warning: serving on 0.0.0.0:") && l.contains("non-loopback")),
        "{:?}",
        exporter.preamble
    );
    assert!(exporter.addr.starts_with("0.0.0.0:"));
    let default = Exporter::start_with(
        {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_tcpdoctor")]);
            cmd
        },
        &[],
    );
    assert_eq!(default.addr, "127.0.0.1:9543");
    assert!(default.preamble.is_empty(), "{:?}", default.preamble);
}

/// `--trace`: connections refused in the namespace are counted as resets sent with the kernel's reason
/// NO_SOCKET (tracepoints see every namespace, so other traffic can only add to the count).
#[test]
fn trace_counts_resets_by_reason_and_state_changes() {
    require_lab!();
    require_prometheus!();
    const REFUSED: usize = 5;
    let ns = lab::Netns::new();
    let exporter = Exporter::watching(&ns.name, &["--trace"]);
    let code = format!(
        "import socket\nfor _ in range({REFUSED}):\n    try:\n        socket.create_connection(('127.0.0.1', 9), timeout=5)\n    except ConnectionRefusedError:\n        pass\n    else:\n        raise SystemExit('connected')\n"
    );
    let status = Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c", &code])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let scrape = exporter.scrape();
        let refused = scrape
            .series("tcpdoctor_resets_total")
            .into_iter()
            .find(|(l, _)| l["direction"] == "sent" && l["reason"] == "NO_SOCKET")
            .map_or(0.0, |(_, v)| v);
        let syn_sent = scrape
            .series("tcpdoctor_state_transitions_total")
            .into_iter()
            .find(|(l, _)| l["from"] == "CLOSE" && l["to"] == "SYN_SENT")
            .map_or(0.0, |(_, v)| v);
        if refused >= REFUSED as f64 && syn_sent >= REFUSED as f64 {
            scrape.promtool_check();
            break;
        }
        assert!(
            Instant::now() < deadline,
            "refused {refused}, CLOSE->SYN_SENT {syn_sent}: {}",
            scrape.text
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A script run with python3 inside a namespace, killed (by pid) on drop; waits for its one JSON line.
struct Script(Child);

impl Script {
    fn start(ns: &lab::Netns, script: &Path, args: &[&str], within: Duration) -> Script {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "python3"])
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let script = Script(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(within).expect("the script's ready line");
        serde_json::from_str::<serde_json::Value>(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        script
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process killed (by pid) on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free a moment ago (for a server that must be told its port).
fn free_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// Within `--min-interval`, a scrape gets the previous collection: sockets made after it do not show.
#[test]
fn scrapes_within_the_min_interval_share_one_collection() {
    require_lab!();
    require_prometheus!();
    let mut ns = lab::Netns::new();
    let exporter = Exporter::watching(&ns.name, &["--min-interval", "600"]);
    let time_wait = |s: &Scrape| s.value("tcpdoctor_sockets", &[("state", "TIME_WAIT"), ("family", "ipv4")]);
    let first = exporter.scrape();
    assert_eq!(time_wait(&first), 0.0);
    let _pop = ns.populate();
    assert_eq!(
        ns.ss_state_count("time-wait"),
        lab::SERVER_FIRST + lab::CLIENT_FIRST
    );
    let second = exporter.scrape();
    assert_eq!(time_wait(&second), 0.0, "a new collection within --min-interval");
    assert_eq!(
        first.value("tcpdoctor_scrape_duration_seconds", &[]),
        second.value("tcpdoctor_scrape_duration_seconds", &[])
    );
}
