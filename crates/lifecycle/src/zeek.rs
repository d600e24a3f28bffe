//! Zeek-compatible connection summary: `conn_state`, `history`, byte and packet counts, computed the way
//! Zeek's TCP analysis computes them, so that a conn.log written from a [`ZeekConn`] agrees with Zeek's.
//!
//! This is an independent re-implementation of the rules in Zeek's source (github.com/zeek/zeek, read at
//! commit a13de64f, Aug 2026); no Zeek code is copied. Paths below are in that repository.
//!
//! # Rules implemented
//!
//! **Originator choice and flips**
//! - `src/packet_analysis/protocol/tcp/TCP.cc` (`WantConnection`): the first packet's sender is the
//!   originator, unless the packet is not a pure SYN (no SYN, or SYN+ACK) and its source port is a
//!   "likely server port": then roles are flipped, except when both ports are likely server ports, where
//!   the flip happens only for a non-SYN packet whose source port is lower than its destination port.
//!   A flip is not done towards an IPv4 broadcast responder (`IPBasedAnalyzer::NewConn`).
//! - `src/Conn.cc` (`FlipRoles`): every flip appends `^` to the history, including the one at creation.
//! - `src/analyzer/protocol/tcp/TCP_Endpoint.cc` (`CheckHistory`): when the history is exactly `H` (the
//!   connection began with an unflipped SYN-ACK) and an `A` or `D` is about to be recorded from either
//!   side, the connection is flipped and the history replaced by `^h`.
//! - `TCPSessionAdapter.cc` (`UpdateInactiveState`): a responder's bare SYN answering an originator's
//!   SYN-ACK (SYN/SYN-ACK reversal) flips the roles and establishes the (new) responder.
//! - The likely-server-port set is `likely_server_ports`, filled by `Analyzer::register_for_ports` in the
//!   scripts Zeek loads; [`ZeekConfig::default`] holds the TCP ports of every `scripts/base/protocols`
//!   analyzer (what plain `zeek -r` loads). Tests run with `zeek -b` load fewer scripts, hence fewer ports.
//!
//! **History letters** (`scripts/base/protocols/conn/main.zeek` documents them;
//! `TCPSessionAdapter.cc` `update_history`, `update_window`, `update_last_seq`; `TCP_Endpoint.cc`;
//! `src/session/Session.h` `CheckHistory`, `Session.cc` `ScaledHistoryEntry`). Upper case: originator,
//! lower case: responder (decided by the role at the time the letter is recorded).
//! - Exactly one of SYN/FIN/RST: `S` (SYN) / `H` (SYN+ACK), `F`, `R`. Each is recorded the first time
//!   per direction, and again whenever its relative sequence number differs from the previous packet with
//!   that flag from the same endpoint (for FIN the number is the end of the payload).
//! - More than one of SYN/FIN/RST: `I` if FIN+RST, else `Q`; once per direction.
//! - None of them: `D` if there is payload, else `A` if ACK is set; once per direction.
//! - `T` retransmission: payload whose end does not advance the endpoint's highest sequence number
//!   (and the endpoint is not reset); `W` zero window (not with RST, not after the peer's FIN, not from a
//!   reset endpoint); `G` content gap; `C` bad checksum (only through [`ZeekConn::observe_bad_checksum`]).
//!   These four are recorded at the 1st, 10th, 100th, ... occurrence per endpoint.
//! - The "once per direction" bitmask is kept per *role*, not per endpoint, and is not swapped by a flip
//!   (as in Zeek, where `hist_seen` lives in the connection).
//!
//! **Endpoint states and `conn_state`** (`TCPSessionAdapter.cc` `init_endpoint`, `init_peer`,
//! `UpdateStateMachine` and the `Update*State` functions; `conn_state` in `conn/main.zeek`): the seven
//! endpoint states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET) with the same
//! transitions, including the quirks: a FIN+RST after a peer's FIN turns the peer back to CLOSED, a RST
//! after both FINs is ignored, an "eccentric" bare ACK from the responder during the handshake leaves it
//! INACTIVE, and the stale `is_orig` Zeek keeps for the rest of a packet that caused a flip. The
//! conn_state derivation (REJ, RSTOS0 via the history pattern `^?S[^HAFGIQ]*R.*`, RSTRH, SH, SHR, S0...)
//! follows `conn_state()` exactly.
//!
//! **Bytes** (`TCP_Endpoint::Size`): `orig_bytes`/`resp_bytes` are sequence-space extents: the larger of
//! the highest sequence number sent and the highest acknowledged by the peer, minus the initial sequence
//! number, minus one for the SYN and one if a FIN was seen; 0 for a SYN-then-RST endpoint whose peer was
//! never heard from and that had data acked. Sequence numbers are tracked with Zeek's 32-bit wrap counters
//! and its "too large jump" (2^20) filter for SYN/RST. Zeek logs these only when the duration is > 0
//! ([`ZeekConn::duration`]); otherwise the conn.log shows `-`.
//!
//! **Packets** (`src/analyzer/protocol/conn-size/ConnSize.cc`): `*_pkts` counts packets and `*_ip_bytes`
//! sums the IP total length ([`Segment::ip_len`]), per role; a flip swaps them.
//!
//! **Content gaps and `missed_bytes`** (`TCP_Reassembler.cc` `DataSent`, `AckReceived`, `Undelivered`,
//! `Gap`; `Reassem.cc` `DataBlockList::Trim`): a per-endpoint model of Zeek's reassembler. Data below the
//! peer's acknowledgement is dropped; in-order data advances the delivery point; out-of-order data is kept
//! as up to [`MAX_BLOCKS`] ranges. When the peer acknowledges beyond the delivery point (capped before the
//! FIN), the holes are gaps: `G`/`g` when both endpoints are established or cleanly closing, and
//! `missed_bytes` when that holds or [`ZeekConfig::report_gaps_for_partial`] is set. The first gap of a
//! partial connection at relative sequence ≤ 2 is ignored, as in Zeek.
//!
//! **Connection lifetime** (`IPBasedAnalyzer::AnalyzePacket`, `TCPSessionAdapter::IsReuse`,
//! `AttemptTimer`, `ExpireTimer`, `ConnectionClosed`, `Session::InactivityTimer`, defaults from
//! `scripts/base/init-bare.zeek`): Zeek ends a connection and starts a new one for the same 4-tuple when
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

use crate::segment::{Flags, Segment, Timestamp};
use std::net::{IpAddr, SocketAddr};

/// Longest history string kept.
pub const MAX_HISTORY: usize = 64;
/// Out-of-order ranges remembered per endpoint by the reassembly model.
pub const MAX_BLOCKS: usize = 4;

