//! Test-only helpers: a classic pcap reader and Zeek conn.log rows.
//!
//! The capture crate owns real capture reading; this is the minimum needed to pull frames out of the
//! shared test traces, and panics on anything unexpected because it only reads known files.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod build;

use packet::{Decoded, Decoder, DecoderConfig, LinkType};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// One frame through a fresh decoder (tunnels opened, fragments reassembled) at time 0.
pub fn decode(link: LinkType, frame: &[u8], orig_len: u32) -> Decoded {
    Decoder::default().decode(link, frame, orig_len, 0)
}

/// One frame through a fresh decoder that leaves tunnels closed and fragments alone (`--no-tunnels
/// --no-reassembly`): what the decoder did before it opened either.
pub fn decode_plain(link: LinkType, frame: &[u8], orig_len: u32) -> Decoded {
    Decoder::new(DecoderConfig {
        tunnels: packet::tunnel::TunnelConfig {
            decode: false,
            ..Default::default()
        },
        reassembly: None,
    })
    .decode(link, frame, orig_len, 0)
}

/// Where the shared traces live (read-only): `shared/` beside the repository (as CI lays it out),
/// else the development machine's `/work/shared`.
pub fn shared(rel: &str) -> PathBuf {
    let beside_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let root = if beside_repo.join("peers").is_dir() {
        beside_repo
    } else {
        PathBuf::from("/work/shared")
    };
    root.join(rel)
}

/// A classic pcap file: link type and every record as (captured bytes, original length).
pub struct Pcap {
    pub link: LinkType,
    pub frames: Vec<(Vec<u8>, u32)>,
}

/// Reads a classic pcap (either byte order, microsecond or nanosecond magic).
pub fn read_pcap(path: &Path) -> Pcap {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let magic: [u8; 4] = data[..4].try_into().unwrap();
    let big_endian = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => panic!("{}: not a classic pcap", path.display()),
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = data[at..at + 4].try_into().unwrap();
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let link = LinkType(u32_at(20) & 0x0FFF_FFFF);
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let incl = u32_at(at + 8) as usize;
        let orig = u32_at(at + 12);
        let start = at + 16;
        frames.push((data[start..start + incl].to_vec(), orig));
        at = start + incl;
    }
    assert_eq!(at, data.len(), "{}: trailing bytes", path.display());
    Pcap { link, frames }
}

/// The TCP rows of a Zeek conn.log: (originator, responder, packets, IP bytes).
pub struct ConnRow {
    pub orig: SocketAddr,
    pub resp: SocketAddr,
    pub pkts: u64,
    pub ip_bytes: u64,
}

pub fn read_conn_log(path: &Path) -> Vec<ConnRow> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[6] == "tcp")
        .map(|f| {
            let addr = |h: &str, p: &str| SocketAddr::new(h.parse::<IpAddr>().unwrap(), p.parse().unwrap());
            let n = |i: usize| f[i].parse::<u64>().unwrap();
            ConnRow {
                orig: addr(f[2], f[3]),
                resp: addr(f[4], f[5]),
                pkts: n(16) + n(18),
                ip_bytes: n(17) + n(19),
            }
        })
        .collect()
}

/// An unordered pair of endpoints: one key for both directions of a connection.
pub fn conn_key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}
