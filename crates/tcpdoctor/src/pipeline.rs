//! The per-frame path shared by `analyze` (files) and `capture` (live), in two halves: the [`Front`]
//! decodes and filters frames into segments, the [`Back`] tracks them and renders each connection as it
//! ends. [`Pipeline`] runs both on one thread (the capture's `read` calls run on another:
//! [`capture::Prefetch`]).
//!
//! Memory grows with the connections open at once, not with the input: ended connections go straight
//! to the sink, and the summary keeps counts and a few examples.

use crate::filter::Filter;
use crate::output::Sink;
use capture::Frame;
use lifecycle::Segment;
use lifecycle::connection::Connection;
use lifecycle::correlate::KernelLog;
use lifecycle::kernel_event::KernelEvent;
use lifecycle::{Config, Event, Timestamp, Tracker, WatchOptions};
use packet::{DecodeStats, Decoder, DecoderConfig, LinkType, Process, Tunnel};
use report::{CaptureFacts, Context};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::SocketAddr;

/// A connection's 4-tuple (endpoints in a fixed order) and tunnel, as the tracker keys it.
type FlowKey = (SocketAddr, SocketAddr, u32);

fn flow_key(a: SocketAddr, b: SocketAddr, tunnel: u32) -> FlowKey {
    if a <= b { (a, b, tunnel) } else { (b, a, tunnel) }
}

/// One segment on its way from the front half to the back half, with what the capture said of it.
#[derive(Clone, Copy, Debug)]
pub struct Seg<'a> {
    pub now: Timestamp,
    pub segment: &'a Segment,
    /// The process a PKTAP capture named for it.
    pub process: Option<Process>,
    /// The name of the segment's tunnel, given once, with the tunnel's first segment.
    pub tunnel_name: Option<&'a str>,
}

/// Frames in, segments out: decoding, the capture's facts, the filter.
pub struct Front {
    decoder: Decoder,
    filter: Filter,
    stats: DecodeStats,
    links: BTreeMap<u32, u64>,
    /// The link type of the current run of frames and its length (link types rarely change).
    link: (u32, u64),
    /// Tunnels whose name went to the back half already.
    named: HashSet<u32>,
    pub facts: CaptureFacts,
}

impl Front {
    pub fn new(decoder: DecoderConfig, filter: Filter, max_connections: usize) -> Front {
        Front {
            decoder: Decoder::new(decoder),
            filter,
            stats: DecodeStats::default(),
            links: BTreeMap::new(),
            link: (u32::MAX, 0),
            named: HashSet::new(),
            facts: CaptureFacts {
                max_connections,
                ..CaptureFacts::default()
            },
        }
    }

    /// One captured frame: its TCP segment, if it has one the filter passes, goes to `deliver` (by
    /// reference: nothing is copied).
    pub fn frame(
        &mut self,
        frame: &Frame<'_>,
        deliver: impl FnOnce(Seg<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
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
        let tunnel = tcp.segment.tunnel;
        let tunnel_name = if tunnel != 0 && self.named.insert(tunnel) {
            self.decoder.tunnels().describe(tunnel)
        } else {
            None
        };
        deliver(Seg {
            now: Timestamp(frame.ts),
            segment: &tcp.segment,
            process: self.decoder.process(),
            tunnel_name: tunnel_name.as_deref(),
        })
    }

    fn flush_link(&mut self) {
        if self.link.1 > 0 {
            *self.links.entry(self.link.0).or_default() += self.link.1;
        }
    }

    /// The capture's facts once every frame is read.
    pub fn into_facts(mut self) -> CaptureFacts {
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
        facts
    }
}

/// Segments in, rendered connections out: the tracker, what the capture and the kernel add to each
/// connection, the sink.
pub struct Back<S: Sink> {
    tracker: Tracker,
    /// The process a capture named for each open connection (Apple PKTAP only: empty otherwise),
    /// until the connection ends.
    processes: HashMap<FlowKey, Process>,
    tunnel_names: HashMap<u32, String>,
    /// The kernel's events, kept until their connection ends (`capture --trace`; `None` otherwise).
    kernel: Option<KernelLog>,
    next_timeout: Timestamp,
    sink: S,
}

impl<S: Sink> Back<S> {
    /// The tracker keeps Zeek's view only if `sink` prints it.
    pub fn new(config: Config, sink: S) -> Back<S> {
        Back {
            tracker: Tracker::new(Config {
                zeek_view: sink.zeek_view(),
                ..config
            }),
            processes: HashMap::new(),
            tunnel_names: HashMap::new(),
            kernel: None,
            next_timeout: Timestamp(0),
            sink,
        }
    }

