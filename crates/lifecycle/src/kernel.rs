//! What a Linux host reports about its TCP sockets, and the diagnosis built from it.
//!
//! Plain data, no I/O: `host` fills [`HostEvidence`] from netlink and `/proc`, `doctor` turns it into a
//! [`Diagnosis`], and `report` renders that. Keeping both ends here lets `doctor` and `report` stay
//! ignorant of how the evidence was gathered (and lets tests build evidence by hand).

use crate::state::State;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// A socket state as Linux numbers it (`include/net/tcp_states.h`).
///
/// Linux's names (`TIME_WAIT`) are shown where the kernel is the source; the RFC 9293 names
/// (`TIME-WAIT`) are the project's vocabulary. `NEW_SYN_RECV` is Linux's request socket: a
/// connection in SYN-RECEIVED that has no full socket yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum KernelState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
}

impl KernelState {
    /// Every state, in the kernel's numeric order.
    pub const ALL: [KernelState; 12] = [
        KernelState::Established,
        KernelState::SynSent,
        KernelState::SynRecv,
        KernelState::FinWait1,
        KernelState::FinWait2,
        KernelState::TimeWait,
        KernelState::Close,
        KernelState::CloseWait,
        KernelState::LastAck,
        KernelState::Listen,
        KernelState::Closing,
        KernelState::NewSynRecv,
    ];

    /// The states in which a process can hold the socket through a file: TIME-WAIT and request sockets
    /// are the kernel's alone (and so are orphans, in any state: their inode is 0). SYN-RECEIVED is here
    /// for TCP Fast Open, whose server sockets can be accepted before the handshake completes.
    pub const WITH_FILES: [KernelState; 9] = [
        KernelState::Established,
        KernelState::SynSent,
        KernelState::SynRecv,
        KernelState::FinWait1,
        KernelState::FinWait2,
        KernelState::CloseWait,
        KernelState::LastAck,
        KernelState::Listen,
        KernelState::Closing,
    ];

    /// The state for the kernel's `TCP_*` number (1 = `TCP_ESTABLISHED` … 12 = `TCP_NEW_SYN_RECV`).
    #[must_use]
    pub fn from_number(n: u8) -> Option<KernelState> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The kernel's `TCP_*` number.
    #[must_use]
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    /// This state's bit in an `inet_diag` request's state mask (`1 << TCP_*`).
    #[must_use]
    pub fn mask_bit(self) -> u32 {
        1 << self.number()
    }

