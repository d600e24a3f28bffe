//! The HTML report (`analyze --html`, `capture --html`): one self-contained file to attach to an
//! incident ticket and open anywhere, offline. Inline CSS, script and SVG; no fetch of any kind.
//!
//! What it holds: the summary (the same [`Summary`] the terminal prints, so the numbers agree), charts
//! drawn as SVG here ([`charts`]), a table of every connection (compact rows, [`rows::TableRow`],
//! embedded as JSON that the page's script pages, sorts and filters: the DOM holds one page of rows,
//! never the whole capture), and the ladders of at most N connections ([`ladders::Kept`]), drawn by the
//! same SVG renderer as `--ladder --svg`.
//!
//! Everything from outside the program (file names, the tunnel descriptions, process names) goes
//! through [`markup`] in HTML, and JSON goes through [`crate::safe::script_json`].

pub mod charts;
pub mod ladders;
pub mod rows;

use crate::ladder::{Layout, SvgOptions, svg};
use crate::safe::{markup, script_json};
use crate::summary::{EXAMPLES, example, explanation, headline};
use crate::{CaptureFacts, Context, Summary};
use lifecycle::{Cause, ConnectionRecord, Side, State};
use rows::TableRow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The ladders a report keeps unless told otherwise (`--html-ladders`).
pub const DEFAULT_LADDERS: usize = 200;

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// How the report is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HtmlOptions {
    /// The most ladders kept.
    pub ladders: usize,
    /// Sequence numbers as on the wire in the ladders.
    pub absolute: bool,
    /// The tracker's TIME-WAIT and idle timeout, for the "held over time" chart.
    pub time_wait_ns: u64,
    pub idle_timeout_ns: u64,
}

/// Every connection as it ends, then the page.
#[derive(Debug)]
pub struct HtmlReport {
    options: HtmlOptions,
    summary: Summary,
    rows: Vec<TableRow>,
    /// Each reset's time and who sent it, for the resets chart (a row keeps only the last segment's).
    resets: Vec<(u64, Side)>,
    /// The row numbers of the summary's examples, by cause, in the summary's order.
    example_rows: BTreeMap<Cause, Vec<u64>>,
    ladders: ladders::Kept,
}

impl HtmlReport {
    #[must_use]
    pub fn new(options: HtmlOptions) -> HtmlReport {
        HtmlReport {
            options,
            summary: Summary::default(),
            rows: Vec::new(),
            resets: Vec::new(),
            example_rows: BTreeMap::new(),
            ladders: ladders::Kept::new(options.ladders),
        }
    }

    /// One ended connection; its steps, if the tracker watched it, may become a kept ladder.
    pub fn add(&mut self, r: &ConnectionRecord, cx: &Context) {
        let example = self.summary.examples(r.cause).len() < EXAMPLES;
        self.summary.add(r, cx);
        self.rows.push(TableRow::of(r));
        if let (Some(at), Some(by)) = (r.reset_at, r.reset_by) {
            self.resets.push((at.0, by));
        }
        let row = self.rows.len() as u64;
        if example {
            self.example_rows.entry(r.cause).or_default().push(row);
        }
        if let Some(steps) = r.steps.as_deref() {
            let layout = Layout::new(r, steps, cx, Some(row));
            self.ladders.offer(row, layout, example && r.cause.is_problem());
        }
    }

