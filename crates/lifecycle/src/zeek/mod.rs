//! Zeek-compatible connection summary: `conn_state`, `history`, byte and packet counts, computed the way
//! Zeek's TCP analysis computes them, so that a conn.log written from a [`ZeekConn`] agrees with Zeek's.
//!
//! This is an independent re-implementation of the rules in Zeek's source (github.com/zeek/zeek, read at
//! commit a13de64f, Aug 2026); no Zeek code is copied. Paths below are in that repository.
//!
//! The files follow Zeek's own seams: this one holds [`ZeekConn`], its settings and the originator
//! choice; `process.rs` runs a segment through the steps of `TCPSessionAdapter::Process`, in its order;
//! the rules below name the file that holds them. `role.rs` holds `Dir` and `Pair`, the per-role
//! bookkeeping that a flip swaps, as Zeek swaps its `orig` and `resp` endpoint pointers.
//!
//! # Rules implemented
//!
//! **Originator choice and flips** (this file; the flip itself, which records `^`, in `history.rs`)
//! - `src/packet_analysis/protocol/tcp/TCP.cc` (`WantConnection`): the first packet's sender is the
//!   originator, unless the packet is not a pure SYN (no SYN, or SYN+ACK) and its source port is a
//!   "likely server port": then roles are flipped, except when both ports are likely server ports, where
//!   the flip happens only for a non-SYN packet whose source port is lower than its destination port.
//!   A flip is not done towards an IPv4 broadcast responder (`IPBasedAnalyzer::NewConn`).
//! - `src/Conn.cc` (`FlipRoles`): every flip appends `^` to the history, including the one at creation.
//! - `src/analyzer/protocol/tcp/TCP_Endpoint.cc` (`CheckHistory`, in `history.rs`): when the history is
//!   exactly `H` (the connection began with an unflipped SYN-ACK) and an `A` or `D` is about to be
//!   recorded from either side, the connection is flipped and the history replaced by `^h`.
//! - `TCPSessionAdapter.cc` (`UpdateInactiveState`, in `state_machine.rs`): a responder's bare SYN
//!   answering an originator's SYN-ACK (SYN/SYN-ACK reversal) flips the roles and establishes the (new)
//!   responder.
//! - The likely-server-port set is `likely_server_ports`, filled by `Analyzer::register_for_ports` in the
//!   scripts Zeek loads; [`ZeekConfig::default`] holds the TCP ports of every `scripts/base/protocols`
//!   analyzer (what plain `zeek -r` loads). Tests run with `zeek -b` load fewer scripts, hence fewer ports.
//!
//! **History letters** (`history.rs`; `scripts/base/protocols/conn/main.zeek` documents them;
//! `TCPSessionAdapter.cc` `update_history`, `update_window`, `update_last_seq`; `TCP_Endpoint.cc`;
//! `src/session/Session.h` `CheckHistory`, `Session.cc` `ScaledHistoryEntry`). Upper case: originator,
//! lower case: responder (decided by the role at the time the letter is recorded).
//! - Exactly one of SYN/FIN/RST: `S` (SYN) / `H` (SYN+ACK), `F`, `R`. Each is recorded the first time
//!   per direction, and again whenever its relative sequence number differs from the previous packet with
//!   that flag from the same endpoint (for FIN the number is the end of the payload).
//! - More than one of SYN/FIN/RST: `I` if FIN+RST, else `Q`; once per direction.
//! - None of them: `D` if there is payload, else `A` if ACK is set; once per direction.
//! - `T` retransmission: payload whose end does not advance the endpoint's highest sequence number
//!   (and the endpoint is not reset; decided in `endpoint.rs`); `W` zero window (not with RST, not after
//!   the peer's FIN, not from a reset endpoint; decided in `process.rs`); `G` content gap (`reassembly.rs`);
//!   `C` bad checksum (only through [`ZeekConn::observe_bad_checksum`]).
//!   These four are recorded at the 1st, 10th, 100th, ... occurrence per endpoint.
//! - The "once per direction" bitmask is kept per *role*, not per endpoint, and is not swapped by a flip
//!   (as in Zeek, where `hist_seen` lives in the connection).
//!
//! **Endpoint states and `conn_state`** (`state_machine.rs`: `TCPSessionAdapter.cc` `UpdateStateMachine`
//! and the `Update*State` functions, `TCP_Endpoint::SetState`; `endpoint.rs`: `init_endpoint`,
//! `init_peer`; `conn_state.rs`: `conn_state` in `conn/main.zeek`): the seven
//! endpoint states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET) with the same
//! transitions, including the quirks: a FIN+RST after a peer's FIN turns the peer back to CLOSED, a RST
//! after both FINs is ignored, an "eccentric" bare ACK from the responder during the handshake leaves it
//! INACTIVE, and the stale `is_orig` Zeek keeps for the rest of a packet that caused a flip. The
//! conn_state derivation (REJ, RSTOS0 via the history pattern `^?S[^HAFGIQ]*R.*`, RSTRH, SH, SHR, S0...)
//! follows `conn_state()` exactly.
//!
//! **Bytes** (`endpoint.rs`, `TCP_Endpoint::Size`): `orig_bytes`/`resp_bytes` are sequence-space extents:
//! the larger of the highest sequence number sent and the highest acknowledged by the peer, minus the
//! initial sequence number, minus one for the SYN and one if a FIN was seen; 0 for a SYN-then-RST
//! endpoint whose peer was never heard from and that had data acked. Sequence numbers are tracked with
//! Zeek's 32-bit wrap counters and its "too large jump" (2^20) filter for SYN/RST. Zeek logs these only
//! when the duration is > 0 ([`ZeekConn::duration`]); otherwise the conn.log shows `-`.
//!
//! **Packets** (this file, [`ZeekConn::observe`]; `src/analyzer/protocol/conn-size/ConnSize.cc`):
//! `*_pkts` counts packets and `*_ip_bytes` sums the IP total length ([`Segment::ip_len`]), per role;
//! a flip swaps them.
//!
//! **Content gaps and `missed_bytes`** (`reassembly.rs`: `TCP_Reassembler.cc` `DataSent`, `AckReceived`,
//! `Undelivered`, `Gap`; `Reassem.cc` `DataBlockList::Trim`): a per-endpoint model of Zeek's reassembler.
//! Data below the peer's acknowledgement is dropped; in-order data advances the delivery point;
//! out-of-order data is kept as up to [`MAX_BLOCKS`] ranges. When the peer acknowledges beyond the
//! delivery point (capped before the FIN), the holes are gaps: `G`/`g` when both endpoints are
//! established or cleanly closing, and `missed_bytes` when that holds or
//! [`ZeekConfig::report_gaps_for_partial`] is set. The first gap of a partial connection at relative
//! sequence ≤ 2 is ignored, as in Zeek.
//!
//! **Connection lifetime** (`timers.rs`: `IPBasedAnalyzer::AnalyzePacket`, `TCPSessionAdapter::IsReuse`,
//! `AttemptTimer`, `ExpireTimer`, `Session::InactivityTimer`, defaults from
//! `scripts/base/init-bare.zeek`; `ConnectionClosed`, which arms the close timers, is in
//! `state_machine.rs`): Zeek ends a connection and starts a new one for the same 4-tuple when
//! a timer removes it or a SYN looks like reuse. [`ZeekConn::expired`] and [`ZeekConn::is_reuse`] tell a
//! flow table when to do the same: the 5 s attempt timer (a SYN never answered), the 5 s close delay
//! after a complete close, the expire timer (5 s, then every 6 s), and the inactivity timeout (60 s
//! during the handshake, 300 s after). Timers fire before a packet with the same or a later timestamp.
//!
//! # Not modelled
//! - Checksum validation: [`Segment`] carries no checksum verdict. Zeek drops segments with a bad TCP
//!   checksum unless run with `-C`, recording only `C`/`c`; a caller that validates checksums can report
//!   such a segment with [`ZeekConn::observe_bad_checksum`] instead of [`ZeekConn::observe`].
//! - Application analyzers: service detection, `X` (analyzer limits), analyzers that stop reassembly
//!   (`Skipping`), DPD deferring a close while data is pending, `connection_partial_close`/`connection_reset`
//!   timers (no handler in Zeek's base scripts, so Zeek does not arm them either).
//! - Snap-length truncation: Zeek does not reassemble truncated payload, so a later ack makes it a gap;
//!   [`Segment::payload_len`] is the IP-header length, so here all payload counts as delivered.
//! - Reassembly memory limits (`tcp_max_above_hole_without_any_acks` and friends) and more than
//!   [`MAX_BLOCKS`] simultaneous out-of-order ranges (the highest ones are forgotten).
//! - The history string is capped at [`MAX_HISTORY`] letters to keep memory bounded (Zeek has no cap;
//!   only pathological streams of changing SYN/FIN/RST sequence numbers get near it).