    /// The kernel's name, as `ss` and `/proc/net/tcp` users know it.
    #[must_use]
    pub fn linux_name(self) -> &'static str {
        match self {
            KernelState::Established => "ESTABLISHED",
            KernelState::SynSent => "SYN_SENT",
            KernelState::SynRecv => "SYN_RECV",
            KernelState::FinWait1 => "FIN_WAIT1",
            KernelState::FinWait2 => "FIN_WAIT2",
            KernelState::TimeWait => "TIME_WAIT",
            KernelState::Close => "CLOSE",
            KernelState::CloseWait => "CLOSE_WAIT",
            KernelState::LastAck => "LAST_ACK",
            KernelState::Listen => "LISTEN",
            KernelState::Closing => "CLOSING",
            KernelState::NewSynRecv => "NEW_SYN_RECV",
        }
    }

    /// The bytes an application has not read, from a socket's Recv-Q in this state. inet_diag's Recv-Q
    /// is `rcv_nxt - copied_seq`: once the peer's FIN has arrived it counts the FIN's sequence number
    /// too, until the application reads the end of stream (so `ss` shows 1 for a CLOSE-WAIT socket
    /// with nothing unread). For a listener it is the accept queue, not bytes.
    #[must_use]
    pub fn unread_bytes(self, recv_q: u32) -> u32 {
        match self {
            KernelState::CloseWait | KernelState::LastAck | KernelState::Closing | KernelState::TimeWait => {
                recv_q.saturating_sub(1)
            }
            _ => recv_q,
        }
    }

    /// The RFC 9293 state this kernel state stands for (a request socket is SYN-RECEIVED).
    #[must_use]
    pub fn rfc_state(self) -> State {
        match self {
            KernelState::Established => State::Established,
            KernelState::SynSent => State::SynSent,
            KernelState::SynRecv | KernelState::NewSynRecv => State::SynReceived,
            KernelState::FinWait1 => State::FinWait1,
            KernelState::FinWait2 => State::FinWait2,
            KernelState::TimeWait => State::TimeWait,
            KernelState::Close => State::Closed,
            KernelState::CloseWait => State::CloseWait,
            KernelState::LastAck => State::LastAck,
            KernelState::Listen => State::Listen,
            KernelState::Closing => State::Closing,
        }
    }

    /// The RFC 9293 §3.3.2 name (`TIME-WAIT`), the project's vocabulary.
    #[must_use]
    pub fn rfc_name(self) -> &'static str {
        self.rfc_state().rfc_name()
    }

    /// Parses a Linux or RFC name, ignoring case and treating `-` and `_` alike
    /// (`time-wait`, `TIME_WAIT`, `fin-wait-1`, `FIN_WAIT1`, `syn-received`).
    #[must_use]
    pub fn parse(name: &str) -> Option<KernelState> {
        let squash = |s: &str| -> String {
            s.chars()
                .filter(|c| *c != '-' && *c != '_')
                .map(|c| c.to_ascii_uppercase())
                .collect()
        };
        let wanted = squash(name);
        if wanted == "SYNRECEIVED" {
            return Some(KernelState::SynRecv);
        }
        if wanted == "CLOSED" {
            return Some(KernelState::Close);
        }
        Self::ALL.into_iter().find(|s| squash(s.linux_name()) == wanted)
    }
}

/// Which address family a socket was dumped under (a v4-mapped IPv6 socket counts as IPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Family {
    V4,
    V6,
}

/// A process holding a socket open: one file descriptor of one process.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SocketOwner {
    pub pid: u32,
    /// `/proc/<pid>/comm`, as the kernel gives it (may contain any bytes: escape before printing).
    pub comm: String,
    pub fd: u32,
}

/// How long a socket has been quiet, from `tcp_info` (only present when it was asked for).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub struct TcpIdle {
    /// Milliseconds since data last arrived (`tcpi_last_data_recv`).
    pub last_data_recv_ms: u32,
    /// Milliseconds since an ACK last arrived (`tcpi_last_ack_recv`).
    pub last_ack_recv_ms: u32,
    /// Milliseconds since data was last sent (`tcpi_last_data_sent`; retransmissions do not count).
    pub last_data_sent_ms: u32,
}

impl TcpIdle {
    /// Milliseconds since anything went over the connection, as a device on the path sees it: the
    /// least of the three. The last ACK counts because a peer's keepalive probes (or window updates)
    /// arrive as bare ACKs, and they refresh a middlebox's idle timer as data does.
    #[must_use]
    pub fn quiet_ms(self) -> u32 {
        self.last_data_recv_ms
            .min(self.last_data_sent_ms)
            .min(self.last_ack_recv_ms)
    }
}

/// The timer `inet_diag` reports for a socket (`idiag_timer`, `net/ipv4/inet_diag.c`), as `ss -o`
/// names it (`timer:(keepalive,...)`). Only one is reported even when several are armed: the
/// retransmission timer hides the keepalive timer while data is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketTimer {
    /// 0: nothing armed; an idle connection sends nothing until the application writes.
    #[default]
    Off,
    /// 1 (`on`): retransmission, loss probe or reordering timer; a request socket's SYN-ACK timer.
    Retransmit,
    /// 2: `sk_timer`, which for an ESTABLISHED socket is the keepalive timer (armed by SO_KEEPALIVE);
    /// for an orphaned FIN-WAIT-2 socket, its FIN-WAIT-2 timer.
    Keepalive,
    /// 3: a timewait socket's timer.
    TimeWait,
    /// 4 (`persist`): the zero-window probe timer.
    ZeroWindowProbe,
    /// A value this build does not know.
    Unknown,
}

