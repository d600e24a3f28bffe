//! Kernel TCP events from tracefs: every state change and every reset as it happens, and since Linux
//! 6.10 why the kernel sent the reset — without a BPF toolchain.
//!
//! [`Tracer::start`] creates a private tracefs instance (mounting tracefs if needed), enables
//! `sock:inet_sock_set_state` (filtered to TCP in the kernel), `tcp:tcp_send_reset`,
//! `tcp:tcp_receive_reset` and `tcp:tcp_retransmit_skb`, and reads each CPU's binary ring buffer
//! (`trace_pipe_raw`). Layouts and the reset-reason table come from the running kernel's format files
//! ([`format`](mod@format)), so a kernel without reasons still works and says so ([`Tracer::notes`]).
//!
//! The instance is removed by [`Tracer::stop`], and by `Drop` on every other path (an error, a panic
//! unwinding): only `SIGKILL` can leave one behind, and the next run removes it.
//!
//! Tracepoints are global: they report every network namespace's sockets, and their records do not say
//! which namespace a socket belongs to.

pub mod event;
pub mod format;
pub mod reader;
pub mod tracefs;

use event::{Layout, Tracepoint};
use lifecycle::kernel_event::KernelEvent;
use lifecycle::segment::Timestamp;
use reader::{CpuReader, PageLayout};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use tracefs::Instance;

/// Why tracing could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{0}")]
    NoTracefs(String),
    /// The path; the I/O error is the source (printed after it in an error chain).
    #[error("{}", .0.display())]
    Io(PathBuf, #[source] io::Error),
    #[error("{0}: format file not understood")]
    Format(String),
}

/// How to trace.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// Ring buffer per CPU, in KiB: room for the events that arrive between two reads, and while the
    /// reader is not scheduled. `None`: 64 MiB shared among the CPUs, 2 to 16 MiB each.
    pub buffer_kb: Option<u32>,
}

/// The default buffer per CPU: a busy 2-CPU host gets 16 MiB each (about 180,000 events, almost a
/// second at 20,000 connections/s), a large one 2 MiB each so that the total stays bounded.
fn default_buffer_kb(cpus: usize) -> u32 {
    let per_cpu = 65_536 / u32::try_from(cpus.max(1)).unwrap_or(u32::MAX);
    per_cpu.clamp(2048, 16_384)
}

/// Events the kernel could not hand over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lost {
    /// Events dropped because a CPU's ring buffer was full (`per_cpu/cpuN/stats`: `dropped events`,
    /// `overrun`, `commit overrun`).
    pub events: u64,
    /// Records read but not decodable (too short for their layout, unknown states or families).
    pub undecoded: u64,
}

/// Pages read from one CPU per [`Tracer::read`] call, so that one busy CPU cannot starve the others.
const PAGES_PER_CPU: usize = 64;
/// Cached process names, cleared when full (pids are reused; a stale name for a while is tolerable).
const COMM_CACHE: usize = 4096;

/// A running trace. Field order matters: the readers' files are closed before the instance is removed
/// (open files keep an instance busy).
#[derive(Debug)]
pub struct Tracer {
    readers: Vec<CpuReader>,
    layouts: Vec<Layout>,
    /// `common_type`: which event a record is.
    common_type: format::Field,
    page_layout: PageLayout,
    page: Vec<u8>,
    /// Wall clock minus the trace clock (`mono`), in ns.
    clock_offset: i128,
    comms: HashMap<u32, Option<String>>,
    /// The tracefs mount (for the global `saved_cmdlines`).
    root: PathBuf,
    undecoded: u64,
    lost_in_pages: u64,
    notes: Vec<String>,
    instance: Instance,
}