mod conn_state;
mod endpoint;
mod history;
mod process;
mod reassembly;
mod role;
pub(crate) mod rows;
mod state_machine;
#[cfg(test)]
mod tests;
mod timers;

use crate::segment::{Segment, Timestamp};
use endpoint::Endpoint;
use role::{Dir, Pair};
use std::net::{IpAddr, SocketAddr};
use timers::{FIVE_SECS, HANDSHAKE_INACTIVITY};

/// Longest history string kept.
pub const MAX_HISTORY: usize = 64;
/// Out-of-order ranges remembered per endpoint by the reassembly model.
pub const MAX_BLOCKS: usize = 4;

/// TCP ports of every analyzer registered by Zeek's `scripts/base/protocols/*/main.zeek`
/// (`likely_server_ports` when Zeek runs with its default scripts).
pub const DEFAULT_LIKELY_SERVER_PORTS: &[u16] = &[
    21, 22, 25, 79, 80, 81, 88, 135, 139, 143, 389, 443, 445, 465, 502, 514, 563, 585, 587, 614, 631, 636,
    989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379,
    6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000, 53,
];

/// Script-level settings that change what Zeek computes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZeekConfig {
    /// `likely_server_ports` (TCP): decides the originator of connections that start without a SYN.
    pub likely_server_ports: Vec<u16>,
    /// `report_gaps_for_partial`: count `missed_bytes` even when the endpoints are not both established.
    pub report_gaps_for_partial: bool,
}

