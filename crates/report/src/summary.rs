//! The default `analyze` output, for a person: connections by cause, the problems with examples and the
//! seed's explanation, and the facts about the capture itself.
//!
//! [`Summary`] keeps counts and at most [`EXAMPLES`] examples per cause, so its memory does not grow with
//! the capture.

use crate::Context;
use crate::connections::{seconds, time};
use crate::safe;
use lifecycle::correlate::describe_reset;
use lifecycle::{Cause, Closer, ConnectionRecord, Side, endpoint_string};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Examples kept per cause.
pub const EXAMPLES: usize = 3;

/// What the reader of the capture saw, as plain data (the binary fills it from `capture` and `packet`).
#[derive(Clone, Debug, Default)]
pub struct CaptureFacts {
    /// The inputs, as named on the command line.
    pub inputs: Vec<String>,
    pub frames: u64,
    pub bytes: u64,
    pub tcp_segments: u64,
    /// Frames that gave no TCP segment, by reason (`not TCP`, `IP fragment (not reassembled)`, ...).
    pub skipped: Vec<(String, u64)>,
    /// Link types and their frame counts.
    pub link_types: Vec<(String, u64)>,
    /// TCP segments decoded through each kind of tunnel (nonzero counts only).
    pub tunnels: Vec<(String, u64)>,
    /// Tunnels beyond the decoder's table, not kept apart from each other.
    pub tunnels_overflow: u64,
    pub fragments: FragmentFacts,
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// Connections pushed out by the memory cap.
    pub evicted: u64,
    pub max_connections: usize,
    pub peak_tracked: usize,
    pub port_reuses: u64,
    /// Errors that stopped reading an input (damaged or truncated captures).
    pub errors: Vec<String>,
    /// A live capture's kernel counters.
    pub ring: Option<RingFacts>,
}

/// What became of fragmented datagrams.
#[derive(Clone, Copy, Debug, Default)]
pub struct FragmentFacts {
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// TCP segments that came out of them.
    pub segments: u64,
    /// Datagrams dropped: overlapping pieces (IPv6, or IPv4 that disagree), incomplete after 30 s of
    /// capture time, over the memory bound, contradictory lengths.
    pub overlaps: u64,
    pub timeouts: u64,
    pub evicted: u64,
    pub malformed: u64,
}

/// A live capture's kernel counters: drops are reported, never hidden.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingFacts {
    /// Packets that passed the kernel filter.
    pub received: u64,
    /// Packets dropped because the ring was full.
    pub dropped: u64,
    /// Times the ring froze because the reader fell behind.
    pub freezes: u64,
}

/// Counts and examples over every connection.
#[derive(Debug, Default)]
pub struct Summary {
    total: u64,
    by_cause: BTreeMap<Cause, u64>,
    /// A few connections per cause, with what the capture added to each.
    examples: BTreeMap<Cause, Vec<(ConnectionRecord, Context)>>,
    graceful_closer: [u64; 3],
    reset_by: [u64; 2],
    anomalies: u64,
    syn_retransmits: u64,
    one_sided: u64,
    resets: crate::resets::Resets,
}

impl Summary {
    /// Adds one connection.
    pub fn add(&mut self, r: &ConnectionRecord, cx: &Context) {
        self.total += 1;
        *self.by_cause.entry(r.cause).or_default() += 1;
        if r.cause == Cause::Graceful {
            match r.closer {
                Closer::Client => self.graceful_closer[0] += 1,
                Closer::Server => self.graceful_closer[1] += 1,
                Closer::Both | Closer::None => self.graceful_closer[2] += 1,
            }
        }
        match r.reset_by {
            Some(Side::Client) => self.reset_by[0] += 1,
            Some(Side::Server) => self.reset_by[1] += 1,
            None => {}
        }
        self.anomalies += r.anomalies.total();
        self.syn_retransmits += u64::from(r.syn_retransmits);
        self.one_sided += u64::from(r.one_sided);
        self.resets.add(r);
        if let Some(j) = &cx.kernel {
            self.resets.add_kernel(j);
        }
        let ex = self.examples.entry(r.cause).or_default();
        if ex.len() < EXAMPLES {
            ex.push((r.clone(), cx.clone()));
        }
    }

