//! JSON lines: one object per connection, schema `tcpdoctor.connection/1`.
//!
//! Field names and values are a public interface for scripts: add fields, never rename or remove
//! them without a new schema version.

use crate::Context;
use lifecycle::{Anomalies, ConnectionRecord, ZeekSummary, endpoint_string};
use serde::Serialize;
use std::io::{self, Write};

/// The schema name, the first key of every object.
pub const SCHEMA: &str = "tcpdoctor.connection/1";

#[derive(Serialize)]
struct Connection<'a> {
    schema: &'static str,
    client: String,
    server: String,
    /// The tunnel the connection was carried in (`vxlan vni 42 10.1.1.1>10.1.1.2`), or null.
    tunnel: Option<&'a str>,
    /// The process that owned the socket (Apple PKTAP captures), or null.
    process: Option<&'a str>,
    family: &'static str,
    start: f64,
    end: f64,
    duration: f64,
    handshake: &'static str,
    handshake_rtt: Option<f64>,
    syn_retransmits: u32,
    fast_open: bool,
    closer: &'static str,
    reset_by: &'static str,
    resetter_state: Option<&'static str>,
    /// When the RST was captured (null without a reset).
    reset_at: Option<f64>,
    /// `endpoint`, `middlebox` or `unknown` (null without a reset).
    reset_origin: Option<&'static str>,
    reset_evidence: &'a [String],
    /// Seconds of silence before the exchange the reset ended.
    idle_before_reset: Option<f64>,
    cause: &'static str,
    client_state: &'static str,
    server_state: &'static str,
    end_reason: &'static str,
    one_sided: bool,
    bytes_client: u64,
    bytes_server: u64,
    packets: u64,
    packets_client: u64,
    packets_server: u64,
    /// The first Zeek row (the one that starts with this connection's first segment).
    zeek_conn_state: &'static str,
    zeek_history: &'a str,
    zeek_orig: String,
    /// Every Zeek row, oldest first: more than one where Zeek's own timers split the connection.
    zeek: Vec<ZeekRow<'a>>,
    /// Zeek rows beyond those in `zeek` (a connection Zeek split more than 9 times), counted only.
    zeek_rows_dropped: u32,
    anomalies: &'a Anomalies,
    /// The kernel's account (`capture --trace` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<crate::kernel_view::KernelView<'a>>,
}

#[derive(Serialize)]
struct ZeekRow<'a> {
    conn_state: &'static str,
    history: &'a str,
    orig: String,
}

impl<'a> ZeekRow<'a> {
    fn of(z: &'a ZeekSummary) -> ZeekRow<'a> {
        ZeekRow {
            conn_state: z.conn_state,
            history: &z.history,
            orig: endpoint_string(z.orig),
        }
    }
}

/// Seconds with microsecond precision, as captures have.
fn secs(ns: u64) -> f64 {
    (ns / 1_000) as f64 / 1e6
}

/// Writes one connection as a JSON line.
pub fn write_connection(out: &mut impl Write, r: &ConnectionRecord, cx: &Context) -> io::Result<()> {
    let zeek: Vec<ZeekRow> = r.zeek.iter().map(ZeekRow::of).collect();
    let Some(first) = zeek.first() else {
        return Err(io::Error::other("a connection record without a Zeek row"));
    };
    let obj = Connection {
        schema: SCHEMA,
        client: endpoint_string(r.client),
        server: endpoint_string(r.server),
        tunnel: cx.tunnel.as_deref(),
        process: cx.process.as_deref(),
        family: if r.client.is_ipv4() { "ipv4" } else { "ipv6" },
        start: secs(r.start.0),
        end: secs(r.end.0),
        duration: secs(r.duration_ns()),
        handshake: r.handshake.name(),
        handshake_rtt: r.handshake_rtt_ns.map(secs),
        syn_retransmits: r.syn_retransmits,
        fast_open: r.fast_open,
        closer: r.closer.name(),
        reset_by: r.reset_by.map_or("none", |s| s.name()),
        resetter_state: r.resetter_state.map(|s| s.rfc_name()),
        reset_at: r.reset_at.map(|t| secs(t.0)),
        reset_origin: r.reset_origin.map(|o| o.name()),
        reset_evidence: &r.reset_evidence,
        idle_before_reset: r.idle_before_reset_ns.map(secs),
        cause: r.cause.name(),
        client_state: r.client_state.rfc_name(),
        server_state: r.server_state.rfc_name(),
        end_reason: r.end_reason.name(),
        one_sided: r.one_sided,
        bytes_client: r.bytes_client,
        bytes_server: r.bytes_server,
        packets: r.packets(),
        packets_client: r.packets_client,
        packets_server: r.packets_server,
        zeek_conn_state: first.conn_state,
        zeek_history: first.history,
        zeek_orig: first.orig.clone(),
        zeek_rows_dropped: r.zeek_dropped,
        zeek,
        anomalies: &r.anomalies,
        kernel: cx.kernel.as_ref().map(crate::kernel_view::KernelView::of),
    };
    crate::safe::write_json(&mut *out, &obj)?;
    out.write_all(b"\n")
}
