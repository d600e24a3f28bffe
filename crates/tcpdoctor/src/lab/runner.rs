//! Runs one scenario: a private network namespace, a capture on its loopback, the kernel's
//! tracepoints, the steps played with real sockets, snapshots of the socket table; then the packets
//! through the tracker, the three kinds of evidence joined per connection, and the scenario's known
//! truth checked against them.

use super::play::{Outcome, Player, Snapshot};
use super::scenarios::{Scenario, Subject, Truth};
use crate::output::wall_clock;
use anyhow::{Context as _, Result, anyhow};
use capture::PcapWriter;
use capture::live::{Accept, DRAIN_WAIT, LINK_TYPE, LiveCapture, Next, SNAPLEN};
use host::trace::Tracer;
use lifecycle::correlate::{self, Joined, TableSnapshot};
use lifecycle::kernel_event::KernelEvent;
use lifecycle::{ConnectionRecord, Event, Timestamp, Tracker, WatchOptions};
use packet::{Decoder, DecoderConfig, LinkType};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The port every scenario's server listens on (each scenario has its own address).
const SERVER_PORT: u16 = 8080;
/// The capture ring: plenty for a scenario's few hundred segments.
const RING_BYTES: usize = 4 << 20;

/// Everything one run of a scenario produced.
pub struct Run {
    pub scenario: &'static Scenario,
    pub server: SocketAddr,
    pub outcomes: Vec<Outcome>,
    pub snapshots: Vec<Snapshot>,
    /// The capture, as a pcap file.
    pub pcap: Vec<u8>,
    /// The kernel's events about the scenario's connections (empty without tracing).
    pub events: Vec<KernelEvent>,
    /// The connections the packets showed, in the order they started, each joined with the kernel's
    /// events and the socket table.
    pub connections: Vec<(ConnectionRecord, Joined)>,
    /// Each item of the known truth: what was expected, what came out, whether they match.
    pub truth: Vec<TruthCheck>,
}

#[derive(Clone, Debug)]
pub struct TruthCheck {
    pub what: &'static str,
    pub expected: String,
    pub found: String,
    pub ok: bool,
}

impl Run {
    /// The three sources agree with each other on every connection.
    pub fn sources_agree(&self) -> bool {
        self.connections.iter().all(|(_, j)| j.agrees())
    }

    /// The outcome matches what the scenario is known to produce.
    pub fn truth_met(&self) -> bool {
        self.truth.iter().all(|t| t.ok)
    }

    /// The connection the scenario's verdict is about.
    pub fn subject(&self) -> Option<&(ConnectionRecord, Joined)> {
        match self.scenario.truth.subject {
            Subject::First => self.connections.first(),
            Subject::Last => self.connections.last(),
        }
    }
}

/// The scenario's server address: loopback, but its own (`127.N.I.1`, N from the pid, I the
/// scenario's index), so that the kernel's events — which the tracepoints report from every namespace
/// — can be told apart from the host's own loopback traffic and from another lab run's.
fn server_address(index: usize) -> SocketAddr {
    let n = u8::try_from(std::process::id() % 200 + 20).unwrap_or(77);
    let i = u8::try_from(index % 250 + 1).unwrap_or(1);
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, n, i, 1)), SERVER_PORT)
}

/// Runs the scenario. `tracer` (when tracing works here) goes into the namespace thread and comes
/// back: its events are read there, while the thread that made the calls still lives and the kernel
/// events it raised can be given its name.
pub fn run(
    scenario: &'static Scenario,
    index: usize,
    mut tracer: Option<Tracer>,
) -> (Option<Tracer>, Result<Run>) {
    let server = server_address(index);
    let ran = host::netns::run_private(move || {
        let played = in_namespace(scenario, server, tracer.as_mut());
        (tracer, played)
    });
    match ran {
        Ok((tracer, played)) => (tracer, played.and_then(|p| analyse(scenario, server, p))),
        // The thread (and the tracer with it) is gone: its Drop removed the tracefs instance.
        Err(e) => (
            None,
            Err(anyhow::Error::new(e)
                .context("creating the lab's network namespace (needs CAP_SYS_ADMIN: run as root)")),
        ),
    }
}

