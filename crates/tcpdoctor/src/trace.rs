//! `tcpdoctor trace`: every TCP state change and reset on this host as it happens, from the kernel's
//! tracepoints, with the kernel's reason for each reset it sends (Linux ≥ 6.10).
//!
//! Which events name a process: those raised by a system call — `connect` (CLOSED → SYN-SENT),
//! `listen`, `close`/`shutdown` (ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK, resets on close) —
//! or by the socket's owner processing its backlog. Events raised in a softirq (a segment arriving, a
//! timer) carry whichever task the CPU interrupted, so they are shown without a process.
//!
//! Entering TIME-WAIT has no tracepoint: the full socket goes FIN-WAIT-2 (or CLOSING) → CLOSED while a
//! TIME-WAIT mini socket takes over. Who closed first is therefore counted from ESTABLISHED →
//! FIN-WAIT-1 (this host) and ESTABLISHED → CLOSE-WAIT (the peer).

use crate::filter::FilterArgs;
use crate::seconds;
use crate::signals::Stop;
use anyhow::Context as _;
use host::trace::{TraceOptions, Tracer};
use lifecycle::kernel_event::{EventKind, KernelEvent};
use lifecycle::{Segment, State};
use report::events::{EventSummary, TraceFacts, write_event_json, write_event_line};
use std::collections::HashSet;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Watch TCP state changes and resets as the kernel makes them.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_LONG_HELP)]
pub struct TraceArgs {
    /// One JSON object per event (schema tcpdoctor.event/1), and the summary as a last object
    /// (schema tcpdoctor.trace_summary/1).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only events raised by this process, and the later events of the connections it touched.
    #[arg(long)]
    pub pid: Vec<u32>,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub duration: Option<Duration>,
    /// Stop after N events (after filtering).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Kernel ring buffer per CPU, in KiB (default: 64 MiB shared among the CPUs, 2 to 16 MiB each).
    /// Events that arrive while it is full are lost, and counted in the summary.
    #[arg(long, value_name = "KIB")]
    pub buffer_kb: Option<u32>,
}

const AFTER_LONG_HELP: &str = "\
Needs root (tracefs). tcpdoctor creates a private tracefs instance (instances/tcpdoctor-PID, mounting \
tracefs if needed) and removes it on exit, Ctrl-C, SIGTERM or SIGHUP; one left by a killed run is \
removed by the next.

Each line: time, CPU, the process (COMM[PID]) or (softirq), this host's end > the peer, and what \
happened. A process is named only for events raised by a system call (connect: CLOSED -> SYN-SENT; \
listen; close or shutdown: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK, resets on close) or \
by the socket's owner; events raised by an arriving segment or a timer run in a softirq, where the \
kernel's pid is whatever the CPU interrupted.

Resets sent carry the kernel's reason on Linux 6.10 and later (NO_SOCKET: connection refused; \
TCP_ABORT_ON_CLOSE: closed with unread data; TCP_STATE: SO_LINGER 0 close; TCP_TIMEWAIT_SOCKET or \
TCP_ABORT_ON_DATA: a write after the peer closed; ...); older kernels say that reasons are \
unavailable. Received resets have no reason.

Entering TIME-WAIT has no tracepoint: the socket shows FIN-WAIT-2 (or CLOSING) -> CLOSED as a \
TIME-WAIT mini socket takes its place. Who closed first is counted from ESTABLISHED -> FIN-WAIT-1 \
(this host) and ESTABLISHED -> CLOSE-WAIT (the peer).

Tracepoints see every network namespace, and do not say which one an event belongs to.";

/// How long to sleep when the buffers were empty: events are printed at most this late, and the
/// buffers must hold this long's events (2 MiB per CPU is about 23,000 events).
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// How long the final drain may take after a stop.
const MAX_DRAIN: Duration = Duration::from_secs(2);
/// Connections remembered for `--pid`, so that memory stays bounded.
const MAX_TRACKED: usize = 65_536;

/// `--pid`: events the process raised, then the softirq events of the same connections.
struct PidFilter {
    pids: Vec<u32>,
    tracked: HashSet<(SocketAddr, SocketAddr)>,
}

impl PidFilter {
    fn matches(&mut self, e: &KernelEvent) -> bool {
        if self.pids.is_empty() {
            return true;
        }
        let key = (e.local, e.remote);
        let own = e.task.as_ref().is_some_and(|t| self.pids.contains(&t.pid));
        if own && self.tracked.len() < MAX_TRACKED {
            self.tracked.insert(key);
        }
        let matched = own || self.tracked.contains(&key);
        if matches!(
            e.kind,
            EventKind::StateChange {
                new: State::Closed,
                ..
            }
        ) {
            self.tracked.remove(&key);
        }
        matched
    }
}

