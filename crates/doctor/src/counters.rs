//! Reset and abort counters since boot, each with what it counts (from the kernel source, not the
//! MIB's terse names).

use lifecycle::kernel::{CounterLine, Counters};

const MEANINGS: &[(&str, &str)] = &[
    (
        "Tcp.EstabResets",
        "connections reset while ESTABLISHED or CLOSE-WAIT",
    ),
    ("Tcp.OutRsts", "segments sent with RST"),
    (
        "Tcp.AttemptFails",
        "connection attempts that failed (SYN-SENT/SYN-RECEIVED to CLOSED)",
    ),
    (
        "TcpExt.TCPAbortOnData",
        "RST sent: data arrived after this side closed, or close() with SO_LINGER 0",
    ),
    (
        "TcpExt.TCPAbortOnClose",
        "RST sent instead of FIN: the application closed with unread data (seed §7)",
    ),
    (
        "TcpExt.TCPAbortOnLinger",
        "RST sent: an orphaned FIN-WAIT-2 outlived tcp_fin_timeout/TCP_LINGER2",
    ),
    (
        "TcpExt.TCPAbortOnTimeout",
        "connections dropped after retransmissions or keepalive probes went unanswered",
    ),
    (
        "TcpExt.TCPAbortOnMemory",
        "connections reset for lack of memory or too many orphans (tcp_max_orphans)",
    ),
    ("TcpExt.TW", "TIME-WAIT sockets that ran their 60 s and ended"),
    (
        "TcpExt.TWRecycled",
        "TIME-WAIT ports reused by new outgoing connections (tcp_tw_reuse)",
    ),
    (
        "TcpExt.TWKilled",
        "TIME-WAIT sockets ended on a shortened timer (4 s or less) instead of 60 s",
    ),
    (
        "TcpExt.TCPTimeWaitOverflow",
        "closes that skipped TIME-WAIT because tcp_max_tw_buckets was reached",
    ),
    (
        "TcpExt.ListenOverflows",
        "completed handshakes dropped because an accept queue was full",
    ),
    (
        "TcpExt.ListenDrops",
        "SYNs or final ACKs dropped at a listener (includes ListenOverflows)",
    ),
    (
        "TcpExt.SyncookiesSent",
        "SYN-ACKs answered with a syncookie because a SYN queue was full",
    ),
    (
        "TcpExt.TCPReqQFullDrop",
        "SYNs dropped because a SYN queue was full and syncookies were off",
    ),
];

pub fn lines(counters: &Counters) -> Vec<CounterLine> {
    MEANINGS
        .iter()
        .map(|(name, meaning)| CounterLine {
            name: (*name).to_string(),
            value: counters.get(name),
            meaning,
        })
        .collect()
}