/// What the namespace thread brings back.
struct Played {
    pcap: Vec<u8>,
    player: Player,
    events: Vec<KernelEvent>,
}

/// The packets through the tracker, joined with the events and the snapshots, and the known truth.
fn analyse(scenario: &'static Scenario, server: SocketAddr, played: Played) -> Result<Run> {
    let Played { pcap, player, events } = played;
    let records = records(&pcap)?;
    let Player {
        outcomes, snapshots, ..
    } = player;
    let tables: Vec<TableSnapshot<'_>> = snapshots
        .iter()
        .map(|s| TableSnapshot {
            time: s.time,
            label: s.label,
            sockets: &s.evidence.sockets,
        })
        .collect();
    let connections: Vec<(ConnectionRecord, Joined)> = records
        .into_iter()
        .map(|r| {
            let joined = correlate::join(&r, &events, &tables);
            (r, joined)
        })
        .collect();
    let mut run = Run {
        scenario,
        server,
        outcomes,
        snapshots,
        pcap,
        events,
        connections,
        truth: Vec::new(),
    };
    run.truth = check_truth(&run, &scenario.truth);
    Ok(run)
}

/// Inside the namespace: capture on its loopback while the steps are played.
fn in_namespace(
    scenario: &'static Scenario,
    server: SocketAddr,
    tracer: Option<&mut Tracer>,
) -> Result<Played> {
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let capture = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || capture_loopback(&stop, &ready_tx))
    };
    // The capture thread says when its socket is bound; it fails at once or within a second.
    match ready_rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            return match capture.join() {
                Ok(Err(e)) => Err(e),
                _ => Err(anyhow!("the capture on the lab's loopback did not start")),
            };
        }
    }
    let start = wall_clock();
    let mut player = Player::new(server);
    player.play(scenario.steps);
    let end = wall_clock();
    stop.store(true, Ordering::Relaxed);
    let pcap = capture
        .join()
        .map_err(|_| anyhow!("the capture thread panicked"))??;
    let events = match tracer {
        Some(t) => read_events(t, server, start, end)?,
        None => Vec::new(),
    };
    // The player's sockets close when the run is dropped, after the capture and the events: what a
    // scenario leaves open (a CLOSE-WAIT it never closes) is not part of its story.
    Ok(Played { pcap, player, events })
}

fn capture_loopback(stop: &AtomicBool, ready: &mpsc::Sender<Result<()>>) -> Result<Vec<u8>> {
    let mut live = match LiveCapture::open("lo", RING_BYTES, Accept::Tcp) {
        Ok(l) => l,
        Err(e) => {
            let e = anyhow!("capturing on the lab's loopback: {e}");
            let _ = ready.send(Err(anyhow!("{e}")));
            return Err(e);
        }
    };
    let _ = ready.send(Ok(()));
    let mut bytes = Vec::new();
    {
        let mut writer = PcapWriter::new(&mut bytes, LINK_TYPE, SNAPLEN)?;
        while !stop.load(Ordering::Relaxed) {
            if let Next::Frame(f) = live.next(Duration::from_millis(20))? {
                writer.write(f.ts, f.data, f.orig_len)?;
            }
        }
        // What the kernel still holds in a block that is not full yet.
        while let Next::Frame(f) = live.next(DRAIN_WAIT)? {
            writer.write(f.ts, f.data, f.orig_len)?;
        }
        writer.flush()?;
    }
    Ok(bytes)
}