    /// Connections seen.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Connections by cause, in [`Cause`] order.
    #[must_use]
    pub fn by_cause(&self) -> &BTreeMap<Cause, u64> {
        &self.by_cause
    }

    /// The examples kept for `cause` (the first [`EXAMPLES`] to end), with what the capture added.
    #[must_use]
    pub fn examples(&self, cause: Cause) -> &[(ConnectionRecord, Context)] {
        self.examples.get(&cause).map_or(&[], Vec::as_slice)
    }

    /// The resets' account.
    #[must_use]
    pub fn resets(&self) -> &crate::resets::Resets {
        &self.resets
    }

    /// The first line under the title: `N TCP connections in M TCP segments over ...`, or why there
    /// is none.
    #[must_use]
    pub fn overview(&self, facts: &CaptureFacts) -> String {
        let span = match (facts.first, facts.last) {
            (Some(a), Some(b)) => format!(
                " over {} s ({} to {})",
                seconds(b.saturating_sub(a)),
                time(a),
                time(b)
            ),
            _ => String::new(),
        };
        if self.total > 0 {
            format!(
                "{} TCP connections in {} TCP segments{span}",
                self.total, facts.tcp_segments
            )
        } else if facts.tcp_segments == 0 {
            // Nothing to sort by cause and no problem to tell ("none" would suggest clean TCP): what
            // was there instead is in the facts below.
            format!(
                "No TCP connection: {} frames{span}, none of them TCP",
                facts.frames
            )
        } else {
            // Every segment the tracker sees opens or continues a connection.
            format!(
                "No TCP connection matched the filter: {} TCP segments{span}",
                facts.tcp_segments
            )
        }
    }

    /// Writes the whole summary.
    pub fn write(&self, out: &mut impl Write, facts: &CaptureFacts) -> io::Result<()> {
        let names: Vec<_> = facts
            .inputs
            .iter()
            .map(|n| safe::terminal(n).into_owned())
            .collect();
        writeln!(out, "tcpdoctor analyze {}", names.join(" "))?;
        writeln!(out, "{}", self.overview(facts))?;
        writeln!(out)?;
        if self.total > 0 {
            self.write_causes(out)?;
            self.write_problems(out)?;
            self.resets.write(out)?;
        }
        self.write_capture(out, facts)
    }

    /// The facts about the capture itself (the summary's last section).
    pub fn write_capture(&self, out: &mut impl Write, facts: &CaptureFacts) -> io::Result<()> {
        write_facts(out, facts, self.anomalies)?;
        if self.one_sided > 0 {
            writeln!(
                out,
                "  {} connections seen in one direction only: an asymmetric tap or route? (the other side is inferred from what was acknowledged)",
                self.one_sided
            )?;
        }
        Ok(())
    }

    /// What the causes table says beside `cause`'s count.
    #[must_use]
    pub fn note(&self, cause: Cause) -> String {
        match cause {
            Cause::Graceful => format!(
                "closed first by the client {}, by the server {}, simultaneously {}; the first closer holds TIME-WAIT",
                self.graceful_closer[0], self.graceful_closer[1], self.graceful_closer[2]
            ),
            _ => headline(cause).to_string(),
        }
    }

