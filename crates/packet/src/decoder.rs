//! The decoder: one frame in, a TCP segment or the reason why not out, through link layers, IP,
//! tunnels (opened down to the packet they carry) and fragment reassembly.
//!
//! A plain frame takes the same path as before tunnels and fragments existed, and allocates nothing:
//! state is touched only when a frame is a fragment (the [`Reassembler`]) or comes through a tunnel
//! (the [`TunnelTable`] numbers it).

use crate::ip::{self, Network, Packet};
use crate::reassembly::{FragmentStats, Key, Limits, Piece, Reassembler};
use crate::tunnel::{self, Inner, TunnelConfig, TunnelId, TunnelTable};
use crate::{Decoded, LinkType, Process, Skip, Tunnels, ether, link, tcp};

/// Tunnels nested deeper than this in one frame are counted ([`Skip::TunnelTooDeep`]), not opened.
pub const MAX_TUNNEL_DEPTH: usize = 8;

/// How the decoder treats tunnels and fragments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecoderConfig {
    pub tunnels: TunnelConfig,
    /// Reassemble IP fragments (with these limits), or count them only.
    pub reassembly: Option<Limits>,
}

impl DecoderConfig {
    /// Tunnels opened, fragments reassembled with the default limits.
    #[must_use]
    pub fn full() -> DecoderConfig {
        DecoderConfig {
            tunnels: TunnelConfig::default(),
            reassembly: Some(Limits::default()),
        }
    }
}

/// Where the IP layer of one frame (or of one tunnel's inner packet) sits.
#[derive(Clone, Copy)]
struct Level<'a> {
    network: Network,
    bytes: &'a [u8],
    /// Its length on the wire (stands in for an IP length field of 0).
    wire_len: u32,
    /// The tunnel it came through (0: none) and every tunnel kind on the way.
    tunnel: u32,
    through: Tunnels,
    depth: usize,
}

/// Decodes frames; holds what decoding needs across frames. See the module documentation.
#[derive(Debug)]
pub struct Decoder {
    config: DecoderConfig,
    tunnels: TunnelTable,
    reassembler: Option<Reassembler>,
    /// The process the last decoded frame's PKTAP header named. Kept here rather than in every
    /// [`crate::Tcp`]: the decoder's result is copied on the hot path, and only PKTAP has one.
    process: Option<Process>,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new(DecoderConfig::full())
    }
}

impl Decoder {
    #[must_use]
    pub fn new(config: DecoderConfig) -> Decoder {
        Decoder {
            reassembler: config.reassembly.map(Reassembler::new),
            tunnels: TunnelTable::default(),
            process: None,
            config,
        }
    }

    /// The tunnels numbered so far ([`lifecycle::Segment::tunnel`] is a number in this table).
    #[must_use]
    pub fn tunnels(&self) -> &TunnelTable {
        &self.tunnels
    }

    /// The process that owned the socket of the last segment decoded, when its frame says (Apple
    /// PKTAP captures).
    #[must_use]
    pub fn process(&self) -> Option<Process> {
        self.process
    }

    /// Datagrams waiting for pieces, and the bytes held for them.
    #[must_use]
    pub fn fragments_held(&self) -> (usize, usize) {
        self.reassembler
            .as_ref()
            .map_or((0, 0), |r| (r.pending(), r.buffered()))
    }

    /// What became of fragmented datagrams.
    #[must_use]
    pub fn fragment_stats(&self) -> FragmentStats {
        self.reassembler
            .as_ref()
            .map(Reassembler::stats)
            .unwrap_or_default()
    }

    /// Decodes one frame of a capture whose link type is `link`, captured at `now` (nanoseconds:
    /// fragments wait for their datagram's other pieces that long, in capture time).
    ///
    /// `frame` is the captured bytes, `orig_len` the frame's length on the wire (the pcap record's
    /// original length). Lengths in the segment come from the IP header, so link padding is ignored
    /// and a payload cut by the snaplen is still counted ([`crate::Captured`]); `orig_len` is only
    /// consulted when an IP length field is 0 (captures of TSO/GSO super-packets, jumbograms).
    pub fn decode(&mut self, link: LinkType, frame: &[u8], orig_len: u32, now: u64) -> Decoded {
        let (network, packet) = link::network(link, frame)?;
        let link_len = frame.len().saturating_sub(packet.len());
        let wire_len = orig_len.saturating_sub(u32::try_from(link_len).unwrap_or(u32::MAX));
        if link == LinkType::PKTAP {
            self.process = link::pktap_process(frame);
        }
        // The result is returned as it is built, never moved: a copy of it on the hot path costs a
        // store-forwarding stall per frame (measured with `cargo bench -p packet`).
        ip::with_packet(network, packet, wire_len, |ip| {
            // The common case first, on the path plain captures always took: a whole TCP packet.
            if ip.fragment.is_none() && ip.protocol == ip::TCP {
                tcp::parse(ip)
            } else {
                let at = Level {
                    network,
                    bytes: packet,
                    wire_len,
                    tunnel: 0,
                    through: Tunnels::default(),
                    depth: 0,
                };
                self.parsed(ip, at, now)
            }
        })
    }

