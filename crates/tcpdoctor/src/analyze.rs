//! `tcpdoctor analyze FILE...|-`: every TCP connection in one or more captures, and how it ended.
//!
//! Frames flow capture -> packet decoder -> filter -> lifecycle tracker -> sink, one at a time: memory
//! grows with the connections open at once, not with the file. Several inputs are read in order through
//! one tracker, as if they were one capture split in pieces (tcpdump `-C`/`-G` rotation).

use crate::filter::FilterArgs;
use crate::html_report::{self, HtmlArgs};
use crate::ladder::LadderArgs;
use crate::output::{Format, Output, Sink};
use crate::pipeline::{Back, Front, Pipeline, Seg};
use crate::seconds;
use crate::signals::Stop;
use anyhow::{Context as _, Result};
use capture::CaptureError;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lifecycle::Config;
use packet::DecoderConfig;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

/// Inputs smaller than this finish before a progress bar would be of use.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng, any link type tcpdump writes); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub tracker: TrackerArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub ladder: LadderArgs,
    #[command(flatten)]
    pub html: HtmlArgs,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// How connections are printed (shared by `analyze` and `capture`).
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// One JSON object per connection (schema tcpdoctor.connection/1).
    #[arg(long, group = "format")]
    pub json: bool,
    /// One table row per connection.
    #[arg(long, group = "format")]
    pub connections: bool,
    /// A Zeek-style conn.log (TSV with header lines).
    #[arg(long, group = "format")]
    pub zeek: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
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

/// How frames are decoded (shared by `analyze` and `capture`).
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Leave tunnels closed: count VXLAN, Geneve, GRE, ERSPAN, IP-in-IP, Teredo and GTP-U frames
    /// instead of following the TCP inside.
    #[arg(long)]
    pub no_tunnels: bool,
    /// A UDP destination port that carries VXLAN, besides 4789 (repeatable; Linux's own VXLAN
    /// devices default to 8472).
    #[arg(long, value_name = "PORT")]
    pub vxlan_port: Vec<u16>,
}

impl DecodeArgs {
    pub fn config(&self) -> DecoderConfig {
        let mut config = DecoderConfig::full();
        config.tunnels.decode = !self.no_tunnels;
        config.tunnels.vxlan_ports.extend(&self.vxlan_port);
        config
    }
}

/// The tracker settings shared by `analyze` and `capture`.
#[derive(Args, Debug)]
pub struct TrackerArgs {
    /// Seconds an active closer holds TIME-WAIT (Linux: 60).
    #[arg(long, value_name = "SECS", default_value = "60",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub time_wait: Duration,
    /// Seconds without a segment after which a connection ends as idle.
    #[arg(long, value_name = "SECS", default_value = "300",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub idle_timeout: Duration,
    /// Most connections tracked at once (each about 200 bytes while only its SYN was seen, as in a
    /// flood; 0.9 KB once answered, 1.5 KB with --json or --zeek); the least recently active is evicted
    /// beyond it, and counted in the summary.
    #[arg(long, value_name = "N", default_value_t = 500_000)]
    pub max_connections: usize,
}

impl TrackerArgs {
    pub fn config(&self) -> Config {
        Config {
            time_wait: nanos(self.time_wait),
            idle_timeout: nanos(self.idle_timeout),
            max_connections: self.max_connections,
            ..Config::default()
        }
    }
}

/// The tracker counts time in nanoseconds; [`seconds::MAX`] keeps every flag's value far inside a `u64`.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Runs the analysis; returns the process exit code ([`exit_code`]).
pub fn run(args: &AnalyzeArgs) -> Result<i32> {
    if let Some(selector) = args.ladder.ladder {
        return crate::ladder::run(args, selector);
    }
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut pipeline = Pipeline::new(
        args.decode.config(),
        args.tracker.config(),
        args.filter.filter(),
        args.html
            .attach(&args.tracker, Output::new(args.output.format(), false, out)),
    );
    html_report::watch(&mut pipeline, &args.html);
    // Ctrl-C, SIGTERM or SIGHUP: report what was read. `tcpdump -w - | tcpdoctor analyze -` gets the
    // same Ctrl-C in both processes: tcpdump flushes and exits, and the summary comes at the pipe's end.
    let stop = Stop::install_second_exits().context("installing signal handlers")?;
    let read = read_inputs(pipeline, &args.files, !args.no_progress, &stop)?;
    Ok(report_errors(&read))
}

/// What reading the inputs came to.
pub struct Read<S> {
    /// The finished sink; `None` when not one frame could be read.
    pub sink: Option<S>,
    pub errors: Vec<CaptureError>,
    pub interrupted: bool,
}

