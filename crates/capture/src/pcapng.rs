//! pcapng files (draft-ietf-opsawg-pcapng): a sequence of blocks, grouped in sections that each start
//! with a Section Header Block fixing that section's byte order and resetting its interfaces.

use crate::decode::{Endian, Incomplete, MAX_BLOCK, Record, Unit, bytes};
use crate::error::Problem;

/// Block type of the Section Header Block: the same in both byte orders, so it is also the magic.
pub(crate) const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

const BT_IDB: u32 = 0x0000_0001;
const BT_PB: u32 = 0x0000_0002;
const BT_SPB: u32 = 0x0000_0003;
const BT_EPB: u32 = 0x0000_0006;
const BT_SHB: u32 = 0x0a0d_0d0a;

/// Block type, block total length ... block total length (§3.1).
const BLOCK_OVERHEAD: usize = 12;
/// Smallest SHB: overhead + byte-order magic, versions, section length (§4.1).
const SHB_MIN: usize = BLOCK_OVERHEAD + 16;
/// Interface ID, timestamp (2 words), captured length, original length: EPB (§4.3) and, with a
/// 16-bit interface ID and drop count in the first word, the obsolete PB (Appendix A).
const EPB_FIXED: usize = 20;

const OPT_ENDOFOPT: u16 = 0;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

/// Interfaces kept per section. Real captures have a handful; without a cap a file made only of IDBs
/// would grow memory with its size.
const MAX_INTERFACES: usize = 65_536;

/// Decoder state for one pcapng file: the current section's byte order and interfaces.
#[derive(Debug)]
pub(crate) struct Decoder {
    endian: Endian,
    interfaces: Vec<Interface>,
    /// Timestamp of the latest packet with one, given to Simple Packet Blocks, which have none.
    last_ts: u64,
}

/// What an Interface Description Block (§4.2) says that packets need.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    /// 0 means no limit.
    snaplen: u32,
    clock: Clock,
}

/// How an interface's timestamps become nanoseconds: `if_tsresol` and `if_tsoffset` (§4.2).
#[derive(Debug, Clone, Copy)]
struct Clock {
    scale: Scale,
    /// Seconds added to every timestamp (signed: draft-ietf-opsawg-pcapng §4.2, `if_tsoffset`).
    offset_secs: i64,
}

#[derive(Debug, Clone, Copy)]
enum Scale {
    /// Units are 10^-k s with k <= 9: multiply by 10^(9-k).
    Mul(u64),
    /// Units are 10^-k s with k > 9: divide by 10^(k-9) (saturated: beyond u128 the result is 0).
    Div(u128),
    /// Units are 2^-k s.
    Pow2(u32),
}

impl Clock {
    const MICROS: Clock = Clock {
        scale: Scale::Mul(1000),
        offset_secs: 0,
    };

    /// `if_tsresol`: "If the Most Significant Bit is equal to zero, the remaining bits indicate the
    /// resolution of the timestamp as a negative power of 10 [...] If the Most Significant Bit is
    /// equal to one, [...] as negative power of 2" (§4.2).
    fn resolution(v: u8) -> Scale {
        let k = u32::from(v & 0x7f);
        if v & 0x80 != 0 {
            Scale::Pow2(k)
        } else if k <= 9 {
            Scale::Mul(10u64.pow(9 - k))
        } else {
            Scale::Div(10u128.checked_pow(k - 9).unwrap_or(u128::MAX))
        }
    }

    /// Nanoseconds since the epoch, clamped to the u64 range. All intermediate values fit an i128:
    /// units < 2^64, factors < 2^30, offset * 10^9 < 2^93.
    #[inline]
    fn to_ns(self, units: u64) -> u64 {
        let units = u128::from(units);
        let ns = match self.scale {
            Scale::Mul(m) => units * u128::from(m),
            Scale::Div(d) => units / d,
            Scale::Pow2(k) => (units * 1_000_000_000) >> k,
        };
        let ns = ns as i128 + i128::from(self.offset_secs) * 1_000_000_000;
        ns.clamp(0, i128::from(u64::MAX)) as u64
    }
}

fn block_name(block_type: u32) -> &'static str {
    match block_type {
        BT_SHB => "section header block",
        BT_IDB => "interface description block",
        BT_EPB => "enhanced packet block",
        BT_SPB => "simple packet block",
        BT_PB => "packet block",
        _ => "block",
    }
}

impl Decoder {
    pub(crate) fn new() -> Decoder {
        Decoder {
            endian: Endian::Little,
            interfaces: Vec::new(),
            last_ts: 0,
        }
    }

