//! What a connection ends as: the record every output renders, its anomaly counts, and Zeek's view of it.

use crate::ending::{Cause, Closer, EndReason, Handshake, Side};
use crate::reset_origin::{ResetEvidence, ResetOrigin};
use crate::segment::Timestamp;
use crate::state::State;
use crate::steps::{Mark, Marks, Steps};
use crate::zeek::ZeekConn;
use serde::Serialize;
use std::net::SocketAddr;

/// Things a stack would reject or that break the lifecycle's rules, counted per connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Anomalies {
    /// RST whose sequence number is outside the receiver's window (RFC 5961 §3.2), or that does not
    /// acknowledge the SYN of a SYN-SENT receiver (RFC 9293 §3.10.7.3): ignored, as a stack would.
    pub out_of_window_rst: u32,
    /// SYN-ACK whose ACK is not the client's ISN+1 (RFC 9293 §3.5).
    pub bad_synack_ack: u32,
    /// SYN with a new ISN inside a live connection (RFC 9293 §3.10.7.4 answers it with a challenge ACK).
    pub syn_in_synchronized: u32,
    /// Payload sent past the sender's own FIN.
    pub data_after_fin: u32,
    /// RSTs after the first one (the connection was already reset).
    pub extra_rst: u32,
    /// A segment without SYN whose ACK does not acknowledge a SYN-SENT peer's SYN: stale state left at
    /// the sender by an earlier connection on the same 4-tuple. RFC 9293 §3.10.7.3 has the SYN-SENT
    /// side answer it with `<SEQ=SEG.ACK><CTL=RST>` and keep waiting (half-open discovery, §3.5.1
    /// figure 10); that RST resets the stale state, not this connection, and is part of this count.
    pub half_open_discovery: u32,
    /// Payload starting outside the receiver's window (RFC 9293 §3.10.7.4): injected, corrupt or from
    /// another incarnation of the 4-tuple. Not counted in the bytes.
    pub out_of_window_data: u32,
    /// A RST that looked acceptable, but that its receiver ignored: it went on with the handshake
    /// (IDS-evasion traffic, stacks stricter than RFC 9293). Taken back, not an ending.
    pub ignored_rst: u32,
}

impl Anomalies {
    /// Total count, for summaries.
    #[must_use]
    pub fn total(&self) -> u64 {
        [
            self.out_of_window_rst,
            self.bad_synack_ack,
            self.syn_in_synchronized,
            self.data_after_fin,
            self.extra_rst,
            self.half_open_discovery,
            self.out_of_window_data,
            self.ignored_rst,
        ]
        .iter()
        .map(|&n| u64::from(n))
        .sum()
    }

    /// The anomalies counted since `before` (the same connection earlier), as a segment's marks.
    #[must_use]
    pub fn marks_since(&self, before: &Anomalies) -> Marks {
        Marks::default()
            .with(
                Mark::OutOfWindowRst,
                self.out_of_window_rst != before.out_of_window_rst,
            )
            .with(Mark::BadSynackAck, self.bad_synack_ack != before.bad_synack_ack)
            .with(
                Mark::SynInSynchronized,
                self.syn_in_synchronized != before.syn_in_synchronized,
            )
            .with(Mark::DataAfterFin, self.data_after_fin != before.data_after_fin)
            .with(Mark::ExtraRst, self.extra_rst != before.extra_rst)
            .with(
                Mark::HalfOpenDiscovery,
                self.half_open_discovery != before.half_open_discovery,
            )
            .with(
                Mark::OutOfWindowData,
                self.out_of_window_data != before.out_of_window_data,
            )
            .with(Mark::IgnoredRst, self.ignored_rst != before.ignored_rst)
    }
}

/// Zeek's view of the connection (`conn.log` fields), computed by Zeek's rules in [`crate::zeek`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZeekSummary {
    /// Zeek's `ts`: its first packet of the connection.
    pub start: Timestamp,
    /// Zeek's `duration`, in nanoseconds.
    pub duration_ns: u64,
    pub orig: SocketAddr,
    pub resp: SocketAddr,
    pub conn_state: &'static str,
    pub history: String,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub missed_bytes: u64,
    pub orig_pkts: u64,
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
}

