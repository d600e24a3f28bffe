//! The ladder drawn as SVG: the same [`Layout`] as the terminal's, as a figure a browser shows.
//!
//! Two lifelines, the client's on the left, the server's on the right (RFC 9293 §3.5's figures). Time
//! runs down: each segment's arrow leaves its sender at the height of its capture time and slants down
//! to the receiver, so the gaps between rows are real time, linearly scaled; a gap that dwarfs the
//! rest (over a second and ten times the median gap) is compressed to a fixed height and marked with
//! its length, so one idle minute does not push the handshake and the close a screen apart. Every row
//! keeps a minimum height so that its label stays legible. Text is escaped ([`crate::safe::markup`]).

use super::layout::{Arrow, Folded, Layout, Row};
use super::words::{self, fold_text, label, seconds};
use crate::connections::time;
use crate::safe::markup;
use crate::summary::headline;
use lifecycle::{Side, endpoint_string};
use std::fmt::Write as _;

/// How to draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SvgOptions {
    /// Sequence and acknowledgement numbers as on the wire, not relative to each side's ISN.
    pub absolute: bool,
}

/// The figure's width: fits a browser window at its default size with room to spare.
pub const WIDTH: u32 = 800;
const TIME_RIGHT: u32 = 72;
const CLIENT_X: u32 = 236;
const SERVER_X: u32 = 644;
/// Where the first row sits, below the title and the endpoints.
const TOP: u32 = 92;
/// The least height of a row: its label above the arrow, the arrow, its marks below.
const ROW: u32 = 34;
/// How far an arrow's head sits below its tail.
const SLANT: u32 = 10;
/// The most pixels real time adds to the whole figure, over the rows' least heights.
const TIME_BUDGET: f64 = 240.0;
/// A compressed idle gap's height.
const IDLE_ROW: u32 = 34;
/// A gap is idle when longer than this and [`IDLE_FACTOR`] times the median gap.
const IDLE_NS: u64 = 1_000_000_000;
const IDLE_FACTOR: u64 = 10;

const RED: &str = "#c62828";
const GREEN: &str = "#2e7d32";
const ORANGE: &str = "#ef6c00";
const INK: &str = "#222";
const GREY: &str = "#777";
const MARK: &str = "#8e24aa";

/// One drawn ladder: an `<svg>` element, standalone or inline in HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    pub svg: String,
    pub height: u32,
}

/// Several figures in one standalone SVG document, top to bottom, a gap between them; one figure is
/// itself.
#[must_use]
pub fn stack(figures: &[Figure]) -> String {
    const GAP: u32 = 24;
    if let [one] = figures {
        return one.svg.clone();
    }
    let height = figures.iter().map(|f| f.height + GAP).sum::<u32>();
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">"#
    );
    let mut y = 0;
    for f in figures {
        // A nested <svg> is placed by its own x and y (SVG 1.1 §7.9).
        let placed = f.svg.replacen("<svg ", &format!(r#"<svg x="0" y="{y}" "#), 1);
        out.push_str(&placed);
        y += f.height + GAP;
    }
    out.push_str("</svg>\n");
    out
}

/// One connection's ladder.
#[must_use]
pub fn render(layout: &Layout, options: SvgOptions) -> Figure {
    let ys = heights(&layout.rows);
    let mut body = String::new();
    let mut prev: Option<(u64, u32)> = None;
    for (row, &(y, idle)) in layout.rows.iter().zip(&ys) {
        if idle && let Some((at, prev_y)) = prev {
            idle_mark(&mut body, prev_y, y, offset(row).saturating_sub(at));
        }
        match row {
            Row::Arrow(a) => arrow(&mut body, a, y, options.absolute),
            Row::Folded(f) => folded(&mut body, f, y),
        }
        prev = Some((offset(row), y));
    }
    let mut bottom = ys.last().map_or(TOP, |&(y, _)| y + ROW);
    if layout.omitted > 0 {
        text(
            &mut body,
            CLIENT_X,
            bottom,
            GREY,
            "",
            &format!(
                "... {} more segments not kept (a ladder keeps {} rows)",
                layout.omitted, layout.limit
            ),
        );
        bottom += 20;
    }
    let lifelines_end = bottom;
    let caption_top = bottom + 24;
    let height = caption_top + 4 * 20;
    let mut svg = String::with_capacity(body.len() + 2048);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12"><rect width="100%" height="100%" fill="#fff"/>"##
    );
    head(&mut svg, layout, lifelines_end);
    svg.push_str(&body);
    caption(&mut svg, layout, caption_top);
    svg.push_str("</svg>\n");
    Figure { svg, height }
}

