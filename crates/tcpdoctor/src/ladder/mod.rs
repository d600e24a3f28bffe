//! `tcpdoctor analyze FILE --ladder CONN`: the ladder diagram of the connections CONN names, instead
//! of the summary. The tracker records segments only for those ([`lifecycle::Tracker::watch`]); a
//! row number of `--connections` takes two passes over the files (the first finds the row's
//! connection, the second draws it), so it needs files, not standard input.
//!
//! `--svg FILE` draws the same ladders as SVG into one file instead of the terminal: one figure, or,
//! when CONN matches several connections, their figures stacked top to bottom (at most [`LIMIT`], as
//! on the terminal).

mod selector;

pub use selector::Selector;

use crate::analyze::{self, AnalyzeArgs};
use crate::output::Sink;
use crate::pipeline::Pipeline;
use crate::signals::Stop;
use anyhow::{Context as _, Result};
use clap::Args;
use lifecycle::{Config, ConnectionRecord, TrackerStats, WatchOptions};
use packet::DecoderConfig;
use report::ladder::svg::{self, Figure};
use report::ladder::{Layout, SvgOptions, TextOptions, text};
use report::{CaptureFacts, Context};
use std::io::{self, Write};
use std::path::PathBuf;

/// The most connections drawn in one run: each is a screenful or more.
pub const LIMIT: usize = 20;

#[derive(Args, Debug)]
pub struct LadderArgs {
    /// Draw the ladder diagram of the connections CONN names instead of the summary: a client or
    /// server address (10.0.0.1, 10.0.0.1:80, `[::1]:80`), both ends (10.0.0.1:40000-10.0.0.2:80, either
    /// order), a row number of --connections (the # column), or all (the first 20 connections).
    #[arg(long, value_name = "CONN", conflicts_with_all = ["format", "html"])]
    pub ladder: Option<Selector>,
    /// With --ladder: sequence and acknowledgement numbers as on the wire, not relative to each
    /// side's ISN.
    #[arg(long, requires = "ladder")]
    pub absolute: bool,
    /// With --ladder: every segment, without folding long data phases.
    #[arg(long, requires = "ladder")]
    pub all: bool,
    /// With --ladder: write the ladders as an SVG image to FILE instead of text (several matching
    /// connections: their figures stacked in the one image).
    #[arg(long, value_name = "FILE", requires = "ladder")]
    pub svg: Option<PathBuf>,
}

/// How ladders are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LadderOptions {
    pub absolute: bool,
    /// Every segment, no folding.
    pub all: bool,
    pub color: bool,
    /// The most connections drawn; later matches are counted only.
    pub limit: usize,
}

impl Default for LadderOptions {
    fn default() -> LadderOptions {
        LadderOptions {
            absolute: false,
            all: false,
            color: false,
            limit: LIMIT,
        }
    }
}

/// What a run drew.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Ladders written.
    pub shown: usize,
    /// Connections the selector matched, those past the limit included.
    pub matched: u64,
    /// Connections in the inputs (the rows of `--connections`).
    pub connections: u64,
}

/// What a pass over the inputs needs besides the files.
struct Settings {
    decoder: DecoderConfig,
    tracker: Config,
    filter: crate::filter::Filter,
    progress: bool,
}

