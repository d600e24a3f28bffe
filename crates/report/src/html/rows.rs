//! The connection table's rows: one compact row per connection, kept for the whole capture (the
//! table and the charts need every connection), written as JSON arrays for the page's script.

use crate::ladder::words::seconds;
use lifecycle::{Cause, ConnectionRecord, EndReason, Side, State, endpoint_string};
use std::io::{self, Write};
use std::net::SocketAddr;

/// One connection, in about 100 bytes (`size_of::<TableRow>()`, see the test): what the table shows
/// and the charts count, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableRow {
    pub start_ns: u64,
    /// The last segment's time (a record's `end`).
    pub end_ns: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Payload each way: `[client→server, server→client]`.
    pub bytes: [u64; 2],
    pub packets: u32,
    /// Handshake RTT in microseconds, `u32::MAX` when there was none.
    pub rtt_us: u32,
    pub cause: Cause,
    pub client_state: State,
    pub server_state: State,
    pub reset_by: Option<Side>,
    pub end_reason: EndReason,
}

impl TableRow {
    #[must_use]
    pub fn of(r: &ConnectionRecord) -> TableRow {
        TableRow {
            start_ns: r.start.0,
            end_ns: r.end.0,
            client: r.client,
            server: r.server,
            bytes: [r.bytes_client, r.bytes_server],
            packets: u32::try_from(r.packets()).unwrap_or(u32::MAX),
            rtt_us: r
                .handshake_rtt_ns
                .map_or(u32::MAX, |ns| u32::try_from(ns / 1_000).unwrap_or(u32::MAX - 1)),
            cause: r.cause,
            client_state: r.client_state,
            server_state: r.server_state,
            reset_by: r.reset_by,
            end_reason: r.end_reason,
        }
    }

    /// The handshake RTT, if there was one.
    #[must_use]
    pub fn rtt_us(&self) -> Option<u32> {
        (self.rtt_us != u32::MAX).then_some(self.rtt_us)
    }
}

/// A cause's index in [`Cause::ALL`] (the page's `causes` list).
#[must_use]
pub fn cause_index(c: Cause) -> usize {
    Cause::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

fn state_index(s: State) -> usize {
    State::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// Writes the rows as a JSON array of arrays: `[row, start (s since the capture's first frame),
/// duration (s), client, server, cause, client state, server state, reset by (0 none, 1 client,
/// 2 server), bytes client→server, bytes server→client, packets, handshake RTT (ms) or null, ladder
/// kept (0/1)]`; causes and states as indexes into [`Cause::ALL`] and [`State::ALL`]. Addresses are
/// the program's own text (digits, dots, colons, brackets): nothing to escape.
pub fn write_json(
    out: &mut impl Write,
    rows: &[TableRow],
    origin_ns: u64,
    has_ladder: impl Fn(u64) -> bool,
) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, r) in rows.iter().enumerate() {
        let n = i as u64 + 1;
        if i > 0 {
            out.write_all(b",\n")?;
        }
        let rtt = r
            .rtt_us()
            .map_or_else(|| "null".to_string(), |us| format!("{}", f64::from(us) / 1e3));
        write!(
            out,
            "[{n},{},{},\"{}\",\"{}\",{},{},{},{},{},{},{},{rtt},{}]",
            seconds(r.start_ns.saturating_sub(origin_ns)),
            seconds(r.end_ns.saturating_sub(r.start_ns)),
            endpoint_string(r.client),
            endpoint_string(r.server),
            cause_index(r.cause),
            state_index(r.client_state),
            state_index(r.server_state),
            match r.reset_by {
                None => 0,
                Some(Side::Client) => 1,
                Some(Side::Server) => 2,
            },
            r.bytes[0],
            r.bytes[1],
            r.packets,
            u8::from(has_ladder(n)),
        )?;
    }
    out.write_all(b"]")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory the report costs per connection, as README and BENCHMARKS.md state it.
    #[test]
    fn a_row_stays_compact() {
        assert!(
            std::mem::size_of::<TableRow>() <= 112,
            "{}",
            std::mem::size_of::<TableRow>()
        );
    }
}
