//! `tcpdoctor analyze FILE...|-`: every TCP connection in one or more captures, and how it ended.
//!
//! Frames flow capture -> packet decoder -> filter -> lifecycle tracker -> sink, one at a time: memory
//! grows with the connections open at once, not with the file. Several inputs are read in order through
//! one tracker, as if they were one capture split in pieces (tcpdump `-C`/`-G` rotation).

use crate::filter::Filter;
use crate::output::{Format, Sink};
use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use ipnet::IpNet;
use lifecycle::{Config, Event, Timestamp, Tracker};
use packet::{DecodeStats, LinkType};
use report::CaptureFacts;
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;

const SECOND: u64 = 1_000_000_000;
/// Inputs smaller than this finish before a progress bar would be of use.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng, any link type tcpdump writes); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per connection (schema tcpdoctor.connection/1).
    #[arg(long, group = "format")]
    pub json: bool,
    /// One table row per connection.
    #[arg(long, group = "format")]
    pub connections: bool,
    /// A Zeek-style conn.log (TSV with header lines).
    #[arg(long, group = "format")]
    pub zeek: bool,
    /// Only segments from or to this address (repeatable: any of them).
    #[arg(long, value_name = "ADDR")]
    pub host: Vec<IpAddr>,
    /// Only segments from or to this port (repeatable).
    #[arg(long, value_name = "PORT")]
    pub port: Vec<u16>,
    /// Only segments from or to this network, CIDR notation (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub net: Vec<IpNet>,
    /// Seconds an active closer holds TIME-WAIT (Linux: 60).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub time_wait: u64,
    /// Seconds without a segment after which a connection ends as idle.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub idle_timeout: u64,
    /// Most connections tracked at once (about 1.2 KB each); the least recently active is evicted beyond
    /// it, and counted in the summary.
    #[arg(long, value_name = "N", default_value_t = 500_000)]
    pub max_connections: usize,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl AnalyzeArgs {
    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else if self.connections {
            Format::Connections
        } else if self.zeek {
            Format::Zeek
        } else {
            Format::Summary
        }
    }
}

/// Runs the analysis; returns the process exit code (2 when an input was damaged or unreadable).
pub fn run(args: &AnalyzeArgs) -> Result<i32> {
    let config = Config {
        time_wait: args.time_wait.saturating_mul(SECOND),
        idle_timeout: args.idle_timeout.saturating_mul(SECOND),
        max_connections: args.max_connections,
        ..Config::default()
    };
    let filter = Filter {
        hosts: args.host.clone(),
        ports: args.port.clone(),
        nets: args.net.clone(),
    };
    let stdout = io::stdout().lock();
    let mut run = Run {
        tracker: Tracker::new(config),
        sink: Sink::new(args.format(), io::BufWriter::with_capacity(1 << 16, stdout)),
        filter,
        stats: DecodeStats::default(),
        links: BTreeMap::new(),
        facts: CaptureFacts {
            max_connections: config.max_connections,
            ..CaptureFacts::default()
        },
    };
    for path in &args.files {
        run.facts.inputs.push(path.display().to_string());
        run.read(path, !args.no_progress)?;
    }
    run.tracker.finish();
    run.drain()?;
    let Run {
        tracker,
        sink,
        stats,
        links,
        mut facts,
        ..
    } = run;
    facts.tcp_segments = stats.tcp;
    facts.skipped = vec![
        ("not IP".into(), stats.not_ip),
        ("not TCP".into(), stats.not_tcp),
        ("IP fragments (not reassembled)".into(), stats.fragment),
        ("tunnels (not decoded)".into(), stats.tunnel),
        ("truncated headers".into(), stats.truncated),
        ("malformed".into(), stats.malformed),
        ("unsupported link type".into(), stats.unsupported_link),
    ];
    if stats.payload_truncated > 0 {
        facts.skipped.push((
            "(TCP segments with payload cut by the snaplen)".into(),
            stats.payload_truncated,
        ));
    }
    facts.link_types = links
        .into_iter()
        .map(|(l, n)| {
            (
                LinkType(l)
                    .name()
                    .map_or_else(|| format!("LINKTYPE {l}"), str::to_string),
                n,
            )
        })
        .collect();
    let ts = tracker.stats();
    facts.evicted = ts.evicted;
    facts.peak_tracked = ts.peak_tracked;
    facts.port_reuses = ts.port_reuses;
    let errors = facts.errors.clone();
    sink.finish(&facts)?;
    for e in &errors {
        eprintln!("tcpdoctor: {}", report::safe::terminal(e));
    }
    Ok(if errors.is_empty() { 0 } else { 2 })
}