const SEC: u64 = 1_000_000_000;
/// `tcp_attempt_delay`, `tcp_close_delay`, `tcp_SYN_timeout`, `tcp_connection_linger` (all 5 s).
const FIVE_SECS: u64 = 5 * SEC;
/// `tcp_session_timer`.
const SESSION_TIMER: u64 = 6 * SEC;
/// `udp_inactivity_timeout`, which Zeek's TCP analyzer installs until the handshake is done.
const HANDSHAKE_INACTIVITY: u64 = 60 * SEC;
/// `tcp_inactivity_timeout`.
const TCP_INACTIVITY: u64 = 300 * SEC;
/// `TOO_LARGE_SEQ_DELTA` in `TCPSessionAdapter.cc`.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

// History masks (`TCP_Endpoint.h`); shifted left 16 for the responder.
const HIST_SYN: u32 = 0x1;
const HIST_FIN: u32 = 0x2;
const HIST_RST: u32 = 0x4;
const HIST_FIN_RST: u32 = 0x8;
const HIST_DATA: u32 = 0x10;
const HIST_ACK: u32 = 0x20;
const HIST_MULTI_FLAG: u32 = 0x40;

// `first_packet_seen` bits, by role.
const FPS_ORIG: u8 = 1;
const FPS_RESP: u8 = 2;

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

use ZeekEndpointState as St;

fn is_handshake(s: St) -> bool {
    matches!(s, St::Inactive | St::SynSent | St::SynAckSent)
}

fn is_clean(e: &Endpoint) -> bool {
    e.state == St::Established || (e.state == St::Closed && e.prev_state == St::Established)
}

/// `seq_delta`: signed 32-bit difference.
fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// A counter recorded in the history at 1, 10, 100, ... occurrences (`ScaledHistoryEntry`).
#[derive(Clone, Copy, Debug)]
struct Scaled {
    count: u32,
    threshold: u32,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled {
            count: 0,
            threshold: 1,
        }
    }
}

impl Scaled {
    /// Counts one occurrence; true if it crossed the next threshold.
    fn bump(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count != self.threshold {
            return false;
        }
        let next = self.threshold.wrapping_mul(10);
        if next <= self.threshold {
            self.count = 0;
        } else {
            self.threshold = next;
        }
        true
    }
}

/// The reassembly model of one endpoint's stream, in relative sequence space.
#[derive(Clone, Copy, Debug)]
struct Reassembly {
    /// Next byte to deliver (`last_reassem_seq`).
    next: u64,
    /// Everything below was trimmed by an ack (`trim_seq`).
    trim: u64,
    /// Undelivered ranges above `next`, sorted, disjoint.
    blocks: [(u64, u64); MAX_BLOCKS],
    n: usize,
}

impl Default for Reassembly {
    fn default() -> Self {
        Reassembly {
            next: 1,
            trim: 1,
            blocks: [(0, 0); MAX_BLOCKS],
            n: 0,
        }
    }
}

impl Reassembly {
    /// Delivers stored blocks that have become contiguous with `next`.
    fn deliver_contiguous(&mut self) {
        while self.n > 0 && self.blocks[0].0 <= self.next {
            self.next = self.next.max(self.blocks[0].1);
            self.remove_first();
        }
    }

    fn remove_first(&mut self) {
        self.blocks.copy_within(1..self.n, 0);
        self.n -= 1;
    }

