//! `tcpdoctor status` (and `tcpdoctor` with no arguments): snapshot the host, diagnose, render.

use anyhow::Context as _;
use lifecycle::kernel::{Diagnosis, KernelState};
use report::status::StatusContext;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What is in each TCP state, who holds it, and what is wrong.
#[derive(Debug, Default, clap::Args)]
pub struct StatusArgs {
    /// Print one JSON document (schema tcpdoctor.status/1) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Refresh every SECS seconds, showing changes and rates since the previous refresh.
    #[arg(long, value_name = "SECS")]
    pub watch: Option<f64>,
    /// With --watch: stop after N refreshes.
    #[arg(long, value_name = "N", requires = "watch")]
    pub count: Option<u64>,
    /// Only sockets in these states (Linux or RFC names: TIME_WAIT, close-wait, syn-received, ...).
    #[arg(long, value_delimiter = ',', value_parser = parse_state)]
    pub state: Vec<KernelState>,
    /// Only sockets with this local or remote port.
    #[arg(long, value_delimiter = ',')]
    pub port: Vec<u16>,
    /// Only sockets held by this pid, or by a process whose command contains this text.
    #[arg(long, value_name = "PID|NAME")]
    pub process: Option<String>,
    /// Skip looking up which process holds each socket (the /proc scan): counts, groupings and
    /// findings without process names, fastest on hosts with very many open files.
    #[arg(long, conflicts_with = "process")]
    pub no_owners: bool,
    /// Inspect another network namespace: a name from `ip netns` or a path like /proc/PID/ns/net.
    #[arg(long, value_name = "NAME|PATH")]
    pub netns: Option<String>,
    /// Read sysctls from this directory instead of /proc/sys/net (fixture trees in tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub sys_net: Option<PathBuf>,
    /// Read the sysctl configuration from this directory instead of /etc.
    #[arg(long, value_name = "DIR", hide = true)]
    pub etc: Option<PathBuf>,
}

fn parse_state(s: &str) -> Result<KernelState, String> {
    KernelState::parse(s)
        .ok_or_else(|| format!("unknown TCP state {s:?} (try TIME_WAIT, close-wait, LISTEN)"))
}

pub fn run(args: &StatusArgs) -> anyhow::Result<()> {
    let mut options = host::SnapshotOptions::default();
    if let Some(ns) = &args.netns {
        options.netns = Some(host::netns_path(ns));
    }
    if let Some(dir) = &args.sys_net {
        options.sys_net.clone_from(dir);
    }
    if let Some(dir) = &args.etc {
        options.etc.clone_from(dir);
    }
    if !args.state.is_empty() {
        // The kernel filters by state (the dump's bitmask): other states are never transferred.
        options.states.clone_from(&args.state);
        if args.state.contains(&KernelState::SynRecv) {
            // Request sockets are dumped only with the NEW_SYN_RECV bit (and reported as SYN_RECV).
            options.states.push(KernelState::NewSynRecv);
        }
        options.owner_states.retain(|s| args.state.contains(s));
    }
    if args.no_owners {
        options.owner_states.clear();
    }
    if args.process.is_some() {
        // Every socket with a file can match a process filter, so every one needs its owner.
        options.owner_states.clone_from(&options.states);
    }
    let filter = doctor::SocketFilter {
        states: args.state.clone(),
        ports: args.port.clone(),
        process: args.process.clone(),
    };
    let thresholds = doctor::Thresholds::default();
    let take = || -> anyhow::Result<Diagnosis> {
        let mut evidence = host::snapshot(&options).context("reading the socket table")?;
        filter.apply(&mut evidence);
        Ok(doctor::diagnose(&evidence, &thresholds))
    };
    let stdout = std::io::stdout();
    let clear = !args.json && stdout.is_terminal();
    let mut previous: Option<(Diagnosis, Instant)> = None;
    let mut refreshes = 0u64;
    loop {
        let diagnosis = take()?;
        let now = Instant::now();
        let ctx = StatusContext {
            netns: args.netns.as_deref(),
            filtered: !filter.is_empty(),
            previous: previous
                .as_ref()
                .map(|(d, at)| (d, now.duration_since(*at).as_secs_f64())),
        };
        let mut out = stdout.lock();
        if clear && args.watch.is_some() {
            write!(out, "\x1b[H\x1b[2J")?;
        }
        if args.json {
            report::status::write_json(&mut out, &diagnosis, &ctx)?;
        } else {
            report::status::write_text(&mut out, &diagnosis, &ctx)?;
        }
        out.flush()?;
        drop(out);
        refreshes += 1;
        let Some(secs) = args.watch else { return Ok(()) };
        if args.count.is_some_and(|n| refreshes >= n) {
            return Ok(());
        }
        previous = Some((diagnosis, now));
        std::thread::sleep(Duration::from_secs_f64(secs.max(0.1)));
    }
}
