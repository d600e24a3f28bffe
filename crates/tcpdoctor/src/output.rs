//! Where `analyze` sends each ended connection: the summary, the table, JSON lines or a Zeek conn.log
//! ([`Output`]), or the ladders of the watched ones (`crate::ladder`): each is a [`Sink`].

use lifecycle::{ConnectionRecord, Timestamp, TrackerStats};
use report::{CaptureFacts, Context, Summary};
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// The output format chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Summary,
    Connections,
    Json,
    Zeek,
}

/// Where the pipeline sends each ended connection, in the order they end, then the facts at the end.
pub trait Sink {
    fn connection(&mut self, r: &ConnectionRecord, cx: &Context) -> io::Result<()>;
    fn finish(&mut self, facts: &CaptureFacts, tracker: &TrackerStats) -> io::Result<()>;
    /// Whether the records must carry Zeek's view ([`lifecycle::Config::zeek_view`]): unless a sink
    /// says it prints none, they do.
    fn zeek_view(&self) -> bool {
        true
    }
}

/// A renderer fed one connection at a time, then the facts at the end.
pub struct Output<W: Write> {
    format: Format,
    /// Print each connection the moment it ends (and flush), not only at the end.
    follow: bool,
    out: W,
    summary: Summary,
    /// Connections written so far (the table's row numbers).
    rows: u64,
}

/// Now, by the system clock (the clock capture timestamps use).
pub fn wall_clock() -> Timestamp {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Timestamp(u64::try_from(ns).unwrap_or(u64::MAX))
}

impl<W: Write> Output<W> {
    pub fn new(format: Format, follow: bool, out: W) -> Output<W> {
        Output {
            format,
            follow,
            out,
            summary: Summary::default(),
            rows: 0,
        }
    }
}

impl<W: Write> Sink for Output<W> {
    /// One ended connection, with what the capture added to it.
    fn connection(&mut self, r: &ConnectionRecord, cx: &Context) -> io::Result<()> {
        self.rows += 1;
        if self.rows == 1 {
            match self.format {
                Format::Connections => report::connections::write_header(&mut self.out)?,
                Format::Summary if self.follow => report::connections::write_header(&mut self.out)?,
                Format::Zeek => report::zeek_log::write_header(&mut self.out, wall_clock())?,
                Format::Summary | Format::Json => {}
            }
        }
        match self.format {
            Format::Summary => {
                self.summary.add(r, cx);
                if self.follow {
                    report::connections::write_connection(&mut self.out, self.rows, r, cx)?;
                }
            }
            Format::Connections => {
                report::connections::write_connection(&mut self.out, self.rows, r, cx)?;
            }
            Format::Json => report::json::write_connection(&mut self.out, r, cx)?,
            Format::Zeek => report::zeek_log::write_connection(&mut self.out, r)?,
        }
        if self.follow {
            self.out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self, facts: &CaptureFacts, _: &TrackerStats) -> io::Result<()> {
        match self.format {
            Format::Summary => {
                if self.follow && self.rows > 0 {
                    writeln!(self.out)?;
                }
                self.summary.write(&mut self.out, facts)?;
            }
            Format::Zeek => {
                if self.rows == 0 {
                    report::zeek_log::write_header(&mut self.out, wall_clock())?;
                }
                report::zeek_log::write_footer(&mut self.out, wall_clock())?;
            }
            Format::Connections | Format::Json => {}
        }
        self.out.flush()
    }

    /// The summary and the table print nothing of Zeek's.
    fn zeek_view(&self) -> bool {
        matches!(self.format, Format::Json | Format::Zeek)
    }
}
