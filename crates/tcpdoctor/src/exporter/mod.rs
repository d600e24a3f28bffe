//! `tcpdoctor exporter`: the host's TCP lifecycle as Prometheus metrics — what `status` sees and
//! concludes (states, CLOSE_WAIT holders, TIME_WAIT, port and accept-queue use, the kernel counters it
//! explains, its findings), and with `--trace` the kernel's resets and state changes as they happen.
//!
//! names.rs the metric table; metrics.rs a diagnosis as metric families; exposition.rs their encoding;
//! server.rs HTTP; trace_counts.rs the `--trace` counts. The collection is `status`'s own: one
//! `host::snapshot` and `doctor::diagnose`, made on a scrape, at most once per `--min-interval`.
//! Read-only: nothing is written anywhere but stdout/stderr, and nothing is run.

mod exposition;
mod metrics;
mod names;
mod server;
mod trace_counts;

use crate::seconds;
use crate::signals::Stop;
use anyhow::Context as _;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// Where the exporter listens without `--listen`: loopback, so that nothing is exposed by default.
const DEFAULT_LISTEN: &str = "127.0.0.1:9543";

/// Serve the host's TCP lifecycle as Prometheus metrics.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_LONG_HELP)]
pub struct ExporterArgs {
    /// Address to serve on [default: 127.0.0.1:9543]. A non-loopback address exposes the host's socket
    /// summary (process names, listening addresses) to whoever reaches it: a warning says so.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Collect at most once per SECS: a scrape sooner gets the previous collection.
    #[arg(long, value_name = "SECS", default_value = "5",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub min_interval: Duration,
    /// Processes (and listeners) with their own series; the other processes are summed as
    /// process="other".
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub top: u16,
    /// Also expose tcpdoctor_peer_sockets for the N busiest peers of TIME_WAIT and CLOSE_WAIT (peer
    /// addresses as labels; off by default).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=1000))]
    pub peer_labels: u16,
    /// Count resets (with the kernel's reason) and state changes from the kernel's tracepoints, in the
    /// background (needs root, as `tcpdoctor trace`).
    #[arg(long)]
    pub trace: bool,
    /// Collect from another network namespace: a name from `ip netns` or a path like /proc/PID/ns/net
    /// (the exporter itself listens in its own).
    #[arg(long, value_name = "NAME|PATH")]
    pub netns: Option<String>,
}

const AFTER_LONG_HELP: &str = "\
Endpoints: GET /metrics (Prometheus text format, or OpenMetrics when Accept asks for it), GET / (a \
page linking to /metrics), GET /healthz. Other methods get 405.

Privileges: counts, counters and findings need none. Naming the processes that hold CLOSE_WAIT and \
listening sockets reads other users' /proc/PID/fd: CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE. --trace \
needs root (tracefs: CAP_SYS_ADMIN). --netns needs CAP_SYS_ADMIN. See deploy/tcpdoctor-exporter.service.

The --trace counters see every network namespace (tracepoints do not say which one an event belongs \
to), --netns or not.";

pub fn run(args: &ExporterArgs) -> anyhow::Result<i32> {
    let stop = Stop::install().context("installing signal handlers")?;
    let listen = match args.listen {
        Some(addr) => addr,
        None => DEFAULT_LISTEN.parse().context("the default address")?,
    };
    let listener = std::net::TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    let bound = listener.local_addr().context("the bound address")?;
    if !bound.ip().is_loopback() {
        eprintln!(
            "tcpdoctor: warning: serving on {bound}, a non-loopback address: anyone who can reach it can \
             read this host's socket summary (process names, listening addresses); restrict it with a firewall"
        );
    }
    let trace = if args.trace {
        Some(trace_counts::Background::start()?)
    } else {
        None
    };
    let live: Option<Box<server::Live>> = trace.as_ref().map(|t| {
        let counts = Arc::clone(&t.counts);
        Box::new(move || counts.lock().unwrap_or_else(PoisonError::into_inner).families())
            as Box<server::Live>
    });
    let state = Arc::new(server::State::new(collector(args), live, args.min_interval));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Collections run one at a time (the cache's lock); a second thread only lets a failing one end.
        .max_blocking_threads(2)
        .build()
        .context("starting the server")?;
    // The line a script waits for: the address is bound and requests are served from here on.
    eprintln!("tcpdoctor: exporter listening on http://{bound}/metrics");
    runtime
        .block_on(server::serve(listener, state, || stop.requested()))
        .context("serving")?;
    drop(trace);
    Ok(0)
}

/// One collection: what `status` does with its default options, as metric families.
fn collector(args: &ExporterArgs) -> Arc<server::Collect> {
    let options = host::SnapshotOptions {
        netns: args.netns.as_deref().map(host::netns_path),
        ..host::SnapshotOptions::default()
    };
    let limits = metrics::Limits {
        top: usize::from(args.top),
        peer_labels: usize::from(args.peer_labels),
    };
    Arc::new(move || {
        let evidence = host::snapshot(&options).context("reading the socket table")?;
        let diagnosis = doctor::diagnose(&evidence, &doctor::Thresholds::default());
        Ok(metrics::families(&diagnosis, limits))
    })
}
