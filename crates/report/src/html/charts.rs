//! The report's charts, drawn as inline SVG from the table's rows: no script and no library, so they
//! show even with JavaScript off and cost a few kilobytes each.
//!
//! Two shapes serve every chart: stacked columns over time buckets (`columns`) and stacked
//! horizontal bars (`bars`). Each bar segment carries a `<title>`, which a browser shows on hover.

use super::rows::{TableRow, cause_index};
use crate::ladder::words::seconds;
use crate::safe::markup;
use lifecycle::{Cause, EndReason, Side, State, endpoint_string};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Time buckets across the capture.
const BUCKETS: usize = 60;
/// Servers shown in the "most problems" chart.
const TOP_SERVERS: usize = 10;
const WIDTH: u32 = 720;

/// One colour per cause, in [`Cause::ALL`] order: problems warm, clean endings cool.
pub const CAUSE_COLOURS: [&str; 13] = [
    "#43a047", "#e53935", "#8e24aa", "#fb8c00", "#f4511e", "#fdd835", "#6d4c41", "#c0ca33", "#ec407a",
    "#5e35b1", "#90a4ae", "#1e88e5", "#00897b",
];

/// What the time charts need to know beyond the rows.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub first_ns: u64,
    pub last_ns: u64,
    /// The tracker's TIME-WAIT and idle timeout (`--time-wait`, `--idle-timeout`).
    pub time_wait_ns: u64,
    pub idle_timeout_ns: u64,
}

impl Span {
    fn bucket(&self, ns: u64) -> usize {
        let width = self.last_ns.saturating_sub(self.first_ns).max(1);
        let i = u128::from(ns.saturating_sub(self.first_ns)) * BUCKETS as u128 / u128::from(width);
        usize::try_from(i).unwrap_or(BUCKETS).min(BUCKETS - 1)
    }

    fn midpoint(&self, bucket: usize) -> u64 {
        let width = u128::from(self.last_ns.saturating_sub(self.first_ns));
        let off = width * (2 * bucket as u128 + 1) / (2 * BUCKETS as u128);
        self.first_ns + u64::try_from(off).unwrap_or(0)
    }

    fn axis(&self) -> (String, String) {
        (
            "0 s".to_string(),
            format!("{} s", seconds(self.last_ns.saturating_sub(self.first_ns))),
        )
    }
}

/// A named, coloured run of values (one per bucket or bar).
struct Series {
    name: String,
    colour: &'static str,
    values: Vec<u64>,
}

/// Every chart, in the page's order.
#[must_use]
pub fn all(rows: &[TableRow], resets_at: &[(u64, Side)], span: &Span) -> String {
    let mut out = String::new();
    out.push_str(&by_cause(rows));
    out.push_str(&over_time(
        rows,
        span,
        "Connections opened over time, by cause",
        |r| r.start_ns,
    ));
    out.push_str(&over_time(
        rows,
        span,
        "Connections ended (last segment) over time, by cause",
        |r| r.end_ns,
    ));
    out.push_str(&resets(resets_at, span));
    out.push_str(&rtt(rows));
    out.push_str(&held(rows, span));
    out.push_str(&servers(rows));
    out
}

fn by_cause(rows: &[TableRow]) -> String {
    let mut counts = [0u64; 13];
    for r in rows {
        counts[cause_index(r.cause)] += 1;
    }
    let items: Vec<(String, Vec<(usize, u64)>)> = Cause::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| counts[*i] > 0)
        .map(|(i, c)| (c.name().to_string(), vec![(i, counts[i])]))
        .collect();
    bars("Connections by cause", &items)
}

fn cause_series(rows: &[TableRow], at: impl Fn(&TableRow) -> u64, span: &Span) -> Vec<Series> {
    let mut values = vec![vec![0u64; BUCKETS]; Cause::ALL.len()];
    for r in rows {
        values[cause_index(r.cause)][span.bucket(at(r))] += 1;
    }
    Cause::ALL
        .iter()
        .zip(values)
        .enumerate()
        .filter(|(_, (_, v))| v.iter().any(|n| *n > 0))
        .map(|(i, (c, values))| Series {
            name: c.name().to_string(),
            colour: CAUSE_COLOURS[i],
            values,
        })
        .collect()
}

fn over_time(rows: &[TableRow], span: &Span, title: &str, at: impl Fn(&TableRow) -> u64) -> String {
    columns(title, &cause_series(rows, at, span), span.axis())
}

