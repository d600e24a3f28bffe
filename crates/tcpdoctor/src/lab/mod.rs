//! `tcpdoctor lab`: each situation of the seed made to happen with real sockets in a throwaway network
//! namespace, and seen through the three kinds of evidence at once: the packets (a capture of the
//! namespace's loopback), the kernel's events with its reasons (the tracepoints), and the socket table
//! (snapshots at the moments that matter). Where they disagree, one of tcpdoctor's readers is wrong:
//! the lab is also the project's end-to-end test.
//!
//! `scenarios.rs` holds the scenarios as data, `play.rs` plays them with sockets, `runner.rs` runs one
//! and joins the evidence, `render.rs` prints it.

mod play;
mod render;
mod runner;
mod scenarios;

use crate::signals::Stop;
use anyhow::{Context as _, Result};
use clap::Args;
use host::trace::{TraceOptions, Tracer};
use std::io::{self, Write as _};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_long_help = AFTER_LONG_HELP)]
pub struct LabArgs {
    /// `list`, `all`, or scenario names (see `tcpdoctor lab list`).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
    /// Save each scenario's capture (NAME.pcap), kernel events (NAME.events.jsonl) and socket-table
    /// snapshots (NAME.snapshots.json) in DIR, for `analyze`, Wireshark and `jq`.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// The whole result as one JSON document (schema tcpdoctor.lab/1).
    #[arg(long)]
    pub json: bool,
}

const AFTER_LONG_HELP: &str = "\
Needs root: each scenario runs in a new network namespace (CAP_SYS_ADMIN), captures its loopback \
(CAP_NET_RAW) and reads the kernel's tracepoints (tracefs). The namespace has no name and vanishes \
with the run, whatever ends it. Exit status: 0 when every source agreed with the others and with the \
scenario's known truth, 1 when one did not (or the lab could not run), 2 for an unknown scenario.";

pub fn run(args: &LabArgs) -> Result<i32> {
    if args.scenarios.iter().any(|s| s == "list") {
        let mut out = io::stdout().lock();
        render::list(&mut out, scenarios::ALL)?;
        return Ok(0);
    }
    let chosen = match choose(&args.scenarios) {
        Ok(c) => c,
        Err(unknown) => {
            eprintln!("tcpdoctor: {}", report::safe::terminal(&unknown));
            return Ok(2);
        }
    };
    if let Some(why) = missing_privilege() {
        eprintln!("tcpdoctor: lab: {why}");
        return Ok(1);
    }
    let stop = Stop::install().context("installing signal handlers")?;
    let (mut tracer, trace_note) = match Tracer::start(&TraceOptions::default()) {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(format!("kernel events unavailable: {e}"))),
    };
    if let Some(dir) = &args.keep {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let mut runs = Vec::new();
    let color = anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (index, scenario) in chosen {
        if stop.requested() {
            break;
        }
        let (back, run) = runner::run(scenario, index, tracer.take());
        tracer = back;
        let run = run?;
        if let Some(dir) = &args.keep {
            render::keep(dir, &run)?;
        }
        if !args.json {
            render::text(&mut out, &run, trace_note.as_deref(), color)?;
            out.flush()?;
        }
        runs.push(run);
    }
    if let Some(t) = tracer {
        t.stop().context("removing the tracefs instance")?;
    }
    if args.json {
        render::json(&mut out, &runs, trace_note.as_deref())?;
    } else {
        render::verdict(&mut out, &runs)?;
    }
    out.flush()?;
    if stop.requested() {
        eprintln!("tcpdoctor: lab: interrupted");
        return Ok(1);
    }
    let all_good = runs.iter().all(|r| r.sources_agree() && r.truth_met());
    Ok(if all_good { 0 } else { 1 })
}

/// The scenarios asked for, each with its index in the table (it picks the scenario's addresses); the
/// error is the usage line for an unknown name.
fn choose(names: &[String]) -> Result<Vec<(usize, &'static scenarios::Scenario)>, String> {
    if names.iter().any(|n| n == "all") {
        return Ok(scenarios::ALL.iter().enumerate().collect());
    }
    names
        .iter()
        .map(|name| {
            scenarios::ALL
                .iter()
                .enumerate()
                .find(|(_, s)| s.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = scenarios::ALL.iter().map(|s| s.name).collect();
                    format!(
                        "lab: no scenario {name:?}; the scenarios are: {}, all, list",
                        names.join(", ")
                    )
                })
        })
        .collect()
}

/// Namespaces need CAP_SYS_ADMIN: without it, say so before anything starts.
fn missing_privilege() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    (!root).then_some(
        "needs root: each scenario runs in its own network namespace (CAP_SYS_ADMIN), captures its \
         loopback (CAP_NET_RAW) and reads the kernel's tracepoints (tracefs)",
    )
}