    /// One segment, in capture order.
    pub fn segment(&mut self, seg: Seg<'_>) -> io::Result<()> {
        let Seg {
            now,
            segment,
            process,
            tunnel_name,
        } = seg;
        if let Some(name) = tunnel_name {
            self.tunnel_names.insert(segment.tunnel, name.to_string());
        }
        if now >= self.next_timeout {
            self.tracker.handle_timeout(now);
        }
        self.tracker.handle_segment(now, segment);
        if let Some(p) = process {
            self.processes
                .insert(flow_key(segment.src, segment.dst, segment.tunnel), p);
        }
        self.next_timeout = self.tracker.poll_timeout().unwrap_or(Timestamp(u64::MAX));
        self.drain()
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

    fn drain(&mut self) -> io::Result<()> {
        while let Some(Event::Ended(r)) = self.tracker.poll_event() {
            let cx = Context {
                tunnel: match r.tunnel {
                    0 => None,
                    n => self.tunnel_names.get(&n).cloned(),
                },
                // Empty but for PKTAP captures: not even hashed then (a flood ends a million records).
                process: if self.processes.is_empty() {
                    None
                } else {
                    self.processes
                        .remove(&flow_key(r.client, r.server, r.tunnel))
                        .map(|p| p.to_string())
                },
                kernel: self.kernel.as_mut().map(|k| k.join(&r)),
            };
            self.sink.connection(&r, &cx)?;
        }
        Ok(())
    }

    /// The evidence ended: every connection still open is reported as it stands, then the facts. The
    /// sink is handed back, with what it gathered.
    pub fn finish(mut self, mut facts: CaptureFacts) -> io::Result<S> {
        self.tracker.finish();
        self.drain()?;
        let ts = self.tracker.stats();
        facts.evicted = ts.evicted;
        facts.peak_tracked = ts.peak_tracked;
        facts.port_reuses = ts.port_reuses;
        self.sink.finish(&facts, &ts)?;
        Ok(self.sink)
    }
}

/// Both halves on one thread: frames in, rendered connections out.
pub struct Pipeline<S: Sink> {
    pub front: Front,
    pub back: Back<S>,
}

impl<S: Sink> Pipeline<S> {
    pub fn new(decoder: DecoderConfig, config: Config, filter: Filter, sink: S) -> Pipeline<S> {
        Pipeline {
            front: Front::new(decoder, filter, config.max_connections),
            back: Back::new(config, sink),
        }
    }

    /// Records every segment of the connections `select` matches ([`Tracker::watch`]): their records
    /// reach the sink with their steps.
    pub fn watch(&mut self, select: impl FnMut(&Connection) -> bool + Send + 'static, options: WatchOptions) {
        self.back.tracker.watch(select, options);
    }

    /// One captured frame.
    pub fn frame(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        let back = &mut self.back;
        self.front.frame(frame, |seg| back.segment(seg))
    }

    /// Kernel events from the tracepoints, to be joined to each connection as it ends
    /// (`capture --trace`).
    pub fn kernel_events(&mut self, events: impl IntoIterator<Item = KernelEvent>) {
        let log = self.back.kernel.get_or_insert_with(KernelLog::default);
        for e in events {
            log.push(e);
        }
    }

    /// Time passed with no frame (live capture).
    pub fn tick(&mut self, now: Timestamp) -> io::Result<()> {
        self.back.tick(now)
    }

    /// The evidence ended ([`Back::finish`]).
    pub fn finish(self) -> io::Result<S> {
        self.back.finish(self.front.into_facts())
    }
}