fn resets(resets_at: &[(u64, Side)], span: &Span) -> String {
    let mut by = [vec![0u64; BUCKETS], vec![0u64; BUCKETS]];
    for &(at, side) in resets_at {
        let i = match side {
            Side::Client => 0,
            Side::Server => 1,
        };
        by[i][span.bucket(at)] += 1;
    }
    let [client, server] = by;
    let series = vec![
        Series {
            name: "reset by the client".into(),
            colour: "#1e88e5",
            values: client,
        },
        Series {
            name: "reset by the server".into(),
            colour: "#e53935",
            values: server,
        },
    ];
    columns("Resets over time, by who reset", &series, span.axis())
}

/// Handshake RTT upper bounds, microseconds: 1-2-5 steps from 10 µs to 10 s.
const RTT_EDGES: [u32; 16] = [
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
    1_000_000,
];

fn rtt_label(us: u32) -> String {
    if us >= 1_000_000 {
        format!("{} s", us / 1_000_000)
    } else if us >= 1_000 {
        format!("{} ms", us / 1_000)
    } else {
        format!("{us} µs")
    }
}

fn rtt(rows: &[TableRow]) -> String {
    let mut counts = vec![0u64; RTT_EDGES.len() + 1];
    for us in rows.iter().filter_map(TableRow::rtt_us) {
        let i = RTT_EDGES.iter().position(|e| us < *e).unwrap_or(RTT_EDGES.len());
        counts[i] += 1;
    }
    let items: Vec<(String, Vec<(usize, u64)>)> = counts
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let label = match i {
                0 => format!("< {}", rtt_label(RTT_EDGES[0])),
                i if i == RTT_EDGES.len() => format!("≥ {}", rtt_label(RTT_EDGES[i - 1])),
                i => format!("{} – {}", rtt_label(RTT_EDGES[i - 1]), rtt_label(RTT_EDGES[i])),
            };
            (label, vec![(usize::MAX, *n)])
        })
        .collect();
    bars(
        "Handshake RTT (client's SYN to server's SYN-ACK, where captured)",
        &items,
    )
}

/// TIME-WAIT and CLOSE-WAIT held at each bucket's midpoint, as the tracker infers them: TIME-WAIT
/// from a connection's last segment for `--time-wait` (RFC 9293 §3.6.1: 2 MSL; Linux 60 s), CLOSE-WAIT
/// from its last segment until the tracker let it go (the idle timeout or the capture's end).
fn held(rows: &[TableRow], span: &Span) -> String {
    let mut tw = vec![0u64; BUCKETS];
    let mut cw = vec![0u64; BUCKETS];
    for r in rows {
        let holds = |s: State| r.client_state == s || r.server_state == s;
        let (counts, until) = if holds(State::TimeWait) || r.end_reason == EndReason::TimeWaitExpired {
            (&mut tw, r.end_ns.saturating_add(span.time_wait_ns))
        } else if holds(State::CloseWait) {
            let until = match r.end_reason {
                EndReason::IdleTimeout => r.end_ns.saturating_add(span.idle_timeout_ns),
                EndReason::Evicted | EndReason::PortReused => r.end_ns,
                _ => span.last_ns,
            };
            (&mut cw, until)
        } else {
            continue;
        };
        for (b, n) in counts.iter_mut().enumerate() {
            let t = span.midpoint(b);
            *n += u64::from(r.end_ns <= t && t < until);
        }
    }
    let series = vec![
        Series {
            name: "TIME-WAIT".into(),
            colour: "#5e35b1",
            values: tw,
        },
        Series {
            name: "CLOSE-WAIT".into(),
            colour: "#fdd835",
            values: cw,
        },
    ];
    columns(
        "Sockets in TIME-WAIT and CLOSE-WAIT over time (inferred)",
        &series,
        span.axis(),
    )
}

fn servers(rows: &[TableRow]) -> String {
    let mut by: HashMap<SocketAddr, [u64; 13]> = HashMap::new();
    for r in rows.iter().filter(|r| r.cause.is_problem()) {
        by.entry(r.server).or_insert([0; 13])[cause_index(r.cause)] += 1;
    }
    let mut top: Vec<(SocketAddr, [u64; 13])> = by.into_iter().collect();
    top.sort_unstable_by_key(|(addr, c)| (std::cmp::Reverse(c.iter().sum::<u64>()), *addr));
    top.truncate(TOP_SERVERS);
    let items: Vec<(String, Vec<(usize, u64)>)> = top
        .iter()
        .map(|(addr, c)| {
            let parts = c
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (i, *n));
            (endpoint_string(*addr), parts.collect())
        })
        .collect();
    if items.is_empty() {
        return figure(
            "Servers with the most problems",
            "<p class=\"none\">No problem: no server to show.</p>",
        );
    }
    bars("Servers (address:port) with the most problems, by cause", &items)
}