/// The kernel's events about this scenario: its server's address on either end, inside the run.
fn read_events(
    tracer: &mut Tracer,
    server: SocketAddr,
    start: Timestamp,
    stop: Timestamp,
) -> Result<Vec<KernelEvent>> {
    let mut all = Vec::new();
    // Everything raised until now is in the buffers; a few reads take it all (bounded).
    for _ in 0..64 {
        if tracer.read(&mut all).context("reading the kernel's events")? == 0 {
            break;
        }
    }
    Ok(all
        .into_iter()
        .filter(|e| e.time >= start && e.time <= stop)
        .filter(|e| e.local.ip() == server.ip() || e.remote.ip() == server.ip())
        .collect())
}

/// The capture's connections through the tracker, in the order they started.
fn records(pcap: &[u8]) -> Result<Vec<ConnectionRecord>> {
    let mut source = capture::from_bytes("lab capture", pcap);
    let mut decoder = Decoder::new(DecoderConfig::full());
    let mut tracker = Tracker::new(lifecycle::Config::default());
    // A lab capture is small: every connection keeps its segments for its ladder.
    tracker.watch(
        |_| true,
        WatchOptions {
            limit: usize::MAX,
            fold: true,
        },
    );
    let mut out = Vec::new();
    while let Some(frame) = capture::FrameSource::next_frame(&mut source)? {
        let decoded = decoder.decode(LinkType(frame.link_type), frame.data, frame.orig_len, frame.ts);
        if let Ok(tcp) = decoded {
            let now = Timestamp(frame.ts);
            tracker.handle_timeout(now);
            tracker.handle_segment(now, &tcp.segment);
        }
    }
    tracker.finish();
    while let Some(Event::Ended(r)) = tracker.poll_event() {
        out.push(*r);
    }
    out.sort_by_key(|r| (r.start, r.client));
    Ok(out)
}

fn check_truth(run: &Run, truth: &Truth) -> Vec<TruthCheck> {
    let mut checks = Vec::new();
    let mut check = |what, expected: String, found: String| {
        let ok = expected == found;
        checks.push(TruthCheck {
            what,
            expected,
            found,
            ok,
        });
    };
    let none = || "none".to_string();
    match run.subject() {
        None => check("connection", "one".into(), "none in the capture".into()),
        Some((r, j)) => {
            check("cause", truth.cause.name().into(), r.cause.name().into());
            check("closer", truth.closer.name().into(), r.closer.name().into());
            check(
                "reset by",
                truth.reset_by.map_or_else(none, |s| s.name().into()),
                r.reset_by.map_or_else(none, |s| s.name().into()),
            );
            if let (Some(reason), Some(by)) = (truth.reason, truth.reset_by) {
                let found = j
                    .sent_reset(by)
                    .and_then(|k| k.reason.as_ref())
                    .and_then(|k| k.name.clone())
                    .unwrap_or_else(|| "no reason from the kernel".into());
                check("kernel's reason", reason.into(), found);
            }
            if let Some((label, side, state)) = truth.table {
                let found: String = j
                    .table
                    .iter()
                    .find(|row| row.label == label && row.side == side)
                    .map_or_else(|| "no socket".into(), |row| row.state.rfc_name().into());
                check(
                    "socket table",
                    format!("{} {state}", side.name()),
                    format!("{} {found}", side.name()),
                );
            }
        }
    }
    for (who, errno) in truth.errors {
        let seen = run
            .outcomes
            .iter()
            .any(|o| o.who == *who && o.errno == Some(*errno));
        check(
            "application",
            format!("{} sees {errno}", who.name()),
            if seen {
                format!("{} sees {errno}", who.name())
            } else {
                format!("{} never sees {errno}", who.name())
            },
        );
    }
    if let Some(counter) = truth.counter_rises {
        let value = |s: Option<&Snapshot>| s.and_then(|s| s.evidence.counters.get(counter));
        let (before, after) = (value(run.snapshots.first()), value(run.snapshots.last()));
        let rose = matches!((before, after), (Some(b), Some(a)) if a > b);
        check(
            "kernel counter",
            format!("{counter} rises"),
            if rose {
                format!("{counter} rises")
            } else {
                format!("{counter} {before:?} -> {after:?}")
            },
        );
    }
    checks
}
