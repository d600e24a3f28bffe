//! `--trace`: the kernel's tracepoints read in the background and counted, nothing else kept — resets
//! by direction and reason, state changes by (from, to). Both key sets are small and fixed by the
//! kernel (its reset reasons, its eleven states), so memory stays flat however many events arrive.

use super::exposition::{Family, Sample, Value};
use super::names;
use anyhow::Context as _;
use host::trace::{TraceOptions, Tracer};
use lifecycle::State;
use lifecycle::kernel::KernelState;
use lifecycle::kernel_event::{EventKind, KernelEvent, ResetReason};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the reader sleeps when the buffers were empty (they hold far more than this long's
/// events: see `host::trace`'s buffer sizes).
const IDLE_WAIT: Duration = Duration::from_millis(200);

/// The counts so far.
#[derive(Debug, Default)]
pub struct Counts {
    resets: BTreeMap<(&'static str, String), u64>,
    transitions: BTreeMap<(&'static str, &'static str), u64>,
    lost: u64,
}

impl Counts {
    pub fn add(&mut self, e: &KernelEvent) {
        match &e.kind {
            EventKind::Reset {
                direction, reason, ..
            } => {
                let reason = match (direction, reason) {
                    (lifecycle::kernel_event::Direction::Received, _) => "none".to_string(),
                    (_, None) => "unavailable".to_string(),
                    (_, Some(r)) => reason_label(r),
                };
                *self.resets.entry((direction.name(), reason)).or_default() += 1;
            }
            EventKind::StateChange { old, new } => {
                *self
                    .transitions
                    .entry((linux_name(*old), linux_name(*new)))
                    .or_default() += 1;
            }
            EventKind::Retransmit { .. } => {}
        }
    }

    pub fn families(&self) -> Vec<Family> {
        let resets = self
            .resets
            .iter()
            .map(|((dir, reason), n)| Sample::new(&[dir, reason], Value::Count(*n)))
            .collect();
        let transitions = self
            .transitions
            .iter()
            .map(|((from, to), n)| Sample::new(&[from, to], Value::Count(*n)))
            .collect();
        vec![
            Family::new(&names::RESETS, resets),
            Family::new(&names::STATE_TRANSITIONS, transitions),
            Family::new(
                &names::TRACE_EVENTS_LOST,
                vec![Sample::new(&[], Value::Count(self.lost))],
            ),
        ]
    }
}

/// The kernel's name for the reason, or its number when this kernel's table lacks it (still bounded:
/// the kernel's `enum sk_rst_reason` is small).
fn reason_label(r: &ResetReason) -> String {
    r.name.clone().unwrap_or_else(|| format!("code_{}", r.code))
}

/// The Linux name of the state, as `tcpdoctor_sockets` labels it (the first kernel state standing for
/// it: SYN_RECV for SYN-RECEIVED, CLOSE for CLOSED).
fn linux_name(s: State) -> &'static str {
    KernelState::ALL
        .into_iter()
        .find(|k| k.rfc_state() == s)
        .map_or("UNKNOWN", KernelState::linux_name)
}

/// The background reader. Dropping it stops the thread, which removes the tracefs instance.
#[derive(Debug)]
pub struct Background {
    pub counts: Arc<Mutex<Counts>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Starts the tracepoints (here, so that a missing privilege is reported before serving) and the
    /// thread that counts their events.
    pub fn start() -> anyhow::Result<Background> {
        let mut tracer = Tracer::start(&TraceOptions::default())
            .context("starting the kernel tracepoints for --trace (tracefs needs root: CAP_SYS_ADMIN)")?;
        for note in tracer.notes() {
            eprintln!("tcpdoctor: note: {}", report::safe::terminal(note));
        }
        let counts = Arc::new(Mutex::new(Counts::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&counts), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("trace".into())
            .spawn(move || {
                let mut batch = Vec::new();
                while !s.load(Ordering::Relaxed) {
                    batch.clear();
                    if let Err(e) = tracer.read(&mut batch) {
                        eprintln!(
                            "tcpdoctor: --trace stopped: {}",
                            report::safe::terminal(&format!("{e:#}"))
                        );
                        return;
                    }
                    let lost = tracer.lost();
                    let mut counts = c.lock().unwrap_or_else(PoisonError::into_inner);
                    batch.iter().for_each(|e| counts.add(e));
                    counts.lost = lost.events + lost.undecoded;
                    drop(counts);
                    if batch.is_empty() {
                        std::thread::sleep(IDLE_WAIT);
                    }
                }
            })
            .context("starting the trace thread")?;
        Ok(Background {
            counts,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle::kernel::Family as AddressFamily;
    use lifecycle::kernel_event::Direction;
    use lifecycle::segment::Timestamp;

    fn event(kind: EventKind) -> KernelEvent {
        KernelEvent {
            time: Timestamp::default(),
            cpu: 0,
            task: None,
            family: AddressFamily::V4,
            local: "127.0.0.1:1".parse().unwrap(),
            remote: "127.0.0.1:2".parse().unwrap(),
            kind,
        }
    }

    #[test]
    fn counts_resets_by_reason_and_transitions_by_linux_names() {
        let mut c = Counts::default();
        let sent = |name: Option<&str>| EventKind::Reset {
            direction: Direction::Sent,
            state: None,
            reason: Some(ResetReason {
                code: 2,
                name: name.map(str::to_string),
            }),
        };
        for _ in 0..3 {
            c.add(&event(sent(Some("NO_SOCKET"))));
        }
        c.add(&event(sent(None)));
        c.add(&event(EventKind::Reset {
            direction: Direction::Received,
            state: Some(State::Established),
            reason: None,
        }));
        c.add(&event(EventKind::StateChange {
            old: State::Established,
            new: State::CloseWait,
        }));
        c.add(&event(EventKind::StateChange {
            old: State::Closed,
            new: State::SynSent,
        }));
        let f = c.families();
        let series: Vec<(Vec<String>, Value)> = f
            .iter()
            .flat_map(|f| f.samples.iter().map(|s| (s.labels.clone(), s.value)))
            .collect();
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(series.contains(&(l(&["sent", "NO_SOCKET"]), Value::Count(3))));
        assert!(series.contains(&(l(&["sent", "code_2"]), Value::Count(1))));
        assert!(series.contains(&(l(&["received", "none"]), Value::Count(1))));
        assert!(series.contains(&(l(&["ESTABLISHED", "CLOSE_WAIT"]), Value::Count(1))));
        assert!(series.contains(&(l(&["CLOSE", "SYN_SENT"]), Value::Count(1))));
    }
}