impl ZeekSummary {
    pub(crate) fn of(z: &ZeekConn) -> ZeekSummary {
        ZeekSummary {
            start: z.start(),
            duration_ns: z.duration(),
            orig: z.orig(),
            resp: z.resp(),
            conn_state: z.conn_state(),
            history: z.history().to_string(),
            orig_bytes: z.orig_bytes(),
            resp_bytes: z.resp_bytes(),
            missed_bytes: z.missed_bytes(),
            orig_pkts: z.orig_pkts(),
            orig_ip_bytes: z.orig_ip_bytes(),
            resp_pkts: z.resp_pkts(),
            resp_ip_bytes: z.resp_ip_bytes(),
        }
    }
}

/// Everything known about a connection when the tracker stops following it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionRecord {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The tunnel that carried the connection, as the decoder numbers them (0: none).
    pub tunnel: u32,
    pub start: Timestamp,
    pub end: Timestamp,
    pub handshake: Handshake,
    /// From the client's last SYN to the server's first SYN-ACK, as seen where the capture was taken.
    pub handshake_rtt_ns: Option<u64>,
    pub syn_retransmits: u32,
    pub fast_open: bool,
    pub closer: Closer,
    pub reset_by: Option<Side>,
    /// The resetter's state when it sent the RST.
    pub resetter_state: Option<State>,
    /// When the RST that ended the connection was captured.
    pub reset_at: Option<Timestamp>,
    /// Whether the endpoint named `reset_by` really sent the RST, or a device on the path did.
    pub reset_origin: Option<ResetOrigin>,
    /// What `reset_origin` rests on, in words.
    pub reset_evidence: Vec<String>,
    /// The facts behind it (the RST's TTL against the resetter's other segments').
    pub reset_ttls: Option<ResetEvidence>,
    /// The silence in both directions before the exchange the RST ended (0: none of a second or more).
    pub idle_before_reset_ns: Option<u64>,
    pub cause: Cause,
    pub client_state: State,
    pub server_state: State,
    pub end_reason: EndReason,
    /// Only one direction was captured (a tap or span port that sees one way, asymmetric routing):
    /// the other side's part is inferred from what this one acknowledged.
    pub one_sided: bool,
    pub bytes_client: u64,
    pub bytes_server: u64,
    pub packets_client: u64,
    pub packets_server: u64,
    pub anomalies: Anomalies,
    /// Zeek's view of the connection: one row, or several, oldest first, where Zeek's own timers or
    /// port-reuse test split it (each is a conn.log row). Never empty.
    pub zeek: Vec<ZeekSummary>,
    /// Zeek rows split off beyond those kept in `zeek` (the connection keeps 9 at most; counted only).
    pub zeek_dropped: u32,
    /// Every segment of the connection, for the ladder diagram: only for a connection the tracker was
    /// asked to watch ([`crate::tracker::Tracker::watch`]), `None` for every other.
    pub steps: Option<Box<Steps>>,
}

impl ConnectionRecord {
    /// Total packets both ways.
    #[must_use]
    pub fn packets(&self) -> u64 {
        self.packets_client + self.packets_server
    }

    /// Duration in nanoseconds.
    #[must_use]
    pub fn duration_ns(&self) -> u64 {
        self.end.nanos_since(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each anomaly counter has its own mark: one counter up, one mark.
    #[test]
    fn each_anomaly_is_one_mark() {
        let fields: [fn(&mut Anomalies) -> &mut u32; 8] = [
            |a| &mut a.out_of_window_rst,
            |a| &mut a.bad_synack_ack,
            |a| &mut a.syn_in_synchronized,
            |a| &mut a.data_after_fin,
            |a| &mut a.extra_rst,
            |a| &mut a.half_open_discovery,
            |a| &mut a.out_of_window_data,
            |a| &mut a.ignored_rst,
        ];
        let mut seen = Vec::new();
        for field in fields {
            let mut a = Anomalies::default();
            *field(&mut a) += 1;
            assert_eq!(a.total(), 1);
            let marks: Vec<Mark> = a.marks_since(&Anomalies::default()).iter().collect();
            assert_eq!(marks.len(), 1);
            assert!(!seen.contains(&marks[0]));
            seen.push(marks[0]);
        }
        assert_eq!(
            Anomalies::default().marks_since(&Anomalies::default()),
            Marks::default()
        );
    }
}