/// `analyze --ladder`: returns the exit code. No connection matched: 1, as `grep` (the input was
/// read, CONN is well formed: nothing failed but the search).
pub fn run(args: &AnalyzeArgs, selector: Selector) -> Result<i32> {
    let stdin = args.files.iter().any(|f| f.as_os_str() == "-");
    if matches!(selector, Selector::Row(_)) && stdin {
        eprintln!(
            "tcpdoctor: --ladder with a row number reads the input twice: it needs files, not standard input (-)"
        );
        return Ok(2);
    }
    let settings = Settings {
        decoder: args.decode.config(),
        tracker: args.tracker.config(),
        filter: args.filter.filter(),
        progress: !args.no_progress,
    };
    let stop = Stop::install_second_exits().context("installing signal handlers")?;
    let resolved = match resolve(selector, &args.files, &settings, &stop)? {
        Ok(s) => s,
        Err(rows) => {
            eprintln!("tcpdoctor: no {selector}: --connections lists {rows} connections");
            return Ok(1);
        }
    };
    let options = LadderOptions {
        absolute: args.ladder.absolute,
        all: args.ladder.all,
        color: anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never,
        limit: LIMIT,
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let figures = args.ladder.svg.as_ref().map(|_| Vec::new());
    let read = draw(
        resolved,
        options,
        figures,
        &args.files,
        &settings,
        &stop,
        &mut out,
    )?;
    let code = analyze::report_errors(&read);
    let Some(sink) = read.sink else {
        return Ok(code);
    };
    if let (Some(path), Some(figures)) = (&args.ladder.svg, &sink.figures)
        && !figures.is_empty()
    {
        std::fs::write(path, svg::stack(figures)).with_context(|| format!("writing {}", path.display()))?;
    }
    let o = sink.outcome;
    if o.matched == 0 && !stop.requested() {
        eprintln!("tcpdoctor: no connection matches {selector}");
        return Ok(code.max(1));
    }
    if o.matched > o.shown as u64 {
        eprintln!(
            "tcpdoctor: showing the first {} of {} matching connections; narrow CONN",
            o.shown, o.matched
        );
    }
    Ok(code)
}

/// A row number comes to the connection in that row, by a first pass over the files; every other
/// selector stands as it is. `Err(rows)`: no such row, the inputs hold `rows` connections.
fn resolve(
    selector: Selector,
    files: &[PathBuf],
    settings: &Settings,
    stop: &Stop,
) -> Result<Result<Selector, u64>> {
    let Selector::Row(want) = selector else {
        return Ok(Ok(selector));
    };
    let pipeline = Pipeline::new(
        settings.decoder.clone(),
        settings.tracker,
        settings.filter.clone(),
        RowFinder {
            want,
            rows: 0,
            found: None,
        },
    );
    let read = analyze::read_inputs(pipeline, files, settings.progress, stop)?;
    Ok(match read.sink {
        Some(RowFinder { found: Some(s), .. }) => Ok(s),
        Some(f) => Err(f.rows),
        None => Err(0),
    })
}

/// The pass that draws.
fn draw<W: Write>(
    selector: Selector,
    options: LadderOptions,
    figures: Option<Vec<Figure>>,
    files: &[PathBuf],
    settings: &Settings,
    stop: &Stop,
    out: W,
) -> Result<analyze::Read<Ladders<W>>> {
    let mut pipeline = Pipeline::new(
        settings.decoder.clone(),
        settings.tracker,
        settings.filter.clone(),
        Ladders {
            out,
            options,
            figures,
            rows: 0,
            outcome: Outcome::default(),
        },
    );
    pipeline.watch(
        move |c| selector.matches(c),
        WatchOptions {
            limit: options.limit,
            fold: !options.all,
        },
    );
    analyze::read_inputs(pipeline, files, settings.progress, stop)
}

/// Finds row `want` of `--connections`: the records come in the same order.
struct RowFinder {
    want: u64,
    rows: u64,
    found: Option<Selector>,
}

impl Sink for RowFinder {
    fn connection(&mut self, r: &ConnectionRecord, _: &Context) -> io::Result<()> {
        self.rows += 1;
        if self.rows == self.want {
            self.found = Some(Selector::Exact {
                client: r.client,
                server: r.server,
                tunnel: r.tunnel,
                start: r.start,
            });
        }
        Ok(())
    }

    fn finish(&mut self, _: &CaptureFacts, _: &TrackerStats) -> io::Result<()> {
        Ok(())
    }
}

/// Draws each watched connection as it ends, numbered as `--connections` numbers its rows.
struct Ladders<W: Write> {
    out: W,
    options: LadderOptions,
    /// `--svg`: the figures, written to the file once all are drawn (a stack's size is known then).
    figures: Option<Vec<Figure>>,
    rows: u64,
    outcome: Outcome,
}

impl<W: Write> Sink for Ladders<W> {
    fn connection(&mut self, r: &ConnectionRecord, cx: &Context) -> io::Result<()> {
        self.rows += 1;
        let Some(steps) = r.steps.as_deref() else {
            return Ok(());
        };
        let layout = Layout::new(r, steps, cx, Some(self.rows));
        if let Some(figures) = &mut self.figures {
            let options = SvgOptions {
                absolute: self.options.absolute,
            };
            figures.push(svg::render(&layout, options));
        } else {
            if self.outcome.shown > 0 {
                writeln!(self.out)?;
            }
            let options = TextOptions {
                absolute: self.options.absolute,
                color: self.options.color,
            };
            text::write(&mut self.out, &layout, options)?;
        }
        self.outcome.shown += 1;
        Ok(())
    }

    fn finish(&mut self, _: &CaptureFacts, tracker: &TrackerStats) -> io::Result<()> {
        self.outcome.matched = tracker.watch_matched;
        self.outcome.connections = self.rows;
        self.out.flush()
    }
}
