//! `tcpdoctor status` (and `tcpdoctor` with no arguments): snapshot the host, diagnose, render.

use crate::seconds;
use anyhow::Context as _;
use lifecycle::kernel::{Diagnosis, KernelState};
use report::status::StatusContext;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The shortest `--watch` interval, so that `--watch 0` refreshes fast without spinning on the socket
/// table.
const MIN_WATCH: Duration = Duration::from_millis(100);

/// What is in each TCP state, who holds it, and what is wrong.
#[derive(Debug, Default, clap::Args)]
pub struct StatusArgs {
    /// Print one JSON document (schema tcpdoctor.status/1) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Refresh every SECS seconds, showing changes and rates since the previous refresh.
    #[arg(long, value_name = "SECS",
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub watch: Option<Duration>,
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
    /// Show which process holds every socket, as `ss -p` does (by default only the holders of
    /// CLOSE-WAIT and listening sockets are looked up): reads the fd table of every process, which
    /// is the slow part on hosts with very many open files.
    #[arg(short = 'p', long)]
    pub processes: bool,
    /// Look up no process at all (no /proc scan): counts, groupings and findings without names.
    #[arg(long, conflicts_with_all = ["process", "processes"])]
    pub no_owners: bool,
    // The default comes from the table of middlebox idle timeouts: the help says which it is.
    #[arg(long, value_name = "SECS", help = idle_threshold_help(),
          value_parser = seconds::parse, allow_negative_numbers = true)]
    pub idle_threshold: Option<Duration>,
    /// Inspect another network namespace: a name from `ip netns` or a path like /proc/PID/ns/net.
    #[arg(long, value_name = "NAME|PATH")]
    pub netns: Option<String>,
    /// Split the socket dump into N dumps made side by side (default: one per core, up to 4); for
    /// measuring (bench/status.sh).
    #[arg(long, value_name = "N", hide = true, default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=host::MAX_DUMP_BANDS as i64))]
    pub dump_bands: u16,
    /// Read sysctls from this directory instead of /proc/sys/net (fixture trees in tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub sys_net: Option<PathBuf>,
    /// Read the sysctl configuration from this directory instead of /etc.
    #[arg(long, value_name = "DIR", hide = true)]
    pub etc: Option<PathBuf>,
}

/// `--idle-threshold`'s help, with its default read from the table it comes from.
fn idle_threshold_help() -> String {
    let shortest = lifecycle::idle_timeouts::shortest();
    format!(
        "Report ESTABLISHED connections silent this long with no keepalive timer [default: {}, the \
         shortest middlebox idle timeout tcpdoctor knows: {}]",
        shortest.seconds, shortest.device
    )
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
    options.dump_bands = usize::from(args.dump_bands);
    if let Some(dir) = &args.sys_net {
        options.sys_net.clone_from(dir);
    }
    if let Some(dir) = &args.etc {
        options.etc.clone_from(dir);
    }
    if !args.state.is_empty() {
        // The kernel filters by state (the dump's bitmask): other states are never transferred. (It
        // widens SYN_RECV to its request sockets, NEW_SYN_RECV, which it reports as SYN_RECV.)
        options.states.clone_from(&args.state);
    }
    if args.processes || args.process.is_some() {
        // Every owner (a process filter can match any socket with a file). States --state left out
        // are not dumped, so asking for their owners costs nothing, and the report can say that every
        // owner was looked up.
        options.owner_states = KernelState::WITH_FILES.to_vec();
    } else if args.no_owners {
        options.owner_states.clear();
        options.idle_owners_ms = None;
    } else if !args.state.is_empty() {
        options.owner_states.retain(|s| args.state.contains(s));
    }
    let filter = doctor::SocketFilter {
        states: args.state.clone(),
        ports: args.port.clone(),
        process: args.process.clone(),
    };
    let mut thresholds = doctor::Thresholds::default();
    if let Some(idle) = args.idle_threshold {
        // The same silence for the owner lookup and for the finding that names the owners.
        let ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        thresholds.idle_without_keepalive_ms = ms;
        options.idle_owners_ms = options.idle_owners_ms.map(|_| ms);
    }
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
        let Some(interval) = args.watch else {
            return Ok(());
        };
        if args.count.is_some_and(|n| refreshes >= n) {
            return Ok(());
        }
        previous = Some((diagnosis, now));
        std::thread::sleep(interval.max(MIN_WATCH));
    }
}