pub fn run(args: &TraceArgs) -> anyhow::Result<i32> {
    let limit = args.duration;
    let stop = Stop::install().context("installing signal handlers")?;
    let options = TraceOptions {
        buffer_kb: args.buffer_kb,
    };
    let mut tracer = Tracer::start(&options)
        .context("starting the kernel tracepoints (tracefs needs root: CAP_SYS_ADMIN)")?;
    for note in tracer.notes() {
        eprintln!("tcpdoctor: note: {}", report::safe::terminal(note));
    }
    // The line a script waits for before it makes traffic: the tracepoints are on and their buffers
    // keep every event from here on.
    eprintln!("tcpdoctor: listening on the kernel's TCP tracepoints; Ctrl-C to stop");
    let started = Instant::now();
    let filter = args.filter.filter();
    let mut pids = PidFilter {
        pids: args.pid.clone(),
        tracked: HashSet::new(),
    };
    let reasons = tracer.reasons_available();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut summary = EventSummary::default();
    let mut shown = 0u64;
    let mut batch = Vec::new();
    // Each pass reads what is ready. After a stop request (signal or --duration), passes go on without
    // sleeping until the buffers are empty, so that what was recorded before the stop is shown; the
    // drain is bounded in time for a host that never stops producing. `tracer` is dropped (and its
    // instance removed) on every early return.
    let mut count_reached = false;
    let mut drain_until: Option<Instant> = None;
    loop {
        batch.clear();
        tracer.read(&mut batch).context("reading kernel events")?;
        for e in &batch {
            if !(filter.is_empty() || filter.matches(&Segment::between(e.local, e.remote)))
                || !pids.matches(e)
            {
                continue;
            }
            if args.json {
                write_event_json(&mut out, e)?;
            } else {
                write_event_line(&mut out, e, reasons)?;
            }
            summary.add(e);
            shown += 1;
            if args.count.is_some_and(|n| shown >= n) {
                count_reached = true;
                break;
            }
        }
        out.flush()?;
        if count_reached {
            break;
        }
        if let Some(deadline) = drain_until {
            if batch.is_empty() || Instant::now() >= deadline {
                break;
            }
            continue;
        }
        if stop.requested() || limit.is_some_and(|l| started.elapsed() >= l) {
            drain_until = Some(Instant::now() + MAX_DRAIN);
            continue;
        }
        if batch.is_empty() {
            std::thread::sleep(IDLE_WAIT);
        }
    }
    let facts_notes = tracer.notes().to_vec();
    let lost = tracer.stop().context("removing the tracefs instance")?;
    let facts = TraceFacts {
        lost_events: lost.events,
        undecoded: lost.undecoded,
        reasons_available: reasons,
        notes: facts_notes,
        duration_ns: u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
    };
    if args.json {
        summary.write_json(&mut out, &facts)?;
    } else {
        summary.write_text(&mut out, &facts)?;
    }
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::kernel::Family;
    use lifecycle::kernel_event::Task;
    use lifecycle::segment::Timestamp;

    fn ev(local: &str, pid: Option<u32>, new: State) -> KernelEvent {
        KernelEvent {
            time: Timestamp(0),
            cpu: 0,
            task: pid.map(|pid| Task { pid, comm: None }),
            family: Family::V4,
            local: local.parse().unwrap(),
            remote: "10.0.0.2:80".parse().unwrap(),
            kind: EventKind::StateChange {
                old: State::Established,
                new,
            },
        }
    }

    #[test]
    fn pid_filter_follows_the_connections_a_process_touched() {
        let mut f = PidFilter {
            pids: vec![7],
            tracked: HashSet::new(),
        };
        assert!(!f.matches(&ev("10.0.0.1:1000", None, State::FinWait2)));
        assert!(f.matches(&ev("10.0.0.1:1000", Some(7), State::FinWait1)));
        assert!(f.matches(&ev("10.0.0.1:1000", None, State::FinWait2)));
        assert!(f.matches(&ev("10.0.0.1:1000", None, State::Closed)));
        assert!(!f.matches(&ev("10.0.0.1:1000", None, State::SynSent)));
        assert!(!f.matches(&ev("10.0.0.1:1001", Some(8), State::FinWait1)));
    }
}
