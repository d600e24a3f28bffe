//! Splitting one dump into bands that the kernel fills side by side, on several cores.
//!
//! Filling a socket's record costs the kernel about a microsecond (cache misses on the socket), four
//! times what walking past it costs, so N dumps that each walk the whole table but fill a share of it
//! finish sooner than one. The share is chosen by the kernel's `inet_diag` bytecode
//! (`net/ipv4/inet_diag.c`: `inet_diag_bc_run`, checked by `inet_diag_bc_audit`), which can only compare
//! ports. A band is "the larger of the two ports is in `lo..=hi`": for nearly every connection the
//! larger port is the ephemeral one, which the client's kernel spreads over `ip_local_port_range`,
//! whichever side of the connection this host is; so splitting that range gives bands of nearly equal
//! size. The bands cover every port pair exactly once, so their union is the whole table.
//! A socket's ports never change, nor do those of the TIME-WAIT socket that replaces it or of a request
//! socket's child: a socket that changes state while the bands are dumped stays in its one band, so
//! bands neither double nor lose it (a walk's own repeats are [`super::once`]'s).

/// `enum { INET_DIAG_BC_NOP, INET_DIAG_BC_JMP, INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE, INET_DIAG_BC_D_GE,
/// INET_DIAG_BC_D_LE, ... }`
const BC_JMP: u8 = 1;
const BC_S_GE: u8 = 2;
const BC_S_LE: u8 = 3;
const BC_D_GE: u8 = 4;
const BC_D_LE: u8 = 5;

/// Sockets whose larger port (local or remote) is in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortBand {
    pub lo: u16,
    pub hi: u16,
}

impl PortBand {
    pub const ALL: PortBand = PortBand { lo: 0, hi: u16::MAX };

    /// `parts` bands covering every port, the ephemeral `range` (`ip_local_port_range`) split evenly
    /// between them.
    #[must_use]
    pub fn split(range: (u16, u16), parts: usize) -> Vec<PortBand> {
        let (first, last) = (range.0.min(range.1), range.0.max(range.1));
        let width = u64::from(last - first) + 1;
        let parts = (parts as u64).clamp(1, width);
        let mut bands = Vec::new();
        let mut lo = 0u16;
        for i in 1..parts {
            let edge = u64::from(first) + width * i / parts; // first port of the next band
            let edge = u16::try_from(edge).unwrap_or(u16::MAX);
            bands.push(PortBand { lo, hi: edge - 1 });
            lo = edge;
        }
        bands.push(PortBand { lo, hi: u16::MAX });
        bands
    }