    /// Writes the page.
    pub fn write(&self, out: &mut impl Write, facts: &CaptureFacts) -> io::Result<()> {
        let inputs = facts.inputs.join(" ");
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>tcpdoctor: {}</title><style>{CSS}</style></head><body>\n",
            markup(&inputs)
        )?;
        writeln!(
            out,
            "<header><h1>tcpdoctor analyze <span id=\"inputs\">{}</span></h1><p id=\"overview\">{}</p></header>",
            markup(&inputs),
            markup(&self.summary.overview(facts))
        )?;
        if self.summary.total() > 0 {
            self.write_causes(out)?;
            self.write_problems(out)?;
            self.write_charts(out, facts)?;
            self.write_table(out)?;
        } else {
            writeln!(
                out,
                "<p id=\"empty\">No connections: nothing to sort by cause, chart or list.</p>"
            )?;
        }
        self.write_capture(out, facts)?;
        self.write_data(out, facts)?;
        writeln!(out, "<script>{SCRIPT}</script></body></html>")
    }

    fn write_causes(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "<section id=\"summary\"><h2>Connections by cause</h2><table id=\"causes\">"
        )?;
        for (cause, n) in self.summary.by_cause() {
            writeln!(
                out,
                "<tr data-cause=\"{name}\"><th><a href=\"#cause={name}\">{name}</a></th><td class=\"n\">{n}</td><td>{}</td></tr>",
                markup(&self.summary.note(*cause)),
                name = cause.name()
            )?;
        }
        writeln!(out, "</table>")
    }

    fn write_problems(&self, out: &mut impl Write) -> io::Result<()> {
        let problems: Vec<_> = self
            .summary
            .by_cause()
            .iter()
            .filter(|(c, _)| c.is_problem())
            .collect();
        writeln!(out, "<h2>Problems</h2>")?;
        if problems.is_empty() {
            writeln!(
                out,
                "<p>None. Every connection opened and closed cleanly or is still open.</p>"
            )?;
        }
        for (cause, n) in problems {
            let [a, b] = explanation(*cause);
            writeln!(
                out,
                "<div class=\"problem\" data-cause=\"{}\"><h3>{} ×{n}: {}</h3><p>{} {}</p><ul>",
                cause.name(),
                cause.name(),
                markup(headline(*cause)),
                markup(a),
                markup(b)
            )?;
            let rows = self.example_rows.get(cause).map_or(&[][..], Vec::as_slice);
            for ((r, cx), row) in self.summary.examples(*cause).iter().zip(rows) {
                writeln!(
                    out,
                    "<li><a class=\"example\" href=\"#ladder={row}\" data-row=\"{row}\">#{row}</a> {}</li>",
                    markup(&example(r, cx))
                )?;
            }
            writeln!(out, "</ul></div>")?;
        }
        writeln!(out, "</section>")
    }

    fn write_charts(&self, out: &mut impl Write, facts: &CaptureFacts) -> io::Result<()> {
        let span = charts::Span {
            first_ns: facts.first.unwrap_or(0),
            last_ns: facts.last.unwrap_or(0),
            time_wait_ns: self.options.time_wait_ns,
            idle_timeout_ns: self.options.idle_timeout_ns,
        };
        writeln!(
            out,
            "<section id=\"charts\"><h2>Charts</h2>{}</section>",
            charts::all(&self.rows, &self.resets, &span)
        )
    }

    fn write_table(&self, out: &mut impl Write) -> io::Result<()> {
        let mut causes = String::from("<option value=\"\">any cause</option>");
        for c in self.summary.by_cause().keys() {
            let _ = write!(causes, "<option>{}</option>", c.name());
        }
        let mut states = String::from("<option value=\"\">any final state</option>");
        for s in State::ALL {
            let _ = write!(states, "<option>{}</option>", s.rfc_name());
        }
        writeln!(
            out,
            "<section id=\"connections\"><h2>Connections</h2>\
             <p class=\"note\" id=\"ladder-note\">Ladders are kept for {} of the {} connections: the problems' examples \
             and a sample spread evenly over the capture (at most {}, <code>--html-ladders</code>). \
             For any other, run <code>tcpdoctor analyze FILE --ladder ROW</code> with its row number.</p>\
             <form id=\"filters\" onsubmit=\"return false\">\
             <select id=\"f-cause\">{causes}</select> <select id=\"f-state\">{states}</select> \
             <input id=\"f-addr\" placeholder=\"address\" size=\"16\"> <input id=\"f-port\" placeholder=\"port\" size=\"6\"> \
             <input id=\"f-text\" placeholder=\"any text\" size=\"16\"> <span id=\"count\"></span></form>\
             <table id=\"conns\"><thead><tr>\
             <th data-col=\"0\">#</th><th data-col=\"1\">start (s)</th><th data-col=\"2\">duration (s)</th>\
             <th data-col=\"3\">client</th><th data-col=\"4\">server</th><th data-col=\"5\">cause</th>\
             <th data-col=\"6\">client state</th><th data-col=\"7\">server state</th><th data-col=\"8\">reset by</th>\
             <th data-col=\"9\">bytes c→s</th><th data-col=\"10\">bytes s→c</th><th data-col=\"11\">packets</th>\
             <th data-col=\"12\">RTT (ms)</th></tr></thead><tbody></tbody></table>\
             <p id=\"pager\"><button id=\"prev\">‹ previous</button> <span id=\"page\"></span> <button id=\"next\">next ›</button></p>\
             <p class=\"note\" id=\"ready\"></p></section>",
            self.ladders.len(),
            self.rows.len(),
            self.ladders.limit()
        )?;
        writeln!(
            out,
            "<dialog id=\"ladder\"><p><button id=\"close\">close</button> <span id=\"ladder-title\"></span></p><div id=\"ladder-body\"></div></dialog>"
        )
    }

    fn write_capture(&self, out: &mut impl Write, facts: &CaptureFacts) -> io::Result<()> {
        let mut text = Vec::new();
        if self.summary.total() > 0 {
            self.summary.resets().write(&mut text)?;
        }
        self.summary.write_capture(&mut text, facts)?;
        writeln!(
            out,
            "<section id=\"capture\"><h2>Resets and the capture</h2><pre>{}</pre></section>",
            markup(&String::from_utf8_lossy(&text))
        )
    }

    /// The table's rows and the kept ladders, as JSON the script reads.
    fn write_data(&self, out: &mut impl Write, facts: &CaptureFacts) -> io::Result<()> {
        let causes: Vec<&str> = Cause::ALL.iter().map(|c| c.name()).collect();
        let states: Vec<&str> = State::ALL.iter().map(|s| s.rfc_name()).collect();
        write!(
            out,
            "<script type=\"application/json\" id=\"data\">{{\"causes\":{},\"states\":{},\"rows\":",
            script_json(&causes)?,
            script_json(&states)?
        )?;
        let origin = facts.first.unwrap_or(0);
        rows::write_json(out, &self.rows, origin, |row| self.ladders.contains(row))?;
        writeln!(out, "}}</script>")?;
        let options = SvgOptions {
            absolute: self.options.absolute,
        };
        let kept: BTreeMap<String, String> = self
            .ladders
            .iter()
            .map(|(row, layout)| (row.to_string(), svg::render(layout, options).svg))
            .collect();
        writeln!(
            out,
            "<script type=\"application/json\" id=\"ladders\">{}</script>",
            script_json(&kept)?
        )
    }
}
