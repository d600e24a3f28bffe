//! The one place where an endpoint's state changes: RFC 9293's state diagram (§3.3.2, figure 5) as
//! a function of the state and what the observer learned about that endpoint.
//!
//! An observer does not see a stack's events, only segments, so the triggers are phrased as what a
//! segment proves about one endpoint: "it sent its SYN", "its FIN was acknowledged", and so on.
//! [`crate::connection`] decides which triggers a segment fires for which side; this table decides
//! what each one does. [`crate::endpoint::Endpoint::enter`] is the only writer of a state, and it
//! takes its new state from [`next`].

use crate::state::State;

/// What a segment (or the passage of time) proves about one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The capture began after the handshake: the endpoint was already synchronized.
    PickedUp,
    /// It sent a SYN without ACK (an active OPEN).
    SentSyn,
    /// It sent a SYN-ACK: it had received its peer's SYN.
    SentSynAck,
    /// It acknowledged its peer's SYN in a segment without SYN: it had received the SYN-ACK.
    AckedPeerSyn,
    /// Its peer acknowledged its SYN.
    SynAcked,
    /// It sent its FIN (the application closed or shut down writing).
    SentFin,
    /// It acknowledged its peer's FIN: the FIN had arrived.
    ReceivedFin,
    /// Its peer acknowledged its FIN.
    FinAcked,
    /// It sent, or accepted, a RST.
    Reset,
    /// Its TIME-WAIT timer ran out.
    TimeWaitExpired,
    /// A new SYN took over the 4-tuple while it held TIME-WAIT.
    Reopened,
    /// The observer takes back a RST it had taken as accepted: the receiver's later segments show it
    /// ignored it, so each endpoint is again in the state it was in before.
    RstIgnored(State),
}

/// The state after `trigger`, from `state`. A trigger that does not apply in a state (a retransmitted
/// SYN in ESTABLISHED, a FIN acknowledged twice) leaves the state as it is.
#[must_use]
#[inline]
pub fn next(state: State, trigger: Trigger) -> State {
    use State::*;
    use Trigger::*;
    match (state, trigger) {
        // Observer's assumption: a segment without SYN, with the handshake unseen, comes from a
        // synchronized connection (the choice of who is client is in `connection`).
        (Closed, PickedUp) => Established,
        // §3.10.1 OPEN call: an active open sends SYN and enters SYN-SENT.
        (Closed | Listen, SentSyn) => SynSent,
        // §3.10.7.2 LISTEN, third check: a SYN is answered with SYN-ACK, entering SYN-RECEIVED;
        // §3.10.7.3 SYN-SENT, fourth check: a SYN that does not acknowledge ours is a simultaneous
        // open (§3.5 figure 8), answered with SYN-ACK, entering SYN-RECEIVED.
        (Closed | Listen | SynSent, SentSynAck) => SynReceived,
        // §3.10.7.3 SYN-SENT, fourth check: a SYN-ACK acknowledging our SYN moves to ESTABLISHED and
        // is acknowledged; that acknowledgement is what the observer sees.
        (SynSent, AckedPeerSyn) => Established,
        // §3.10.7.4 fifth check (ACK), SYN-RECEIVED: an acceptable ACK moves to ESTABLISHED.
        (SynReceived, SynAcked) => Established,
        // §3.10.4 CLOSE call: from SYN-RECEIVED or ESTABLISHED a FIN is sent and FIN-WAIT-1 entered;
        // from CLOSE-WAIT, LAST-ACK. (A FIN from SYN-SENT, which no stack sends, changes nothing.)
        (SynReceived | Established, SentFin) => FinWait1,
        (CloseWait, SentFin) => LastAck,
        // §3.10.7.4 eighth check (FIN): ESTABLISHED (and SYN-RECEIVED) enter CLOSE-WAIT,
        // FIN-WAIT-1 whose FIN is not yet acknowledged enters CLOSING, FIN-WAIT-2 enters TIME-WAIT.
        (SynReceived | Established, ReceivedFin) => CloseWait,
        (FinWait1, ReceivedFin) => Closing,
        (FinWait2, ReceivedFin) => TimeWait,
        // §3.10.7.4 fifth check (ACK): in FIN-WAIT-1 the acknowledgment of our FIN enters FIN-WAIT-2;
        // in CLOSING, TIME-WAIT; in LAST-ACK, CLOSED.
        (FinWait1, FinAcked) => FinWait2,
        (Closing, FinAcked) => TimeWait,
        (LastAck, FinAcked) => Closed,
        // §3.10.7.4 second check (RST) and §3.10.4 ABORT: both the resetter and an endpoint that
        // accepts the RST delete the TCB.
        (_, Reset) => Closed,
        // §3.10.8 time-wait timeout (Linux: 60 s, TCP_TIMEWAIT_LEN).
        (TimeWait, TimeWaitExpired) => Closed,
        // §3.10.7.4 TIME-WAIT with RFC 6191: a new SYN with a higher ISN (or timestamp) may reopen the
        // 4-tuple; Linux kills the TIME-WAIT socket when it accepts it (`tcp_timewait_state_process`).
        (TimeWait, Reopened) => Closed,
        (_, RstIgnored(before)) => before,
        (s, _) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;
    use Trigger::*;

    /// The textbook paths of RFC 9293 §3.5 and §3.6, each a sequence of triggers and the states they
    /// pass through.
    #[test]
    fn textbook_paths() {
        let paths: [(&[Trigger], &[State]); 6] = [
            // Client of a three-way handshake, then the active close (§3.6 figure 12, TCP A).
            (
                &[
                    SentSyn,
                    AckedPeerSyn,
                    SentFin,
                    FinAcked,
                    ReceivedFin,
                    TimeWaitExpired,
                ],
                &[SynSent, Established, FinWait1, FinWait2, TimeWait, Closed],
            ),
            // Server: passive open, passive close (§3.6 figure 12, TCP B).
            (
                &[SentSynAck, SynAcked, ReceivedFin, SentFin, FinAcked],
                &[SynReceived, Established, CloseWait, LastAck, Closed],
            ),
            // Simultaneous open (§3.5 figure 8).
            (
                &[SentSyn, SentSynAck, SynAcked],
                &[SynSent, SynReceived, Established],
            ),
            // Simultaneous close (§3.6 figure 13).
            (
                &[PickedUp, SentFin, ReceivedFin, FinAcked],
                &[Established, FinWait1, Closing, TimeWait],
            ),
            // A reset from any state, then nothing revives the endpoint but a new connection.
            (&[PickedUp, Reset, FinAcked], &[Established, Closed, Closed]),
            // TIME-WAIT taken over by a new SYN.
            (
                &[PickedUp, SentFin, FinAcked, ReceivedFin, Reopened],
                &[Established, FinWait1, FinWait2, TimeWait, Closed],
            ),
        ];
        for (triggers, states) in paths {
            let mut s = Closed;
            for (t, want) in triggers.iter().zip(states) {
                s = next(s, *t);
                assert_eq!(s, *want, "after {t:?} in {triggers:?}");
            }
        }
    }

    #[test]
    fn triggers_that_do_not_apply_change_nothing() {
        assert_eq!(next(Established, SentSyn), Established);
        assert_eq!(next(TimeWait, SentFin), TimeWait);
        assert_eq!(next(SynSent, SentFin), SynSent);
        assert_eq!(next(Established, TimeWaitExpired), Established);
        assert_eq!(next(CloseWait, Reopened), CloseWait);
    }
}