impl Tracer {
    /// Creates the instance and starts the four tracepoints.
    pub fn start(options: &TraceOptions) -> Result<Tracer, TraceError> {
        let root = tracefs::root()?;
        let instance = Instance::create(&root)?;
        let mut notes = Vec::new();
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let buffer_kb = options.buffer_kb.unwrap_or_else(|| default_buffer_kb(cpus));
        instance.write("buffer_size_kb", &buffer_kb.to_string())?;
        // Keep unread events rather than overwriting them: new ones are dropped, and counted.
        instance.write("options/overwrite", "0")?;
        // CLOCK_MONOTONIC, so that ring-buffer times convert to wall-clock time.
        let mono = instance.write("trace_clock", "mono").is_ok();
        if !mono {
            notes.push("the trace clock could not be set to mono: event times are approximate".into());
        }
        let header = instance.read("events/header_page")?;
        let page_layout = PageLayout::from_fields(&format::parse_fields(&header))
            .ok_or_else(|| TraceError::Format("events/header_page".into()))?;
        let mut layouts = Vec::new();
        let mut common_type = None;
        for tp in Tracepoint::ALL {
            let text = match instance.read(&format!("events/{}/format", tp.path())) {
                Ok(t) => t,
                Err(_) if tp != Tracepoint::SetState => {
                    notes.push(format!(
                        "tracepoint {} is not available on this kernel",
                        tp.path()
                    ));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let parsed = format::parse(&text);
            let layout = parsed.as_ref().and_then(|f| Layout::new(tp, f));
            let (Some(parsed), Some(layout)) = (parsed, layout) else {
                if tp == Tracepoint::SetState {
                    return Err(TraceError::Format(tp.path().into()));
                }
                notes.push(format!(
                    "tracepoint {}: layout not understood, skipped",
                    tp.path()
                ));
                continue;
            };
            if tp == Tracepoint::SendReset && !layout.has_reasons() {
                notes.push(
                    "reset reasons unavailable: this kernel's tcp:tcp_send_reset has no reason field \
                     (added in Linux 6.10)"
                        .into(),
                );
            }
            if tp == Tracepoint::SetState && parsed.field("protocol").is_some() {
                // SCTP and MPTCP share this tracepoint; let the kernel drop them (decode checks too).
                let _ = instance.write(&format!("events/{}/filter", tp.path()), "protocol == 6");
            }
            common_type = common_type.or_else(|| parsed.field("common_type").cloned());
            instance.write(&format!("events/{}/enable", tp.path()), "1")?;
            layouts.push(layout);
        }
        let common_type = common_type.ok_or_else(|| TraceError::Format("common_type".into()))?;
        let readers = open_readers(&instance)?;
        Ok(Tracer {
            readers,
            layouts,
            common_type,
            page: vec![0; page_layout.page_size.max(4096)],
            page_layout,
            clock_offset: if mono { wall_minus_mono() } else { 0 },
            comms: HashMap::new(),
            root,
            undecoded: 0,
            lost_in_pages: 0,
            notes,
            instance,
        })
    }

    /// What the operator should know about this kernel's events (missing tracepoints, no reasons).
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Whether reset reasons are available on this kernel.
    #[must_use]
    pub fn reasons_available(&self) -> bool {
        self.layouts
            .iter()
            .any(|l| l.tracepoint == Tracepoint::SendReset && l.has_reasons())
    }

    /// Appends the events ready now, in time order, and returns how many. Never blocks: the caller
    /// decides how long to wait between reads (the buffer holds what arrives meanwhile).
    pub fn read(&mut self, out: &mut Vec<KernelEvent>) -> Result<usize, TraceError> {
        let start = out.len();
        for r in 0..self.readers.len() {
            for _ in 0..PAGES_PER_CPU {
                let reader = &mut self.readers[r];
                let cpu = reader.cpu;
                let n = reader.read_page(&mut self.page).map_err(|e| {
                    TraceError::Io(
                        self.instance
                            .dir()
                            .join(format!("per_cpu/cpu{cpu}/trace_pipe_raw")),
                        e,
                    )
                })?;
                if n == 0 {
                    break;
                }
                let page = &self.page[..n.min(self.page.len())];
                let (layouts, common_type, offset) = (&self.layouts, &self.common_type, self.clock_offset);
                let mut undecoded = 0;
                let summary = reader::parse_page(page, &self.page_layout, |ts, record| {
                    let id = common_type.int(record).and_then(|v| u16::try_from(v).ok());
                    let event = layouts
                        .iter()
                        .find(|l| Some(l.id) == id)
                        .and_then(|l| l.decode(record, wall_time(ts, offset), cpu));
                    match event {
                        Some(e) => out.push(e),
                        None => undecoded += 1,
                    }
                });
                self.undecoded += undecoded;
                self.lost_in_pages += summary.lost;
            }
        }
        let new = &mut out[start..];
        new.sort_by_key(|e| e.time);
        let mut saved: Option<HashMap<u32, String>> = None;
        for e in new.iter_mut() {
            if let Some(task) = &mut e.task {
                task.comm = self.comm(task.pid, &mut saved);
            }
        }
        Ok(out.len() - start)
    }

    /// Events lost so far.
    #[must_use]
    pub fn lost(&self) -> Lost {
        let mut events = 0;
        for r in &self.readers {
            let stats = self
                .instance
                .read(&format!("per_cpu/cpu{}/stats", r.cpu))
                .unwrap_or_default();
            events += stats
                .lines()
                .filter_map(|l| l.split_once(':'))
                .filter(|(k, _)| matches!(k.trim(), "overrun" | "commit overrun" | "dropped events"))
                .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
                .sum::<u64>();
        }
        Lost {
            events: events.max(self.lost_in_pages),
            undecoded: self.undecoded,
        }
    }

    /// Stops tracing and removes the instance, reporting what was lost.
    pub fn stop(self) -> Result<Lost, TraceError> {
        let lost = self.lost();
        let _ = self.instance.write("tracing_on", "0");
        let Tracer {
            readers, instance, ..
        } = self;
        drop(readers);
        instance.remove()?;
        Ok(lost)
    }
}

impl Tracer {
    /// The command name of `pid`: `/proc/<pid>/comm`, or for a process that already exited (a
    /// short-lived client) the name tracing recorded with its events (top-level `saved_cmdlines`,
    /// read at most once per batch). Cached, since most events come from few processes.
    fn comm(&mut self, pid: u32, saved: &mut Option<HashMap<u32, String>>) -> Option<String> {
        if let Some(Some(c)) = self.comms.get(&pid) {
            return Some(c.clone());
        }
        if self.comms.len() >= COMM_CACHE {
            self.comms.clear();
        }
        // Lossily, as `status` reads it: a name is any bytes its process wrote, not always UTF-8.
        let name = std::fs::read(format!("/proc/{pid}/comm"))
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim_end_matches('\n').to_string())
            .or_else(|| {
                let map = saved.get_or_insert_with(|| {
                    let path = self.root.join("saved_cmdlines");
                    parse_saved_cmdlines(&tracefs::read_whole(&path).unwrap_or_default())
                });
                map.get(&pid).cloned()
            });
        self.comms.insert(pid, name.clone());
        name
    }
}

/// One reader per CPU listed under the instance's `per_cpu/`.
fn open_readers(instance: &Instance) -> Result<Vec<CpuReader>, TraceError> {
    let dir = instance.dir().join("per_cpu");
    let entries = std::fs::read_dir(&dir).map_err(|e| TraceError::Io(dir.clone(), e))?;
    let mut readers = Vec::new();
    for entry in entries.flatten() {
        let Some(cpu) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_prefix("cpu"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path().join("trace_pipe_raw");
        readers.push(CpuReader::open(&path, cpu).map_err(|e| TraceError::Io(path, e))?);
    }
    readers.sort_by_key(|r| r.cpu);
    Ok(readers)
}

fn wall_time(trace_ns: u64, offset: i128) -> Timestamp {
    let t = i128::from(trace_ns) + offset;
    Timestamp(u64::try_from(t.max(0)).unwrap_or(u64::MAX))
}

/// `CLOCK_REALTIME - CLOCK_MONOTONIC` now, in ns.
fn wall_minus_mono() -> i128 {
    let now = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a valid out-pointer.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
    };
    now(libc::CLOCK_REALTIME) - now(libc::CLOCK_MONOTONIC)
}

/// `pid comm` lines of tracefs' `saved_cmdlines`.
fn parse_saved_cmdlines(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let (pid, comm) = l.split_once(' ')?;
            Some((pid.parse().ok()?, comm.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_cmdlines_and_wall_time() {
        let m = parse_saved_cmdlines("5736 python3\n1 systemd\nbad line\n22 ksoftirqd/1\n");
        assert_eq!(m.get(&5736).map(String::as_str), Some("python3"));
        assert_eq!(m.get(&22).map(String::as_str), Some("ksoftirqd/1"));
        assert_eq!(m.len(), 3);
        assert_eq!(wall_time(5, 10), Timestamp(15));
        assert_eq!(wall_time(5, -10), Timestamp(0));
        assert_eq!(default_buffer_kb(2), 16_384);
        assert_eq!(default_buffer_kb(16), 4096);
        assert_eq!(default_buffer_kb(256), 2048);
        assert_eq!(default_buffer_kb(0), 16_384);
    }
}
