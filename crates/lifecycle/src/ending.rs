//! How a connection opened and ended, in one vocabulary shared by every output.
//!
//! Every cause is documented here, once, with the section of the seed (`shared/seed/SEED-NOTES.md`)
//! it comes from. The JSON, table and report outputs print these names verbatim.

use serde::Serialize;

/// Which side of a connection. The client is the side that sent the first SYN; for a connection picked
/// up midstream see [`crate::connection`] for the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    #[must_use]
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// How the connection opened (seed §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Handshake {
    /// SYN, SYN-ACK acknowledging ISN+1, and the client's ACK (or data) were all seen, or the ones
    /// not seen were proven by what the other side sent: a client that acknowledges the server's ISN+1
    /// got its SYN-ACK; a server that sends data after its SYN-ACK got the client's ACK.
    Complete,
    /// Both sides sent a SYN before either saw the other's (RFC 9293 §3.5, figure 8).
    Simultaneous,
    /// The SYN was answered by RST: nothing listens on that port (seed §2 correction).
    Refused,
    /// The SYN (and its retransmissions) got no answer that a stack accepts: no SYN-ACK and no RST
    /// acknowledging it (a drop or a dead host; a RST without ACK or a stale ACK is ignored by the
    /// client, RFC 9293 §3.10.7.3, and counted as an anomaly). The client's connect timed out.
    Unanswered,
    /// A SYN-ACK was seen (or proven by the client's acknowledgement of it) but the handshake never
    /// finished: no ACK, a SYN-ACK that did not acknowledge ISN+1, or a reset.
    Incomplete,
    /// The handshake happened before the capture started.
    Midstream,
}

impl Handshake {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Handshake::Complete => "complete",
            Handshake::Simultaneous => "simultaneous",
            Handshake::Refused => "refused",
            Handshake::Unanswered => "unanswered",
            Handshake::Incomplete => "incomplete",
            Handshake::Midstream => "midstream",
        }
    }
}

/// Who sent the first FIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Closer {
    Client,
    Server,
    /// Simultaneous close: each side sent its FIN before it had received the other's (seed §3
    /// correction, RFC 9293 §3.6 case 3); both end in TIME-WAIT.
    Both,
    None,
}

impl Closer {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Closer::Client => "client",
            Closer::Server => "server",
            Closer::Both => "both",
            Closer::None => "none",
        }
    }
}

/// The ending's cause. The vocabulary is the product's; each variant names the seed section it
/// makes visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Both sides sent FIN (seed §3, four-way or three-segment close; half-close of §4 included).
    /// The side that closed first holds TIME-WAIT (seed §5).
    Graceful,
    /// SYN answered by RST: no listener (seed §2 correction). The client saw "connection refused".
    Refused,
    /// SYN never answered: a firewall drop or an unreachable host (seed §2 correction). The client saw a
    /// connect timeout.
    Unanswered,
    /// RST from a side that had not sent FIN: closed with unread data, `SO_LINGER` 0, a killed process
    /// (seed §7). The peer saw "connection reset by peer" on its next read or write.
    Abort,
    /// A side that had sent FIN answered the peer's later data with RST (seed §8): the writer saw
    /// "connection reset by peer"; typically a client timeout fired while the server was still working.
    /// "Later" is by sequence numbers, not capture order: data sent after the FIN, or data the FIN did
    /// not acknowledge (it was in flight and arrived after the close).
    ResetAfterClose,
    /// One side's FIN was acknowledged and the other side never sent FIN by the end of the evidence
    /// (seed §6): that side's application has not closed its socket and sits in CLOSE-WAIT.
    CloseWait,
    /// A FIN was sent but never acknowledged by the end of the evidence (seed §3): the closer is in
    /// FIN-WAIT-1, its peer may never have received it.
    FinUnacked,
    /// A RST arrived after both FINs: it killed a TIME-WAIT (or LAST-ACK) socket early (seed §5, RFC 1337).
    ResetInTimeWait,
    /// SYN and SYN-ACK seen, never completed or reset: a half-open attempt (seed §2; SYN floods).
    HalfOpen,
    /// A side that had sent FIN then sent RST although its peer had sent nothing it had not already
    /// received: a hard close after a graceful one (seed §7: `SO_LINGER` 0 after `shutdown()`, HTTP
    /// servers and TLS stacks that close hard, a client that answers the server's FIN with RST instead
    /// of the last ACK). The peer's reads end with "connection reset" instead of end-of-file if it had
    /// not read everything yet.
    FinThenReset,
    /// Only one direction was captured, and it does not show how the connection ended: its FIN's
    /// acknowledgement would have travelled the unseen direction. Not a problem of the connection but
    /// of the capture point (a tap or span port that sees one way, asymmetric routing).
    OneSided,
    /// Still established when the evidence ended, no FIN and no RST (seed §2–§3).
    Open,
    /// No segment for longer than the idle timeout, no FIN and no RST: a dead peer, a NAT or firewall
    /// that dropped the flow, or an idle keep-alive connection (seed §5–§6 context).
    Idle,
}

impl Cause {
    /// Every cause, in the order the summary lists them.
    pub const ALL: [Cause; 13] = [
        Cause::Graceful,
        Cause::Refused,
        Cause::Unanswered,
        Cause::Abort,
        Cause::ResetAfterClose,
        Cause::CloseWait,
        Cause::FinUnacked,
        Cause::ResetInTimeWait,
        Cause::HalfOpen,
        Cause::FinThenReset,
        Cause::OneSided,
        Cause::Open,
        Cause::Idle,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Cause::Graceful => "graceful",
            Cause::Refused => "refused",
            Cause::Unanswered => "unanswered",
            Cause::Abort => "abort",
            Cause::ResetAfterClose => "reset_after_close",
            Cause::CloseWait => "close_wait",
            Cause::FinUnacked => "fin_unacked",
            Cause::ResetInTimeWait => "reset_in_time_wait",
            Cause::HalfOpen => "half_open",
            Cause::FinThenReset => "fin_then_reset",
            Cause::OneSided => "one_sided",
            Cause::Open => "open",
            Cause::Idle => "idle",
        }
    }

    /// Whether the cause is a problem an operator should look at (as opposed to normal life).
    #[must_use]
    pub fn is_problem(self) -> bool {
        !matches!(self, Cause::Graceful | Cause::Open | Cause::OneSided)
    }
}

/// Why the tracker stopped following the connection (distinct from how it ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Both sides reached CLOSED and a short quiet period passed.
    Closed,
    /// TIME-WAIT ran out (Linux: 60 s, `TCP_TIMEWAIT_LEN`).
    TimeWaitExpired,
    /// No segment for the idle or handshake timeout.
    IdleTimeout,
    /// Pushed out to keep memory under the connection cap.
    Evicted,
    /// A new SYN reused the 4-tuple (RFC 9293 §3.6.1: a SYN to a TIME-WAIT socket may reopen it).
    PortReused,
    /// The capture (or the live run) ended.
    EndOfCapture,
}

impl EndReason {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Closed => "closed",
            EndReason::TimeWaitExpired => "time_wait_expired",
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::Evicted => "evicted",
            EndReason::PortReused => "port_reused",
            EndReason::EndOfCapture => "end_of_capture",
        }
    }
}