/// One TCP socket as `inet_diag` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocketRecord {
    pub family: Family,
    pub state: KernelState,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// Unread bytes; for a listener, the connections waiting in its accept queue.
    pub recv_q: u32,
    /// Unacknowledged bytes; for a listener, its backlog (the accept queue's limit).
    pub send_q: u32,
    pub uid: u32,
    /// 0 for sockets no file refers to (TIME-WAIT, request sockets, orphans).
    pub inode: u64,
    /// The kernel's identity of the socket (`idiag_cookie`, `sock_gen_cookie`): unique on the host
    /// since boot, and kept by the TIME-WAIT socket that replaces a connection's socket, where the
    /// state, the inode and even the 4-tuple (reused) are not identities. 0: not known (fixtures).
    pub cookie: u64,
    /// For a socket the kernel keeps as a timewait socket, the milliseconds it has left before it is
    /// freed: TIME-WAIT (which starts at 60,000, `TCP_TIMEWAIT_LEN`) and orphaned FIN-WAIT-2 sockets
    /// the kernel turned into ones (`tcp_fin_timeout`).
    pub expires_in_ms: Option<u32>,
    pub timer: SocketTimer,
    pub idle: Option<TcpIdle>,
    /// Empty when no process holds it, or when owners were not looked up (see [`HostEvidence::owners`]).
    pub owners: Vec<SocketOwner>,
}

impl SocketRecord {
    /// A socket with nothing queued, no timer, no owner looked up, no `tcp_info`: what a rule or a view
    /// is given before the fields it looks at are set (tests, fixtures).
    #[must_use]
    pub fn new(state: KernelState, local: SocketAddr, remote: SocketAddr) -> SocketRecord {
        SocketRecord {
            family: if local.is_ipv4() { Family::V4 } else { Family::V6 },
            state,
            local,
            remote,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 0,
            cookie: 0,
            expires_in_ms: None,
            timer: SocketTimer::Off,
            idle: None,
            owners: Vec::new(),
        }
    }

    /// An ESTABLISHED connection a process holds, with no timer armed (so no keepalive probe will be
    /// sent) and nothing sent or received for at least `ms` (`tcp_info`): one that a NAT, firewall or
    /// load balancer on the path may already have forgotten. Connections not yet accepted (no file,
    /// inode 0) are left out: no application has had a chance to use them, the accept queue is the
    /// question there.
    #[must_use]
    pub fn idle_without_keepalive(&self, ms: u64) -> bool {
        self.state == KernelState::Established
            && self.inode != 0
            && self.timer == SocketTimer::Off
            && self.idle.is_some_and(|i| u64::from(i.quiet_ms()) >= ms)
    }
}

/// Counters since boot, keyed `Section.Name`: `TcpExt.ListenOverflows` (`/proc/net/netstat`),
/// `Tcp.OutRsts` (`/proc/net/snmp`), `sockstat.TCP.tw` and `sockstat6.TCP6.inuse`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Counters(pub BTreeMap<String, i64>);

impl Counters {
    #[must_use]
    pub fn get(&self, key: &str) -> Option<i64> {
        self.0.get(key).copied()
    }
}

/// Sysctl values keyed by their path under `/proc/sys/net` (`ipv4/tcp_tw_reuse`, `core/somaxconn`),
/// whitespace-trimmed. Absent keys were not present on this kernel or could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Sysctls(pub BTreeMap<String, String>);

impl Sysctls {
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value as one integer (most TCP sysctls).
    #[must_use]
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key)?.parse().ok()
    }
}

/// A line of `/etc/sysctl.conf` or `/etc/sysctl.d/*.conf` that sets a key worth auditing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfLine {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// Evidence that could not be gathered, and why: shown so that an absence is never read as "all well".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub what: String,
    pub why: String,
}

/// Whether socket owners were looked up, and for which states.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct OwnerLookup {
    pub states: Vec<KernelState>,
    /// Sockets in those states with an inode for which no process was found (unreadable `/proc/<pid>/fd`,
    /// or the process closed it between the dump and the scan).
    pub unresolved: usize,
}

