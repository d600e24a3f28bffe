//! The seed's situations, each as a short script of what the client and the server do, in order. Real
//! kernel sockets do the work (`play.rs`); nothing here describes a packet.

use lifecycle::{Cause, Closer, Side};

/// Who does a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Client,
    Server,
    /// The lab itself: a sysctl, a pause, a snapshot of the socket table.
    Lab,
}

impl Who {
    pub fn name(self) -> &'static str {
        match self {
            Who::Client => "client",
            Who::Server => "server",
            Who::Lab => "lab",
        }
    }
}

/// One thing a side does. A server's step acts on the connection it accepted last, or on its listener
/// before it has accepted one; a client's on the connection it opened last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// `listen(backlog)` on the lab's server address.
    Listen { backlog: i32 },
    /// `connect()`, waiting for the handshake (at most [`super::play::CONNECT_TIMEOUT`]).
    Connect,
    /// `connect()` to a port nobody listens on.
    ConnectClosedPort,
    /// `accept()`.
    Accept,
    /// `send()` of this many bytes.
    Send(usize),
    /// `recv()` of whatever has arrived (waiting a little for it): the bytes, end of stream, or an error.
    Recv,
    /// `shutdown(SHUT_WR)`: a FIN, and the socket can still read (seed §4).
    ShutdownWrite,
    /// `close()`.
    Close,
    /// `setsockopt(SO_LINGER, {on, 0})`: the next close sends RST (seed §7 correction).
    LingerZero,
    /// A socket filter on the socket that drops every segment arriving (`true`), or none (`false`): as a
    /// firewall's DROP rule would, but only for this socket.
    DropArriving(bool),
    /// Time for the segments in flight (and retransmissions) to happen, in milliseconds.
    Wait(u64),
    /// Take a snapshot of the socket table (and counters) now, under this label.
    Snapshot(&'static str),
    /// Write a sysctl inside the lab's namespace (`net.ipv4.tcp_tw_reuse` and friends are per namespace).
    Sysctl(&'static str, &'static str),
    /// This many short connections, each closed by the client first (the seed's crawler, §5).
    Churn(u32),
    /// This many `connect()`s left pending (non-blocking).
    ConnectPending(u32),
}

/// One step of a scenario, with why it is there.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub who: Who,
    pub act: Act,
}

const fn c(act: Act) -> Step {
    Step {
        who: Who::Client,
        act,
    }
}
const fn s(act: Act) -> Step {
    Step {
        who: Who::Server,
        act,
    }
}
const fn lab(act: Act) -> Step {
    Step { who: Who::Lab, act }
}

/// What must come out of a scenario, known before it runs: the packets' verdict on its first
/// connection, the kernel's reset reason, and the errors the application sees.
#[derive(Clone, Copy, Debug)]
pub struct Truth {
    /// Which connection the verdict is about.
    pub subject: Subject,
    pub cause: Cause,
    pub closer: Closer,
    pub reset_by: Option<Side>,
    /// The kernel's reason for the reset it sent (`enum sk_rst_reason`); `None`: any or no reset.
    pub reason: Option<&'static str>,
    /// A step's result that must appear: (who, an errno name such as `ECONNRESET`).
    pub errors: &'static [(Who, &'static str)],
    /// A socket-table snapshot label, and the state the given side must be in there.
    pub table: Option<(&'static str, Side, &'static str)>,
    /// A kernel counter (`/proc/net/netstat`) that must rise between the first and the last snapshot.
    pub counter_rises: Option<&'static str>,
}

/// The connection a scenario's verdict is about, in the order the capture saw them start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    First,
    Last,
}

/// One of the seed's situations.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    /// The seed section it shows (`shared/seed/SEED-NOTES.md`).
    pub seed: &'static str,
    pub title: &'static str,
    /// What happens and why, in the seed's words.
    pub story: &'static str,
    pub steps: &'static [Step],
    pub truth: Truth,
}