struct Run<W: Write> {
    tracker: Tracker,
    sink: Sink<W>,
    filter: Filter,
    stats: DecodeStats,
    links: BTreeMap<u32, u64>,
    facts: CaptureFacts,
}

impl<W: Write> Run<W> {
    /// Reads one input to its end or its first error (recorded in the facts).
    fn read(&mut self, path: &std::path::Path, progress: bool) -> Result<()> {
        let mut source = match capture::open(path) {
            Ok(s) => s,
            Err(e) => {
                self.facts.errors.push(e.to_string());
                return Ok(());
            }
        };
        let bar = progress_bar(progress, source.total_bytes());
        let filter_all = self.filter.is_empty();
        let mut next_timeout = Timestamp(0);
        let mut link = (u32::MAX, 0u64);
        let mut frames = 0u64;
        loop {
            if frames % 1024 == 0
                && let Some(b) = &bar
            {
                b.set_position(source.bytes_read());
            }
            let frame = match source.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    self.facts.errors.push(e.to_string());
                    break;
                }
            };
            frames += 1;
            if frame.link_type != link.0 {
                self.flush_link(link);
                link = (frame.link_type, 0);
            }
            link.1 += 1;
            self.facts.bytes += u64::from(frame.orig_len);
            self.facts.first = Some(self.facts.first.map_or(frame.ts, |f| f.min(frame.ts)));
            self.facts.last = Some(self.facts.last.map_or(frame.ts, |l| l.max(frame.ts)));
            let decoded = packet::decode(LinkType(frame.link_type), frame.data, frame.orig_len);
            self.stats.record(&decoded);
            let Ok(tcp) = decoded else { continue };
            if !filter_all && !self.filter.matches(&tcp.segment) {
                continue;
            }
            let now = Timestamp(frame.ts);
            if now >= next_timeout {
                self.tracker.handle_timeout(now);
                next_timeout = self.tracker.poll_timeout().unwrap_or(Timestamp(u64::MAX));
            }
            self.tracker.handle_segment(now, &tcp.segment);
            next_timeout = next_timeout.min(self.tracker.poll_timeout().unwrap_or(Timestamp(u64::MAX)));
            self.drain()?;
        }
        self.flush_link(link);
        self.facts.frames += frames;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(())
    }

    fn flush_link(&mut self, (link, n): (u32, u64)) {
        if n > 0 {
            *self.links.entry(link).or_default() += n;
        }
    }

    fn drain(&mut self) -> io::Result<()> {
        while let Some(Event::Ended(r)) = self.tracker.poll_event() {
            self.sink.connection(&r)?;
        }
        Ok(())
    }
}

/// A progress bar on stderr, only for a person at a terminal: a bar for a file big enough to wait for, a
/// byte counter for a pipe (whose size is unknown).
fn progress_bar(wanted: bool, total: Option<u64>) -> Option<ProgressBar> {
    if !wanted || !io::stderr().is_terminal() {
        return None;
    }
    let (bar, template) = match total {
        Some(t) if t < PROGRESS_MIN_BYTES => return None,
        Some(t) => (ProgressBar::new(t), "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"),
        None => (ProgressBar::new_spinner(), "{spinner} {bytes} read, {bytes_per_sec}"),
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}