/// Reads every input through `pipeline`, in order, and finishes it. The error is an output failure;
/// the inputs' own are in [`Read::errors`].
///
/// Decoding, tracking and rendering run on this thread, and only the `read` calls on another
/// ([`capture::Prefetch`]): on a capture in the page cache those are the kernel's copy of the file, as
/// long as all the rest, and that split balances the two cores. Decoding on the reading thread as
/// well (until 2026-11-29) left that thread the slower one: 111 ms on the 335 MB mix against 84 ms
/// (BENCHMARKS.md).
pub fn read_inputs<S: Sink>(
    pipeline: Pipeline<S>,
    files: &[PathBuf],
    progress: bool,
    stop: &Stop,
) -> Result<Read<S>> {
    let Pipeline { mut front, mut back } = pipeline;
    let errors = read_frames(&mut front, files, progress, stop, |seg| back.segment(seg))?;
    finish(front, back, errors, stop)
}

/// Reads every input in order, handing each segment to `deliver`; returns the inputs' errors. The
/// error is `deliver`'s (an output failure).
fn read_frames(
    front: &mut Front,
    files: &[PathBuf],
    progress: bool,
    stop: &Stop,
    mut deliver: impl FnMut(Seg<'_>) -> io::Result<()>,
) -> io::Result<Vec<CaptureError>> {
    let mut errors = Vec::new();
    for path in files {
        if stop.requested() {
            break;
        }
        front.facts.inputs.push(path.display().to_string());
        if let Err(e) = read(front, path, progress, stop, &mut deliver)? {
            front.facts.errors.push(e.to_string());
            errors.push(e);
        }
    }
    Ok(errors)
}

/// The end of the inputs: the report, unless not one frame could be read.
fn finish<S: Sink>(front: Front, back: Back<S>, errors: Vec<CaptureError>, stop: &Stop) -> Result<Read<S>> {
    // A report of inputs of which not one frame could be read would only dress the error up as an
    // empty capture: then the error lines are the whole output. After some frames, the report of what
    // was read before the failure comes first.
    let sink = if errors.is_empty() || front.facts.frames > 0 {
        Some(back.finish(front.into_facts())?)
    } else {
        None
    };
    Ok(Read {
        sink,
        errors,
        interrupted: stop.requested(),
    })
}

/// Prints the inputs' errors, one line each, and returns the exit code they make.
pub fn report_errors<S>(read: &Read<S>) -> i32 {
    for e in &read.errors {
        eprintln!("tcpdoctor: {}", report::safe::terminal(&e.to_string()));
    }
    if read.interrupted {
        eprintln!("tcpdoctor: interrupted: the connections read until then are reported");
    }
    exit_code(&read.errors)
}

/// The exit status for the inputs' errors, as the README says: 1 for an input that could not be
/// opened or read (I/O, permissions: the run failed, whatever the others held), else 2 for one that is
/// not a capture or is damaged (bad input), 0 without errors.
fn exit_code(errors: &[CaptureError]) -> i32 {
    let io = |e: &CaptureError| matches!(e, CaptureError::Open { .. } | CaptureError::Io { .. });
    if errors.iter().any(io) {
        1
    } else if errors.is_empty() {
        0
    } else {
        2
    }
}

/// Reads one input to its end; the outer error is an output failure, the inner one the input's.
fn read(
    front: &mut Front,
    path: &std::path::Path,
    progress: bool,
    stop: &Stop,
    deliver: &mut impl FnMut(Seg<'_>) -> io::Result<()>,
) -> io::Result<Result<(), CaptureError>> {
    let mut source = match capture::open(path) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let bar = progress_bar(progress, source.total_bytes());
    // A file stops at once; a pipe is read to its end, which its writer, stopped by the same signal,
    // brings soon (a second signal exits at once).
    let stop_now = source.total_bytes().is_some();
    let mut frames = 0u64;
    let result = loop {
        if stop_now && stop.requested() {
            break Ok(());
        }
        if frames % 1024 == 0
            && let Some(b) = &bar
        {
            b.set_position(source.bytes_read());
        }
        match source.next_frame() {
            Ok(Some(frame)) => front.frame(&frame, &mut *deliver)?,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
        frames += 1;
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(result)
}

/// A progress bar on stderr, only for a person at a terminal: a bar for a file big enough to wait for, a
/// byte counter for a pipe (whose size is unknown).
fn progress_bar(wanted: bool, total: Option<u64>) -> Option<ProgressBar> {
    if !wanted || !io::stderr().is_terminal() {
        return None;
    }
    let (bar, template) = match total {
        Some(t) if t < PROGRESS_MIN_BYTES => return None,
        Some(t) => (
            ProgressBar::new(t),
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {bytes} read, {bytes_per_sec}",
        ),
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}
