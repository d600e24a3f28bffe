//! One event from the kernel's TCP tracepoints, as plain data, and what a reset reason means in words.
//!
//! `host` decodes the tracepoints (`sock:inet_sock_set_state`, `tcp:tcp_send_reset`,
//! `tcp:tcp_receive_reset`, `tcp:tcp_retransmit_skb`) into [`KernelEvent`]s; `report` renders them.
//! Nothing here knows how the events were read.

use crate::kernel::Family;
use crate::segment::Timestamp;
use crate::state::State;
use std::net::SocketAddr;

/// The process an event ran on behalf of.
///
/// Only events raised in process context (a system call: `connect`, `close`, `shutdown`, `listen`, or
/// the socket's owner processing its backlog) name a meaningful process. Events raised in a softirq
/// (a segment arriving, a timer firing) carry whatever task the CPU happened to interrupt, so `host`
/// leaves the task out for them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Task {
    /// The thread id the kernel recorded (`common_pid`).
    pub pid: u32,
    /// `/proc/<pid>/comm` when it could be read (the process may already be gone). Any bytes: escape
    /// before printing.
    pub comm: Option<String>,
}

/// Which way a reset went, seen from this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// This host sent the RST (`tcp:tcp_send_reset`).
    Sent,
    /// This host received an acceptable RST (`tcp:tcp_receive_reset`).
    Received,
}

impl Direction {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// Why the kernel sent a reset: the number and the name from the running kernel's own table
/// (`enum sk_rst_reason`, `include/net/rstreason.h`, Linux ≥ 6.10), read from the tracepoint's format
/// file because the numbering changes between kernel versions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResetReason {
    pub code: u32,
    /// `NO_SOCKET`, `TCP_ABORT_ON_CLOSE`, ...; `None` when the number is not in the kernel's table.
    pub name: Option<String>,
}

impl ResetReason {
    /// The reason in plain words.
    #[must_use]
    pub fn words(&self) -> &'static str {
        self.name
            .as_deref()
            .map_or("reason number unknown to this kernel's table", reason_words)
    }
}

/// Plain words for a reset reason name of `include/net/rstreason.h`. The comments there, and where the
/// kernel passes each reason (`net/ipv4/tcp.c`, `tcp_input.c`, `tcp_minisocks.c`, `tcp_ipv4.c`), are
/// the source; names this table does not know are explained generically.
#[must_use]
pub fn reason_words(name: &str) -> &'static str {
    match name {
        "NOT_SPECIFIED" => "the kernel gave no specific reason",
        "NO_SOCKET" => "connection refused: no socket for this address",
        "TCP_INVALID_ACK_SEQUENCE" => "the ACK number was not acceptable in this state",
        "TCP_RFC7323_PAWS" => "the segment failed the timestamp check (PAWS, RFC 7323)",
        "TCP_TOO_OLD_ACK" => "the ACK acknowledged data older than the window",
        "TCP_ACK_UNSENT_DATA" => "the ACK acknowledged data that was never sent",
        "TCP_FLAGS" => "segment flags not acceptable in this state",
        "TCP_OLD_ACK" => "an old ACK arrived for a connection being set up",
        "TCP_ABORT_ON_DATA" => "data arrived after this side had closed (write after the peer closed)",
        "TCP_TIMEWAIT_SOCKET" => {
            "a segment reached a socket already closed (TIME-WAIT or orphaned FIN-WAIT-2): write after the peer closed"
        }
        "INVALID_SYN" => "an unexpected SYN on an established connection",
        "TCP_ABORT_ON_CLOSE" => "closed with unread data",
        "TCP_ABORT_ON_LINGER" => "orphaned FIN-WAIT-2 aborted (TCP_LINGER2 / tcp_fin_timeout)",
        "TCP_ABORT_ON_MEMORY" => "aborted: too many orphaned sockets or out of socket memory",
        "TCP_STATE" => "closed with SO_LINGER 0, or disconnected, in a state that requires a reset",
        "TCP_KEEPALIVE_TIMEOUT" => "keepalive probes went unanswered",
        "TCP_DISCONNECT_WITH_DATA" => "disconnected with unsent data in the send queue",
        "ERROR" => "an internal error",
        n if n.starts_with("MPTCP_") => "an MPTCP subflow reset",
        _ => "a reason this version of tcpdoctor does not describe",
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// `sock:inet_sock_set_state` for a TCP socket. Entering TIME-WAIT has no tracepoint: the full
    /// socket goes FIN-WAIT-2 (or CLOSING) → CLOSED as a TIME-WAIT mini socket takes its place.
    StateChange { old: State, new: State },
    /// `tcp:tcp_send_reset` / `tcp:tcp_receive_reset`. `state` is the socket's state when the reset was
    /// sent (`None` when no socket matched, as for a refused connection); `reason` is `None` for
    /// received resets and on kernels without reasons.
    Reset {
        direction: Direction,
        state: Option<State>,
        reason: Option<ResetReason>,
    },
    /// `tcp:tcp_retransmit_skb`: a segment was sent again.
    Retransmit { state: Option<State> },
}

impl EventKind {
    /// A short name for scripts: `state`, `reset`, `retransmit`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::StateChange { .. } => "state",
            EventKind::Reset { .. } => "reset",
            EventKind::Retransmit { .. } => "retransmit",
        }
    }
}

/// One kernel event about one TCP socket, addresses seen from this host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelEvent {
    pub time: Timestamp,
    pub cpu: u32,
    /// `None` when the event ran in interrupt context (see [`Task`]) or in the idle task.
    pub task: Option<Task>,
    pub family: Family,
    /// This host's end (port 0 before `connect` picked one).
    pub local: SocketAddr,
    /// The peer (unspecified for a listener).
    pub remote: SocketAddr,
    pub kind: EventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_reasons_in_words() {
        assert_eq!(
            reason_words("NO_SOCKET"),
            "connection refused: no socket for this address"
        );
        assert_eq!(reason_words("TCP_ABORT_ON_CLOSE"), "closed with unread data");
        assert!(reason_words("TCP_STATE").contains("SO_LINGER 0"));
        assert!(reason_words("MPTCP_RST_EMPTCP").contains("MPTCP"));
        let unknown = ResetReason { code: 99, name: None };
        assert!(unknown.words().contains("unknown"));
    }
}