fn figure(title: &str, body: &str) -> String {
    format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption>{body}</figure>\n",
        markup(title)
    )
}

/// Stacked horizontal bars: one per item, segments `(cause index, value)`; `usize::MAX` draws a
/// segment in a neutral colour.
fn bars(title: &str, items: &[(String, Vec<(usize, u64)>)]) -> String {
    const LABEL: u32 = 190;
    const BAR: u32 = 18;
    let max = items
        .iter()
        .map(|(_, s)| s.iter().map(|(_, n)| n).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot = WIDTH - LABEL - 80;
    let height = items.len() as u32 * (BAR + 6) + 8;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-size="12">"#
    );
    for (i, (label, segments)) in items.iter().enumerate() {
        let y = i as u32 * (BAR + 6) + 4;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LABEL - 8,
            y + 13,
            markup(label)
        );
        let mut x = f64::from(LABEL);
        let mut total = 0;
        for &(cause, n) in segments {
            let w = n as f64 * f64::from(plot) / max as f64;
            let (colour, name) = match Cause::ALL.get(cause) {
                Some(c) => (CAUSE_COLOURS[cause], c.name()),
                None => ("#607d8b", ""),
            };
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="{BAR}" fill="{colour}"><title>{} {name} {n}</title></rect>"#,
                markup(label)
            );
            x += w;
            total += n;
        }
        let _ = write!(svg, r#"<text x="{:.1}" y="{}">{total}</text>"#, x + 6.0, y + 13);
    }
    svg.push_str("</svg>");
    let legend_items: Vec<(String, &str)> = {
        let mut seen: Vec<usize> = items
            .iter()
            .flat_map(|(_, s)| s.iter().map(|(c, _)| *c))
            .filter(|c| *c < CAUSE_COLOURS.len())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() < 2 {
            Vec::new()
        } else {
            seen.iter()
                .map(|&c| (Cause::ALL[c].name().to_string(), CAUSE_COLOURS[c]))
                .collect()
        }
    };
    figure(title, &(svg + &legend(&legend_items)))
}

/// Stacked columns over the time buckets, with the y axis' top value and the time axis' ends.
fn columns(title: &str, series: &[Series], (start, end): (String, String)) -> String {
    const LEFT: u32 = 56;
    const PLOT_H: u32 = 160;
    let totals: Vec<u64> = (0..BUCKETS)
        .map(|b| series.iter().map(|s| s.values.get(b).copied().unwrap_or(0)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return figure(title, "<p class=\"none\">None.</p>");
    }
    let col = f64::from(WIDTH - LEFT - 10) / BUCKETS as f64;
    let height = PLOT_H + 30;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-size="12"><line x1="{LEFT}" y1="{PLOT_H}" x2="{}" y2="{PLOT_H}" stroke="#999"/><text x="{}" y="12" text-anchor="end">{max}</text><text x="{}" y="{PLOT_H}" text-anchor="end">0</text>"##,
        WIDTH - 10,
        LEFT - 6,
        LEFT - 6
    );
    for b in 0..BUCKETS {
        let mut y = f64::from(PLOT_H);
        let x = f64::from(LEFT) + b as f64 * col;
        for s in series {
            let n = s.values.get(b).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let h = n as f64 * f64::from(PLOT_H - 16) / max as f64;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{} {n}</title></rect>"#,
                (col - 1.0).max(1.0),
                s.colour,
                markup(&s.name)
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg>"#,
        PLOT_H + 18,
        markup(&start),
        WIDTH - 10,
        PLOT_H + 18,
        markup(&end)
    );
    let legend_items: Vec<(String, &str)> = series.iter().map(|s| (s.name.clone(), s.colour)).collect();
    figure(title, &(svg + &legend(&legend_items)))
}

fn legend(items: &[(String, &str)]) -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (name, colour) in items {
        let _ = write!(
            out,
            "<span><i style=\"background:{colour}\"></i>{}</span> ",
            markup(name)
        );
    }
    out.push_str("</p>");
    out
}
