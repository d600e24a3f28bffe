//! Linux host evidence for tcpdoctor: what the kernel knows about TCP right now.
//!
//! [`snapshot`] gathers one [`HostEvidence`]: the socket table over netlink `sock_diag`, owners from
//! `/proc/<pid>/fd`, counters from `/proc/net`, sysctls from `/proc/sys/net`, the conntrack table
//! from both, and the boot-time configuration from `/etc`. What cannot be read is recorded as a
//! [`lifecycle::kernel::Gap`] with the reason, never silently dropped: an unprivileged run shows what
//! it can.

#[cfg(target_os = "linux")]
pub mod conntrack;
#[cfg(target_os = "linux")]
pub mod counters;
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(target_os = "linux")]
mod int_map;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(target_os = "linux")]
pub mod owners;
#[cfg(target_os = "linux")]
pub mod sockdiag;
#[cfg(target_os = "linux")]
pub mod sysctl;
#[cfg(target_os = "linux")]
pub mod trace;

use lifecycle::kernel::{HostEvidence, KernelState};
use std::path::PathBuf;

/// Why a snapshot failed as a whole (partial failures are gaps in the evidence instead).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    // The I/O error is in the message, not also a `#[source]`: an error chain (`{:#}`) would print it twice.
    #[error("{0}: {1}")]
    Netlink(&'static str, std::io::Error),
    #[error("the kernel refused the inet_diag dump: {0}")]
    Refused(std::io::Error),
    #[error("malformed netlink reply: {0}")]
    Protocol(String),
    #[error("cannot enter network namespace {path}: {error}{hint}", path = .0.display(), error = .1, hint = netns_hint(.1))]
    Netns(PathBuf, std::io::Error),
    #[error("host evidence is only available on Linux")]
    Unsupported,
}

/// Which capability `setns(CLONE_NEWNET)` lacked, when it was refused (setns(2)).
fn netns_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        " (entering another network namespace needs CAP_SYS_ADMIN: run as root)"
    } else {
        ""
    }
}

/// What to gather, and where from (the roots are parameters so tests can use fixture trees).
#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// States to dump; the kernel filters them.
    pub states: Vec<KernelState>,
    /// States whose sockets also get `tcp_info` (idle times).
    pub info_states: Vec<KernelState>,
    /// States whose sockets get their owning processes looked up.
    pub owner_states: Vec<KernelState>,
    /// ESTABLISHED sockets idle this long (ms) without keepalive
    /// ([`lifecycle::kernel::SocketRecord::idle_without_keepalive`]) also get their owners looked up:
    /// the keepalive audit names them. `None`: not looked up.
    pub idle_owners_ms: Option<u64>,
    /// Dumps made side by side, each filling a [`sockdiag::PortBand`] of the table; 0: one per core,
    /// up to 4 (every dump walks the whole table, so more dumps than cores only add walks). At most
    /// [`MAX_DUMP_BANDS`].
    pub dump_bands: usize,
    /// Network namespace file to enter first (`/run/netns/NAME`, `/proc/<pid>/ns/net`).
    pub netns: Option<PathBuf>,
    pub proc_root: PathBuf,
    /// Counter files; `thread-self` so that a namespace thread reads its own namespace's counters.
    pub proc_net: PathBuf,
    pub sys_net: PathBuf,
    pub etc: PathBuf,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            states: KernelState::ALL.to_vec(),
            // CLOSE-WAIT: how long the peer's FIN has waited; ESTABLISHED: the keepalive audit.
            info_states: vec![KernelState::CloseWait, KernelState::Established],
            owner_states: NAMED_OWNERS.to_vec(),
            idle_owners_ms: Some(lifecycle::idle_timeouts::shortest().seconds * 1000),
            dump_bands: 0,
            netns: None,
            proc_root: PathBuf::from("/proc"),
            proc_net: PathBuf::from("/proc/thread-self/net"),
            sys_net: PathBuf::from("/proc/sys/net"),
            etc: PathBuf::from("/etc"),
        }
    }
}

/// The states whose owners a default snapshot looks up: those its findings and tables name (who holds
/// the CLOSE-WAIT sockets, who listens). The owners of the other sockets (`KernelState::WITH_FILES`)
/// are looked up only on request (`status -p`, as `ss -p`): they can cost a `readlink` of every fd on
/// the host.
pub const NAMED_OWNERS: [KernelState; 2] = [KernelState::CloseWait, KernelState::Listen];