    /// One IP layer: TCP, a fragment, a tunnel to open (recursion bounded by
    /// [`MAX_TUNNEL_DEPTH`]), or something else.
    fn layer(&mut self, at: Level<'_>, now: u64) -> Decoded {
        let packet = ip::parse(at.network, at.bytes, at.wire_len)?;
        self.parsed(&packet, at, now)
    }

    /// [`Decoder::layer`] once its IP header is parsed.
    fn parsed(&mut self, packet: &Packet<'_>, at: Level<'_>, now: u64) -> Decoded {
        let packet = *packet;
        match packet.fragment {
            Some(fragment) if self.reassembler.is_some() && reassembles(fragment.next) => {
                let key = Key {
                    src: packet.src,
                    dst: packet.dst,
                    protocol: fragment.next,
                    id: fragment.id,
                    tunnel: at.tunnel,
                };
                let piece = Piece {
                    offset: fragment.offset,
                    len: fragment.data_len,
                    more: fragment.more,
                    bytes: fragment.data(at.bytes),
                    ipv6: at.network == Network::V6,
                };
                let whole = self
                    .reassembler
                    .as_mut()
                    .and_then(|r| r.add(key, piece, now))
                    .ok_or(Skip::Fragment)?;
                let (protocol, header) = match at.network {
                    Network::V4 => (fragment.next, 0),
                    Network::V6 => {
                        let chain = ip::ext_chain(&whole.bytes, fragment.next, 0, whole.len)?;
                        if chain.fragment.is_some() {
                            return Err(Skip::Fragment); // Fragments within fragments: dropped.
                        }
                        (chain.protocol, chain.header)
                    }
                };
                // The headers before the piece, less the IPv6 Fragment header, which the
                // reassembled datagram no longer has (RFC 8200 §4.5).
                let unfragmentable = match at.network {
                    Network::V4 => packet.ip_len - fragment.data_len,
                    Network::V6 => (packet.ip_len - fragment.data_len).saturating_sub(8),
                };
                let inner = Packet {
                    protocol,
                    fragment: None,
                    ip_len: unfragmentable + whole.len,
                    transport_len: whole.len - header,
                    transport: whole.bytes.get(header as usize..).unwrap_or_default(),
                    ..packet
                };
                let mut tcp = self.transport(&inner, at, now)?;
                tcp.reassembled = true;
                Ok(tcp)
            }
            // Not reassembled: a piece of TCP is counted as a fragment; a piece of anything else
            // (a tunnel among them, which cannot be opened from one piece) by its protocol.
            Some(_) if packet.protocol == ip::TCP => Err(Skip::Fragment),
            Some(_) => Err(tunnel::classify(&packet, &self.config.tunnels)),
            None => self.transport(&packet, at, now),
        }
    }

    /// What a whole IP packet carries: TCP, or a tunnel to open, or something else.
    fn transport(&mut self, packet: &Packet<'_>, at: Level<'_>, now: u64) -> Decoded {
        if packet.protocol == ip::TCP {
            let mut tcp = tcp::parse(packet)?;
            tcp.segment.tunnel = at.tunnel;
            tcp.tunnels = at.through;
            return Ok(tcp);
        }
        let opened = tunnel::open(packet, &self.config.tunnels)?;
        if at.depth >= MAX_TUNNEL_DEPTH {
            return Err(Skip::TunnelTooDeep);
        }
        let tunnel = self.tunnels.number(TunnelId {
            tunnel: opened.tunnel,
            id: opened.id,
            src: packet.src,
            dst: packet.dst,
            parent: at.tunnel,
        });
        let (network, bytes) = match opened.inner {
            Inner::Ip(network, bytes) => (network, bytes),
            Inner::Ethernet(frame) => link::ethernet(frame)?,
            Inner::Ethertype(ethertype, rest) => ether::chain(ethertype, rest)?,
            Inner::Ppp(frame) => link::ppp(frame)?,
        };
        let consumed = packet.transport.len().saturating_sub(bytes.len());
        let wire_len = packet
            .transport_len
            .saturating_sub(u32::try_from(consumed).unwrap_or(u32::MAX));
        self.layer(
            Level {
                network,
                bytes,
                wire_len,
                tunnel,
                through: at.through.with(opened.tunnel),
                depth: at.depth + 1,
            },
            now,
        )
    }
}

/// Protocols whose fragments are worth reassembling: TCP, what may be a tunnel carrying it (IP in
/// IP, UDP, GRE, EtherIP), and IPv6 extension headers that may stand before either (hop-by-hop,
/// routing, authentication, destination options).
fn reassembles(protocol: u8) -> bool {
    matches!(protocol, ip::TCP | 4 | 17 | 41 | 47 | 97 | 0 | 43 | 51 | 60)
}