impl Default for ZeekConfig {
    fn default() -> Self {
        ZeekConfig {
            likely_server_ports: DEFAULT_LIKELY_SERVER_PORTS.to_vec(),
            report_gaps_for_partial: false,
        }
    }
}

impl ZeekConfig {
    fn is_likely_server_port(&self, port: u16) -> bool {
        self.likely_server_ports.contains(&port)
    }
}

/// Zeek's `EndpointState` (`TCP_ENDPOINT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ZeekEndpointState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// One connection as Zeek's TCP analysis sees it. Create it with [`ZeekConn::new`] at the connection's
/// first segment, then pass every segment (the first included) to [`ZeekConn::observe`] in capture order.
/// Which endpoint sent a segment: the one that sent the connection's first segment, or the other. Unlike
/// a role (`Dir`), it does not change when Zeek flips the roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sender {
    First,
    Other,
}

impl Sender {
    fn of(conn: &ZeekConn, seg: &Segment) -> Sender {
        if seg.src == conn.ep[conn.first_sender].addr {
            Sender::First
        } else {
            Sender::Other
        }
    }
}

#[derive(Clone, Debug)]
pub struct ZeekConn {
    /// The endpoints by current role; a flip swaps them.
    ep: Pair<Endpoint>,
    /// The role now held by the endpoint that sent the first segment: how a segment finds its sender.
    first_sender: Dir,
    history: String,
    /// `hist_seen`: the once-per-direction letters seen, by the role they were recorded for; a flip
    /// leaves it alone.
    hist_seen: Pair<u32>,
    start: Timestamp,
    /// Zeek's `last_time`: not advanced once both endpoints have closed.
    last: Timestamp,
    /// Time of the last segment handed in (network time), for timer evaluation.
    net_time: Timestamp,
    is_active: bool,
    is_partial: bool,
    /// `first_packet_seen`, by role; a flip swaps it.
    first_packet_seen: Pair<bool>,
    missed_bytes: u64,
    report_gaps_for_partial: bool,
    inactivity: u64,
    attempt_timer: Option<Timestamp>,
    /// Pending `ExpireTimer`s (each re-arms itself every 6 s).
    expire_timers: [Option<Timestamp>; 3],
    delete_timer: Option<Timestamp>,
    removed: bool,
}

impl ZeekConn {
    /// A connection whose first segment is `first`, with Zeek's default scripts' settings.
    #[must_use]
    pub fn new(first: &Segment, now: Timestamp) -> ZeekConn {
        Self::with_config(first, now, &ZeekConfig::default())
    }

    /// A connection whose first segment is `first`; decides the originator per `WantConnection`.
    #[must_use]
    pub fn with_config(first: &Segment, now: Timestamp, config: &ZeekConfig) -> ZeekConn {
        let mut c = ZeekConn {
            ep: Pair::new(Endpoint::new(first.src), Endpoint::new(first.dst)),
            first_sender: Dir::Orig,
            history: String::new(),
            hist_seen: Pair::default(),
            start: now,
            last: now,
            net_time: now,
            is_active: true,
            is_partial: false,
            first_packet_seen: Pair::default(),
            missed_bytes: 0,
            report_gaps_for_partial: config.report_gaps_for_partial,
            inactivity: HANDSHAKE_INACTIVITY,
            attempt_timer: None,
            expire_timers: [Some(now.plus_nanos(FIVE_SECS)), None, None],
            delete_timer: None,
            removed: false,
        };
        let f = first.flags;
        if !f.syn() || f.ack() {
            let (sp, dp) = (first.src.port(), first.dst.port());
            let flip = if config.is_likely_server_port(sp) {
                if config.is_likely_server_port(dp) {
                    !f.syn() && sp < dp
                } else {
                    true
                }
            } else {
                false
            };
            // `! conn->RespAddr().IsBroadcast()`, asked before the flip.
            let broadcast = matches!(first.dst.ip(), IpAddr::V4(a) if a.is_broadcast());
            if flip && !broadcast {
                c.flip_roles();
            }
        }
        c
    }

