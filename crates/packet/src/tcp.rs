//! The TCP header (RFC 9293 §3.1) and the options the lifecycle needs (RFC 9293 §3.2, RFC 7323,
//! RFC 2018).
//!
//! The checksum is not verified: captures on the sending host (and every capture on loopback) see
//! segments before the NIC fills the checksum in (checksum offload), so a "bad" checksum there is
//! the norm, not a sign of corruption.

use crate::bytes::{array, be16, be32};
use crate::ip::Packet;
use crate::{Captured, Layer, Malformed, Skip, Tcp, Tunnels};
use lifecycle::{Flags, Segment, Seq, TcpOptions};
use std::net::SocketAddr;

/// Size of the TCP header without options.
const FIXED_HEADER: u32 = 20;

/// Option kinds (IANA "TCP Option Kind Numbers").
const END_OF_OPTIONS: u8 = 0;
const NO_OPERATION: u8 = 1;
const MSS: u8 = 2;
const WINDOW_SCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const TIMESTAMPS: u8 = 8;

/// Decodes the TCP header that `packet` carries.
#[inline(always)]
pub(crate) fn parse(packet: &Packet<'_>) -> Result<Tcp, Skip> {
    let beyond_ip = |tcp_header| {
        Skip::Malformed(Malformed::TcpBeyondIp {
            ip_payload: packet.transport_len,
            tcp_header,
        })
    };
    if packet.transport_len < FIXED_HEADER {
        return Err(beyond_ip(FIXED_HEADER));
    }
    let h = array::<20>(packet.transport, 0).ok_or(Skip::Truncated(Layer::Tcp))?;
    let data_offset = h[12] >> 4;
    if data_offset < 5 {
        return Err(Skip::Malformed(Malformed::TcpDataOffset(data_offset)));
    }
    let header_len = u32::from(data_offset) * 4;
    if header_len > packet.transport_len {
        return Err(beyond_ip(header_len));
    }
    let (options, captured) = match packet.transport.get(20..header_len as usize) {
        Some(options) if packet.transport.len() == packet.transport_len as usize => {
            (options, Captured::Whole)
        }
        Some(options) => (options, Captured::PayloadCut),
        None => (
            packet.transport.get(20..).unwrap_or_default(),
            Captured::OptionsCut,
        ),
    };
    let segment = Segment {
        src: SocketAddr::new(packet.src, u16::from_be_bytes([h[0], h[1]])),
        dst: SocketAddr::new(packet.dst, u16::from_be_bytes([h[2], h[3]])),
        seq: Seq(u32::from_be_bytes([h[4], h[5], h[6], h[7]])),
        ack: Seq(u32::from_be_bytes([h[8], h[9], h[10], h[11]])),
        flags: Flags(h[13]),
        window: u16::from_be_bytes([h[14], h[15]]),
        payload_len: packet.transport_len - header_len,
        ip_len: packet.ip_len,
        options: parse_options(options),
        tunnel: 0,
        ttl: packet.ttl,
        ip_id: packet.ip_id,
    };
    Ok(Tcp {
        segment,
        captured,
        tunnels: Tunnels::default(),
        reassembled: false,
    })
}

/// Reads the options the lifecycle uses. Each is taken only with its specified length; an option
/// that runs past the captured header (or a length below 2) ends the parse, keeping what was read,
/// as a receiver would not trust the rest either.
#[inline(always)]
fn parse_options(mut b: &[u8]) -> TcpOptions {
    let mut options = TcpOptions::default();
    while let Some((&kind, rest)) = b.split_first() {
        let len = match kind {
            END_OF_OPTIONS => break,
            NO_OPERATION => 1,
            _ => match rest.first() {
                Some(&len) if len >= 2 && usize::from(len) <= b.len() => usize::from(len),
                _ => break,
            },
        };
        match (kind, len) {
            (MSS, 4) => options.mss = be16(b, 2),
            (WINDOW_SCALE, 3) => options.window_scale = b.get(2).copied(),
            (SACK_PERMITTED, 2) => options.sack_permitted = true,
            (TIMESTAMPS, 10) => options.timestamps = be32(b, 2).zip(be32(b, 6)),
            _ => {}
        }
        b = b.get(len..).unwrap_or_default();
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_with_their_specified_lengths_only() {
        // MSS with a wrong length is ignored; the parse goes on.
        let o = parse_options(&[2, 3, 5, 1, 4, 2, 3, 3, 9]);
        assert_eq!(o.mss, None);
        assert!(o.sack_permitted);
        assert_eq!(o.window_scale, Some(9));
    }

    #[test]
    fn end_of_options_and_bad_lengths_stop_the_parse() {
        assert_eq!(parse_options(&[0, 4, 2]), TcpOptions::default());
        // Length below 2 would loop forever.
        assert_eq!(parse_options(&[1, 99, 1, 4, 2]), TcpOptions::default());
        // Past the end of the header.
        assert_eq!(parse_options(&[4, 2, 2, 4, 5]).mss, None);
        assert!(parse_options(&[4, 2, 2, 4, 5]).sack_permitted);
        // A trailing kind with no length byte.
        assert_eq!(parse_options(&[1, 1, 8]), TcpOptions::default());
    }

    #[test]
    fn timestamps() {
        let o = parse_options(&[1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 0, 2]);
        assert_eq!(o.timestamps, Some((256, 2)));
    }
}