fn offset(row: &Row) -> u64 {
    match row {
        Row::Arrow(a) => a.offset_ns,
        Row::Folded(f) => f.offset_ns,
    }
}

/// Each row's height on the page and whether an idle gap precedes it.
fn heights(rows: &[Row]) -> Vec<(u32, bool)> {
    let gaps: Vec<u64> = rows
        .windows(2)
        .map(|w| offset(&w[1]).saturating_sub(offset(&w[0])))
        .collect();
    let mut sorted = gaps.clone();
    sorted.sort_unstable();
    // The lower median: with two gaps, a long one is measured against the short one.
    let median = sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    let idle = |g: u64| g > IDLE_NS && g > median.saturating_mul(IDLE_FACTOR);
    let timed: u64 = gaps.iter().filter(|g| !idle(**g)).sum();
    let px_per_ns = if timed == 0 {
        0.0
    } else {
        TIME_BUDGET / timed as f64
    };
    let mut y = TOP;
    let mut out = Vec::with_capacity(rows.len());
    let mut marks_below = false;
    for (i, row) in rows.iter().enumerate() {
        let gap = if i == 0 { None } else { gaps.get(i - 1).copied() };
        let is_idle = gap.is_some_and(idle);
        if let Some(g) = gap {
            let extra = if is_idle {
                IDLE_ROW
            } else {
                (g as f64 * px_per_ns).round() as u32
            };
            y += ROW + extra + if marks_below { 12 } else { 0 };
        }
        out.push((y, is_idle));
        marks_below = matches!(row, Row::Arrow(a) if !a.marks.is_empty());
    }
    out
}

/// Appends `<text>` at (`x`, `y`); `attrs` are extra attributes, written as given.
fn text(svg: &mut String, x: u32, y: u32, fill: &str, attrs: &str, s: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x}" y="{y}" fill="{fill}"{attrs}>{}</text>"#,
        markup(s)
    );
}

