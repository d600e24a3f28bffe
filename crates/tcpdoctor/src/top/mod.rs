//! `tcpdoctor top`: the host's TCP lifecycle, live, in the terminal.
//!
//! One thread owns the [`model::Model`] and the terminal; everything else sends it [`model::Event`]s on
//! one channel: a worker takes and diagnoses snapshots (the same `host::snapshot` and
//! `doctor::diagnose` as `status`), so a slow `/proc` scan never blocks the keys; another reads the
//! keys; a third reads the kernel's tracepoints (as `tcpdoctor trace` does) when it may. The widgets
//! ([`widgets::draw`]) are pure functions of the model. The terminal is restored on every way out:
//! `q`, Ctrl-C, SIGTERM/SIGHUP, an error, and a panic (ratatui's hook restores it before the message).

mod model;
mod widgets;

use crate::seconds;
use crate::signals::Stop;
use anyhow::Context as _;
use crossterm::event::{self as term, Event as TermEvent, KeyEventKind};
use model::{Event, Model, Snapshot};
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A live view of the host's TCP states, findings, CLOSE-WAIT and TIME-WAIT holders, and resets.
#[derive(Debug, clap::Args)]
pub struct TopArgs {
    /// Refresh every SECS seconds (at least 0.1; a scan slower than half of it stretches it).
    #[arg(long, value_name = "SECS", default_value = "1",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub interval: Duration,
    /// Inspect another network namespace: a name from `ip netns` or a path like /proc/PID/ns/net.
    #[arg(long, value_name = "NAME|PATH")]
    pub netns: Option<String>,
}

/// The shortest interval, so that `--interval 0` does not spin on the socket table.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// How often the loop wakes without an event, to notice a signal; and the key and trace readers'
/// poll, which bounds how long they take to notice the end.
const TICK: Duration = Duration::from_millis(200);

pub fn run(args: &TopArgs) -> anyhow::Result<i32> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "tcpdoctor: top needs a terminal (stdin and stdout); for a report that refreshes, use `tcpdoctor status --watch SECS`"
        );
        return Ok(2);
    }
    let interval = args.interval.max(MIN_INTERVAL);
    let signals = Stop::install().context("installing signal handlers")?;
    let done = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let options = host::SnapshotOptions {
        netns: args.netns.as_deref().map(host::netns_path),
        ..host::SnapshotOptions::default()
    };
    spawn_snapshots(options, interval, tx.clone(), Arc::clone(&done))?;
    let keys = spawn_keys(tx.clone(), Arc::clone(&done))?;
    let tracer = spawn_tracer(tx, Arc::clone(&done))?;
    let mut model = Model::new(interval, args.netns.clone());
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let result = event_loop(&mut terminal, &mut model, &rx, &signals);
    ratatui::restore();
    done.store(true, Ordering::Relaxed);
    // The tracer removes its tracefs instance when dropped: wait for it. The snapshot worker may be in
    // the middle of a long scan; it stops at its next send.
    let _ = tracer.join();
    let _ = keys.join();
    result.map(|()| 0)
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    model: &mut Model,
    rx: &Receiver<Event>,
    signals: &Stop,
) -> anyhow::Result<()> {
    terminal.draw(|f| widgets::draw(f, model))?;
    while !model.quit && !signals.requested() {
        let first = match rx.recv_timeout(TICK) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => Event::Tick,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut redraw = model.handle(first);
        // Whatever else is waiting, before one redraw.
        while let Ok(e) = rx.try_recv() {
            redraw |= model.handle(e);
        }
        if redraw && !model.quit {
            terminal.draw(|f| widgets::draw(f, model))?;
        }
    }
    Ok(())
}

/// Takes a snapshot every `interval`, or, when one takes longer than half the interval, waits as long
/// as the scan took: on a host with very many sockets the refresh slows rather than keeping a core
/// busy, and the keys stay answered since they never wait for it.
fn spawn_snapshots(
    options: host::SnapshotOptions,
    interval: Duration,
    tx: Sender<Event>,
    done: Arc<AtomicBool>,
) -> anyhow::Result<JoinHandle<()>> {
    let thresholds = doctor::Thresholds::default();
    let work = move || {
        while !done.load(Ordering::Relaxed) {
            let started = Instant::now();
            let event = match host::snapshot(&options) {
                Ok(evidence) => {
                    let diagnosis = doctor::diagnose(&evidence, &thresholds);
                    Event::Snapshot(Box::new(Snapshot {
                        evidence,
                        diagnosis,
                        taken: started,
                        took: started.elapsed(),
                    }))
                }
                Err(e) => Event::SnapshotFailed(e.to_string()),
            };
            let took = started.elapsed();
            if tx.send(event).is_err() {
                return;
            }
            let wait = interval.saturating_sub(took).max(took);
            let until = Instant::now() + wait;
            while !done.load(Ordering::Relaxed) && Instant::now() < until {
                std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
            }
        }
    };
    std::thread::Builder::new()
        .name("top-snapshots".into())
        .spawn(work)
        .context("starting the snapshot thread")
}

/// Forwards key presses and resizes.
fn spawn_keys(tx: Sender<Event>, done: Arc<AtomicBool>) -> anyhow::Result<JoinHandle<()>> {
    let work = move || {
        while !done.load(Ordering::Relaxed) {
            match term::poll(TICK) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(_) => return,
            }
            let event = match term::read() {
                Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => Event::Key(k),
                Ok(TermEvent::Resize(..)) => Event::Resize,
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(event).is_err() {
                return;
            }
        }
    };
    std::thread::Builder::new()
        .name("top-keys".into())
        .spawn(work)
        .context("starting the key thread")
}

/// Reads the kernel's tracepoints and forwards what arrives; or says why it cannot (not root).
fn spawn_tracer(tx: Sender<Event>, done: Arc<AtomicBool>) -> anyhow::Result<JoinHandle<()>> {
    let work = move || {
        let options = host::trace::TraceOptions::default();
        let mut tracer = match host::trace::Tracer::start(&options) {
            Ok(t) => t,
            Err(e) => {
                let _ = tx.send(Event::TraceUnavailable(format!("needs root (tracefs): {e}")));
                return;
            }
        };
        let reasons = tracer.reasons_available();
        // An empty batch tells the model that the feed is live.
        let _ = tx.send(Event::Trace(Vec::new(), reasons));
        while !done.load(Ordering::Relaxed) {
            let mut batch = Vec::new();
            if let Err(e) = tracer.read(&mut batch) {
                let _ = tx.send(Event::TraceUnavailable(format!("reading the tracepoints: {e}")));
                break;
            }
            if !batch.is_empty() && tx.send(Event::Trace(batch, reasons)).is_err() {
                break;
            }
            std::thread::sleep(TICK);
        }
        let _ = tracer.stop();
    };
    std::thread::Builder::new()
        .name("top-trace".into())
        .spawn(work)
        .context("starting the trace thread")
}
