//! `analyze --html` and `--ladder --svg`, opened in a real browser: headless Chromium driven over its
//! DevTools protocol (a WebSocket, [`Browser`]). The page must load without a console error or an
//! uncaught exception, say the numbers `analyze --json` says, sort and filter its table, and open a
//! ladder on a real mouse click. Screenshots land in `target/` (`html-report.png`,
//! `html-ladder.png`, `ladder-svg.png`) for a person to look at.

use super::{shared, stderr, stdout, tcpdoctor};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

const TIMEOUT: Duration = Duration::from_secs(20);

fn scenarios() -> String {
    shared()
        .join("corpus/scenarios.pcap")
        .to_str()
        .unwrap()
        .to_string()
}

/// `target/`, where the screenshots go.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn run_ok(args: &[&str]) -> String {
    let out = tcpdoctor(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// A pcap with its header and no frame.
fn empty_pcap(path: &Path) {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&65535u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    std::fs::write(path, h).unwrap();
}

/// Headless Chromium, killed (by its pid) when dropped.
struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    /// Console errors, uncaught exceptions and dialogs (`alert`) seen so far.
    problems: Vec<String>,
    loaded: bool,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        // The flags that keep it quiet on a closed network (no update, sync or QUIC probes).
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium is not installed: ./scripts/test.sh installs it");
        let port_file = profile.path().join("DevToolsActivePort");
        let start = Instant::now();
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.lines().next().and_then(|l| l.parse::<u16>().ok()))
            {
                break p;
            }
            assert!(start.elapsed() < TIMEOUT, "chromium did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        let url = loop {
            let list = http_get(port, "/json/list");
            let page = list
                .as_array()
                .and_then(|a| a.iter().find(|t| t["type"] == "page"))
                .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_string));
            if let Some(u) = page {
                break u;
            }
            assert!(start.elapsed() < TIMEOUT, "no page target: {list}");
            std::thread::sleep(Duration::from_millis(50));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
        let mut b = Browser {
            child,
            ws,
            next_id: 0,
            problems: Vec::new(),
            loaded: false,
            _profile: profile,
        };
        for domain in ["Runtime.enable", "Page.enable", "Log.enable"] {
            b.call(domain, json!({}));
        }
        b
    }

    /// Sends a command and reads until its answer, noting the events on the way.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::text(msg)).unwrap();
        loop {
            let v = self.read();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    fn read(&mut self) -> Value {
        let Message::Text(text) = self.ws.read().unwrap() else {
            return Value::Null;
        };
        let v: Value = serde_json::from_str(text.as_str()).unwrap();
        let p = &v["params"];
        match v["method"].as_str() {
            Some("Runtime.exceptionThrown") => self.problems.push(p.to_string()),
            Some("Runtime.consoleAPICalled") if p["type"] == "error" => {
                self.problems.push(p.to_string());
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                self.problems.push(p.to_string());
            }
            Some("Page.javascriptDialogOpening") => self.problems.push(p.to_string()),
            Some("Page.loadEventFired") => self.loaded = true,
            _ => {}
        }
        v
    }

    fn open(&mut self, path: &Path) {
        self.loaded = false;
        let url = format!("file://{}", path.display());
        self.call("Page.navigate", json!({ "url": url }));
        let start = Instant::now();
        while !self.loaded {
            assert!(start.elapsed() < TIMEOUT, "{url} did not load");
            self.read();
        }
    }

    /// Evaluates `js` in the page; its value as JSON.
    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{js}: {r}");
        r["result"]["value"].clone()
    }

    /// A real mouse click at the middle of the element `selector` names.
    fn click(&mut self, selector: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({selector:?}); e.scrollIntoView({{block: 'center'}}); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        );
        let at = self.eval(&js);
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": at[0], "y": at[1], "button": "left", "clickCount": 1}),
            );
        }
    }

    /// A PNG of the viewport, or of the page's top `height` pixels.
    fn screenshot(&mut self, path: &Path, height: Option<u64>) {
        let params = match height {
            Some(h) => json!({"format": "png", "captureBeyondViewport": true,
                              "clip": {"x": 0, "y": 0, "width": 1280, "height": h, "scale": 1}}),
            None => json!({"format": "png"}),
        };
        let r = self.call("Page.captureScreenshot", params);
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    fn assert_clean(&self, what: &str) {
        assert!(self.problems.is_empty(), "{what}: {:#?}", self.problems);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET on loopback (the DevTools server answers no HTTP/1.0, and keeps the
/// connection open: the body is read by its Content-Length), the body as JSON.
fn http_get(port: u16, path: &str) -> Value {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Value::Null;
    };
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return Value::Null;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>())
                })
                .and_then(Result::ok)
                .unwrap_or(0);
            if body.len() >= length {
                return serde_json::from_str(body).unwrap_or(Value::Null);
            }
        }
    }
}