    fn write_causes(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "Connections by cause")?;
        for (cause, n) in &self.by_cause {
            writeln!(out, "  {:<20} {:>8}  {}", cause.name(), n, self.note(*cause))?;
        }
        writeln!(out)
    }

    fn write_problems(&self, out: &mut impl Write) -> io::Result<()> {
        let problems: Vec<_> = self.by_cause.iter().filter(|(c, _)| c.is_problem()).collect();
        if problems.is_empty() {
            writeln!(
                out,
                "Problems: none. Every connection opened and closed cleanly or is still open."
            )?;
            return writeln!(out);
        }
        writeln!(out, "Problems")?;
        for (cause, n) in problems {
            writeln!(out, "  {} x{}: {}", cause.name(), n, headline(*cause))?;
            for line in explanation(*cause) {
                writeln!(out, "    {line}")?;
            }
            for (r, cx) in self.examples.get(cause).into_iter().flatten() {
                writeln!(out, "    e.g. {}", example(r, cx))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

fn write_facts(out: &mut impl Write, f: &CaptureFacts, anomalies: u64) -> io::Result<()> {
    writeln!(out, "Capture")?;
    let links: Vec<_> = f.link_types.iter().map(|(n, c)| format!("{n} {c}")).collect();
    writeln!(
        out,
        "  frames {} ({} bytes), link types: {}",
        f.frames,
        f.bytes,
        links.join(", ")
    )?;
    let mut skipped: Vec<_> = f
        .skipped
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if skipped.is_empty() {
        skipped.push("none".into());
    }
    writeln!(
        out,
        "  TCP segments {}; frames without one: {}",
        f.tcp_segments,
        skipped.join(", ")
    )?;
    if !f.tunnels.is_empty() {
        let t: Vec<_> = f.tunnels.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(out, "  TCP segments decoded through tunnels: {}", t.join(", "))?;
    }
    if f.tunnels_overflow > 0 {
        writeln!(
            out,
            "  {} tunnelled frames beyond the distinct tunnels kept apart (their inner addresses may mix)",
            f.tunnels_overflow
        )?;
    }
    let fr = &f.fragments;
    if fr.reassembled + fr.overlaps + fr.timeouts + fr.evicted + fr.malformed > 0 {
        writeln!(
            out,
            "  IP fragments: {} datagrams reassembled ({} TCP segments); dropped: {} overlapping, {} incomplete after 30 s, {} over the memory bound, {} malformed",
            fr.reassembled, fr.segments, fr.overlaps, fr.timeouts, fr.evicted, fr.malformed
        )?;
    }
    writeln!(
        out,
        "  anomalies {anomalies} (out-of-window RSTs, bad SYN-ACKs, ...: see --json); port reuses {}",
        f.port_reuses
    )?;
    writeln!(
        out,
        "  connections tracked at most {} at once (cap {}); evicted by the cap: {}",
        f.peak_tracked, f.max_connections, f.evicted
    )?;
    if let Some(r) = f.ring {
        writeln!(
            out,
            "  kernel: {} packets passed the TCP filter, {} dropped (ring full), {} ring freezes",
            r.received, r.dropped, r.freezes
        )?;
    }
    for e in &f.errors {
        writeln!(out, "  input error: {}", safe::terminal(e))?;
    }
    Ok(())
}

/// One line per cause.
#[must_use]
pub fn headline(cause: Cause) -> &'static str {
    match cause {
        Cause::Graceful => "closed by FIN from both sides",
        Cause::Refused => "SYN answered by RST: nothing listening (connection refused)",
        Cause::Unanswered => "SYN never answered (connect timeout)",
        Cause::Abort => "reset by a side that had not closed (seed §7)",
        Cause::ResetAfterClose => "a side that had closed answered later data with RST (seed §8)",
        Cause::CloseWait => "one side closed; the other never did: CLOSE-WAIT (seed §6)",
        Cause::FinUnacked => "a FIN was never acknowledged",
        Cause::ResetInTimeWait => "RST after both FINs: a TIME-WAIT socket killed early",
        Cause::HalfOpen => "SYN and SYN-ACK, but the handshake never completed",
        Cause::FinThenReset => "a side closed (FIN), then reset without new data to provoke it (seed §7)",
        Cause::OneSided => "seen in one direction only: how it ended is not in the capture",
        Cause::Open => "still established at the end of the capture",
        Cause::Idle => "no segment for longer than the idle timeout",
    }
}

/// The two-line explanation, from the seed (corrected per SEED-NOTES.md).
#[must_use]
pub fn explanation(cause: Cause) -> [&'static str; 2] {
    match cause {
        Cause::Refused => [
            "The server host answered the SYN with RST: no socket listens on that address and port.",
            "The client saw ECONNREFUSED \"connection refused\"; check the service is running and bound there.",
        ],
        Cause::Unanswered => [
            "No SYN-ACK and no acceptable RST came back: a firewall dropped the SYN or the host is unreachable.",
            "The client retransmitted the SYN and then saw a connect timeout (ETIMEDOUT).",
        ],
        Cause::Abort => [
            "The resetter sent RST without FIN: it closed with unread data (TCPAbortOnClose), used SO_LINGER 0,",
            "or its process died. Its peer saw \"connection reset by peer\" (ECONNRESET) on its next read or write.",
        ],
        Cause::ResetAfterClose => [
            "The resetter had already closed (FIN); when its peer still wrote, its kernel answered with RST.",
            "The writer saw \"connection reset by peer\" or EPIPE: typically the resetter's timeout fired first.",
        ],
        Cause::CloseWait => [
            "The peer that did not close acknowledged the FIN but its application never called close():",
            "its socket sits in CLOSE-WAIT until it does. Look at that program's error paths.",
        ],
        Cause::FinUnacked => [
            "A FIN was sent and never acknowledged before the capture ended: the closer is in FIN-WAIT-1,",
            "its peer may be gone, or the capture stopped just then.",
        ],
        Cause::ResetInTimeWait => [
            "A RST arrived after both sides had closed; Linux (tcp_rfc1337 = 0) drops the TIME-WAIT socket on it.",
            "Harmless unless a delayed segment of the old connection then reaches a new one on the same ports.",
        ],
        Cause::HalfOpen => [
            "The server answered the SYN but the client never completed the handshake: the server holds a",
            "SYN-RECV entry (a SYN flood looks like this; syncookies protect the listen queue).",
        ],
        Cause::FinThenReset => [
            "The resetter closed gracefully (FIN), then sent RST although nothing new had arrived: a hard close",
            "(SO_LINGER 0 after shutdown, a server or TLS stack that closes hard, a RST instead of the last ACK).",
        ],
        Cause::Idle => [
            "Nothing was sent for longer than the idle timeout and no side closed: a dead peer, or a NAT or",
            "firewall that forgot the flow. Keep-alives or application timeouts close such connections.",
        ],
        Cause::Graceful | Cause::Open | Cause::OneSided => ["", ""],
    }
}

/// One example connection, in words.
#[must_use]
pub fn example(r: &ConnectionRecord, cx: &Context) -> String {
    let who = match (r.cause, r.reset_by, r.resetter_state) {
        (Cause::Refused, _, _) => ", refused by the server host".to_string(),
        (_, Some(side), Some(state)) => format!(", {} reset in {}", side.name(), state),
        _ => String::new(),
    };
    let closer = match r.closer {
        Closer::None => String::new(),
        c => format!(", {} closed first", c.name()),
    };
    let via = cx
        .tunnel
        .as_ref()
        .map_or_else(String::new, |t| format!(" (in {t})"));
    let process = cx
        .process
        .as_ref()
        .map_or_else(String::new, |p| format!(", socket of {p}"));
    let kernel = cx
        .kernel
        .as_ref()
        .and_then(|j| r.reset_by.and_then(|by| j.sent_reset(by)))
        .map_or_else(String::new, |k| {
            format!(" ({})", safe::terminal(&describe_reset(k)))
        });
    format!(
        "{} -> {}{via} at {}, {} s{closer}{who}{kernel}{process}, {} B sent / {} B received by the client, final {} / {}",
        endpoint_string(r.client),
        endpoint_string(r.server),
        time(r.start.0),
        seconds(r.duration_ns()),
        r.bytes_client,
        r.bytes_server,
        r.client_state,
        r.server_state
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(facts: &CaptureFacts) -> String {
        let mut out = Vec::new();
        Summary::default().write(&mut out, facts).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// With no connection there is nothing to sort by cause and no problem to tell: the summary says
    /// that there was no TCP and why, never "Problems: none" (which would suggest clean connections).
    #[test]
    fn without_connections_it_says_there_was_no_tcp() {
        let facts = CaptureFacts {
            inputs: vec!["udp.pcap".into()],
            frames: 3,
            ..CaptureFacts::default()
        };
        let text = render(&facts);
        assert!(
            text.starts_with(
                "tcpdoctor analyze udp.pcap\nNo TCP connection: 3 frames, none of them TCP\n\nCapture\n"
            ),
            "{text}"
        );
        assert!(!text.contains("Problems") && !text.contains("by cause"), "{text}");
        let filtered = render(&CaptureFacts {
            frames: 570,
            tcp_segments: 570,
            ..facts
        });
        assert!(
            filtered.contains("\nNo TCP connection matched the filter: 570 TCP segments\n"),
            "{filtered}"
        );
    }
}