    /// The filter for this band, empty for [`PortBand::ALL`]: `sport <= hi && dport <= hi` (the
    /// larger port is at most `hi`), then `sport >= lo || dport >= lo` (and at least `lo`).
    #[must_use]
    pub fn bytecode(self) -> Vec<u8> {
        let at_most = (self.hi < u16::MAX).then(|| all_of(test(BC_S_LE, self.hi), test(BC_D_LE, self.hi)));
        let at_least = (self.lo > 0).then(|| any_of(test(BC_S_GE, self.lo), test(BC_D_GE, self.lo)));
        match (at_most, at_least) {
            (Some(a), Some(b)) => all_of(a, b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Vec::new(),
        }
    }
}

/// `struct inet_diag_bc_op { u8 code; u8 yes; u16 no; }`: after the op, go `yes` bytes on if it
/// holds, `no` bytes on if not. A program accepts by landing exactly on its end and rejects by landing
/// 4 bytes past it.
fn op(code: u8, yes: u8, no: u16) -> [u8; 4] {
    let [n0, n1] = no.to_ne_bytes();
    [code, yes, n0, n1]
}

/// A port comparison: the op, then an op whose `no` field holds the port. Accepts or rejects.
fn test(code: u8, port: u16) -> Vec<u8> {
    let mut t = op(code, 8, 12).to_vec();
    t.extend_from_slice(&op(0, 0, port));
    t
}

/// Both `a` and `b`: `a`'s rejections (jumps to 4 past its end) are moved to 4 past the end of `b`;
/// its acceptances fall through into `b`.
fn all_of(mut a: Vec<u8>, b: Vec<u8>) -> Vec<u8> {
    let (len_a, len_b) = (a.len(), b.len());
    let mut at = 0;
    while at < len_a {
        let no = usize::from(u16::from_ne_bytes([a[at + 2], a[at + 3]]));
        if at + no == len_a + 4 {
            let patched = u16::try_from(no + len_b).unwrap_or(u16::MAX);
            a[at + 2..at + 4].copy_from_slice(&patched.to_ne_bytes());
        }
        at += op_len(a[at]);
    }
    a.extend_from_slice(&b);
    a
}

/// Either `a` or `b`: `a`'s acceptances reach a jump over `b` to the end; its rejections land on `b`.
fn any_of(mut a: Vec<u8>, b: Vec<u8>) -> Vec<u8> {
    let over_b = u16::try_from(b.len() + 4).unwrap_or(u16::MAX);
    a.extend_from_slice(&op(BC_JMP, 4, over_b));
    a.extend_from_slice(&b);
    a
}

/// Bytes an op takes, its operand included.
fn op_len(code: u8) -> usize {
    if code == BC_JMP { 4 } else { 8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `inet_diag_bc_run` for the ops used here.
    fn run(bc: &[u8], sport: u16, dport: u16) -> bool {
        let mut at = 0i64;
        let len = bc.len() as i64;
        while at < len {
            let i = at as usize;
            let (code, yes, no) = (bc[i], bc[i + 1], u16::from_ne_bytes([bc[i + 2], bc[i + 3]]));
            let port = || u16::from_ne_bytes([bc[i + 6], bc[i + 7]]);
            let holds = match code {
                BC_JMP => false,
                BC_S_GE => sport >= port(),
                BC_S_LE => sport <= port(),
                BC_D_GE => dport >= port(),
                BC_D_LE => dport <= port(),
                _ => panic!("unexpected op {code}"),
            };
            at += i64::from(if holds { u16::from(yes) } else { no });
        }
        at == len
    }

    /// `inet_diag_bc_audit`: every `yes` path lands on ops and ends exactly at the end; every `no`
    /// lands on an op reachable that way, or 4 past the end.
    fn audit(bc: &[u8]) -> bool {
        let len = bc.len() as i64;
        let starts = {
            let mut s = vec![];
            let mut at = 0i64;
            while at < len {
                s.push(at);
                at += i64::from(bc[at as usize + 1]);
            }
            s
        };
        let mut at = 0i64;
        while at < len {
            let i = at as usize;
            let (code, yes, no) = (
                bc[i],
                i64::from(bc[i + 1]),
                i64::from(u16::from_ne_bytes([bc[i + 2], bc[i + 3]])),
            );
            let min = if code == BC_JMP { 4 } else { 8 };
            let left = len - at;
            if no < min || no > left + 4 || no % 4 != 0 || (no < left && !starts.contains(&(at + no))) {
                return false;
            }
            if yes < min || yes > left + 4 || yes % 4 != 0 {
                return false;
            }
            at += yes;
        }
        at == len
    }

    const PORTS: [u16; 12] = [
        0, 1, 22, 443, 8080, 32767, 32768, 40000, 46883, 46884, 60999, 65535,
    ];

    #[test]
    fn bands_cover_every_port_pair_exactly_once() {
        for parts in 1..=5 {
            let bands = PortBand::split((32768, 60999), parts);
            assert_eq!(bands.len(), parts);
            for band in &bands {
                let bc = band.bytecode();
                assert!(bc.is_empty() || audit(&bc), "{band:?} fails the kernel's audit");
            }
            for s in PORTS {
                for d in PORTS {
                    let holders: Vec<_> = bands
                        .iter()
                        .filter(|b| {
                            let bc = b.bytecode();
                            bc.is_empty() || run(&bc, s, d)
                        })
                        .collect();
                    assert_eq!(holders.len(), 1, "{parts} bands, ports {s}/{d}: {holders:?}");
                    let larger = s.max(d);
                    assert!(holders[0].lo <= larger && larger <= holders[0].hi);
                }
            }
        }
    }

    #[test]
    fn the_ephemeral_range_is_split_evenly() {
        let bands = PortBand::split((32768, 60999), 2);
        assert_eq!(
            bands,
            [
                PortBand { lo: 0, hi: 46883 },
                PortBand {
                    lo: 46884,
                    hi: u16::MAX
                }
            ]
        );
        assert_eq!(
            PortBand::split((1000, 1000), 4),
            [PortBand::ALL],
            "one port: one band"
        );
        assert!(PortBand::ALL.bytecode().is_empty());
        assert_eq!(
            PortBand::split((60999, 32768), 2),
            PortBand::split((32768, 60999), 2),
            "a range given backwards"
        );
        assert_eq!(PortBand::split((32768, 60999), 0), [PortBand::ALL]);
    }

    #[test]
    fn any_range_and_count_gives_contiguous_bands_that_pass_the_audit() {
        for range in [(0, u16::MAX), (1, 1), (32768, 60999), (1024, 1030), (u16::MAX, 0)] {
            for parts in [1, 2, 3, 4, 7, 64, 1000, 70_000] {
                let bands = PortBand::split(range, parts);
                assert!(!bands.is_empty() && bands.len() <= parts, "{range:?} x {parts}");
                assert_eq!(bands[0].lo, 0);
                assert_eq!(bands.last().unwrap().hi, u16::MAX);
                for pair in bands.windows(2) {
                    assert!(pair[0].lo <= pair[0].hi, "{pair:?}");
                    assert_eq!(u32::from(pair[0].hi) + 1, u32::from(pair[1].lo), "{pair:?}");
                }
                for band in &bands {
                    let bc = band.bytecode();
                    assert!(bc.is_empty() || audit(&bc), "{band:?}");
                }
            }
        }
    }

    #[test]
    fn bytecode_matches_the_layout_ss_sends() {
        // `ss 'sport <= :100 and dport <= :100'` sends these ops.
        let bc = PortBand { lo: 0, hi: 100 }.bytecode();
        let ops: Vec<[u8; 4]> = bc.chunks(4).map(|c| c.try_into().unwrap()).collect();
        assert_eq!(
            ops,
            [
                op(BC_S_LE, 8, 20),
                op(0, 0, 100),
                op(BC_D_LE, 8, 12),
                op(0, 0, 100)
            ]
        );
    }
}