/// The netfilter connection tracking table (`nf_conntrack`), as the namespace it was read in sees it.
///
/// On Linux up to at least 6.18, in a network namespace other than the initial one,
/// `nf_conntrack_count`, the counters of `/proc/net/stat/nf_conntrack` and the TCP timeouts are that
/// namespace's own, while `nf_conntrack_max` is the host's (read-only there): the kernel holds each
/// namespace's own count against that one limit (`__nf_conntrack_alloc`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Conntrack {
    /// `nf_conntrack_count`: entries in this namespace's table.
    pub entries: Option<u64>,
    /// `nf_conntrack_max`: past it, a new connection's first packet evicts an entry that has not yet
    /// seen traffic both ways (`early_drop`), or is dropped (`drop`).
    pub max: Option<u64>,
    /// `nf_conntrack_max` is read-only here: its value is the initial namespace's, held against each
    /// namespace's own count (how a non-initial namespace looks), and cannot be changed from this one.
    pub max_host_wide: bool,
    /// `/proc/net/stat/nf_conntrack`, each column summed over the CPUs' rows and keyed by the kernel's
    /// name for it (`drop`, `early_drop`, `insert_failed`, ...). Its `entries` column is left out: it is
    /// the count above, repeated on every row, not a per-CPU counter.
    pub stats: BTreeMap<String, u64>,
    /// The `nf_conntrack_tcp_timeout_*` sysctls in seconds, keyed by what follows that prefix
    /// (`established`, `time_wait`, `close_wait`, ...).
    pub tcp_timeouts: BTreeMap<String, u64>,
}

impl Conntrack {
    /// The share of `nf_conntrack_max` in use, in percent.
    #[must_use]
    pub fn used_pct(&self) -> Option<f64> {
        match (self.entries, self.max) {
            (Some(n), Some(max)) if max > 0 => Some(n as f64 * 100.0 / max as f64),
            _ => None,
        }
    }

    /// One summed counter of `/proc/net/stat/nf_conntrack`, 0 when this kernel has no such column.
    #[must_use]
    pub fn stat(&self, name: &str) -> u64 {
        self.stats.get(name).copied().unwrap_or(0)
    }
}

/// Everything `host` gathered in one snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct HostEvidence {
    pub sockets: Vec<SocketRecord>,
    pub counters: Counters,
    pub sysctls: Sysctls,
    /// `None`: nf_conntrack is not loaded (no connection tracking at all).
    pub conntrack: Option<Conntrack>,
    pub conf_lines: Vec<ConfLine>,
    pub owners: OwnerLookup,
    pub gaps: Vec<Gap>,
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// Something wrong (or worth knowing), with the numbers it rests on, why it happens, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier for scripts (`close-wait-holder`, `tw-recycle-configured`, ...).
    pub code: &'static str,
    /// One line with the numbers: "java (pid 4121) holds 3210 CLOSE-WAIT sockets to 10.0.3.7:8080".
    pub summary: String,
    pub evidence: Vec<String>,
    pub explanation: String,
    pub next_step: String,
}

/// Sockets in one state, per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StateCount {
    pub state: KernelState,
    pub v4: u64,
    pub v6: u64,
}

/// TIME-WAIT sockets towards one peer: a remote endpoint when this host was the client, or the
/// clients at one IP of one listening port when this host was the server (their ports all differ).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RemoteCount {
    pub remote_ip: IpAddr,
    /// The remote port when this host was the client.
    pub remote_port: Option<u16>,
    /// The listening port when this host was the server.
    pub local_port: Option<u16>,
    pub count: u64,
}

/// TIME-WAIT sockets on one local port, and which side closed first there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocalPortCount {
    pub port: u16,
    pub count: u64,
    /// This host was the server on this port (a listener holds it, or it lies outside the ephemeral
    /// range while the peers' ports lie inside) and closed first. Otherwise this host, as a client on
    /// an ephemeral port, closed first.
    pub server: bool,
}