    /// The role of `seg`'s sender now. A segment from the first sender's address is its (this settles
    /// a connection from an address and port to itself); any other segment is the peer's.
    fn dir_of(&self, seg: &Segment) -> Dir {
        self.role(Sender::of(self, seg))
    }

    /// The role a segment's sender holds now. A flip moves the first sender's role with it, so a
    /// [`Sender`] found once gives the right role before and after any flip the segment causes.
    fn role(&self, sender: Sender) -> Dir {
        match sender {
            Sender::First => self.first_sender,
            Sender::Other => self.first_sender.other(),
        }
    }

    /// The originator's address (after any flip).
    #[must_use]
    pub fn orig(&self) -> SocketAddr {
        self.ep[Dir::Orig].addr
    }

    /// The responder's address (after any flip).
    #[must_use]
    pub fn resp(&self) -> SocketAddr {
        self.ep[Dir::Resp].addr
    }

    /// The originator's Zeek endpoint state.
    #[must_use]
    pub fn orig_state(&self) -> ZeekEndpointState {
        self.ep[Dir::Orig].state
    }

    /// The responder's Zeek endpoint state.
    #[must_use]
    pub fn resp_state(&self) -> ZeekEndpointState {
        self.ep[Dir::Resp].state
    }

    /// Zeek's `history` field (empty when Zeek would log `-`).
    #[must_use]
    pub fn history(&self) -> &str {
        &self.history
    }

    /// Payload bytes the originator sent, from sequence numbers (`TCP_Endpoint::Size`).
    #[must_use]
    pub fn orig_bytes(&self) -> u64 {
        self.ep[Dir::Orig].size(&self.ep[Dir::Resp])
    }

    /// Payload bytes the responder sent, from sequence numbers.
    #[must_use]
    pub fn resp_bytes(&self) -> u64 {
        self.ep[Dir::Resp].size(&self.ep[Dir::Orig])
    }

    #[must_use]
    pub fn orig_pkts(&self) -> u64 {
        self.ep[Dir::Orig].pkts
    }

    #[must_use]
    pub fn resp_pkts(&self) -> u64 {
        self.ep[Dir::Resp].pkts
    }

    #[must_use]
    pub fn orig_ip_bytes(&self) -> u64 {
        self.ep[Dir::Orig].ip_bytes
    }

    #[must_use]
    pub fn resp_ip_bytes(&self) -> u64 {
        self.ep[Dir::Resp].ip_bytes
    }

    /// Bytes in content gaps (Zeek's `missed_bytes`), from the reassembly model.
    #[must_use]
    pub fn missed_bytes(&self) -> u64 {
        self.missed_bytes
    }

    /// Time of the first segment (Zeek's `ts`).
    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// Zeek's `duration` in nanoseconds: last activity minus start. Zeek logs duration, `orig_bytes` and
    /// `resp_bytes` only when this is > 0.
    #[must_use]
    pub fn duration(&self) -> u64 {
        self.last.nanos_since(self.start)
    }

    /// Processes one segment of this connection (`TCPSessionAdapter::Process` and ConnSize counting).
    pub fn observe(&mut self, seg: &Segment, now: Timestamp) {
        self.net_time = self.net_time.max(now);
        // Which endpoint sent it, found once rather than by comparing addresses at each of the four
        // places that need its role.
        let sender = Sender::of(self, seg);
        self.process(seg, sender, now);
        // ConnSize counts per endpoint, so the sender's role is taken after any flip the segment caused.
        let role = self.role(sender);
        let e = &mut self.ep[role];
        e.pkts += 1;
        e.ip_bytes += u64::from(seg.ip_len);
    }

    /// A segment of this connection that failed TCP checksum validation: Zeek records `C`/`c` (at 1, 10,
    /// 100... occurrences, `TCP_Endpoint::ChecksumError`) and otherwise ignores the packet.
    pub fn observe_bad_checksum(&mut self, seg: &Segment, now: Timestamp) {
        self.net_time = self.net_time.max(now);
        self.scaled(self.dir_of(seg), |e| &mut e.chk, 'C');
    }
}