/// The page's table column `col` (0-based), as shown.
fn column(b: &mut Browser, col: usize) -> Vec<String> {
    let js = format!(
        "[...document.querySelectorAll('#conns tbody tr')].map(tr => tr.children[{col}].textContent)"
    );
    serde_json::from_value(b.eval(&js)).unwrap()
}

fn numbers(v: &[String]) -> Vec<u64> {
    v.iter().map(|s| s.parse().unwrap()).collect()
}

/// Types `value` into the filter `id` as a person would (the page listens for `input`).
fn set_filter(b: &mut Browser, id: &str, value: &str) {
    b.eval(&format!(
        "(() => {{ const e = document.getElementById({id:?}); e.value = {value:?}; \
         e.dispatchEvent(new Event('input')); }})()"
    ));
}

#[test]
fn the_report_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let json = run_ok(&[
        "analyze",
        "--json",
        "--html",
        report.to_str().unwrap(),
        &scenarios(),
    ]);
    let mut by_cause: BTreeMap<String, u64> = BTreeMap::new();
    for line in json.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        *by_cause.entry(v["cause"].as_str().unwrap().into()).or_default() += 1;
    }
    let total: u64 = by_cause.values().sum();
    let svg = dir.path().join("ladder.svg");
    let text_ladder = run_ok(&["analyze", "--ladder", "3", &scenarios()]);
    let segments = text_ladder.lines().filter(|l| l.contains("──")).count();
    run_ok(&[
        "analyze",
        "--ladder",
        "3",
        "--svg",
        svg.to_str().unwrap(),
        &scenarios(),
    ]);
    let empty = dir.path().join("empty.pcap");
    empty_pcap(&empty);
    let empty_report = dir.path().join("empty.html");
    run_ok(&[
        "analyze",
        "--html",
        empty_report.to_str().unwrap(),
        empty.to_str().unwrap(),
    ]);

    let mut b = Browser::start();
    b.open(&report);
    b.assert_clean("loading the report");
    let target = target_dir();
    b.screenshot(&target.join("html-report.png"), Some(3000));

    // The summary says what --json says.
    let shown: BTreeMap<String, u64> = serde_json::from_value(b.eval(
        "Object.fromEntries([...document.querySelectorAll('#causes tr')].map(tr => \
         [tr.dataset.cause, Number(tr.querySelector('.n').textContent)]))",
    ))
    .unwrap();
    assert_eq!(shown, by_cause);
    assert_eq!(
        b.eval("document.getElementById('count').textContent"),
        format!("{total} of {total} connections")
    );
    assert_eq!(column(&mut b, 0).len() as u64, total, "66 rows: one page");

    // Sorting: a click on "bytes c→s" sorts it largest first, a second click smallest first.
    b.click("#conns th[data-col='9']");
    let desc = numbers(&column(&mut b, 9));
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    assert!(desc[0] > *desc.last().unwrap(), "{desc:?}");
    b.click("#conns th[data-col='9']");
    let asc = numbers(&column(&mut b, 9));
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");

    // Filtering by cause, by port, by text.
    set_filter(&mut b, "f-cause", "refused");
    let causes = column(&mut b, 5);
    assert_eq!(causes.len() as u64, by_cause["refused"]);
    assert!(causes.iter().all(|c| c == "refused"), "{causes:?}");
    set_filter(&mut b, "f-cause", "");
    set_filter(&mut b, "f-port", "9998");
    let servers = column(&mut b, 4);
    assert!(!servers.is_empty() && servers.iter().all(|s| s.ends_with(":9998")));
    set_filter(&mut b, "f-port", "");
    set_filter(&mut b, "f-text", "close_wait");
    assert_eq!(column(&mut b, 5).len() as u64, by_cause["close_wait"]);
    set_filter(&mut b, "f-text", "");
    assert_eq!(column(&mut b, 0).len() as u64, total);

    // A click on a row opens its ladder: row 3's, the same as --ladder 3 draws.
    b.click("#conns th[data-col='0']");
    b.click("#conns tbody tr[data-row='3']");
    assert_eq!(b.eval("document.getElementById('ladder').open"), true);
    let arrows = b.eval("document.querySelectorAll('#ladder-body svg g.seg').length");
    assert_eq!(arrows, json!(segments), "{text_ladder}");
    b.screenshot(&target.join("html-ladder.png"), None);
    b.click("#close");
    // So does a click on a problem's example.
    b.click("a.example");
    let title = b.eval("document.getElementById('ladder-title').textContent");
    let arrows = b.eval("document.querySelectorAll('#ladder-body svg g.seg').length");
    assert!(arrows.as_u64().unwrap() >= 1, "{title}");
    b.assert_clean("using the report");

    // The standalone SVG.
    roxmltree::Document::parse(&std::fs::read_to_string(&svg).unwrap()).unwrap();
    b.open(&svg);
    b.screenshot(&target.join("ladder-svg.png"), None);
    assert_eq!(
        b.eval("document.querySelectorAll('g.seg').length"),
        json!(segments),
        "{text_ladder}"
    );

    // More rows than a page: the DOM holds one page; ladders stay within --html-ladders, the
    // problems' examples among them.
    let mix = dir.path().join("mix.html");
    let mix_pcap = shared().join("corpus/mix.pcap");
    run_ok(&[
        "analyze",
        "--html",
        mix.to_str().unwrap(),
        "--html-ladders",
        "5",
        mix_pcap.to_str().unwrap(),
    ]);
    b.open(&mix);
    let rows = b.eval("JSON.parse(document.getElementById('data').textContent).rows.length");
    let rows = rows.as_u64().unwrap();
    assert!(rows > 100, "{rows}");
    assert_eq!(column(&mut b, 0).len(), 100);
    b.click("#next");
    assert_eq!(column(&mut b, 0).len() as u64, (rows - 100).min(100));
    let kept = b.eval("Object.keys(JSON.parse(document.getElementById('ladders').textContent)).length");
    assert!((1..=5).contains(&kept.as_u64().unwrap()), "{kept}");
    let note = b.eval("document.getElementById('ladder-note').textContent");
    assert!(
        note.as_str()
            .unwrap()
            .starts_with(&format!("Ladders are kept for {kept} of the {rows} connections")),
        "{note}"
    );
    b.click("a.example");
    assert_eq!(b.eval("document.querySelectorAll('#ladder-body svg').length"), 1);
    b.assert_clean("a report of more than one page");

    // No connection: a valid page that says so.
    b.open(&empty_report);
    let said = b.eval("document.getElementById('empty').textContent");
    assert!(said.as_str().unwrap().starts_with("No connections"), "{said}");
    assert_eq!(b.eval("document.querySelectorAll('table').length"), 0);
    b.assert_clean("the empty report");

    // A file name is text, never markup.
    let evil = dir
        .path()
        .join("<img src=x onerror=alert(1)><script>alert(2)<\\script>.pcap");
    std::fs::copy(scenarios(), &evil).unwrap();
    let evil_report = dir.path().join("evil.html");
    run_ok(&[
        "analyze",
        "--html",
        evil_report.to_str().unwrap(),
        evil.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&evil_report).unwrap();
    assert!(!html.contains("<img src=x") && !html.contains("<script>alert"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)"));
    b.open(&evil_report);
    let inputs = b.eval("document.getElementById('inputs').textContent");
    assert!(
        inputs
            .as_str()
            .unwrap()
            .ends_with("<script>alert(2)<\\script>.pcap"),
        "{inputs}"
    );
    assert_eq!(b.eval("document.images.length"), 0);
    b.assert_clean("a file name with markup");
}

/// `--svg` with several matches: one image, their figures stacked; without a match, no file.
#[test]
fn several_ladders_stack_in_one_svg() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("l.svg");
    let out = tcpdoctor(&[
        "analyze",
        "--ladder",
        "127.0.0.1:40911",
        "--svg",
        svg.to_str().unwrap(),
        &scenarios(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let figures = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("svg"))
        .count();
    assert!(figures > 1, "{figures}");
    let none = dir.path().join("none.svg");
    let out = tcpdoctor(&[
        "analyze",
        "--ladder",
        "10.9.9.9",
        "--svg",
        none.to_str().unwrap(),
        &scenarios(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!none.exists());
}