    /// One block (general structure: §3.1). Every block is checked for a sane total length and a
    /// matching trailing copy of it before its body is looked at; unknown types (NRB, ISB, DSB,
    /// custom, ...) are skipped by that length.
    pub(crate) fn decode(&mut self, buf: &[u8], offset: u64) -> Result<Unit, Problem> {
        let Some(head) = buf.first_chunk::<BLOCK_OVERHEAD>() else {
            return Ok(Unit::Incomplete(Incomplete {
                what: "block header",
                needed: BLOCK_OVERHEAD,
                from_header: false,
                uncounted: 0,
            }));
        };
        if head == &[0; BLOCK_OVERHEAD] {
            // Block type 0 is reserved and a length of 0 impossible: a zero-filled region (a
            // preallocated, sparse or never-flushed file), named as such (as pcap's reader does).
            return Err(Problem::damaged(
                "block",
                offset,
                "the block header is all zeros: a zero-filled region (preallocated or never written)".into(),
            ));
        }
        let is_shb = head[..4] == SHB_MAGIC;
        let endian = if is_shb {
            // §4.1: the byte-order magic, read in the writer's order, is 0x1A2B3C4D.
            let bom = [head[8], head[9], head[10], head[11]];
            if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
                Endian::Little
            } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
                Endian::Big
            } else {
                return Err(Problem::damaged(
                    "section header block",
                    offset,
                    format!(
                        "byte-order magic 0x{:08x} is neither 0x1a2b3c4d nor its byte swap",
                        u32::from_be_bytes(bom)
                    ),
                ));
            }
        } else {
            self.endian
        };
        let block_type = endian.u32([head[0], head[1], head[2], head[3]]);
        let what = block_name(block_type);
        let len = endian.u32([head[4], head[5], head[6], head[7]]) as usize;
        let min = if is_shb { SHB_MIN } else { BLOCK_OVERHEAD };
        if len < min || len % 4 != 0 || len > MAX_BLOCK {
            return Err(Problem::damaged(
                what,
                offset,
                format!("block total length {len} is not a multiple of 4 between {min} and {MAX_BLOCK}"),
            ));
        }
        let Some(block) = buf.get(..len) else {
            return Ok(Unit::Incomplete(Incomplete {
                what,
                needed: len,
                from_header: true,
                uncounted: 0,
            }));
        };
        let trailer = bytes::<4>(block, len - 4).map_or(0, |b| endian.u32(b)) as usize;
        if trailer != len {
            return Err(Problem::damaged(
                what,
                offset,
                format!("trailing block total length {trailer} differs from leading {len}"),
            ));
        }
        let body = &block[8..len - 4];
        match block_type {
            BT_SHB => self.section(endian, body, offset).map(|()| Unit::Skip(len)),
            BT_IDB => self.interface(body, offset).map(|()| Unit::Skip(len)),
            BT_EPB | BT_PB => self.packet(block_type, body, offset, len).map(Unit::Frame),
            BT_SPB => self.simple_packet(body, offset, len).map(Unit::Frame),
            _ => Ok(Unit::Skip(len)),
        }
    }

    /// Section Header Block (§4.1): a new byte order and no interfaces yet. Only major version 1 is
    /// defined; another means the section's blocks cannot be read.
    fn section(&mut self, endian: Endian, body: &[u8], offset: u64) -> Result<(), Problem> {
        let major = bytes::<2>(body, 4).map_or(0, |b| endian.u16(b));
        let minor = bytes::<2>(body, 6).map_or(0, |b| endian.u16(b));
        if major != 1 {
            return Err(Problem::damaged(
                "section header block",
                offset,
                format!("unsupported pcapng version {major}.{minor} (expected 1.x)"),
            ));
        }
        self.endian = endian;
        self.interfaces.clear();
        Ok(())
    }

    /// Interface Description Block (§4.2): link type, snaplen, and the options (§3.5) that set the
    /// timestamp clock. Options other than `if_tsresol` and `if_tsoffset` are not needed.
    fn interface(&mut self, body: &[u8], offset: u64) -> Result<(), Problem> {
        let damaged = |detail: String| Problem::damaged("interface description block", offset, detail);
        let e = self.endian;
        let (Some(lt), Some(snap)) = (bytes::<2>(body, 0), bytes::<4>(body, 4)) else {
            return Err(damaged(format!("body of {} bytes, 8 needed", body.len())));
        };
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(damaged(format!(
                "more than {MAX_INTERFACES} interfaces in one section"
            )));
        }
        let mut clock = Clock::MICROS;
        let mut at = 8;
        while let (Some(code), Some(olen)) = (bytes::<2>(body, at), bytes::<2>(body, at + 2)) {
            let (code, olen) = (e.u16(code), usize::from(e.u16(olen)));
            if code == OPT_ENDOFOPT {
                break;
            }
            let Some(value) = body.get(at + 4..at + 4 + olen) else {
                return Err(damaged(format!(
                    "option {code} of {olen} bytes overruns the block"
                )));
            };
            match (code, value) {
                (IF_TSRESOL, [v, ..]) => clock.scale = Clock::resolution(*v),
                (IF_TSOFFSET, v) => {
                    if let Some(v) = bytes::<8>(v, 0) {
                        clock.offset_secs = e.i64(v);
                    }
                }
                _ => {}
            }
            at += 4 + olen.next_multiple_of(4);
        }
        self.interfaces.push(Interface {
            link_type: u32::from(e.u16(lt)),
            snaplen: e.u32(snap),
            clock,
        });
        Ok(())
    }

    fn lookup(&self, id: u32, what: &'static str, offset: u64) -> Result<Interface, Problem> {
        self.interfaces.get(id as usize).copied().ok_or_else(|| {
            Problem::damaged(
                what,
                offset,
                format!(
                    "packet for interface {id}, but this section has described {} interface(s)",
                    self.interfaces.len()
                ),
            )
        })
    }

    /// Enhanced Packet Block (§4.3) or the obsolete Packet Block (Appendix A), which differ only in
    /// the first word (PB: 16-bit interface ID and a drop count).
    fn packet(&mut self, block_type: u32, body: &[u8], offset: u64, len: usize) -> Result<Record, Problem> {
        let what = block_name(block_type);
        let e = self.endian;
        let Some(f) = body.first_chunk::<EPB_FIXED>() else {
            return Err(Problem::damaged(
                what,
                offset,
                format!("body of {} bytes, {EPB_FIXED} needed", body.len()),
            ));
        };
        let id = if block_type == BT_PB {
            u32::from(e.u16([f[0], f[1]]))
        } else {
            e.u32([f[0], f[1], f[2], f[3]])
        };
        let high = u64::from(e.u32([f[4], f[5], f[6], f[7]]));
        let low = u64::from(e.u32([f[8], f[9], f[10], f[11]]));
        let caplen = e.u32([f[12], f[13], f[14], f[15]]) as usize;
        let orig_len = e.u32([f[16], f[17], f[18], f[19]]);
        let room = body.len() - EPB_FIXED;
        if caplen > room {
            return Err(Problem::damaged(
                what,
                offset,
                format!("captured length {caplen} exceeds the block's {room} bytes of packet data"),
            ));
        }
        let iface = self.lookup(id, what, offset)?;
        let ts = iface.clock.to_ns(high << 32 | low);
        self.last_ts = ts;
        let start = 8 + EPB_FIXED;
        Ok(Record {
            ts,
            link_type: iface.link_type,
            orig_len,
            data: start..start + caplen,
            len,
        })
    }

    /// Simple Packet Block (§4.4): interface 0, no timestamp, and a captured length that is implied:
    /// the smallest of the original length, interface 0's snaplen and the room in the block. It has
    /// no time of its own, so it gets the latest timestamp seen (0 before any): that keeps the
    /// capture's time order and durations sane instead of jumping to 1970.
    fn simple_packet(&mut self, body: &[u8], offset: u64, len: usize) -> Result<Record, Problem> {
        let what = "simple packet block";
        let Some(o) = bytes::<4>(body, 0) else {
            return Err(Problem::damaged(
                what,
                offset,
                format!("body of {} bytes, 4 needed", body.len()),
            ));
        };
        let orig_len = self.endian.u32(o);
        let iface = self.lookup(0, what, offset)?;
        let mut caplen = (orig_len as usize).min(body.len() - 4);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Ok(Record {
            ts: self.last_ts,
            link_type: iface.link_type,
            orig_len,
            data: 12..12 + caplen,
            len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        let clock = |v: u8, offset_secs: i64| Clock {
            scale: Clock::resolution(v),
            offset_secs,
        };
        assert_eq!(clock(6, 0).to_ns(1_500_000), 1_500_000_000);
        assert_eq!(clock(9, 0).to_ns(7), 7);
        assert_eq!(clock(3, 2).to_ns(5), 2_005_000_000);
        assert_eq!(clock(12, 0).to_ns(5_000), 5);
        assert_eq!(clock(100, 0).to_ns(u64::MAX), 0);
        assert_eq!(clock(0x80 | 10, 0).to_ns(1024), 1_000_000_000);
        assert_eq!(clock(0x80 | 127, 0).to_ns(u64::MAX), 0);
        assert_eq!(clock(0, 0).to_ns(u64::MAX), u64::MAX);
        assert_eq!(clock(6, -10).to_ns(1_000_000), 0);
    }
}
