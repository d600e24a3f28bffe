//! `tcpdoctor capture -i IFACE`: the lifecycle of every TCP connection on a live interface, through the
//! same pipeline and outputs as `analyze`, printed when the capture ends (or as each connection ends,
//! with `--follow`).

use crate::analyze::{DecodeArgs, OutputArgs, TrackerArgs};
use crate::filter::FilterArgs;
use crate::html_report::{self, HtmlArgs};
use crate::output::{Output, wall_clock};
use crate::pipeline::Pipeline;
use crate::seconds;
use crate::signals::Stop;
use anyhow::{Context, Result};
use capture::PcapWriter;
use capture::live::{Accept, DRAIN_WAIT, LINK_TYPE, LiveCapture, Next, SNAPLEN};
use clap::Args;
use host::trace::{TraceOptions, Tracer};
use report::RingFacts;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a wait for packets lasts before the loop looks at the clock and the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// How often `--trace` moves the kernel's events to the pipeline.
const TRACE_READ: Duration = Duration::from_millis(50);

#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// Interface to capture on; `any` for all of them (as with tcpdump -i).
    #[arg(short = 'i', long = "interface", value_name = "IFACE", default_value = "any")]
    pub iface: String,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub duration: Option<Duration>,
    /// Stop after this many TCP frames (as with tcpdump -c).
    #[arg(short = 'c', long, value_name = "N")]
    pub count: Option<u64>,
    /// Print each connection the moment it ends, then the summary at the end.
    #[arg(long)]
    pub follow: bool,
    /// Also write the captured frames to this pcap file (raw IP link type, nanosecond timestamps).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Also read the kernel's tracepoints (root): each connection gets the kernel's reason for its
    /// resets, the process that connected or reset, and a check of the kernel's account against the
    /// packets' (`kernel` in --json; the reasons in the summary). The tracepoints see every network
    /// namespace without saying which: the same 4-tuple at the same time in two namespaces mixes.
    #[arg(long)]
    pub trace: bool,
    /// Kernel ring buffer size in MiB (as with tcpdump -B).
    #[arg(short = 'B', long = "buffer-size", value_name = "MIB", default_value_t = 32)]
    pub buffer_mib: usize,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub tracker: TrackerArgs,
    #[command(flatten)]
    pub decode: DecodeArgs,
    #[command(flatten)]
    pub html: HtmlArgs,
}

/// Captures until Ctrl-C (or SIGTERM, SIGHUP), `--duration` or `--count`; returns the exit code.
pub fn run(args: &CaptureArgs) -> Result<i32> {
    let stop = Stop::install().context("installing signal handlers")?;
    let accept = if args.decode.no_tunnels {
        Accept::Tcp
    } else {
        Accept::TcpAndTunnels
    };
    let mut live = LiveCapture::open(&args.iface, args.buffer_mib.saturating_mul(1 << 20), accept)?;
    let mut tracer = if args.trace {
        let t = Tracer::start(&TraceOptions::default())
            .context("starting the kernel tracepoints for --trace (tracefs needs root: CAP_SYS_ADMIN)")?;
        for note in t.notes() {
            eprintln!("tcpdoctor: {}", report::safe::terminal(note));
        }
        Some(t)
    } else {
        None
    };
    let mut writer = match &args.write {
        Some(path) => {
            let f = File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
            Some(PcapWriter::new(BufWriter::new(f), LINK_TYPE, SNAPLEN)?)
        }
        None => None,
    };
    // As tcpdump's, the line a script waits for before it makes traffic: the socket is bound and its
    // ring takes every packet from here on.
    eprintln!(
        "tcpdoctor: listening on {} for TCP, link-type {}, snapshot length {SNAPLEN} bytes, {} MiB \
         ring; Ctrl-C to stop",
        report::safe::terminal(&args.iface),
        packet::LinkType(LINK_TYPE).name().unwrap_or_default(),
        live.buffer_bytes() >> 20
    );
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut pipeline = Pipeline::new(
        args.decode.config(),
        args.tracker.config(),
        args.filter.filter(),
        args.html
            .attach(&args.tracker, Output::new(args.output.format(), args.follow, out)),
    );
    html_report::watch(&mut pipeline, &args.html);
    pipeline
        .front
        .facts
        .inputs
        .push(format!("live capture on {}", args.iface));
    let deadline = args.duration.map(|d| Instant::now() + d);
    let mut frames = 0u64;
    let mut events = Vec::new();
    let mut last_read = Instant::now();
    let more = |frames: u64| args.count.is_none_or(|c| frames < c);
    while !stop.requested() && deadline.is_none_or(|d| Instant::now() < d) && more(frames) {
        match live.next(POLL)? {
            Next::Frame(frame) => {
                if let Some(w) = &mut writer {
                    w.write(frame.ts, frame.data, frame.orig_len)?;
                }
                pipeline.frame(&frame)?;
                frames += 1;
            }
            Next::Idle => pipeline.tick(wall_clock())?,
        }
        // The kernel's events reach the pipeline before the connections they concern end: the
        // tracker ends a connection no sooner than a quiet period after its last segment.
        if let Some(t) = &mut tracer
            && last_read.elapsed() >= TRACE_READ
        {
            t.read(&mut events).context("reading the kernel's events")?;
            pipeline.kernel_events(events.drain(..));
            last_read = Instant::now();
        }
    }
    // The kernel may still hold the last packets in a block that is not full yet: wait for it once, and
    // take what was captured before the stop (for at most a quarter second under continuous traffic).
    let drain_until = Instant::now() + Duration::from_millis(250);
    while Instant::now() < drain_until && more(frames) {
        let Next::Frame(frame) = live.next(DRAIN_WAIT)? else {
            break;
        };
        if let Some(w) = &mut writer {
            w.write(frame.ts, frame.data, frame.orig_len)?;
        }
        pipeline.frame(&frame)?;
        frames += 1;
    }
    if let Some(w) = &mut writer {
        w.flush()?;
    }
    if let Some(mut t) = tracer {
        // Everything raised until now, in a bounded number of reads.
        for _ in 0..64 {
            if t.read(&mut events).context("reading the kernel's events")? == 0 {
                break;
            }
        }
        pipeline.kernel_events(events.drain(..));
        let lost = t.stop().context("removing the tracefs instance")?;
        if lost.events > 0 {
            eprintln!(
                "tcpdoctor: {} kernel events lost (the trace buffers were full): some connections lack the kernel's account",
                lost.events
            );
        }
    }
    let ring = live.stats()?;
    pipeline.front.facts.ring = Some(RingFacts {
        received: ring.received,
        dropped: ring.dropped,
        freezes: ring.freezes,
    });
    pipeline.finish()?;
    io::stdout().flush()?;
    eprintln!(
        "tcpdoctor: {frames} frames captured, {} passed the kernel filter, {} dropped by the kernel",
        ring.received, ring.dropped
    );
    Ok(0)
}