/// Local ports in use towards one (local IP, remote IP, remote port): each such triple can have at
/// most as many connections as the ephemeral range holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortUse {
    pub local_ip: IpAddr,
    pub remote: SocketAddr,
    pub time_wait: u64,
    pub total: u64,
    pub range_size: Option<u64>,
}

/// The TIME-WAIT picture.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct TimeWaitSummary {
    pub total: u64,
    /// On a listening local port: this host, as the server, closed first.
    pub closed_first_as_server: u64,
    /// On an ephemeral local port: this host, as the client, closed first.
    pub closed_first_as_client: u64,
    pub by_remote: Vec<RemoteCount>,
    pub by_local_port: Vec<LocalPortCount>,
    pub port_use: Vec<PortUse>,
    pub max_tw_buckets: Option<i64>,
    pub overflow_since_boot: Option<i64>,
    /// The least and the most time any TIME-WAIT socket has left, in ms (from the kernel's timer):
    /// each entered TIME-WAIT about 60 s before its end, so this dates the oldest and the newest close
    /// (about: the timer starts again when a segment of the old connection arrives).
    pub left_ms: Option<(u32, u32)>,
}

/// CLOSE-WAIT sockets held by one process towards one peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CloseWaitGroup {
    /// `None`: no owner found (see [`Diagnosis::gaps`]).
    pub pid: Option<u32>,
    pub comm: Option<String>,
    pub peer_ip: IpAddr,
    /// The peer's port when this host is the client; `None` when the peers are clients of
    /// [`CloseWaitGroup::local_port`] (their ports are ephemeral and differ).
    pub peer_port: Option<u16>,
    /// The listening port when this host is the server.
    pub local_port: Option<u16>,
    pub count: u64,
    pub unread_bytes: u64,
    /// The longest `tcpi_last_data_recv` among them, when `tcp_info` was asked for.
    pub max_idle_ms: Option<u64>,
    pub fds: Vec<u32>,
}

/// ESTABLISHED connections one process holds towards one peer, idle without keepalive
/// ([`SocketRecord::idle_without_keepalive`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdleGroup {
    /// `None`: no owner found (see [`Diagnosis::gaps`]).
    pub pid: Option<u32>,
    pub comm: Option<String>,
    pub peer_ip: IpAddr,
    /// The peer's port when this host is the client; `None` when the peers are clients of
    /// [`IdleGroup::local_port`].
    pub peer_port: Option<u16>,
    /// The listening port when this host is the server.
    pub local_port: Option<u16>,
    pub count: u64,
    /// The longest time any of them has been silent ([`TcpIdle::quiet_ms`]).
    pub max_idle_ms: u64,
    pub fds: Vec<u32>,
}

/// TCP keepalive as configured, and the ESTABLISHED connections that go without it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct KeepaliveAudit {
    /// `net.ipv4.tcp_keepalive_time`: seconds of silence before the first probe, for sockets that set
    /// SO_KEEPALIVE without their own TCP_KEEPIDLE.
    pub time_s: Option<i64>,
    /// `net.ipv4.tcp_keepalive_intvl`: seconds between unanswered probes.
    pub intvl_s: Option<i64>,
    /// `net.ipv4.tcp_keepalive_probes`: unanswered probes before the connection is dropped.
    pub probes: Option<i64>,
    /// Silence (ms) past which a connection without keepalive is reported: by default the shortest
    /// idle timeout in [`crate::idle_timeouts::IDLE_TIMEOUTS`].
    pub idle_threshold_ms: u64,
    /// ESTABLISHED sockets in the table.
    pub established: u64,
    /// Of those, the ones with the keepalive timer armed (`idiag_timer` 2).
    pub keepalive_armed: u64,
    /// Of those, the ones held by a process, silent for at least `idle_threshold_ms`, with no timer.
    pub idle_without_keepalive: u64,
    /// `idle_without_keepalive` by process and peer, most first.
    pub groups: Vec<IdleGroup>,
}

