//! Both sides of one connection: the handshake, the close, resets, and the record it ends with.
//!
//! Each segment is applied as "the sender did X"; the receiver's side of an event is inferred when
//! the receiver acknowledges it (a FIN counts as received when the peer acks it, RFC 9293 §3.6).
//!
//! # Who is the client
//! The client is the side that sent the first SYN without ACK. If the capture starts later, the
//! receiver of the first SYN-ACK is the client. With no handshake seen at all (midstream pickup), the
//! side with the higher port number is the client (services listen on low, well-known ports; clients use
//! ephemeral ports, 32768–60999 on Linux); with equal ports, the sender of the first segment is.

use crate::ending::{Cause, Closer, EndReason, Handshake, Side};
use crate::endpoint::Endpoint;
use crate::segment::{Segment, Timestamp};
use crate::seq::Seq;
use crate::state::State;
use crate::transition::Trigger;
#[cfg(test)]
use crate::zeek::ZeekConn;
use crate::zeek::rows::ZeekRows;

pub use crate::record::{Anomalies, ConnectionRecord, ZeekSummary};

/// A SYN with the ISN of a refused one, this long or longer after the refusal, is a new attempt
/// (Windows retries a refused connect half a second later with the same ISN), not a copy of the
/// first captured twice.
const RETRY_AFTER_REFUSAL: u64 = 200_000_000;

/// A gap between two segments of a connection this long or longer is a silence, not a pause within
/// an exchange (`idle_before_reset`).
const SILENCE: u64 = 1_000_000_000;

/// One tracked connection.
#[derive(Debug)]
pub struct Connection {
    pub id: u64,
    client: Endpoint,
    server: Endpoint,
    /// [`Segment::tunnel`] of every segment of the connection (it is part of the tracker's key).
    tunnel: u32,
    start: Timestamp,
    last: Timestamp,
    /// The client's first SYN was seen (so the handshake can be judged).
    saw_syn: bool,
    /// The server's SYN-ACK was seen, or proven by the client's acknowledgement of it.
    saw_synack: bool,
    simultaneous_open: bool,
    /// SYN-ACK acknowledged ISN+1.
    synack_ok: bool,
    /// Client acknowledged the server's SYN with a non-SYN segment (seen, or proven by the server's
    /// later segments).
    handshake_acked: bool,
    fast_open: bool,
    /// Payload carried by the client's SYN (Fast Open).
    syn_data: u32,
    handshake_rtt: Option<u64>,
    closer: Closer,
    reset: Option<Reset>,
    /// The last silence (a gap of [`SILENCE`] or more between consecutive segments): the one before
    /// the current exchange, in nanoseconds.
    silence: u64,
    /// The ACK of a half-open discovery probe (see [`Anomalies::half_open_discovery`]): the RST that
    /// answers it carries this sequence number.
    discovery_ack: Option<Seq>,
    anomalies: Anomalies,
    /// Zeek's view, when an output prints it ([`crate::tracker::Config::zeek_view`]).
    zeek: Option<Box<ZeekRows>>,
}

/// What the tracker must do after a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Ok,
    /// The segment is a SYN that starts a new connection on this 4-tuple (port reuse).
    NewConnection,
}

