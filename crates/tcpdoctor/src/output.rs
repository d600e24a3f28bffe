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

    /// As [`Sink::connection`], given the record to keep: a sink that sends it elsewhere need not copy it.
    fn connection_owned(&mut self, r: Box<ConnectionRecord>, cx: Context) -> io::Result<()> {
        self.connection(&r, &cx)
    }
}

/// What crosses to the rendering thread ([`Remote`]).
pub enum Rendered {
    Connection(Box<ConnectionRecord>, Context),
    Finish(Box<CaptureFacts>, TrackerStats),
}

/// Connections handed, in order and in batches, to a sink on another thread (`analyze`'s third
/// thread: rendering JSON or a table costs as much as reading and decoding).
pub struct Remote {
    tx: std::sync::mpsc::SyncSender<Vec<Rendered>>,
    batch: Vec<Rendered>,
}

/// Connections handed over at a time.
const RENDER_BATCH: usize = 64;

impl Remote {
    pub fn new(tx: std::sync::mpsc::SyncSender<Vec<Rendered>>) -> Remote {
        Remote {
            tx,
            batch: Vec::with_capacity(RENDER_BATCH),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(RENDER_BATCH));
        // Fails only once the rendering thread is gone, on its own error (which its caller returns).
        self.tx
            .send(batch)
            .map_err(|_| io::Error::other("rendering stopped"))
    }

    /// The other thread's side: renders every batch into `sink` until the end, and hands it back.
    pub fn render<S: Sink>(rx: std::sync::mpsc::Receiver<Vec<Rendered>>, mut sink: S) -> io::Result<S> {
        for batch in rx {
            for item in batch {
                match item {
                    Rendered::Connection(r, cx) => sink.connection(&r, &cx)?,
                    Rendered::Finish(facts, stats) => sink.finish(&facts, &stats)?,
                }
            }
        }
        Ok(sink)
    }
}

impl Sink for Remote {
    fn connection(&mut self, r: &ConnectionRecord, cx: &Context) -> io::Result<()> {
        self.connection_owned(Box::new(r.clone()), cx.clone())
    }

    fn connection_owned(&mut self, r: Box<ConnectionRecord>, cx: Context) -> io::Result<()> {
        self.batch.push(Rendered::Connection(r, cx));
        if self.batch.len() == RENDER_BATCH {
            self.send()?;
        }
        Ok(())
    }

    fn finish(&mut self, facts: &CaptureFacts, tracker: &TrackerStats) -> io::Result<()> {
        self.batch
            .push(Rendered::Finish(Box::new(facts.clone()), *tracker));
        self.send()
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
}