/// One listening socket's accept queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListenerUse {
    pub local: SocketAddr,
    pub queued: u32,
    pub backlog: u32,
    /// Half-open connections to this listener's port (SYN-RECEIVED: the client's final ACK is awaited).
    pub syn_recv: u64,
    pub owners: Vec<SocketOwner>,
}

/// The sockets one process holds, per state: "who owns it" for the whole table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessSockets {
    pub pid: u32,
    pub comm: String,
    pub total: u64,
    /// Linux state name → count.
    pub states: BTreeMap<&'static str, u64>,
}

/// Sockets no process holds (inode 0: TIME-WAIT, orphans, connections not yet accepted), per state.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct KernelHeld {
    pub total: u64,
    pub states: BTreeMap<&'static str, u64>,
}

/// A counter with its meaning in one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CounterLine {
    pub name: String,
    pub value: Option<i64>,
    pub meaning: &'static str,
}

/// One audited sysctl: its value, and what it means here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SysctlLine {
    pub name: String,
    pub value: Option<String>,
    pub ok: bool,
    pub note: String,
}

/// What `doctor` concluded from one [`HostEvidence`]; what `report` renders.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct Diagnosis {
    /// Most severe first. Empty means all is well.
    pub findings: Vec<Finding>,
    /// Every state, in kernel order, zeros included.
    pub states: Vec<StateCount>,
    pub time_wait: TimeWaitSummary,
    pub close_wait: Vec<CloseWaitGroup>,
    pub listeners: Vec<ListenerUse>,
    /// Processes holding the most sockets, most first.
    pub processes: Vec<ProcessSockets>,
    pub kernel_held: KernelHeld,
    /// Sockets with a file whose owner was not found (see `gaps` for why).
    pub owners_unresolved: usize,
    /// The states whose owners were looked up (`processes` counts only sockets in these).
    pub owner_states: Vec<KernelState>,
    /// Orphaned full sockets (`sockstat` TCP orphan), which `tcp_max_orphans` limits.
    pub orphans: Option<i64>,
    pub max_orphans: Option<i64>,
    /// Orphaned FIN-WAIT-2 sockets the kernel keeps as timewait sockets instead (when
    /// `tcp_fin_timeout` is at most 60 s): not among `orphans`; they count against
    /// `tcp_max_tw_buckets`.
    pub fin_wait2_timewait: u64,
    pub counters: Vec<CounterLine>,
    pub sysctls: Vec<SysctlLine>,
    pub keepalive: KeepaliveAudit,
    /// `None`: nf_conntrack is not loaded.
    pub conntrack: Option<Conntrack>,
    pub gaps: Vec<Gap>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_in_kernel_order() {
        for (i, s) in KernelState::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(s.number()), i + 1);
            assert_eq!(KernelState::from_number(s.number()), Some(s));
        }
        assert_eq!(KernelState::from_number(0), None);
        assert_eq!(KernelState::from_number(13), None);
        assert_eq!(KernelState::TimeWait.number(), 6);
        assert_eq!(KernelState::TimeWait.mask_bit(), 1 << 6);
    }

    #[test]
    fn parses_linux_and_rfc_names() {
        assert_eq!(KernelState::parse("TIME_WAIT"), Some(KernelState::TimeWait));
        assert_eq!(KernelState::parse("time-wait"), Some(KernelState::TimeWait));
        assert_eq!(KernelState::parse("fin-wait-1"), Some(KernelState::FinWait1));
        assert_eq!(KernelState::parse("syn-received"), Some(KernelState::SynRecv));
        assert_eq!(KernelState::parse("closed"), Some(KernelState::Close));
        assert_eq!(KernelState::parse("bogus"), None);
    }

    #[test]
    fn rfc_names_use_hyphens() {
        assert_eq!(KernelState::CloseWait.rfc_name(), "CLOSE-WAIT");
        assert_eq!(KernelState::NewSynRecv.rfc_name(), "SYN-RECEIVED");
        assert_eq!(KernelState::CloseWait.linux_name(), "CLOSE_WAIT");
    }
}
