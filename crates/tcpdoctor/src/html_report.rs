//! `--html FILE` (`analyze`, `capture`): the self-contained HTML report ([`report::html`]), written
//! when the input ends, beside whatever the run prints.
//!
//! Its ladders come from the tracker's watch ([`lifecycle::Tracker::watch`]): every connection is
//! watched (a connection's cause, and so whether it is a problem's example, is known only when it
//! ends), each record arrives with its steps, and the report keeps at most `--html-ladders` of them.
//! Memory: the steps of the connections open at once, plus the report's kept ladders and one compact
//! row per connection.

use crate::analyze::TrackerArgs;
use crate::output::Sink;
use crate::pipeline::Pipeline;
use clap::Args;
use lifecycle::{ConnectionRecord, TrackerStats, WatchOptions};
use report::html::{DEFAULT_LADDERS, HtmlOptions, HtmlReport};
use report::{CaptureFacts, Context};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct HtmlArgs {
    /// Also write a self-contained HTML report (summary, charts, a table of every connection, ladder
    /// diagrams) to FILE: one file that opens offline in any browser.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// With --html: the most connections whose ladder the report keeps (the problems' examples and
    /// a sample spread over the capture).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LADDERS, requires = "html")]
    pub html_ladders: usize,
}

impl HtmlArgs {
    /// A sink that passes everything to `inner` and, with `--html`, builds the report too; it watches
    /// `pipeline`'s connections for the report's ladders.
    pub fn attach<S: Sink>(&self, tracker: &TrackerArgs, inner: S) -> WithHtml<S> {
        let html = self.html.clone().map(|path| {
            let config = tracker.config();
            let options = HtmlOptions {
                ladders: self.html_ladders,
                absolute: false,
                time_wait_ns: config.time_wait,
                idle_timeout_ns: config.idle_timeout,
            };
            (path, HtmlReport::new(options))
        });
        WithHtml { inner, html }
    }
}

/// Watches every connection when the report keeps ladders.
pub fn watch<S: Sink>(pipeline: &mut Pipeline<WithHtml<S>>, args: &HtmlArgs) {
    if args.html.is_some() && args.html_ladders > 0 {
        pipeline.watch(
            |_| true,
            WatchOptions {
                limit: usize::MAX,
                fold: true,
            },
        );
    }
}

/// Another sink, and the HTML report beside it.
pub struct WithHtml<S> {
    pub inner: S,
    html: Option<(PathBuf, HtmlReport)>,
}

impl<S: Sink> Sink for WithHtml<S> {
    fn connection(&mut self, r: &ConnectionRecord, cx: &Context) -> io::Result<()> {
        if let Some((_, report)) = &mut self.html {
            report.add(r, cx);
        }
        self.inner.connection(r, cx)
    }

    fn finish(&mut self, facts: &CaptureFacts, tracker: &TrackerStats) -> io::Result<()> {
        self.inner.finish(facts, tracker)?;
        let Some((path, report)) = &self.html else {
            return Ok(());
        };
        let open =
            File::create(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut out = BufWriter::with_capacity(1 << 16, open);
        report.write(&mut out, facts)?;
        out.flush()
    }

    /// The report prints nothing of Zeek's.
    fn zeek_view(&self) -> bool {
        self.inner.zeek_view()
    }
}