impl Connection {
    /// Starts tracking with the first segment seen on a 4-tuple (already applied), with Zeek's view
    /// of it if `zeek_view`.
    #[must_use]
    pub fn new(id: u64, seg: &Segment, now: Timestamp, zeek_view: bool) -> Connection {
        let client_is_src = if seg.flags.syn() {
            !seg.flags.ack()
        } else {
            let (sp, dp) = (seg.src.port(), seg.dst.port());
            if sp == dp { true } else { sp > dp }
        };
        let (c, s) = if client_is_src {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let mut conn = Connection {
            id,
            client: Endpoint::new(c),
            server: Endpoint::new(s),
            tunnel: seg.tunnel,
            start: now,
            last: now,
            saw_syn: false,
            saw_synack: false,
            simultaneous_open: false,
            synack_ok: false,
            handshake_acked: false,
            fast_open: false,
            syn_data: 0,
            handshake_rtt: None,
            closer: Closer::None,
            reset: None,
            silence: 0,
            discovery_ack: None,
            anomalies: Anomalies::default(),
            zeek: zeek_view.then(|| Box::new(ZeekRows::new(seg, now))),
        };
        if !seg.flags.syn() {
            conn.client.enter(Trigger::PickedUp, now);
            conn.server.enter(Trigger::PickedUp, now);
        } else if seg.flags.ack() {
            // SYN-ACK first: the client's SYN went unseen, it is in SYN-SENT.
            conn.client.enter(Trigger::SentSyn, now);
        }
        conn.apply(seg, now);
        conn
    }

    #[must_use]
    pub fn client(&self) -> &Endpoint {
        &self.client
    }

    #[must_use]
    pub fn server(&self) -> &Endpoint {
        &self.server
    }

    /// Zeek's view of the connection's current part (the tests' transcripts look at it).
    #[cfg(test)]
    pub(crate) fn zeek_view(&self) -> &ZeekConn {
        &self.zeek.as_ref().expect("the transcripts keep Zeek's view").now
    }

    /// The tunnel that carried it ([`Segment::tunnel`]; 0: none).
    #[must_use]
    pub fn tunnel(&self) -> u32 {
        self.tunnel
    }

    /// The anomalies counted so far.
    #[must_use]
    pub fn anomalies(&self) -> Anomalies {
        self.anomalies
    }

    /// An acceptable RST ended it: what still arrives changes nothing.
    #[must_use]
    pub fn was_reset(&self) -> bool {
        self.reset.is_some()
    }

    #[must_use]
    pub fn last_seen(&self) -> Timestamp {
        self.last
    }

    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// Applies one segment of this connection (after [`Connection::new`], for every later segment).
    pub fn handle_segment(&mut self, seg: &Segment, now: Timestamp) -> Applied {
        let from = self.sender(seg);
        if seg.flags.syn() && !seg.flags.ack() && !seg.flags.rst() && self.is_new_syn(from, seg, now) {
            return Applied::NewConnection;
        }
        if let Some(zeek) = &mut self.zeek {
            zeek.observe(seg, now);
        }
        self.apply(seg, now);
        Applied::Ok
    }

    /// A new SYN took this 4-tuple over: a side still in TIME-WAIT was closed by it (it ends here,
    /// before the new connection starts).
    pub fn reopen(&mut self, now: Timestamp) {
        self.client.enter(Trigger::Reopened, now);
        self.server.enter(Trigger::Reopened, now);
    }

    /// A SYN that cannot belong to this connection: the old one is over (closed, reset, TIME-WAIT,
    /// RFC 9293 §3.6.1), or it carries a new ISN before anything was established.
    fn is_new_syn(&mut self, from: Side, seg: &Segment, now: Timestamp) -> bool {
        let sender = self.side(from);
        if sender.isn == Some(seg.seq) {
            // A retransmission, or the same SYN captured twice (`-i any`); but after a refusal, a
            // retry ([`RETRY_AFTER_REFUSAL`]).
            return self.reset.is_some_and(|r| {
                r.by != from && r.before.0 == State::SynSent && now.nanos_since(r.at) >= RETRY_AFTER_REFUSAL
            });
        }
        if self.finished() {
            return true;
        }
        match sender.isn {
            Some(isn) if isn != seg.seq => {
                if self.client.state().is_synchronized() && self.server.state().is_synchronized() {
                    self.anomalies.syn_in_synchronized += 1;
                    false
                } else {
                    true
                }
            }
            // A retransmission, or the peer's SYN of a simultaneous open.
            _ => false,
        }
    }

    fn sender(&self, seg: &Segment) -> Side {
        if seg.src == self.client.addr {
            Side::Client
        } else {
            Side::Server
        }
    }

    fn side(&self, s: Side) -> &Endpoint {
        match s {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn pair_mut(&mut self, from: Side) -> (&mut Endpoint, &mut Endpoint) {
        match from {
            Side::Client => (&mut self.client, &mut self.server),
            Side::Server => (&mut self.server, &mut self.client),
        }
    }

    fn apply(&mut self, seg: &Segment, now: Timestamp) {
        let gap = now.nanos_since(self.last);
        if gap >= SILENCE {
            self.silence = gap;
        }
        if now > self.last {
            self.last = now;
        }
        let from = self.sender(seg);
        let resetter = self.reset.map(|r| r.by);
        {
            let (me, _) = self.pair_mut(from);
            me.packets += 1;
            if !seg.flags.rst() {
                me.ttl_range = Some(
                    me.ttl_range
                        .map_or((seg.ttl, seg.ttl), |(lo, hi)| (lo.min(seg.ttl), hi.max(seg.ttl))),
                );
                me.ttl_segments += 1;
                if seg.src.is_ipv4() {
                    me.last_ip_id = Some(seg.ip_id);
                }
                if resetter == Some(from) {
                    me.sent_after_reset += 1;
                }
            }
            me.ip_bytes += u64::from(seg.ip_len);
            me.window = seg.window;
            let f = seg.flags;
            if f.ack() && !f.rst() {
                me.acks_sent += 1;
            }
            // SYNs with this side's ISN, retransmissions and duplicates included (also after a reset).
            if f.syn() && !f.rst() && me.isn.is_none_or(|isn| isn == seg.seq) {
                if f.ack() {
                    me.synacks += 1;
                } else {
                    me.syns += 1;
                    if let Some((tsval, _)) = seg.options.timestamps {
                        me.syn_tsvals =
                            Some(me.syn_tsvals.map_or((tsval, tsval), |(first, _)| (first, tsval)));
                    }
                }
            }
        }
        if let Some(r) = self.reset {
            if self.ignored(r, from, seg) {
                // The refused client goes on with its handshake: it never took that RST.
                self.reset = None;
                self.anomalies.ignored_rst += 1;
                self.client.enter(Trigger::RstIgnored(r.before.0), now);
                self.server.enter(Trigger::RstIgnored(r.before.1), now);
            } else {
                // RFC 9293 §3.10.7.4, second check: an accepted RST deleted both TCBs. What still
                // arrives (segments in flight, a stray SYN-ACK) belongs to no connection and changes
                // nothing; a new SYN starts a new connection in the tracker.
                if seg.flags.rst() {
                    self.anomalies.extra_rst += 1;
                }
                return;
            }
        }
        if self.is_half_open_discovery(from, seg) {
            return;
        }
        self.infer_unseen(from, seg, now);
        if seg.flags.rst() {
            self.apply_rst(from, seg);
            return;
        }
        if seg.flags.syn() {
            self.apply_syn(from, seg, now);
        }
        if seg.flags.ack() {
            self.apply_ack(from, seg.ack, now);
        }
        self.apply_data_and_fin(from, seg, now);
    }

    /// What the unseen direction must have sent, inferred from what the seen one acknowledges: a
    /// capture can miss segments (loss at the capture point) or a whole direction (a tap or span
    /// port that sees one way only, asymmetric routing).
    fn infer_unseen(&mut self, from: Side, seg: &Segment, now: Timestamp) {
        let f = seg.flags;
        if f.syn() || f.rst() || !f.ack() {
            return;
        }
        let (me, peer) = self.pair_mut(from);
        match me.state() {
            // RFC 9293 §3.10.7.3: until a SYN-ACK arrives, a SYN-SENT endpoint sends only SYNs and
            // RSTs. An ACK from it proves the peer's SYN-ACK, whose ISN it acknowledges.
            State::SynSent => {
                if peer.isn.is_none() {
                    peer.note_isn(seg.ack.plus(u32::MAX));
                }
                if matches!(peer.state(), State::Closed | State::Listen | State::SynSent) {
                    peer.enter(Trigger::SentSynAck, now);
                    if from == Side::Client && !self.saw_synack {
                        self.saw_synack = true;
                        self.synack_ok = true;
                    }
                }
            }
            // A SYN-RECEIVED endpoint sends only SYN-ACKs until its SYN is acknowledged (RFC 9293
            // §3.10.7.4, fifth check): any other segment proves the peer's ACK.
            State::SynReceived if peer.state() == State::SynSent => {
                me.enter(Trigger::SynAcked, now);
                peer.enter(Trigger::AckedPeerSyn, now);
                if from == Side::Server && self.saw_synack {
                    self.handshake_acked = true;
                }
            }
            _ => {}
        }
    }

    /// The receive window of `receiver` as `sender` must respect it: the last window it advertised,
    /// scaled by its shift when both SYNs offered window scaling (RFC 7323 §2.2), else by `unknown`
    /// when the handshake was not seen.
    fn receive_window(&self, from: Side, unknown: u32) -> u32 {
        let sender = self.side(from);
        let receiver = self.side(from.other());
        let seen = |e: &Endpoint| e.syns + e.synacks > 0;
        let shift = if !(seen(sender) && seen(receiver)) {
            unknown
        } else {
            match (sender.window_scale, receiver.window_scale) {
                (Some(_), Some(r)) => u32::from(r.min(14)),
                _ => 0,
            }
        };
        (u32::from(receiver.window) << shift).max(1)
    }

    /// RFC 9293 §3.10.7.4, first check, as an observer applies it to count bytes: payload that starts
    /// within one receive window of the receiver's RCV.NXT (its highest ACK) either way. Below it is a
    /// retransmission; further away, no stack would accept it. Without the handshake the window's
    /// shift is unknown and taken as the largest (14, RFC 7323 §2.3), to flag only what is certainly
    /// out of reach.
    fn in_receive_window(&self, from: Side, seg: &Segment) -> bool {
        let Some(rcv_nxt) = self.side(from.other()).highest_ack else {
            return true;
        };
        let window = i64::from(self.receive_window(from, 14).max(65_535));
        let d = rcv_nxt.distance(seg.seq);
        -window < d && d < window
    }

    fn apply_syn(&mut self, from: Side, seg: &Segment, now: Timestamp) {
        let syn_data = self.syn_data;
        let (me, _) = self.pair_mut(from);
        me.last_syn_at = Some(now);
        if me.window_scale.is_none() {
            me.window_scale = seg.options.window_scale;
        }
        // A SYN-ACK re-sent with another ISN before the handshake completed (SYN cookies, a proxy
        // that answers again): the peer takes the one it acknowledges, so the newest counts.
        let reissued =
            seg.flags.ack() && me.state() == State::SynReceived && me.isn.is_some_and(|isn| isn != seg.seq);
        if reissued {
            me.restart_isn(seg.seq);
        }
        let first = me.isn.is_none() || reissued;
        if me.isn.is_none() {
            me.note_isn(seg.seq);
        }
        if first && seg.payload_len > 0 && !seg.flags.ack() {
            self.fast_open = true; // RFC 7413: data in the SYN.
            self.syn_data = seg.payload_len;
        }
        let (me, peer) = self.pair_mut(from);
        if !seg.flags.ack() {
            if first {
                me.enter(Trigger::SentSyn, now);
                if from == Side::Client {
                    self.saw_syn = true;
                } else if peer.state() == State::SynSent {
                    // Both sent SYN without seeing the other's: simultaneous open (RFC 9293 §3.5 fig. 8).
                    self.simultaneous_open = true;
                }
            }
            return;
        }
        // SYN-ACK: the sender received the peer's SYN (RFC 9293 §3.5).
        me.enter(Trigger::SentSynAck, now);
        // RFC 9293 §3.5: the SYN-ACK acknowledges ISN+1; with Fast Open (RFC 7413 §4.2) it may also
        // acknowledge the data the SYN carried. Added in sequence space (mod 2^32): a hostile SYN
        // payload length near `u32::MAX` must not overflow (found by the `tracker` fuzz target).
        let valid = peer
            .isn
            .is_none_or(|isn| seg.ack == isn.plus(1) || seg.ack == isn.plus(1).plus(syn_data));
        let last_syn = peer.last_syn_at;
        if peer.isn.is_none() {
            // The SYN it answers went unseen: its ISN is one below what the SYN-ACK acknowledges.
            peer.note_isn(seg.ack.plus(u32::MAX));
        }
        if !valid {
            self.anomalies.bad_synack_ack += 1;
        }
        if first {
            self.saw_synack = true;
            self.synack_ok = valid;
            if let Some(t) = last_syn {
                self.handshake_rtt = Some(now.nanos_since(t));
            }
        }
    }

    fn apply_ack(&mut self, from: Side, ack: Seq, now: Timestamp) {
        let (me, peer) = self.pair_mut(from);
        me.note_ack(ack);
        peer.note_acked(ack);
        // The sender has received the peer's SYN: handshake progress (RFC 9293 §3.5). A SYN-ACK
        // moved its sender to SYN-RECEIVED in `apply_syn`, where this trigger does nothing.
        if let Some(isn) = peer.isn
            && isn.precedes(ack)
        {
            // Checked here, though the table would ignore them too: every ACK of a connection
            // acknowledges the peer's SYN, and this is the per-segment path.
            if me.state() == State::SynSent {
                me.enter(Trigger::AckedPeerSyn, now);
            }
            if peer.state() == State::SynReceived {
                peer.enter(Trigger::SynAcked, now);
            }
            if from == Side::Client && self.saw_synack && !self.handshake_acked {
                self.handshake_acked = true;
            }
        }
        // The sender has received the peer's FIN (RFC 9293 §3.10.7.4, "eighth, check the FIN bit").
        let (me, peer) = self.pair_mut(from);
        if let Some(fin) = peer.fin_seq
            && fin.precedes(ack)
            && !peer.fin_acked
        {
            peer.fin_acked = true;
            peer.enter(Trigger::FinAcked, now);
            me.enter(Trigger::ReceivedFin, now);
            if me.fin_acked {
                // Its own FIN was acknowledged before it acknowledged the peer's (CLOSING -> TIME-WAIT).
                me.enter(Trigger::FinAcked, now);
            }
        }
    }

    fn apply_data_and_fin(&mut self, from: Side, seg: &Segment, now: Timestamp) {
        let in_window = seg.payload_len == 0 || self.in_receive_window(from, seg);
        if !in_window {
            self.anomalies.out_of_window_data += 1;
        }
        let (me, _) = self.pair_mut(from);
        let end = seg.seq_end();
        me.note_sent(seg.seq, seg.payload_len, seg.flags.syn(), end, in_window);
        if seg.payload_len > 0 {
            if let Some(fin) = me.fin_seq
                && fin.precedes(seg.seq.plus(seg.payload_len))
            {
                self.anomalies.data_after_fin += 1;
            }
            let (me, peer) = self.pair_mut(from);
            if peer.fin_seq.is_some() {
                me.data_after_peer_fin = true;
            }
        }
        if !seg.flags.fin() || !in_window {
            return;
        }
        let (me, peer) = self.pair_mut(from);
        if me.fin_seq.is_some() {
            return; // A retransmitted FIN.
        }
        // Sequence space wraps (mod 2^32): a hostile payload length near `u32::MAX` must not overflow
        // (found by the `tracker` fuzz target).
        let fin = seg.seq.plus(seg.payload_len).plus(u32::from(seg.flags.syn()));
        me.fin_seq = Some(fin);
        me.fin_at = Some(now);
        me.ack_at_fin = seg.flags.ack().then_some(seg.ack);
        let peer_fin_unseen = peer
            .fin_seq
            .is_some_and(|pf| !seg.flags.ack() || !pf.precedes(seg.ack));
        me.enter(Trigger::SentFin, now);
        self.closer = match (self.closer, from) {
            (Closer::None, Side::Client) => Closer::Client,
            (Closer::None, Side::Server) => Closer::Server,
            // Each side sent FIN before receiving the other's: simultaneous close (RFC 9293 §3.6).
            (_, _) if peer_fin_unseen => Closer::Both,
            (c, _) => c,
        };
    }

    /// Both sides are done: closed, reset, or holding TIME-WAIT.
    #[must_use]
    pub fn finished(&self) -> bool {
        if self.reset.is_some() {
            return true;
        }
        let done = |s: State| matches!(s, State::Closed | State::TimeWait);
        done(self.client.state())
            && done(self.server.state())
            && (self.client.fin_seq.is_some() || self.server.fin_seq.is_some())
    }

    /// When TIME-WAIT began, if either side holds it.
    #[must_use]
    pub fn time_wait_since(&self) -> Option<Timestamp> {
        [&self.client, &self.server]
            .iter()
            .filter(|e| e.state() == State::TimeWait)
            .filter_map(|e| e.time_wait_at)
            .min()
    }

    /// The handshake was completed (so the connection is past the handshake timeout's reach).
    #[must_use]
    pub fn established(&self) -> bool {
        self.client.state().is_synchronized() || self.server.state().is_synchronized()
    }

    /// TIME-WAIT ran out: the holder moves to CLOSED (RFC 9293 §3.6, 2·MSL).
    pub fn expire_time_wait(&mut self, now: Timestamp) {
        self.client.enter(Trigger::TimeWaitExpired, now);
        self.server.enter(Trigger::TimeWaitExpired, now);
    }

    /// Only one direction was captured: one side sent nothing, and the other acknowledged it.
    fn one_sided(&self) -> bool {
        match (self.client.packets, self.server.packets) {
            (0, 0) => false,
            (0, _) => self.server.acks_sent > 0,
            (_, 0) => self.client.acks_sent > 0,
            _ => false,
        }
    }

    /// Payload bytes `me` sent. For a side never seen (a one-sided capture), what its peer
    /// acknowledged of it (its FIN, if it sent one, included: the two look alike).
    fn bytes_sent(me: &Endpoint, peer: &Endpoint) -> u64 {
        if me.packets > 0 {
            return me.bytes();
        }
        match (me.data_start, peer.highest_ack) {
            (Some(start), Some(ack)) => u64::try_from(start.distance(ack)).unwrap_or(0),
            _ => 0,
        }
    }

    fn handshake(&self) -> Handshake {
        if !self.saw_syn {
            return Handshake::Midstream;
        }
        if self.simultaneous_open {
            return Handshake::Simultaneous;
        }
        if self.saw_synack {
            return if self.synack_ok && self.handshake_acked {
                Handshake::Complete
            } else {
                Handshake::Incomplete
            };
        }
        if self.reset.is_some_and(|r| r.by == Side::Server) {
            return Handshake::Refused;
        }
        // No SYN-ACK and no acceptable RST: whatever else came back (a RST without ACK, a stale ACK)
        // a stack ignores, so the client's connect timed out.
        Handshake::Unanswered
    }

    fn cause(&self, handshake: Handshake, reason: EndReason) -> Cause {
        match handshake {
            Handshake::Refused => return Cause::Refused,
            Handshake::Unanswered => return Cause::Unanswered,
            _ => {}
        }
        if let Some(r) = self.reset {
            return if r.after_both_closed {
                Cause::ResetInTimeWait
            } else if r.after_close {
                Cause::ResetAfterClose
            } else if r.after_fin {
                Cause::FinThenReset
            } else {
                Cause::Abort
            };
        }
        let fin_only = |closer: &Endpoint| {
            if closer.fin_acked {
                Cause::CloseWait
            } else if self.one_sided() {
                Cause::OneSided
            } else {
                Cause::FinUnacked
            }
        };
        match (self.client.fin_seq.is_some(), self.server.fin_seq.is_some()) {
            (true, true) => return Cause::Graceful,
            (true, false) => return fin_only(&self.client),
            (false, true) => return fin_only(&self.server),
            (false, false) => {}
        }
        if handshake == Handshake::Incomplete {
            return Cause::HalfOpen;
        }
        if reason == EndReason::IdleTimeout {
            Cause::Idle
        } else {
            Cause::Open
        }
    }

    /// The connection's record, as of now, ending for `reason`.
    #[must_use]
    pub fn record(&self, reason: EndReason) -> ConnectionRecord {
        let handshake = self.handshake();
        let cause = self.cause(handshake, reason);
        let (reset_origin, reset_evidence, reset_ttls) = match self.reset_origin() {
            Some((o, why, e)) => (Some(o), why, Some(e)),
            None => (None, Vec::new(), None),
        };
        let (zeek, zeek_dropped) = self.zeek.as_ref().map(|z| z.summaries()).unwrap_or_default();
        ConnectionRecord {
            id: self.id,
            client: self.client.addr,
            server: self.server.addr,
            tunnel: self.tunnel,
            start: self.start,
            end: self.last,
            handshake,
            handshake_rtt_ns: self.handshake_rtt,
            syn_retransmits: self.client.syns.saturating_sub(1),
            fast_open: self.fast_open,
            closer: self.closer,
            reset_by: self.reset.map(|r| r.by),
            resetter_state: self.reset.map(|r| r.state),
            reset_at: self.reset.map(|r| r.at),
            reset_origin,
            reset_evidence,
            reset_ttls,
            idle_before_reset_ns: self.reset.map(|r| r.idle_before),
            cause,
            client_state: self.client.state(),
            server_state: self.server.state(),
            end_reason: reason,
            one_sided: self.one_sided(),
            bytes_client: Self::bytes_sent(&self.client, &self.server),
            bytes_server: Self::bytes_sent(&self.server, &self.client),
            packets_client: self.client.packets,
            packets_server: self.server.packets,
            anomalies: self.anomalies,
            zeek,
            zeek_dropped,
            steps: None,
        }
    }
}

#[path = "connection_resets.rs"]
mod resets;
use resets::Reset;

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
