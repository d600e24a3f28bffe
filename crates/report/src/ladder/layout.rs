//! The ladder's layout: what each row says, free of how it is drawn (no widths, no colour), so that the
//! text and SVG renderers draw the same figure.

use crate::Context;
use lifecycle::steps::Item;
use lifecycle::{Cause, Closer, ConnectionRecord, EndReason, ResetOrigin, Side, State, Steps, Timestamp};
use std::net::SocketAddr;

/// A sequence or acknowledgement number, relative to its side's base and as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Number {
    pub relative: u32,
    pub absolute: u32,
}

/// One segment: an arrow from its sender to the other side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub at: Timestamp,
    /// Since the connection's first segment.
    pub offset_ns: u64,
    pub from: Side,
    /// RFC names of the flags set (`SYN`, `ACK`), in textbook order.
    pub flags: Vec<&'static str>,
    pub seq: Number,
    /// Only when the ACK flag is set.
    pub ack: Option<Number>,
    pub len: u32,
    pub client_state: State,
    pub server_state: State,
    /// The segment changed a side's state.
    pub changed: bool,
    /// Names of its marks (`retransmission`, `out_of_window_rst`, ...).
    pub marks: Vec<&'static str>,
}

impl Arrow {
    /// The segment is a reset.
    #[must_use]
    pub fn is_rst(&self) -> bool {
        self.flags.contains(&"RST")
    }
}

/// A folded run of plain segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    pub first: Timestamp,
    pub offset_ns: u64,
    /// From the run's first segment to its last.
    pub span_ns: u64,
    /// Segments and payload bytes each way: `[client→server, server→client]`.
    pub segments: [u64; 2],
    pub bytes: [u64; 2],
    pub client_state: State,
    pub server_state: State,
}

/// A row of the figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    Arrow(Arrow),
    Folded(Folded),
}

/// How the connection ended, under the figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caption {
    pub cause: Cause,
    pub closer: Closer,
    pub reset_by: Option<Side>,
    pub resetter_state: Option<State>,
    pub reset_origin: Option<ResetOrigin>,
    pub client_state: State,
    pub server_state: State,
    pub end_reason: EndReason,
    pub duration_ns: u64,
    pub packets: u64,
    /// Payload each way: `[client→server, server→client]`.
    pub bytes: [u64; 2],
}

/// One connection's ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Its row in `--connections` (1-based), when known.
    pub row: Option<u64>,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub start: Timestamp,
    pub tunnel: Option<String>,
    pub rows: Vec<Row>,
    /// Segments past the rows a ladder keeps.
    pub omitted: u64,
    /// The rows a ladder keeps: the tracker's [`lifecycle::steps::MAX_ITEMS`], or fewer where a
    /// report keeps many ladders ([`Layout::truncate`]).
    pub limit: usize,
    pub caption: Caption,
}

impl Layout {
    /// The layout of `record`'s `steps`.
    #[must_use]
    pub fn new(record: &ConnectionRecord, steps: &Steps, cx: &Context, row: Option<u64>) -> Layout {
        let start = record.start;
        let base = |side: Side| match side {
            Side::Client => steps.base[0],
            Side::Server => steps.base[1],
        };
        let number = |n: lifecycle::Seq, side: Side| Number {
            relative: n.0.wrapping_sub(base(side).map_or(0, |b| b.0)),
            absolute: n.0,
        };
        let mut states = (State::Closed, State::Closed);
        let rows = steps
            .items
            .iter()
            .map(|item| match item {
                Item::Segment(s) => {
                    let after = (s.client_state, s.server_state);
                    let changed = after != states;
                    states = after;
                    Row::Arrow(Arrow {
                        at: s.at,
                        offset_ns: s.at.nanos_since(start),
                        from: s.from,
                        flags: s.flags.names().collect(),
                        seq: number(s.seq, s.from),
                        ack: s.flags.ack().then(|| number(s.ack, s.from.other())),
                        len: s.len,
                        client_state: s.client_state,
                        server_state: s.server_state,
                        changed,
                        marks: s.marks.iter().map(lifecycle::Mark::name).collect(),
                    })
                }
                Item::Folded(f) => Row::Folded(Folded {
                    first: f.first,
                    offset_ns: f.first.nanos_since(start),
                    span_ns: f.last.nanos_since(f.first),
                    segments: f.segments,
                    bytes: f.bytes,
                    client_state: f.client_state,
                    server_state: f.server_state,
                }),
            })
            .collect();
        Layout {
            row,
            client: record.client,
            server: record.server,
            start,
            tunnel: cx.tunnel.clone(),
            rows,
            omitted: steps.omitted,
            limit: lifecycle::steps::MAX_ITEMS,
            caption: Caption {
                cause: record.cause,
                closer: record.closer,
                reset_by: record.reset_by,
                resetter_state: record.resetter_state,
                reset_origin: record.reset_origin,
                client_state: record.client_state,
                server_state: record.server_state,
                end_reason: record.end_reason,
                duration_ns: record.duration_ns(),
                packets: record.packets(),
                bytes: [record.bytes_client, record.bytes_server],
            },
        }
    }

    /// Keeps the first `max_rows` rows; the segments of the rest are counted in [`Layout::omitted`].
    pub fn truncate(&mut self, max_rows: usize) {
        if self.rows.len() <= max_rows {
            return;
        }
        self.omitted += self.rows[max_rows..]
            .iter()
            .map(|r| match r {
                Row::Arrow(_) => 1,
                Row::Folded(f) => f.segments[0] + f.segments[1],
            })
            .sum::<u64>();
        self.rows.truncate(max_rows);
        self.limit = max_rows;
    }
}
