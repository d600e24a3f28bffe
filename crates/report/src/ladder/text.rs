//! The ladder drawn as terminal text: the client's column on the left, the server's on the right, one
//! arrow per segment between them, as RFC 9293's figures draw the handshake (§3.5) and the close (§3.6).
//!
//! Widths are measured on the plain text; colour, when asked for, wraps each padded cell (so it never
//! shifts a column).

use super::layout::{Arrow, Caption, Folded, Layout, Row};
use super::words::{self, fold_text, label, seconds};
use crate::connections::time;
use crate::summary::headline;
use anstyle::{AnsiColor, Style};
use lifecycle::{Side, State, endpoint_string};
use std::io::{self, Write};

/// How to draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Sequence and acknowledgement numbers as on the wire, not relative to each side's ISN.
    pub absolute: bool,
    /// ANSI colour (for a terminal).
    pub color: bool,
}

/// The widest state name (`SYN-RECEIVED`).
const STATE_WIDTH: usize = 12;
/// The shortest arrow.
const MIN_ARROW: usize = 24;
/// Room for the time column's `seconds.micros`.
const TIME_WIDTH: usize = 10;

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const MARK: Style = AnsiColor::Magenta.on_default().bold();

/// Writes one connection's ladder.
pub fn write(out: &mut impl Write, layout: &Layout, options: TextOptions) -> io::Result<()> {
    let mut p = Painter {
        out,
        color: options.color,
    };
    let labels: Vec<Option<String>> = layout
        .rows
        .iter()
        .map(|r| match r {
            Row::Arrow(a) => Some(label(a, options.absolute)),
            Row::Folded(_) => None,
        })
        .collect();
    let width = labels
        .iter()
        .flatten()
        .map(|l| chars(l) + 6)
        .max()
        .unwrap_or(0)
        .max(MIN_ARROW);
    heading(&mut p, layout)?;
    let pad = " ".repeat(TIME_WIDTH + 2);
    let header = format!(
        "{:>TIME_WIDTH$}  {:<w$}",
        "time (s)",
        "client",
        w = STATE_WIDTH + width + 2
    );
    p.styled(DIM, &header)?;
    p.styled(DIM, "server")?;
    p.line()?;
    for (row, label) in layout.rows.iter().zip(&labels) {
        match (row, label) {
            (Row::Arrow(a), Some(l)) => arrow(&mut p, a, l, width)?,
            (Row::Folded(f), _) => folded(&mut p, f)?,
            (Row::Arrow(_), None) => {}
        }
    }
    if layout.omitted > 0 {
        p.text(&pad)?;
        p.styled(
            DIM,
            &format!(
                "... {} more segments not kept (a ladder keeps {} rows)",
                layout.omitted, layout.limit
            ),
        )?;
        p.line()?;
    }
    caption(&mut p, &layout.caption)
}

/// Writes with or without colour.
struct Painter<'a, W: Write> {
    out: &'a mut W,
    color: bool,
}

impl<W: Write> Painter<'_, W> {
    fn text(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())
    }

    fn styled(&mut self, style: Style, s: &str) -> io::Result<()> {
        if self.color && style != Style::new() {
            write!(self.out, "{}{s}{}", style.render(), style.render_reset())
        } else {
            self.text(s)
        }
    }

    fn line(&mut self) -> io::Result<()> {
        self.out.write_all(b"\n")
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn heading<W: Write>(p: &mut Painter<'_, W>, l: &Layout) -> io::Result<()> {
    let row = l.row.map_or_else(String::new, |n| format!(" #{n}"));
    let tunnel = l.tunnel.as_ref().map_or_else(String::new, |t| format!(" in {t}"));
    let text = format!(
        "connection{row}: {} → {}{tunnel}, {}",
        endpoint_string(l.client),
        endpoint_string(l.server),
        time(l.start.0)
    );
    p.styled(BOLD, &crate::safe::terminal(&text))?;
    p.line()
}

fn arrow<W: Write>(p: &mut Painter<'_, W>, a: &Arrow, label: &str, width: usize) -> io::Result<()> {
    let fill = "─".repeat(width.saturating_sub(chars(label) + 3));
    let drawn = match a.from {
        Side::Client => format!("──{label}{fill}>"),
        Side::Server => format!("<{fill}{label}──"),
    };
    let style = if a.is_rst() {
        RED
    } else if a.flags.contains(&"SYN") {
        GREEN
    } else if a.flags.contains(&"FIN") {
        YELLOW
    } else {
        Style::new()
    };
    p.text(&format!("{:>TIME_WIDTH$}  ", seconds(a.offset_ns)))?;
    let state_style = if a.changed { BOLD } else { Style::new() };
    p.styled(state_style, &format!("{:<STATE_WIDTH$}", a.client_state))?;
    p.text(" ")?;
    p.styled(style, &drawn)?;
    p.text(" ")?;
    server_state(p, state_style, a.server_state, !a.marks.is_empty())?;
    if !a.marks.is_empty() {
        p.text("  ")?;
        p.styled(MARK, &format!("[{}]", a.marks.join(", ")))?;
    }
    p.line()
}

/// The last column, padded only when something follows it.
fn server_state<W: Write>(p: &mut Painter<'_, W>, style: Style, state: State, more: bool) -> io::Result<()> {
    if more {
        p.styled(style, &format!("{state:<STATE_WIDTH$}"))
    } else {
        p.styled(style, state.rfc_name())
    }
}

/// A fold sits where the arrows run, without states: they are those of the rows around it (a fold has
/// none of its own changes), and the text may run past the server's column.
fn folded<W: Write>(p: &mut Painter<'_, W>, f: &Folded) -> io::Result<()> {
    p.text(&format!(
        "{:>TIME_WIDTH$}  {:STATE_WIDTH$} ",
        seconds(f.offset_ns),
        ""
    ))?;
    p.styled(DIM, &fold_text(f))?;
    p.line()
}

fn caption<W: Write>(p: &mut Painter<'_, W>, c: &Caption) -> io::Result<()> {
    let indent = "        ";
    let style = if c.cause.is_problem() { RED } else { GREEN };
    p.text("ending: ")?;
    p.styled(style, c.cause.name())?;
    p.text(&format!(" — {}", headline(c.cause)))?;
    p.line()?;
    p.text(&format!("{indent}{}", words::closer_and_reset(c)))?;
    p.line()?;
    p.text(&format!("{indent}{}", words::totals(c)))?;
    p.line()
}