/// A truth with nothing in it but a graceful close by the client: each scenario says how it differs.
const TRUTH: Truth = Truth {
    subject: Subject::First,
    cause: Cause::Graceful,
    closer: Closer::Client,
    reset_by: None,
    reason: None,
    errors: &[],
    table: None,
    counter_rises: None,
};

pub const ALL: &[Scenario] = &[
    Scenario {
        name: "handshake",
        seed: "§2",
        title: "the three-way handshake",
        story: "The client's SYN carries its initial sequence number x; the server answers SYN+ACK with \
                its own y and ack=x+1; the client's ACK=y+1 completes it. The client goes SYN-SENT -> \
                ESTABLISHED, the server SYN-RECEIVED -> ESTABLISHED, before accept() is even called.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            lab(Act::Snapshot("after connect, before accept")),
            s(Act::Accept),
            c(Act::Close),
            s(Act::Close),
            lab(Act::Wait(20)),
        ],
        truth: Truth {
            table: Some(("after connect, before accept", Side::Server, "ESTABLISHED")),
            ..TRUTH
        },
    },
    Scenario {
        name: "close-client-first",
        seed: "§3, §5",
        title: "the four-way close, client first",
        story: "The client closes first: its FIN takes it to FIN-WAIT-1, the server's ACK to FIN-WAIT-2 \
                while the server sits in CLOSE-WAIT until its application closes; the server's FIN \
                (LAST-ACK) and the client's last ACK leave the client in TIME-WAIT for 60 s. The side \
                that closes first holds TIME-WAIT.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Send(100)),
            s(Act::Recv),
            c(Act::Close),
            lab(Act::Wait(20)),
            lab(Act::Snapshot("after the client's FIN")),
            s(Act::Recv),
            s(Act::Close),
            lab(Act::Wait(20)),
            lab(Act::Snapshot("after both closed")),
        ],
        truth: Truth {
            table: Some(("after both closed", Side::Client, "TIME-WAIT")),
            ..TRUTH
        },
    },
    Scenario {
        name: "close-server-first",
        seed: "§3, §5",
        title: "the four-way close, server first",
        story: "The server answers and closes first (as an HTTP/1.0 server does): now the server goes \
                FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT and the client passes through CLOSE-WAIT. A \
                server that closes first collects the TIME-WAIT sockets.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Send(40)),
            s(Act::Recv),
            s(Act::Send(200)),
            s(Act::Close),
            lab(Act::Wait(20)),
            lab(Act::Snapshot("after the server's FIN")),
            c(Act::Recv),
            c(Act::Recv),
            c(Act::Close),
            lab(Act::Wait(20)),
            lab(Act::Snapshot("after both closed")),
        ],
        truth: Truth {
            closer: Closer::Server,
            table: Some(("after both closed", Side::Server, "TIME-WAIT")),
            ..TRUTH
        },
    },
    Scenario {
        name: "simultaneous-close",
        seed: "§3 (correction)",
        title: "simultaneous close",
        story: "Both sides send FIN before either has received the other's: each goes FIN-WAIT-1 -> \
                CLOSING -> TIME-WAIT, and both hold TIME-WAIT. To make the FINs cross on loopback, the \
                server's socket drops what arrives while both FINs are sent, then the retransmissions \
                finish the close.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            s(Act::DropArriving(true)),
            c(Act::ShutdownWrite),
            s(Act::ShutdownWrite),
            s(Act::DropArriving(false)),
            lab(Act::Wait(700)),
            lab(Act::Snapshot("after the retransmissions")),
            c(Act::Close),
            s(Act::Close),
        ],
        truth: Truth {
            closer: Closer::Both,
            table: Some(("after the retransmissions", Side::Client, "TIME-WAIT")),
            ..TRUTH
        },
    },
    Scenario {
        name: "half-close",
        seed: "§4",
        title: "half-close: why closing takes four segments",
        story: "The client sends its request and shuts down its sending side (FIN), but keeps reading: \
                the server reads to the end, still sends its answer on the half-open connection, then \
                closes. The server's FIN waits for its application, which is why the close takes four \
                segments where the handshake takes three.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Send(20)),
            c(Act::ShutdownWrite),
            s(Act::Recv),
            s(Act::Recv),
            s(Act::Send(500)),
            s(Act::Close),
            c(Act::Recv),
            c(Act::Recv),
            c(Act::Close),
            lab(Act::Wait(20)),
        ],
        truth: TRUTH,
    },
    Scenario {
        name: "time-wait-pileup",
        seed: "§5",
        title: "TIME-WAIT piles up at the side that closes first",
        story: "A crawler opens many short connections and closes each first, so every one leaves a \
                TIME-WAIT socket for 60 s holding its local port. With the port range cut to 100 ports \
                and tcp_tw_reuse=0, the 101st connect fails with EADDRNOTAVAIL; with tcp_tw_reuse=1 \
                (outgoing connections only, timestamps on, the TIME-WAIT at least 1 s old) connect \
                takes over a TIME-WAIT port. tcp_tw_recycle, which the seed recommends, was removed in \
                Linux 4.12.",
        steps: &[
            lab(Act::Sysctl("ipv4/ip_local_port_range", "50000 50099")),
            lab(Act::Sysctl("ipv4/tcp_tw_reuse", "0")),
            s(Act::Listen { backlog: 128 }),
            c(Act::Churn(100)),
            lab(Act::Wait(20)),
            c(Act::Connect),
            lab(Act::Snapshot("after 100 short connections")),
            lab(Act::Sysctl("ipv4/tcp_tw_reuse", "1")),
            lab(Act::Wait(1100)),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Close),
            s(Act::Close),
            lab(Act::Wait(20)),
        ],
        truth: Truth {
            errors: &[(Who::Client, "EADDRNOTAVAIL")],
            table: Some(("after 100 short connections", Side::Client, "TIME-WAIT")),
            ..TRUTH
        },
    },
    Scenario {
        name: "close-wait-leak",
        seed: "§6",
        title: "CLOSE-WAIT: the peer closed, this program never did",
        story: "The client closes; the server's kernel ACKs the FIN and the socket waits in CLOSE-WAIT \
                for its application to call close(), which it never does (an error path that forgets \
                to release the connection). Only the program can end it: the socket table names the \
                process holding it and the bytes it never read.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Send(6)),
            c(Act::Close),
            lab(Act::Wait(50)),
            lab(Act::Snapshot("while CLOSE-WAIT is held")),
        ],
        truth: Truth {
            cause: Cause::CloseWait,
            table: Some(("while CLOSE-WAIT is held", Side::Server, "CLOSE-WAIT")),
            ..TRUTH
        },
    },
    Scenario {
        name: "reset-unread",
        seed: "§7",
        title: "\"connection reset\": closed with unread data",
        story: "The client sends a request; the server closes without reading it. With data left in \
                its receive queue, Linux sends RST instead of FIN (TCPAbortOnClose), and the client's \
                next read fails with ECONNRESET.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Send(28)),
            lab(Act::Wait(10)),
            s(Act::Close),
            lab(Act::Wait(10)),
            c(Act::Recv),
        ],
        truth: Truth {
            cause: Cause::Abort,
            closer: Closer::None,
            reset_by: Some(Side::Server),
            reason: Some("TCP_ABORT_ON_CLOSE"),
            errors: &[(Who::Client, "ECONNRESET")],
            ..TRUTH
        },
    },
    Scenario {
        name: "reset-by-peer",
        seed: "§8",
        title: "\"connection reset by peer\": a write after the peer closed",
        story: "The client gives up (its timeout) and closes; the server's slow handler then writes its \
                answer. The client's socket is gone (an orphaned FIN-WAIT-2, now a TIME-WAIT mini \
                socket), so its kernel answers the data with RST. The server's next write fails: \
                EPIPE on Linux, because the reset found it in CLOSE-WAIT; a side still in ESTABLISHED \
                gets ECONNRESET, \"connection reset by peer\" (as in reset-unread).",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::Close),
            lab(Act::Wait(10)),
            s(Act::Send(100)),
            lab(Act::Wait(10)),
            s(Act::Send(100)),
            s(Act::Send(100)),
        ],
        truth: Truth {
            cause: Cause::ResetAfterClose,
            reset_by: Some(Side::Client),
            reason: Some("TCP_TIMEWAIT_SOCKET"),
            errors: &[(Who::Server, "EPIPE")],
            ..TRUTH
        },
    },
    Scenario {
        name: "linger-zero",
        seed: "§7 (correction)",
        title: "SO_LINGER 0: close by reset",
        story: "The client sets SO_LINGER to {on, 0} and closes: no FIN, no TIME-WAIT, an immediate \
                RST (the kernel's reason TCP_STATE). Programs do this to avoid TIME-WAIT; the peer \
                sees ECONNRESET.",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            c(Act::Connect),
            s(Act::Accept),
            c(Act::LingerZero),
            c(Act::Close),
            lab(Act::Wait(10)),
            s(Act::Recv),
        ],
        truth: Truth {
            cause: Cause::Abort,
            closer: Closer::None,
            reset_by: Some(Side::Client),
            reason: Some("TCP_STATE"),
            errors: &[(Who::Server, "ECONNRESET")],
            ..TRUTH
        },
    },
    Scenario {
        name: "refused",
        seed: "§2 (correction)",
        title: "connection refused",
        story: "Nobody listens on the port: the server's kernel answers the SYN with RST (reason \
                NO_SOCKET) and connect() fails with ECONNREFUSED.",
        steps: &[c(Act::ConnectClosedPort), lab(Act::Wait(10))],
        truth: Truth {
            cause: Cause::Refused,
            closer: Closer::None,
            reset_by: Some(Side::Server),
            reason: Some("NO_SOCKET"),
            errors: &[(Who::Client, "ECONNREFUSED")],
            ..TRUTH
        },
    },
    Scenario {
        name: "unanswered-syn",
        seed: "§2 (correction)",
        title: "an unanswered SYN",
        story: "Something between drops the SYN (here a socket filter on the listener, as a firewall's \
                DROP rule would): the client retransmits it after 1 s, doubling the wait each time, \
                until connect() gives up (ETIMEDOUT; here TCP_USER_TIMEOUT cuts it to 1.5 s).",
        steps: &[
            s(Act::Listen { backlog: 16 }),
            s(Act::DropArriving(true)),
            c(Act::Connect),
            lab(Act::Wait(10)),
        ],
        truth: Truth {
            cause: Cause::Unanswered,
            closer: Closer::None,
            errors: &[(Who::Client, "ETIMEDOUT")],
            ..TRUTH
        },
    },
    Scenario {
        name: "syn-backlog-overflow",
        seed: "§2, §5",
        title: "a full accept queue drops SYNs",
        story: "The server listens with a backlog of 1 and never calls accept(): two connections fill \
                the accept queue, and the kernel drops the next SYNs (ListenOverflows, ListenDrops) \
                instead of answering, so those clients retransmit their SYNs.",
        steps: &[
            lab(Act::Snapshot("before")),
            s(Act::Listen { backlog: 1 }),
            c(Act::ConnectPending(4)),
            lab(Act::Wait(1300)),
            lab(Act::Snapshot("with the accept queue full")),
        ],
        truth: Truth {
            subject: Subject::Last,
            cause: Cause::Unanswered,
            closer: Closer::None,
            counter_rises: Some("TcpExt.ListenOverflows"),
            ..TRUTH
        },
    },
];
