//! `--connections`: one aligned row per connection, for a person reading a terminal. Rows are numbered
//! from 1 in output order: `analyze --ladder N` draws row N.

use crate::Context;
use lifecycle::{ConnectionRecord, endpoint_string};
use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

/// The column header.
pub fn write_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:>5} {:<46} {:<46} {:<26} {:>10} {:>10} {:>10} {:>9} {:<6} {:<6} {:<18} {:<12} {:<12} TUNNEL",
        "#",
        "CLIENT",
        "SERVER",
        "START",
        "DURATION",
        "BYTES_C>S",
        "BYTES_S>C",
        "RTT_MS",
        "CLOSER",
        "RESET",
        "CAUSE",
        "CLIENT_STATE",
        "SERVER_STATE",
    )
}

/// RFC 3339 with microseconds, UTC.
#[must_use]
pub fn time(ns: u64) -> String {
    let st = UNIX_EPOCH + Duration::from_nanos(ns);
    humantime::format_rfc3339_micros(st).to_string()
}

/// A duration in seconds with millisecond precision.
#[must_use]
pub fn seconds(ns: u64) -> String {
    format!("{}.{:03}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1_000_000)
}

/// Row `row` (1-based).
pub fn write_connection(
    out: &mut impl Write,
    row: u64,
    r: &ConnectionRecord,
    cx: &Context,
) -> io::Result<()> {
    let rtt = r
        .handshake_rtt_ns
        .map_or_else(|| "-".to_string(), |ns| format!("{:.3}", ns as f64 / 1e6));
    writeln!(
        out,
        "{:>5} {:<46} {:<46} {:<26} {:>10} {:>10} {:>10} {:>9} {:<6} {:<6} {:<18} {:<12} {:<12} {}",
        row,
        endpoint_string(r.client),
        endpoint_string(r.server),
        time(r.start.0),
        seconds(r.duration_ns()),
        r.bytes_client,
        r.bytes_server,
        rtt,
        r.closer.name(),
        r.reset_by.map_or("none", |s| s.name()),
        r.cause.name(),
        r.client_state,
        r.server_state,
        cx.tunnel.as_deref().unwrap_or("-")
    )
}
