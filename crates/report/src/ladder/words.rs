//! What a ladder says in words, shared by every renderer (the terminal's and the SVG's say the same).

use super::layout::{Arrow, Caption, Folded, Number};
use lifecycle::{Cause, Closer, EndReason, ResetOrigin};

/// `SYN,ACK seq=0 ack=1 len=28`: relative numbers unless `absolute`.
#[must_use]
pub fn label(a: &Arrow, absolute: bool) -> String {
    let n = |x: Number| if absolute { x.absolute } else { x.relative };
    let mut s = a.flags.join(",");
    if s.is_empty() {
        s.push_str("none");
    }
    s.push_str(&format!(" seq={}", n(a.seq)));
    if let Some(ack) = a.ack {
        s.push_str(&format!(" ack={}", n(ack)));
    }
    if a.len > 0 {
        s.push_str(&format!(" len={}", a.len));
    }
    s
}

/// `··· 7 segments, 262.1 kB server→client in 0.391 ms ···`.
#[must_use]
pub fn fold_text(f: &Folded) -> String {
    let data: Vec<String> = [(f.bytes[0], "client→server"), (f.bytes[1], "server→client")]
        .iter()
        .filter(|(b, _)| *b > 0)
        .map(|(b, dir)| format!("{} {dir}", bytes(*b)))
        .collect();
    let data = if data.is_empty() {
        "no payload".to_string()
    } else {
        data.join(", ")
    };
    format!(
        "··· {} segments, {data} in {} s ···",
        f.segments[0] + f.segments[1],
        seconds(f.span_ns)
    )
}

/// `the client closed first (FIN); the server reset in ESTABLISHED`.
#[must_use]
pub fn closer_and_reset(c: &Caption) -> String {
    let closer = match c.closer {
        Closer::Client => "the client closed first (FIN)",
        Closer::Server => "the server closed first (FIN)",
        Closer::Both => "both sides closed at once (FIN)",
        Closer::None => "no FIN",
    };
    let reset = match (c.reset_by, c.resetter_state) {
        _ if c.cause == Cause::Refused => "the server host refused the SYN (RST)".to_string(),
        (Some(side), Some(state)) => {
            let forged = if c.reset_origin == Some(ResetOrigin::Middlebox) {
                ", probably forged by a device on the path"
            } else {
                ""
            };
            format!("the {} reset in {state}{forged}", side.name())
        }
        (Some(side), None) => format!("the {} reset", side.name()),
        _ => "no RST".to_string(),
    };
    format!("{closer}; {reset}")
}

/// `final states: client TIME-WAIT, server CLOSED (the capture ended); 9 segments in ...`.
#[must_use]
pub fn totals(c: &Caption) -> String {
    format!(
        "final states: client {}, server {} ({}); {} segments in {} s, {} client→server, {} server→client",
        c.client_state,
        c.server_state,
        end_reason(c.end_reason),
        c.packets,
        seconds(c.duration_ns),
        bytes(c.bytes[0]),
        bytes(c.bytes[1]),
    )
}

/// Why the tracker stopped following it, in words.
fn end_reason(r: EndReason) -> &'static str {
    match r {
        EndReason::Closed => "both sides closed",
        EndReason::TimeWaitExpired => "TIME-WAIT expired",
        EndReason::IdleTimeout => "idle timeout",
        EndReason::Evicted => "evicted by the connection cap",
        EndReason::PortReused => "a new SYN reused the ports",
        EndReason::EndOfCapture => "the capture ended",
    }
}

/// Seconds with microseconds (what a pcap's timestamps hold).
#[must_use]
pub fn seconds(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1_000)
}

/// Bytes in SI units: `28 B`, `262.1 kB`, `1.2 MB`.
#[must_use]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_in_si_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(262_144), "262.1 kB");
        assert_eq!(bytes(1_200_000), "1.2 MB");
        assert_eq!(bytes(3_000_000_000_000_000), "3000.0 TB");
    }

    #[test]
    fn seconds_with_micros() {
        assert_eq!(seconds(0), "0.000000");
        assert_eq!(seconds(2_054_123_999), "2.054123");
    }
}