fn head(svg: &mut String, l: &Layout, lifelines_end: u32) {
    let row = l.row.map_or_else(String::new, |n| format!(" #{n}"));
    let tunnel = l.tunnel.as_ref().map_or_else(String::new, |t| format!(" in {t}"));
    let title = format!(
        "connection{row}: {} → {}{tunnel}, {}",
        endpoint_string(l.client),
        endpoint_string(l.server),
        time(l.start.0)
    );
    text(svg, 12, 24, INK, r#" font-weight="bold" font-size="14""#, &title);
    text(svg, TIME_RIGHT, 56, GREY, r#" text-anchor="end""#, "time (s)");
    for (x, who, addr) in [(CLIENT_X, "client", l.client), (SERVER_X, "server", l.server)] {
        let attrs = r#" text-anchor="middle" font-weight="bold""#;
        text(svg, x, 46, INK, attrs, who);
        text(
            svg,
            x,
            62,
            INK,
            r#" text-anchor="middle""#,
            &endpoint_string(addr),
        );
        let _ = write!(
            svg,
            r#"<line x1="{x}" y1="70" x2="{x}" y2="{lifelines_end}" stroke="{GREY}" stroke-width="2"/>"#
        );
    }
}

fn arrow(svg: &mut String, a: &Arrow, y: u32, absolute: bool) {
    let colour = if a.is_rst() {
        RED
    } else if a.flags.contains(&"SYN") {
        GREEN
    } else if a.flags.contains(&"FIN") {
        ORANGE
    } else {
        INK
    };
    let (x1, x2) = match a.from {
        Side::Client => (CLIENT_X, SERVER_X),
        Side::Server => (SERVER_X, CLIENT_X),
    };
    let (y2, head) = (y + SLANT, if x2 > x1 { -10i64 } else { 10 });
    let dash = if a.marks.is_empty() {
        ""
    } else {
        r#" stroke-dasharray="6 3""#
    };
    let _ = write!(
        svg,
        r#"<g class="seg"><line x1="{x1}" y1="{y}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="1.6"{dash}/><path d="M{x2} {y2} l{head} -5 l0 10 z" fill="{colour}"/>"#
    );
    text(
        svg,
        TIME_RIGHT,
        y + 4,
        GREY,
        r#" text-anchor="end""#,
        &seconds(a.offset_ns),
    );
    let mid = (CLIENT_X + SERVER_X) / 2;
    text(
        svg,
        mid,
        y - 2,
        colour,
        r#" text-anchor="middle""#,
        &label(a, absolute),
    );
    if !a.marks.is_empty() {
        let marks = format!("[{}]", a.marks.join(", "));
        let attrs = r#" text-anchor="middle" font-weight="bold""#;
        text(svg, mid, y2 + 14, MARK, attrs, &marks);
    }
    let weight = if a.changed { r#" font-weight="bold""# } else { "" };
    let end = format!(r#" text-anchor="end"{weight}"#);
    text(svg, CLIENT_X - 8, y + 4, INK, &end, a.client_state.rfc_name());
    text(svg, SERVER_X + 8, y + 4, INK, weight, a.server_state.rfc_name());
    svg.push_str("</g>");
}

/// A folded run: a dotted band between the lifelines with what it held.
fn folded(svg: &mut String, f: &Folded, y: u32) {
    let width = SERVER_X - CLIENT_X - 16;
    let _ = write!(
        svg,
        r##"<rect x="{}" y="{}" width="{width}" height="20" rx="4" fill="#f3f3f3" stroke="{GREY}" stroke-dasharray="2 2"/>"##,
        CLIENT_X + 8,
        y - 8
    );
    text(
        svg,
        TIME_RIGHT,
        y + 6,
        GREY,
        r#" text-anchor="end""#,
        &seconds(f.offset_ns),
    );
    let mid = (CLIENT_X + SERVER_X) / 2;
    text(svg, mid, y + 6, GREY, r#" text-anchor="middle""#, &fold_text(f));
}

/// A compressed idle gap: a break across both lifelines and its real length.
fn idle_mark(svg: &mut String, above: u32, below: u32, gap_ns: u64) {
    let y = (above + SLANT + below) / 2;
    for x in [CLIENT_X, SERVER_X] {
        let _ = write!(
            svg,
            r##"<path d="M{} {} l16 -6 M{} {} l16 -6" stroke="{GREY}" stroke-width="2"/><rect x="{}" y="{}" width="14" height="5" fill="#fff"/>"##,
            x - 8,
            y,
            x - 8,
            y + 5,
            x - 7,
            y - 2
        );
    }
    let mid = (CLIENT_X + SERVER_X) / 2;
    let note = format!("≈ {} s idle (compressed)", seconds(gap_ns));
    text(
        svg,
        mid,
        y + 4,
        GREY,
        r#" text-anchor="middle" font-style="italic""#,
        &note,
    );
}

fn caption(svg: &mut String, l: &Layout, top: u32) {
    let c = &l.caption;
    let colour = if c.cause.is_problem() { RED } else { GREEN };
    let _ = write!(
        svg,
        r#"<text x="12" y="{top}" fill="{INK}">ending: <tspan fill="{colour}" font-weight="bold">{}</tspan> — {}</text>"#,
        c.cause.name(),
        markup(headline(c.cause))
    );
    text(svg, 12, top + 20, INK, "", &words::closer_and_reset(c));
    // Two lines: one would run past the figure's width.
    let totals = words::totals(c);
    let (states, counts) = totals.split_once("; ").unwrap_or((&totals, ""));
    text(svg, 12, top + 40, INK, "", states);
    text(svg, 12, top + 60, INK, "", counts);
}