    /// Stores `[lo, hi)` above `next`, merging overlaps; drops the highest range when full.
    fn insert(&mut self, lo: u64, hi: u64) {
        let (mut lo, mut hi) = (lo, hi);
        let mut kept = [(0u64, 0u64); MAX_BLOCKS + 1];
        let mut k = 0;
        for &(a, b) in &self.blocks[..self.n] {
            if b < lo || a > hi {
                kept[k] = (a, b);
                k += 1;
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        kept[k] = (lo, hi);
        k += 1;
        kept[..k].sort_unstable();
        let k = k.min(MAX_BLOCKS);
        self.blocks[..k].copy_from_slice(&kept[..k]);
        self.n = k;
    }

    /// `NewBlock` + `BlockInserted`.
    fn new_block(&mut self, seq: u64, len: u64) {
        let upper = seq.saturating_add(len);
        if len == 0 || upper <= self.trim {
            return;
        }
        let seq = seq.max(self.trim);
        if seq <= self.next {
            self.next = self.next.max(upper);
            self.deliver_contiguous();
        } else {
            self.insert(seq, upper);
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Endpoint {
    addr: SocketAddr,
    state: St,
    prev_state: St,
    /// Zeek keeps this as an `int64_t` but only ever stores 32-bit values in it.
    start_seq: u32,
    last_seq: u32,
    seq_wraps: u32,
    ack_seq: u32,
    ack_wraps: u32,
    fin_cnt: u32,
    fin_seq: u64,
    did_close: bool,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    rxmt: Scaled,
    win0: Scaled,
    gap: Scaled,
    chk: Scaled,
    pkts: u64,
    ip_bytes: u64,
    reasm: Reassembly,
}

impl Endpoint {
    fn new(addr: SocketAddr) -> Endpoint {
        Endpoint {
            addr,
            state: St::Inactive,
            prev_state: St::Inactive,
            start_seq: 0,
            last_seq: 0,
            seq_wraps: 0,
            ack_seq: 0,
            ack_wraps: 0,
            fin_cnt: 0,
            fin_seq: 0,
            did_close: false,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            rxmt: Scaled::default(),
            win0: Scaled::default(),
            gap: Scaled::default(),
            chk: Scaled::default(),
            pkts: 0,
            ip_bytes: 0,
            reasm: Reassembly::default(),
        }
    }

    fn init_seqs(&mut self, start: u32, ack: u32, last: u32) {
        self.start_seq = start;
        self.ack_seq = ack;
        self.last_seq = last;
    }

    fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = seq;
    }

    fn full(seq: u32, wraps: u32) -> u64 {
        (u64::from(wraps) << 32) + u64::from(seq)
    }

    fn relative_of(&self, seq: u32, wraps: u32) -> u64 {
        Self::full(seq, wraps).wrapping_sub(u64::from(self.start_seq))
    }

    fn no_data_acked(&self) -> bool {
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start + 1
    }

    /// `get_relative_seq`: (relative sequence number, underflow).
    fn relative_seq(&self, cur: u32, last: u32, wraps: u32) -> (u64, bool) {
        let mut wraps = wraps;
        let delta = seq_delta(cur, last);
        if delta < 0 {
            if wraps > 0 && cur > last {
                wraps -= 1;
            }
        } else if delta > 0 && cur < last {
            wraps = wraps.wrapping_add(1);
        }
        if wraps == 0 {
            let d = seq_delta(cur, self.start_seq);
            // Zeek returns the int32 through a uint64_t: negative values sign-extend.
            return (i64::from(d) as u64, d < 0);
        }
        (self.relative_of(cur, wraps), false)
    }

    fn set_state(&mut self, new: St, peer_state: St, inactivity: &mut u64) {
        if new != self.state {
            if !is_handshake(new) && is_handshake(self.state) && is_handshake(peer_state) {
                *inactivity = TCP_INACTIVITY;
            }
            self.prev_state = self.state;
            self.state = new;
        }
    }
}

/// One connection as Zeek's TCP analysis sees it. Create it with [`ZeekConn::new`] at the connection's
/// first segment, then pass every segment (the first included) to [`ZeekConn::observe`] in capture order.
#[derive(Clone, Debug)]
pub struct ZeekConn {
    /// `[0]` sent the first segment, `[1]` received it.
    ep: [Endpoint; 2],
    /// Index into `ep` of the current originator.
    orig: usize,
    history: String,
    hist_seen: u32,
    start: Timestamp,
    /// Zeek's `last_time`: not advanced once both endpoints have closed.
    last: Timestamp,
    /// Time of the last segment handed in (network time), for timer evaluation.
    net_time: Timestamp,
    is_active: bool,
    is_partial: bool,
    first_packet_seen: u8,
    missed_bytes: u64,
    report_gaps_for_partial: bool,
    inactivity: u64,
    attempt_timer: Option<Timestamp>,
    /// Pending `ExpireTimer`s (each re-arms itself every 6 s).
    expire_timers: [Option<Timestamp>; 3],
    delete_timer: Option<Timestamp>,
    removed: bool,
}

/// Which packets a [`ZeekConn`] step processes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Good,
    BadChecksum,
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
            ep: [Endpoint::new(first.src), Endpoint::new(first.dst)],
            orig: 0,
            history: String::new(),
            hist_seen: 0,
            start: now,
            last: now,
            net_time: now,
            is_active: true,
            is_partial: false,
            first_packet_seen: 0,
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

    /// The originator's address (after any flip).
    #[must_use]
    pub fn orig(&self) -> SocketAddr {
        self.ep[self.orig].addr
    }

    /// The responder's address (after any flip).
    #[must_use]
    pub fn resp(&self) -> SocketAddr {
        self.ep[1 - self.orig].addr
    }

    /// The originator's Zeek endpoint state.
    #[must_use]
    pub fn orig_state(&self) -> ZeekEndpointState {
        self.ep[self.orig].state
    }

    /// The responder's Zeek endpoint state.
    #[must_use]
    pub fn resp_state(&self) -> ZeekEndpointState {
        self.ep[1 - self.orig].state
    }

    /// Zeek's `history` field (empty when Zeek would log `-`).
    #[must_use]
    pub fn history(&self) -> &str {
        &self.history
    }

    /// Payload bytes the originator sent, from sequence numbers (`TCP_Endpoint::Size`).
    #[must_use]
    pub fn orig_bytes(&self) -> u64 {
        self.size(self.orig)
    }

    /// Payload bytes the responder sent, from sequence numbers.
    #[must_use]
    pub fn resp_bytes(&self) -> u64 {
        self.size(1 - self.orig)
    }

    #[must_use]
    pub fn orig_pkts(&self) -> u64 {
        self.ep[self.orig].pkts
    }

    #[must_use]
    pub fn resp_pkts(&self) -> u64 {
        self.ep[1 - self.orig].pkts
    }

    #[must_use]
    pub fn orig_ip_bytes(&self) -> u64 {
        self.ep[self.orig].ip_bytes
    }

    #[must_use]
    pub fn resp_ip_bytes(&self) -> u64 {
        self.ep[1 - self.orig].ip_bytes
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

    /// Zeek's `conn_state` (`conn_state()` in `scripts/base/protocols/conn/main.zeek`).
    #[must_use]
    pub fn conn_state(&self) -> &'static str {
        let os = self.orig_state();
        let rs = self.resp_state();
        let inactive = |s: St| s == St::Inactive || s == St::Partial;
        if rs == St::Reset {
            if os == St::SynSent
                || os == St::SynAckSent
                || (os == St::Reset && self.orig_bytes() == 0 && self.resp_bytes() == 0)
            {
                "REJ"
            } else if inactive(os) {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == St::Reset {
            if inactive(rs) {
                if history_is_rstos0(&self.history) {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == St::Closed && os == St::Closed {
            "SF"
        } else if os == St::Closed {
            if inactive(rs) { "SH" } else { "S2" }
        } else if rs == St::Closed {
            if inactive(os) { "SHR" } else { "S3" }
        } else if os == St::SynSent && rs == St::Inactive {
            "S0"
        } else if os == St::Established && rs == St::Established {
            "S1"
        } else {
            "OTH"
        }
    }

    /// Whether Zeek would treat `seg` (same 4-tuple) as the start of a new connection that replaces this
    /// one (`TCPSessionAdapter::IsReuse`). Only SYNs can be reuse.
    #[must_use]
    pub fn is_reuse(&self, seg: &Segment) -> bool {
        let f = seg.flags;
        if !f.syn() {
            return false;
        }
        let o = &self.ep[self.orig];
        let r = &self.ep[1 - self.orig];
        let mut conn_orig = o;
        if f.ack() {
            if o.state != St::Inactive {
                return false;
            }
            conn_orig = r;
        }
        if !(o.did_close || r.did_close) {
            let base = seg.seq.0;
            if base == conn_orig.start_seq {
                return false;
            }
            if !f.ack() && conn_orig.state == St::SynAckSent && r.state == St::Inactive && base == r.start_seq
            {
                return false;
            }
        }
        true
    }

    /// Fires Zeek's timers due at or before `now` (a packet at `now` is processed after them) and
    /// returns true if one of them removed the connection: the caller should then finish this
    /// connection and start a new one for the segment at `now`. Once true, stays true.
    pub fn expired(&mut self, now: Timestamp) -> bool {
        if self.removed {
            return true;
        }
        if now < self.net_time {
            return false;
        }
        let mut removal: Option<Timestamp> = None;
        let mut consider = |t: Timestamp| {
            if t <= now {
                removal = Some(removal.map_or(t, |r: Timestamp| r.min(t)));
            }
        };
        // Attempt timer: one-shot.
        if let Some(t) = self.attempt_timer
            && t <= now
        {
            self.attempt_timer = None;
            let o = self.ep[self.orig].state;
            let r = self.ep[1 - self.orig].state;
            if self.is_active && matches!(o, St::SynSent | St::SynAckSent) && r == St::Inactive {
                consider(t);
            }
        }
        // Expire timers: re-arm every 6 s while the connection is active.
        let remove_now = self.expire_condition();
        let linger_end = self.last.plus_nanos(FIVE_SECS);
        for slot in &mut self.expire_timers {
            let Some(t) = *slot else { continue };
            if t > now {
                continue;
            }
            if !self.is_active {
                *slot = None;
                continue;
            }
            // First firing time strictly after last + linger.
            let first_live = if t > linger_end {
                t
            } else {
                let k = (linger_end.0 - t.0) / SESSION_TIMER + 1;
                t.plus_nanos(k.saturating_mul(SESSION_TIMER))
            };
            if remove_now && first_live <= now {
                consider(first_live);
                *slot = None;
            } else {
                let k = (now.0 - t.0) / SESSION_TIMER + 1;
                *slot = Some(t.plus_nanos(k.saturating_mul(SESSION_TIMER)));
            }
        }
        if let Some(t) = self.delete_timer {
            consider(t);
        }
        consider(self.last.plus_nanos(self.inactivity));
        if removal.is_some() {
            self.removed = true;
        }
        self.removed
    }

    /// `ExpireTimer`'s removal condition, given that the linger time has passed.
    fn expire_condition(&self) -> bool {
        let o = &self.ep[self.orig];
        let r = &self.ep[1 - self.orig];
        if o.did_close || r.did_close {
            let any = |s: St| o.state == s || r.state == s;
            if (o.did_close && r.did_close) || any(St::Reset) || any(St::Inactive) {
                return true;
            }
        }
        r.state == St::Inactive && o.state == St::Inactive
    }

    /// Processes one segment of this connection (`TCPSessionAdapter::Process` and ConnSize counting).
    pub fn observe(&mut self, seg: &Segment, now: Timestamp) {
        self.step(seg, now, Kind::Good);
    }

    /// A segment of this connection that failed TCP checksum validation: Zeek records `C`/`c` (at 1, 10,
    /// 100... occurrences) and otherwise ignores the packet.
    pub fn observe_bad_checksum(&mut self, seg: &Segment, now: Timestamp) {
        self.step(seg, now, Kind::BadChecksum);
    }

    fn side_of(&self, seg: &Segment) -> usize {
        if seg.src == self.ep[0].addr { 0 } else { 1 }
    }

    fn step(&mut self, seg: &Segment, now: Timestamp, kind: Kind) {
        self.net_time = self.net_time.max(now);
        let side = self.side_of(seg);
        if kind == Kind::BadChecksum {
            let code = if side == self.orig { 'C' } else { 'c' };
            if self.ep[side].chk.bump() {
                self.add_history(code);
            }
            return;
        }
        self.process(side, seg, now);
        // ConnSize counts per endpoint; a flip just relabels them.
        let e = &mut self.ep[side];
        e.pkts += 1;
        e.ip_bytes += u64::from(seg.ip_len);
    }

    fn add_history(&mut self, code: char) {
        if self.history.len() < MAX_HISTORY {
            self.history.push(code);
        }
    }

    fn flip_roles(&mut self) {
        self.orig = 1 - self.orig;
        let f = self.first_packet_seen;
        self.first_packet_seen =
            (if f & FPS_ORIG != 0 { FPS_RESP } else { 0 }) | (if f & FPS_RESP != 0 { FPS_ORIG } else { 0 });
        self.is_partial = false;
        self.add_history('^');
    }

    /// `Session::CheckHistory` via `TCP_Endpoint::CheckHistory`: true if already seen.
    fn check_history(&mut self, side: usize, mask: u32, code: char) -> bool {
        if (code == 'A' || code == 'D') && self.history == "H" {
            self.flip_roles();
            self.history.clear();
            self.history.push_str("^h");
            self.first_packet_seen |= FPS_ORIG;
        }
        let (mask, code) = if side == self.orig {
            (mask, code)
        } else {
            (mask << 16, code.to_ascii_lowercase())
        };
        if self.hist_seen & mask == 0 {
            self.hist_seen |= mask;
            self.add_history(code);
            false
        } else {
            true
        }
    }

    /// `TCP_Endpoint::AddHistory`.
    fn endpoint_add_history(&mut self, side: usize, code: char) {
        let code = if side == self.orig {
            code
        } else {
            code.to_ascii_lowercase()
        };
        self.add_history(code);
    }

    fn scaled(&mut self, side: usize, which: fn(&mut Endpoint) -> &mut Scaled, upper: char) {
        if which(&mut self.ep[side]).bump() {
            self.endpoint_add_history(side, upper);
        }
    }

    fn update_history(&mut self, side: usize, seg: &Segment, rel_seq: u64) {
        let f = seg.flags;
        let len = u64::from(seg.payload_len);
        let bits = u8::from(f.syn()) + u8::from(f.fin()) + u8::from(f.rst());
        if bits > 1 {
            if f.fin() && f.rst() {
                self.check_history(side, HIST_FIN_RST, 'I');
            } else {
                self.check_history(side, HIST_MULTI_FLAG, 'Q');
            }
        } else if bits == 1 {
            if f.syn() {
                let code = if f.ack() { 'H' } else { 'S' };
                if self.check_history(side, HIST_SYN, code) && rel_seq != self.ep[side].hist_last_syn {
                    self.endpoint_add_history(side, code);
                }
                self.ep[side].hist_last_syn = rel_seq;
            }
            if f.fin() {
                let end = rel_seq.wrapping_add(len);
                if self.check_history(side, HIST_FIN, 'F') && end != self.ep[side].hist_last_fin {
                    self.endpoint_add_history(side, 'F');
                }
                self.ep[side].hist_last_fin = end;
            }
            if f.rst() {
                if self.check_history(side, HIST_RST, 'R') && rel_seq != self.ep[side].hist_last_rst {
                    self.endpoint_add_history(side, 'R');
                }
                self.ep[side].hist_last_rst = rel_seq;
            }
        } else if len > 0 {
            self.check_history(side, HIST_DATA, 'D');
        } else if f.ack() {
            self.check_history(side, HIST_ACK, 'A');
        }
    }

    /// `init_endpoint`.
    fn init_endpoint(&mut self, side: usize, seg: &Segment, seq_end: u32) {
        let e = &mut self.ep[side];
        let first = seg.seq.0;
        let syn = seg.flags.syn();
        match e.state {
            St::Inactive => {
                if syn {
                    e.init_seqs(first, first, seq_end);
                } else {
                    // Partial connection: pretend a SYN preceded, but don't call this packet a duplicate.
                    let s = first.wrapping_sub(1);
                    e.init_seqs(s, s, first);
                }
            }
            St::SynSent | St::SynAckSent => {
                if syn && first != e.start_seq {
                    e.init_seqs(first, first, seq_end);
                }
            }
            St::Established | St::Partial => {
                if syn {
                    e.init_seqs(first, first, seq_end);
                }
            }
            St::Reset => {
                if syn && e.prev_state == St::Inactive {
                    e.init_seqs(first, first, seq_end);
                }
            }
            St::Closed => {}
        }
    }

    fn process(&mut self, side: usize, seg: &Segment, now: Timestamp) {
        let f = seg.flags;
        let peer = 1 - side;
        // Zeek's `is_orig` for this packet: decided before processing, stale after a flip.
        let is_orig = side == self.orig;
        let base_seq = seg.seq.0;
        let ack_seq = seg.ack.0;
        let len = seg.payload_len;

        // SetPartialStatus
        if is_orig {
            if self.first_packet_seen & FPS_ORIG == 0 {
                self.is_partial = !f.syn() || f.ack();
            }
        } else if self.first_packet_seen & FPS_RESP == 0 && !self.is_partial {
            self.is_partial = !f.syn();
        }

        let mut seg_len = len
            .wrapping_add(u32::from(f.syn()))
            .wrapping_add(u32::from(f.fin()));
        if f.rst() {
            seg_len = seg_len.wrapping_sub(len);
        }
        let seq_end = base_seq.wrapping_add(seg_len);

        self.init_endpoint(side, seg, seq_end);

        let e = &self.ep[side];
        let (rel_seq, seq_underflow) = e.relative_seq(base_seq, e.last_seq, e.seq_wraps);

        self.update_history(side, seg, rel_seq);

        // update_window: only the zero-window letter matters here (scaling never makes a non-zero
        // 16-bit window zero, as Zeek caps the shift at 14).
        if seg.window == 0
            && !f.rst()
            && self.ep[peer].state != St::Closed
            && self.ep[side].state != St::Reset
        {
            self.scaled(side, |e| &mut e.win0, 'W');
        }

        if !(self.ep[0].did_close && self.ep[1].did_close) {
            self.last = now;
        }

        if f.fin() {
            let e = &mut self.ep[side];
            e.fin_cnt = e.fin_cnt.wrapping_add(1);
            e.fin_seq = rel_seq.wrapping_add(u64::from(seg_len));
        }

        let mut rel_ack = 0u64;
        if f.ack() {
            if self.ep[peer].state == St::Inactive {
                rel_ack = 1;
                let s = ack_seq.wrapping_sub(1);
                self.ep[peer].init_seqs(s, s, s);
            } else {
                let p = &self.ep[peer];
                let (r, underflow) = p.relative_seq(ack_seq, p.ack_seq, p.ack_wraps);
                if !underflow {
                    rel_ack = r;
                    if !f.rst() {
                        let p = &mut self.ep[peer];
                        let delta = seq_delta(ack_seq, p.ack_seq);
                        if ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA {
                            // A broken ack rather than a wrap onto 0.
                        } else if delta > 0 {
                            p.update_ack_seq(ack_seq);
                        }
                    }
                }
            }
        }

        self.update_last_seq(side, seq_end, f, len);

        let (do_close, gen_event) = self.update_state_machine(side, seg, is_orig, now);

        if f.ack() {
            self.ack_received(peer, rel_ack);
        }

        // CheckPIA_FirstPacket, with the (possibly stale) is_orig.
        if is_orig {
            self.first_packet_seen |= FPS_ORIG;
        } else {
            self.first_packet_seen |= FPS_RESP;
        }

        let rel_data_seq = if f.syn() { rel_seq.wrapping_add(1) } else { rel_seq };
        if len > 0 && !f.rst() && !seq_underflow {
            self.data_sent(side, rel_data_seq, u64::from(len));
        }

        if do_close {
            self.connection_closed(side, gen_event);
        }
    }

    /// `update_last_seq` (its `delta_last` result only feeds a weird).
    fn update_last_seq(&mut self, side: usize, last_seq: u32, f: Flags, len: u32) {
        let e = &self.ep[side];
        let delta = seq_delta(last_seq, e.last_seq);
        if (f.syn() || f.rst()) && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta) {
            // Untrusted jump.
        } else if f.fin() && e.last_seq == e.start_seq.wrapping_add(1) {
            self.ep[side].update_last_seq(last_seq);
        } else if e.state == St::Reset {
            // Don't trust sequence numbers after a reset.
        } else if delta > 0 {
            self.ep[side].update_last_seq(last_seq);
        } else if len > 0 {
            self.scaled(side, |e| &mut e.rxmt, 'T');
        }
    }

    fn set_state(&mut self, side: usize, new: St) {
        let peer_state = self.ep[1 - side].state;
        let mut inactivity = self.inactivity;
        self.ep[side].set_state(new, peer_state, &mut inactivity);
        self.inactivity = inactivity;
    }

    /// `UpdateStateMachine`: returns (do_close, gen_event).
    fn update_state_machine(
        &mut self,
        side: usize,
        seg: &Segment,
        is_orig: bool,
        now: Timestamp,
    ) -> (bool, bool) {
        let f = seg.flags;
        let peer = 1 - side;
        let mut do_close = false;
        let mut gen_event = false;
        match self.ep[side].state {
            St::Inactive => {
                if f.syn() {
                    if is_orig {
                        self.set_state(side, if f.ack() { St::SynAckSent } else { St::SynSent });
                        self.attempt_timer = Some(now.plus_nanos(FIVE_SECS));
                    } else {
                        if !f.ack()
                            && self.ep[peer].state == St::SynAckSent
                            && seg.seq.0 == self.ep[side].start_seq
                        {
                            // SYN/SYN-ACK reversal: flip and establish.
                            self.is_partial = false;
                            self.flip_roles();
                            self.set_state(peer, St::Established);
                            self.first_packet_seen |= FPS_ORIG;
                        }
                        if self.ep[peer].state == St::SynSent {
                            self.set_state(peer, St::Established);
                        }
                        self.set_state(side, St::Established);
                    }
                }
                if f.fin() {
                    self.set_state(side, St::Closed);
                    do_close = true;
                    gen_event = true;
                }
                if f.rst() {
                    self.set_state(side, St::Reset);
                    let ps = self.ep[peer].state;
                    let is_reject = if is_orig {
                        ps == St::Established
                    } else {
                        ps == St::SynSent || ps == St::SynAckSent
                    };
                    do_close = true;
                    gen_event = !is_reject;
                }
                if self.ep[side].state == St::Inactive {
                    let orig_state = self.ep[self.orig].state;
                    if !is_orig && seg.payload_len == 0 && orig_state == St::SynSent {
                        // An eccentric stack acking the SYN before its SYN-ACK: not a partial connection.
                    } else if f.ack() && self.ep[peer].state == St::Established {
                        // Missed the originator's SYN but saw the SYN-ACK: establish.
                        self.set_state(side, St::Established);
                        self.is_partial = false;
                        self.first_packet_seen |= if is_orig { FPS_ORIG } else { FPS_RESP };
                    } else {
                        self.set_state(side, St::Partial);
                    }
                }
            }
            St::SynSent | St::SynAckSent => {
                if f.fin() {
                    self.set_state(side, St::Closed);
                    do_close = true;
                    gen_event = true;
                }
                if f.rst() {
                    self.set_state(side, St::Reset);
                    self.is_active = false;
                    do_close = true;
                }
            }
            St::Established | St::Partial => {
                if f.syn()
                    && self.ep[side].state == St::Partial
                    && self.ep[peer].state == St::Inactive
                    && !f.ack()
                {
                    self.set_state(side, St::SynSent);
                }
                if f.fin() && !f.rst() {
                    self.set_state(side, St::Closed);
                    if self.ep[peer].state == St::Reset && self.ep[peer].prev_state == St::Closed {
                        // FIN then RST from the peer: a normal close after all.
                        self.set_state(peer, St::Closed);
                    }
                    do_close = true;
                    gen_event = true;
                }
                if f.rst() {
                    self.set_state(side, St::Reset);
                    do_close = true;
                    let p = &self.ep[peer];
                    if p.state != St::Reset || p.prev_state != St::Established {
                        self.is_active = false;
                    }
                }
            }
            St::Closed => {
                if f.rst() && self.ep[peer].state != St::Closed {
                    self.set_state(side, St::Reset);
                    if !self.ep[side].did_close {
                        do_close = true;
                    }
                }
            }
            St::Reset => {}
        }
        (do_close, gen_event)
    }

    /// `TCPSessionAdapter::ConnectionClosed` (without DPD's deferral).
    fn connection_closed(&mut self, side: usize, gen_event: bool) {
        let peer = 1 - side;
        if self.ep[side].did_close {
            return;
        }
        self.ep[side].did_close = true;
        let e = &self.ep[side];
        let p = &self.ep[peer];
        let complete = e.state == St::Reset || p.did_close || p.state == St::Inactive;
        if complete {
            if (e.prev_state != St::Inactive || p.state != St::Inactive) && gen_event {
                // connection_finished / connection_half_finished
                self.is_active = false;
            }
            // CancelTimers: analyzer timers go; the delete timer is added afterwards.
            self.attempt_timer = None;
            self.expire_timers = [None; 3];
            let t = self.last.plus_nanos(FIVE_SECS);
            self.delete_timer = Some(self.delete_timer.map_or(t, |d| d.min(t)));
        } else if e.prev_state != St::Inactive {
            let t = self.last.plus_nanos(SESSION_TIMER);
            if let Some(slot) = self.expire_timers.iter_mut().find(|s| s.is_none()) {
                *slot = Some(t);
            }
        }
    }

    /// `TCP_Reassembler::DataSent` (the parts that decide gaps).
    fn data_sent(&mut self, side: usize, seq: u64, len: u64) {
        let e = &mut self.ep[side];
        let ack = e.relative_of(e.ack_seq, e.ack_wraps);
        let (mut seq, mut len) = (seq, len);
        let upper = seq.saturating_add(len);
        if seq < ack {
            if upper <= ack {
                return;
            }
            len -= ack - seq;
            seq = ack;
        }
        e.reasm.new_block(seq, len);
    }

    /// `TCP_Endpoint::AckReceived` → `TCP_Reassembler::AckReceived`/`TrimToSeq`/`Undelivered`.
    fn ack_received(&mut self, side: usize, seq: u64) {
        let mut seq = seq;
        let e = &self.ep[side];
        if e.fin_cnt > 0 && seq >= e.fin_seq {
            seq = e.fin_seq.wrapping_sub(1);
        }
        if seq <= e.reasm.trim {
            return;
        }
        let mut gaps = [0u64; MAX_BLOCKS + 1];
        let mut ngaps = 0;
        let r = &mut self.ep[side].reasm;
        if seq > r.next && !(seq <= 2 && self.is_partial) {
            while r.n > 0 && r.blocks[0].0 < seq {
                let (lo, hi) = r.blocks[0];
                if lo > r.next {
                    gaps[ngaps] = lo - r.next;
                    ngaps += 1;
                }
                r.next = r.next.max(hi);
                r.remove_first();
                r.deliver_contiguous();
            }
            if seq > r.next {
                gaps[ngaps] = seq - r.next;
                ngaps += 1;
            }
            r.next = r.next.max(seq);
        }
        // Trim: blocks wholly below the ack go; one now at the delivery point is delivered.
        while r.n > 0 && r.blocks[0].1 <= seq {
            r.remove_first();
        }
        r.deliver_contiguous();
        r.trim = seq;
        for &g in &gaps[..ngaps] {
            self.gap(side, g);
        }
    }

    /// `TCP_Reassembler::Gap`.
    fn gap(&mut self, side: usize, len: u64) {
        let clean = is_clean(&self.ep[side]) && is_clean(&self.ep[1 - side]);
        if clean {
            self.scaled(side, |e| &mut e.gap, 'G');
        }
        if clean || self.report_gaps_for_partial {
            self.missed_bytes = self.missed_bytes.saturating_add(len);
        }
    }

    /// `TCP_Endpoint::Size`.
    fn size(&self, side: usize) -> u64 {
        let e = &self.ep[side];
        let p = &self.ep[1 - side];
        if e.prev_state == St::SynSent
            && e.state == St::Reset
            && p.state == St::Inactive
            && !e.no_data_acked()
        {
            return 0;
        }
        let last = Endpoint::full(e.last_seq, e.seq_wraps);
        let ack = Endpoint::full(e.ack_seq, e.ack_wraps);
        let mut size = last.max(ack).wrapping_sub(u64::from(e.start_seq));
        // Not the SYN's octet (partial connections pretend there was one).
        size = size.saturating_sub(1);
        if e.fin_cnt > 0 && size != 0 {
            size -= 1;
        }
        size
    }
}

/// `/^?S[^HAFGIQ]*R.*/ == history` (a whole-string match).
fn history_is_rstos0(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seq::Seq;
    use proptest::prelude::*;

    const SYN: u8 = Flags::SYN;
    const ACK: u8 = Flags::ACK;
    const FIN: u8 = Flags::FIN;
    const RST: u8 = Flags::RST;
    const PSH: u8 = Flags::PSH;

    fn client() -> SocketAddr {
        "10.0.0.1:40000".parse().unwrap()
    }
    fn server() -> SocketAddr {
        "10.0.0.2:80".parse().unwrap()
    }

    /// A conversation between [`client`] (ISN 1000) and [`server`] (ISN 5000), tracked by Zeek's rules.
    struct Conv {
        z: Option<ZeekConn>,
        t: u64,
        cfg: ZeekConfig,
    }

    impl Conv {
        fn new() -> Conv {
            Conv {
                z: None,
                t: 1_000 * SEC,
                cfg: ZeekConfig::default(),
            }
        }

        /// Sends a segment; `seq`/`ack` are relative to the sender's / receiver's ISN.
        fn send(&mut self, from_client: bool, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Conv {
            let (src, dst, isn, peer_isn) = if from_client {
                (client(), server(), 1000, 5000)
            } else {
                (server(), client(), 5000, 1000)
            };
            let mut s = Segment::between(src, dst);
            s.flags = Flags(flags);
            s.seq = Seq(isn + seq);
            s.ack = if flags & ACK != 0 {
                Seq(peer_isn + ack)
            } else {
                Seq(0)
            };
            s.payload_len = len;
            s.ip_len = 40 + len;
            self.seg(s)
        }

        fn seg(&mut self, s: Segment) -> &mut Conv {
            self.t += SEC / 100;
            let now = Timestamp(self.t);
            let cfg = self.cfg.clone();
            self.z
                .get_or_insert_with(|| ZeekConn::with_config(&s, now, &cfg))
                .observe(&s, now);
            self
        }

        fn c(&mut self, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Conv {
            self.send(true, flags, seq, ack, len)
        }
        fn s(&mut self, flags: u8, seq: u32, ack: u32, len: u32) -> &mut Conv {
            self.send(false, flags, seq, ack, len)
        }

        /// SYN, SYN-ACK, ACK.
        fn handshake(&mut self) -> &mut Conv {
            self.c(SYN, 0, 0, 0).s(SYN | ACK, 0, 1, 0).c(ACK, 1, 1, 0)
        }

        /// Client sends 100 bytes, server acks and answers with 200, client acks.
        fn exchange(&mut self) -> &mut Conv {
            self.c(ACK | PSH, 1, 1, 100)
                .s(ACK, 1, 101, 0)
                .s(ACK | PSH, 1, 101, 200)
                .c(ACK, 101, 201, 0)
        }

        fn z(&self) -> &ZeekConn {
            self.z.as_ref().unwrap()
        }

        fn check(&self, state: &str, history: &str) {
            assert_eq!((self.z().conn_state(), self.z().history()), (state, history));
        }
    }

    #[test]
    fn normal_close_by_client() {
        let mut c = Conv::new();
        c.handshake()
            .exchange()
            .c(FIN | ACK, 101, 201, 0)
            .s(FIN | ACK, 201, 102, 0)
            .c(ACK, 102, 202, 0);
        c.check("SF", "ShADadFf");
        let z = c.z();
        assert_eq!((z.orig(), z.resp()), (client(), server()));
        assert_eq!((z.orig_bytes(), z.resp_bytes()), (100, 200));
        assert_eq!((z.orig_pkts(), z.resp_pkts()), (6, 4));
        assert_eq!(
            (z.orig_ip_bytes(), z.resp_ip_bytes()),
            (6 * 40 + 100, 4 * 40 + 200)
        );
        assert_eq!(z.missed_bytes(), 0);
        assert!(z.duration() > 0);
    }

    #[test]
    fn normal_close_by_server() {
        let mut c = Conv::new();
        c.handshake()
            .exchange()
            .s(FIN | ACK, 201, 101, 0)
            .c(FIN | ACK, 101, 202, 0)
            .s(ACK, 202, 102, 0);
        c.check("SF", "ShADadfF");
    }

    #[test]
    fn rejected() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).s(RST | ACK, 0, 1, 0);
        c.check("REJ", "Sr");
    }

    #[test]
    fn unanswered_syn_is_s0_and_expires_after_the_attempt_delay() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0);
        c.check("S0", "S");
        let t = c.t;
        let mut z = c.z().clone();
        assert!(!z.expired(Timestamp(t + 4 * SEC)));
        assert!(z.expired(Timestamp(t + 5 * SEC)));
    }

    #[test]
    fn syn_then_data_without_answer_is_split_like_zeek() {
        // ssh.client-side-half-duplex: "SAD" (S0) then, after the 5 s attempt timer, "DAF" (SH).
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(ACK, 1, 1, 0).c(ACK | PSH, 1, 1, 10);
        c.check("S0", "SAD");
        let mut s = Segment::between(client(), server());
        s.flags = Flags(ACK | PSH);
        s.seq = Seq(1011);
        s.ack = Seq(5001);
        s.payload_len = 10;
        let later = Timestamp(c.t + 6 * SEC);
        let mut old = c.z().clone();
        assert!(old.expired(later));
        let mut fresh = Conv::new();
        fresh.t = later.0;
        fresh.seg(s).c(FIN | ACK, 21, 1, 0);
        fresh.check("SH", "DF");
    }

    #[test]
    fn originator_abort_and_responder_abort() {
        let mut c = Conv::new();
        c.handshake().exchange().c(RST | ACK, 101, 201, 0);
        c.check("RSTO", "ShADadR");
        let mut c = Conv::new();
        c.handshake().exchange().s(RST, 201, 0, 0);
        c.check("RSTR", "ShADadr");
    }

    #[test]
    fn syn_then_originator_rst_is_rstos0() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(RST, 1, 0, 0);
        c.check("RSTOS0", "SR");
    }

    #[test]
    fn syn_ack_then_rst_from_server_is_rstrh() {
        // The SYN-ACK comes from a likely server port: flipped at creation.
        let mut c = Conv::new();
        c.s(SYN | ACK, 0, 1, 0).s(RST, 1, 0, 0);
        c.check("RSTRH", "^hr");
        assert_eq!(c.z().orig(), client());
    }

    #[test]
    fn half_open_states() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(FIN, 1, 0, 0);
        c.check("SH", "SF");
        let mut c = Conv::new();
        c.s(SYN | ACK, 0, 1, 0).s(FIN | ACK, 1, 1, 0);
        c.check("SHR", "^hf");
        let mut c = Conv::new();
        c.handshake().c(FIN | ACK, 1, 1, 0);
        c.check("S2", "ShAF");
        let mut c = Conv::new();
        c.handshake().s(FIN | ACK, 1, 1, 0);
        c.check("S3", "ShAf");
        let mut c = Conv::new();
        c.handshake();
        c.check("S1", "ShA");
    }

    #[test]
    fn missing_syn_flips_at_creation() {
        // tcp/missing-syn.pcap: "^hADdFaf".
        let mut c = Conv::new();
        c.s(SYN | ACK, 0, 1, 0)
            .c(ACK, 1, 1, 0)
            .c(ACK | PSH, 1, 1, 98)
            .s(ACK | PSH, 1, 99, 500)
            .c(FIN | ACK, 99, 501, 0)
            .s(ACK, 501, 100, 0)
            .s(FIN | ACK, 501, 100, 0);
        c.check("SF", "^hADdFaf");
        let z = c.z();
        assert_eq!((z.orig(), z.resp()), (client(), server()));
        assert_eq!((z.orig_bytes(), z.resp_bytes()), (98, 500));
        assert_eq!((z.orig_pkts(), z.resp_pkts()), (3, 4));
    }

    #[test]
    fn syn_ack_between_server_ports_flips_on_first_ack() {
        // http/zeek-image-post-1080-8000-x.pcap: both ports are likely servers, so the SYN-ACK is not
        // flipped at creation; the first pure ack flips it and the history becomes "^hA".
        let a: SocketAddr = "127.0.0.1:1080".parse().unwrap();
        let b: SocketAddr = "44.1.1.1:8000".parse().unwrap();
        let mut c = Conv::new();
        let mut s = Segment::between(b, a);
        s.flags = Flags(SYN | ACK);
        s.seq = Seq(7000);
        s.ack = Seq(3001);
        c.seg(s);
        c.check("OTH", "H");
        let mut s = Segment::between(a, b);
        s.flags = Flags(ACK);
        s.seq = Seq(3001);
        s.ack = Seq(7001);
        c.seg(s);
        assert_eq!(c.z().history(), "^hA");
        assert_eq!((c.z().orig(), c.z().resp()), (a, b));
        assert_eq!((c.z().orig_pkts(), c.z().resp_pkts()), (1, 1));
    }

    #[test]
    fn lone_packets_are_oth() {
        // mpls-in-vlan.pcap: "D" and "^d".
        let mut c = Conv::new();
        c.c(ACK | PSH, 1, 1, 217);
        c.check("OTH", "D");
        let mut c = Conv::new();
        c.s(ACK, 1, 1, 1460);
        c.check("OTH", "^d");
        let z = c.z();
        assert_eq!((z.orig_pkts(), z.resp_pkts(), z.resp_ip_bytes()), (0, 1, 1500));
        assert_eq!(z.duration(), 0);
    }

    #[test]
    fn retransmissions_are_logged_at_1_and_10() {
        let mut c = Conv::new();
        c.handshake().c(ACK | PSH, 1, 1, 100);
        // Ten retransmissions: `T` at the 1st and the 10th.
        for _ in 0..10 {
            c.c(ACK | PSH, 1, 1, 100);
        }
        c.s(ACK, 1, 101, 0)
            .s(ACK | PSH, 1, 101, 50)
            .s(ACK | PSH, 1, 101, 50);
        c.check("S1", "ShADTTadt");
    }

    #[test]
    fn zero_window() {
        let mut c = Conv::new();
        c.handshake().c(ACK | PSH, 1, 1, 100);
        let mut s = Segment::between(server(), client());
        s.flags = Flags(ACK);
        s.seq = Seq(5001);
        s.ack = Seq(1101);
        s.window = 0;
        c.seg(s);
        c.check("S1", "ShADaw");
    }

    #[test]
    fn content_gap_is_recorded_and_missed() {
        let mut c = Conv::new();
        // The client's bytes 1..=100 are never seen; the server acks them.
        c.handshake().c(ACK | PSH, 101, 1, 100).s(ACK, 1, 201, 0);
        c.check("S1", "ShADaG");
        assert_eq!(c.z().missed_bytes(), 100);
        assert_eq!(c.z().orig_bytes(), 200);
    }

    #[test]
    fn repeated_flags_with_new_sequence_numbers_are_recorded_again() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).c(SYN, 0, 0, 0);
        assert_eq!(c.z().history(), "S");
        let mut s = Segment::between(client(), server());
        s.flags = Flags(SYN);
        s.seq = Seq(1500);
        assert!(c.z().is_reuse(&s), "a SYN with a new ISN starts a new connection");
    }

    #[test]
    fn reuse_after_reject() {
        let mut c = Conv::new();
        c.c(SYN, 0, 0, 0).s(RST | ACK, 0, 1, 0);
        let mut s = Segment::between(client(), server());
        s.flags = Flags(SYN);
        s.seq = Seq(1000);
        assert!(c.z().is_reuse(&s), "any SYN after a close is reuse");
        let mut ack = s;
        ack.flags = Flags(ACK);
        assert!(!c.z().is_reuse(&ack));
    }

    #[test]
    fn multi_flag_and_inconsistent_packets() {
        let mut c = Conv::new();
        c.c(SYN | FIN, 0, 0, 0).c(SYN | FIN, 0, 0, 0);
        assert_eq!(c.z().history(), "Q");
        let mut c = Conv::new();
        c.handshake().s(FIN | RST | ACK, 1, 1, 0);
        assert_eq!(c.z().history(), "ShAi");
    }

    #[test]
    fn bad_checksums_only_add_c() {
        let mut c = Conv::new();
        c.handshake();
        let mut s = Segment::between(server(), client());
        s.flags = Flags(ACK | PSH);
        s.seq = Seq(5001);
        s.payload_len = 10;
        let mut z = c.z().clone();
        z.observe_bad_checksum(&s, Timestamp(c.t + 1));
        assert_eq!(z.history(), "ShAc");
        assert_eq!(z.resp_pkts(), 1);
    }

    #[test]
    fn rstos0_pattern() {
        assert!(history_is_rstos0("SR"));
        assert!(history_is_rstos0("^STR"));
        assert!(history_is_rstos0("SdR"));
        assert!(!history_is_rstos0("SAR"));
        assert!(!history_is_rstos0("DR"));
        assert!(!history_is_rstos0("S"));
    }

    fn arb_segment() -> impl Strategy<Value = (bool, u8, u32, u32, u16, u32, u64)> {
        (
            any::<bool>(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
            0u32..70_000,
            0u64..20 * SEC,
        )
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_bounded(segs in proptest::collection::vec(arb_segment(), 1..200)) {
            let mut t = 0u64;
            let mut z: Option<ZeekConn> = None;
            for (from_client, flags, seq, ack, window, len, dt) in segs {
                t += dt;
                let (src, dst) = if from_client { (client(), server()) } else { (server(), client()) };
                let mut s = Segment::between(src, dst);
                s.flags = Flags(flags);
                s.seq = Seq(seq);
                s.ack = Seq(ack);
                s.window = window;
                s.payload_len = len;
                s.ip_len = 40 + len;
                let now = Timestamp(t);
                let z = z.get_or_insert_with(|| ZeekConn::new(&s, now));
                let _ = z.is_reuse(&s);
                let _ = z.expired(now);
                if flags & 0x80 != 0 { z.observe_bad_checksum(&s, now) } else { z.observe(&s, now) }
                prop_assert!(z.history().len() <= MAX_HISTORY);
                let _ = (z.conn_state(), z.orig_bytes(), z.resp_bytes(), z.missed_bytes());
            }
        }
    }
}
