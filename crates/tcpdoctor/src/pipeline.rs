//! The per-frame path shared by `analyze` (files) and `capture` (live): decode, filter, track, render.
//!
//! Memory grows with the connections open at once, not with the input: ended connections go straight
//! to the sink, and the summary keeps counts and a few examples.

use crate::filter::Filter;
use crate::output::Sink;
use capture::Frame;
use lifecycle::connection::Connection;
use lifecycle::correlate::KernelLog;
use lifecycle::kernel_event::KernelEvent;
use lifecycle::{Config, Event, Timestamp, Tracker, WatchOptions};
use packet::{DecodeStats, Decoder, DecoderConfig, LinkType, Process, Tunnel};
use report::{CaptureFacts, Context};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;

/// A connection's 4-tuple (endpoints in a fixed order) and tunnel, as the tracker keys it.
type FlowKey = (SocketAddr, SocketAddr, u32);

fn flow_key(a: SocketAddr, b: SocketAddr, tunnel: u32) -> FlowKey {
    if a <= b { (a, b, tunnel) } else { (b, a, tunnel) }
}

/// Frames in, rendered connections out.
pub struct Pipeline<S: Sink> {
    decoder: Decoder,
    tracker: Tracker,
    /// The process a capture named for each open connection (Apple PKTAP only: empty otherwise),
    /// until the connection ends.
    processes: HashMap<FlowKey, Process>,
    sink: S,
    filter: Filter,
    stats: DecodeStats,
    links: BTreeMap<u32, u64>,
    /// The link type of the current run of frames and its length (link types rarely change).
    link: (u32, u64),
    next_timeout: Timestamp,
    /// The kernel's events, kept until their connection ends (`capture --trace`; `None` otherwise).
    kernel: Option<KernelLog>,
    pub facts: CaptureFacts,
}

impl<S: Sink> Pipeline<S> {
    pub fn new(decoder: DecoderConfig, config: Config, filter: Filter, sink: S) -> Pipeline<S> {
        Pipeline {
            decoder: Decoder::new(decoder),
            tracker: Tracker::new(config),
            processes: HashMap::new(),
            sink,
            filter,
            stats: DecodeStats::default(),
            links: BTreeMap::new(),
            link: (u32::MAX, 0),
            next_timeout: Timestamp(0),
            kernel: None,
            facts: CaptureFacts {
                max_connections: config.max_connections,
                ..CaptureFacts::default()
            },
        }
    }

    /// Records every segment of the connections `select` matches ([`Tracker::watch`]): their records
    /// reach the sink with their steps.
    pub fn watch(&mut self, select: impl FnMut(&Connection) -> bool + Send + 'static, options: WatchOptions) {
        self.tracker.watch(select, options);
    }

    /// One captured frame.
    pub fn frame(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        self.facts.frames += 1;
        if frame.link_type != self.link.0 {
            self.flush_link();
            self.link = (frame.link_type, 0);
        }
        self.link.1 += 1;
        self.facts.bytes += u64::from(frame.orig_len);
        self.facts.first = Some(self.facts.first.map_or(frame.ts, |f| f.min(frame.ts)));
        self.facts.last = Some(self.facts.last.map_or(frame.ts, |l| l.max(frame.ts)));
        let decoded = self
            .decoder
            .decode(LinkType(frame.link_type), frame.data, frame.orig_len, frame.ts);
        self.stats.record(&decoded);
        let Ok(tcp) = &decoded else { return Ok(()) };
        if !self.filter.is_empty() && !self.filter.matches(&tcp.segment) {
            return Ok(());
        }
        let now = Timestamp(frame.ts);
        if now >= self.next_timeout {
            self.tracker.handle_timeout(now);
        }
        self.tracker.handle_segment(now, &tcp.segment);
        if let Some(p) = self.decoder.process() {
            let seg = &tcp.segment;
            self.processes.insert(flow_key(seg.src, seg.dst, seg.tunnel), p);
        }
        self.next_timeout = self.tracker.poll_timeout().unwrap_or(Timestamp(u64::MAX));
        self.drain()
    }

    /// Kernel events from the tracepoints, to be joined to each connection as it ends
    /// (`capture --trace`).
    pub fn kernel_events(&mut self, events: impl IntoIterator<Item = KernelEvent>) {
        let log = self.kernel.get_or_insert_with(KernelLog::default);
        for e in events {
            log.push(e);
        }
    }

    /// Time passed with no frame (live capture): TIME-WAIT and idle expiry still happen.
    pub fn tick(&mut self, now: Timestamp) -> io::Result<()> {
        if now >= self.next_timeout {
            self.tracker.handle_timeout(now);
            self.next_timeout = self.tracker.poll_timeout().unwrap_or(Timestamp(u64::MAX));
            self.drain()?;
        }
        Ok(())
    }

    fn flush_link(&mut self) {
        if self.link.1 > 0 {
            *self.links.entry(self.link.0).or_default() += self.link.1;
        }
    }

    fn drain(&mut self) -> io::Result<()> {
        while let Some(Event::Ended(r)) = self.tracker.poll_event() {
            let cx = Context {
                tunnel: match r.tunnel {
                    0 => None,
                    n => self.decoder.tunnels().describe(n),
                },
                process: self
                    .processes
                    .remove(&flow_key(r.client, r.server, r.tunnel))
                    .map(|p| p.to_string()),
                kernel: self.kernel.as_mut().map(|k| k.join(&r)),
            };
            self.sink.connection(&r, &cx)?;
        }
        Ok(())
    }

    /// The evidence ended: every connection still open is reported as it stands, then the facts. The
    /// sink is handed back, with what it gathered.
    pub fn finish(mut self) -> io::Result<S> {
        self.tracker.finish();
        self.drain()?;
        self.flush_link();
        let s = self.stats;
        let mut facts = self.facts;
        facts.tcp_segments = s.tcp;
        facts.skipped = vec![
            ("not IP".into(), s.not_ip),
            ("not TCP".into(), s.not_tcp),
            ("IP fragments (held for reassembly)".into(), s.fragment),
            ("tunnels (not decoded)".into(), s.tunnel),
            ("tunnels nested too deep".into(), s.tunnel_too_deep),
            ("truncated headers".into(), s.truncated),
            ("malformed".into(), s.malformed),
            ("unsupported link type".into(), s.unsupported_link),
        ];
        if s.payload_truncated > 0 {
            facts.skipped.push((
                "(TCP segments with payload cut by the snaplen)".into(),
                s.payload_truncated,
            ));
        }
        facts.tunnels = Tunnel::ALL
            .into_iter()
            .map(|t| (t.to_string(), s.through(t)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let f = self.decoder.fragment_stats();
        facts.fragments = report::FragmentFacts {
            reassembled: f.reassembled,
            segments: s.reassembled,
            overlaps: f.overlaps,
            timeouts: f.timeouts,
            evicted: f.evicted,
            malformed: f.malformed,
        };
        facts.tunnels_overflow = self.decoder.tunnels().overflow;
        facts.link_types = self
            .links
            .into_iter()
            .map(|(l, n)| {
                (
                    LinkType(l)
                        .name()
                        .map_or_else(|| format!("LINKTYPE {l}"), str::to_string),
                    n,
                )
            })
            .collect();
        let ts = self.tracker.stats();
        facts.evicted = ts.evicted;
        facts.peak_tracked = ts.peak_tracked;
        facts.port_reuses = ts.port_reuses;
        self.sink.finish(&facts, &ts)?;
        Ok(self.sink)
    }
}