/// Each band is a thread, a netlink socket and a walk of the whole table.
pub const MAX_DUMP_BANDS: usize = 64;

/// The namespace file for `--netns`: `NAME` (as created by `ip netns add NAME`, under `/run/netns`), or
/// a path such as `/proc/<pid>/ns/net`.
#[must_use]
pub fn netns_path(name_or_path: &str) -> PathBuf {
    if name_or_path.contains('/') {
        PathBuf::from(name_or_path)
    } else {
        std::path::Path::new("/run/netns").join(name_or_path)
    }
}

/// Takes one snapshot of the host (or of `options.netns`).
#[cfg(target_os = "linux")]
pub fn snapshot(options: &SnapshotOptions) -> Result<HostEvidence, HostError> {
    let netns = match &options.netns {
        Some(path) => owners::netns_inode(path),
        None => owners::netns_inode(std::path::Path::new("/proc/thread-self")),
    };
    // Processes and /etc belong to the host, whichever namespace the sockets live in; the fd scan runs
    // while the namespace's sockets are dumped.
    let wanted = owners::Wanted {
        states: &options.owner_states,
        idle_without_keepalive_ms: options.idle_owners_ms,
    };
    let mut evidence = owners::alongside(&options.proc_root, netns, &wanted, || {
        let options = options.clone();
        match &options.netns {
            Some(path) => netns::run_in(&path.clone(), move || namespace_part(&options)),
            None => namespace_part(&options),
        }
    })?;
    evidence.conf_lines = sysctl::scan_conf(&options.etc, &mut evidence.gaps);
    if options.netns.is_some() {
        // Some sysctls (tcp_max_orphans, ...) are global and only appear in the initial namespace.
        sysctl::fill_missing(&options.sys_net, &mut evidence.sysctls);
    }
    Ok(evidence)
}

/// Everything that must be read from inside the namespace: sockets, counters, sysctls, conntrack.
#[cfg(target_os = "linux")]
fn namespace_part(options: &SnapshotOptions) -> Result<HostEvidence, HostError> {
    let mask = |states: &[KernelState]| states.iter().fold(0u32, |m, s| m | s.mask_bit());
    let mut evidence = HostEvidence::default();
    evidence.sysctls = sysctl::read(&options.sys_net, &mut evidence.gaps);
    let parts = match options.dump_bands {
        0 => worker_threads(),
        n => n.min(MAX_DUMP_BANDS),
    };
    let bands = sockdiag::PortBand::split(ephemeral_ports(&evidence.sysctls), parts);
    let without_v6 = sockdiag::dump(
        mask(&options.states),
        mask(&options.info_states),
        &bands,
        &mut evidence.sockets,
    )?;
    if let Some(e) = without_v6 {
        evidence.gaps.push(lifecycle::kernel::Gap {
            what: "IPv6 sockets".into(),
            why: e.to_string(),
        });
    }
    evidence.counters = counters::read(&options.proc_net, &mut evidence.gaps);
    evidence.conntrack = conntrack::read(&options.sys_net, &options.proc_net, &mut evidence.gaps);
    Ok(evidence)
}

/// Threads for work that is spread over cores (dump bands, fd scans): one per core, up to 4. Every
/// dump walks the whole table, so more dumps than cores only add walks (BENCHMARKS.md).
#[cfg(target_os = "linux")]
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// `ip_local_port_range`, or the kernel's default when it cannot be read.
#[cfg(target_os = "linux")]
fn ephemeral_ports(sysctls: &lifecycle::kernel::Sysctls) -> (u16, u16) {
    let range = sysctls.get("ipv4/ip_local_port_range").and_then(|v| {
        let mut ports = v.split_whitespace().map(str::parse::<u16>);
        Some((ports.next()?.ok()?, ports.next()?.ok()?))
    });
    range.unwrap_or((32768, 60999))
}

/// Elsewhere there is no socket table to read.
#[cfg(not(target_os = "linux"))]
pub fn snapshot(_options: &SnapshotOptions) -> Result<HostEvidence, HostError> {
    Err(HostError::Unsupported)
}
