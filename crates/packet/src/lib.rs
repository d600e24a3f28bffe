//! Decodes one captured frame into a [`lifecycle::Segment`], or says precisely why not.
//!
//! This is the hot path of `tcpdoctor analyze`: [`Decoder::decode`] borrows the frame, copies nothing
//! it does not return and allocates nothing, except to hold IP fragments until their datagram is
//! whole and to number tunnels. Every read is bounds-checked (`bytes`), so no input panics.
//!
//! Layers, in order:
//! - link (`link`): Ethernet, Linux SLL/SLL2, raw IP, BSD loopback (NULL, LOOP), PPP, Cisco HDLC,
//!   Linux NFLOG, Apple PKTAP;
//! - link encapsulations (`ether`): IEEE 802.1Q/802.1ad VLAN stacks, 802.1ah PBB, 802.1BR E-Tag,
//!   MPLS (RFC 3032), PPPoE sessions (RFC 2516, with PPP protocol-field compression), Cisco VN-Tag
//!   and FabricPath;
//! - IP (`ip`): IPv4 with options (RFC 791), IPv6 with extension headers (RFC 8200 §4), fragments
//!   reassembled (`reassembly`);
//! - tunnels (`tunnel`), opened down to the packet they carry, up to [`MAX_TUNNEL_DEPTH`] deep:
//!   VXLAN, Geneve, GRE, ERSPAN I/II/III, IP in IP (4in4, 6in4, 4in6, 6in6), EtherIP, Teredo,
//!   GTP-U, PPTP;
//! - TCP (`tcp`, RFC 9293 §3.1), checksum not verified (captures on the sender see offloaded,
//!   unfilled checksums);
//! - everything else is counted apart ([`Skip`], [`DecodeStats`]): other protocols, fragments
//!   waiting for their datagram, truncated and malformed headers.
//!
//! Parsing is hand-written rather than built on a header-slicing crate: the decoder reads a dozen
//! fixed-offset fields, and the encapsulations and outcome categories it needs are its own anyway.
//! Measured (before tunnels) on `corpus/mix.pcap` (Ethernet, 7576 frames, release build, shared 2-core machine, so
//! noisy): 80–150 ns per frame for decoding, against 150–170 ns for `etherparse` 0.19
//! `SlicedPacket::from_ethernet` plus the same field extraction.
#![forbid(unsafe_code)]

mod bytes;
mod decoder;
mod ether;
#[doc(hidden)]
pub mod fuzzing;
mod ip;
mod link;
mod outcome;
pub mod reassembly;
mod stats;
mod tcp;
pub mod tunnel;

pub use decoder::{Decoder, DecoderConfig, MAX_TUNNEL_DEPTH};
pub use link::LinkType;
pub use outcome::{Captured, Decoded, Layer, Malformed, Process, Skip, Tcp, Tunnel, Tunnels};
pub use stats::DecodeStats;
