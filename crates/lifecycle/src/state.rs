//! The connection states of RFC 9293 §3.3.2, printed with their RFC names.

use std::fmt;

/// One endpoint's state as an observer infers it from the segments both sides sent.
///
/// `Listen` never appears for a tracked connection (a listener sends nothing); it is here so that the
/// kernel's socket table (`kernel.rs`) and the packet view share one vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum State {
    #[default]
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    /// Every state, in RFC order.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// The RFC 9293 name: `SYN-SENT`, `TIME-WAIT`, ...
    #[must_use]
    pub fn rfc_name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// The Linux name (`ss`, `netstat`, `/proc/net/tcp`): `SYN_SENT`, `TIME_WAIT`, `SYN_RECV`, ...
    #[must_use]
    pub fn linux_name(self) -> &'static str {
        match self {
            State::Closed => "CLOSE",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynReceived => "SYN_RECV",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT1",
            State::FinWait2 => "FIN_WAIT2",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
        }
    }

    /// Parses an RFC name or a Linux alias, case-insensitively (`time-wait`, `TIME_WAIT`, `syn-recv`).
    #[must_use]
    pub fn parse(name: &str) -> Option<State> {
        let norm: String = name.trim().to_ascii_uppercase().replace('_', "-");
        State::ALL.into_iter().find(|s| {
            s.rfc_name() == norm
                || s.linux_name().replace('_', "-") == norm
                || s.rfc_name().replace('-', "") == norm.replace('-', "")
        })
    }

    /// Synchronized states (RFC 9293 §3.10.7.4): both ISNs are known to this endpoint.
    #[must_use]
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.rfc_name())
    }
}

impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.rfc_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.rfc_name()), Some(s));
            assert_eq!(State::parse(s.linux_name()), Some(s));
        }
        assert_eq!(State::parse("time_wait"), Some(State::TimeWait));
        assert_eq!(State::parse("FIN_WAIT2"), Some(State::FinWait2));
        assert_eq!(State::parse("nonsense"), None);
    }
}
