//! Live capture on Linux: an `AF_PACKET` socket with a `TPACKET_V3` memory-mapped receive ring and a
//! classic BPF filter that lets only TCP (and, unless asked not to, what may carry TCP in a tunnel)
//! reach user space.
//!
//! # Why hand-written rather than libpcap (the `pcap` crate)
//! libpcap captures on Linux with this very mechanism (`pcap-linux.c`: `TPACKET_V3`, one socket, a
//! mapped ring), so it could not be faster; what it would add is its filter compiler (tcpdump expression
//! syntax) and its file writer. It would also make libpcap's development files a build dependency, and
//! then `cargo run --release` would fail on a fresh machine that lacks them. The ring walk is ~150 lines,
//! the filter is fixed, and `--host`/`--port`/`--net` are applied in user space after decoding.
//!
//! # What arrives
//! The socket is `SOCK_DGRAM` ("cooked"): the kernel strips the link header, so every frame starts at the
//! IP header and is reported with link type `LINKTYPE_RAW` (101), whatever the interface (`any`
//! included). VLAN tags are gone too (the kernel or the NIC strips them). On a loopback device every packet
//! is seen twice, leaving and arriving; the outgoing copy is skipped, as libpcap does.
//!
//! Layouts are from `include/uapi/linux/if_packet.h` (`tpacket_block_desc`, `tpacket_hdr_v1`,
//! `tpacket3_hdr`, `sockaddr_ll`) and `Documentation/networking/packet_mmap.rst`.

use crate::Frame;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Link type of every live frame: raw IP (the socket is cooked).
pub const LINK_TYPE: u32 = 101;
/// Largest packet the filter accepts whole (the BPF return value).
pub const SNAPLEN: u32 = 262_144;

const BLOCK_SIZE: usize = 1 << 20;
const FRAME_SIZE: usize = 2048;
/// A block is handed to user space after this long even if not full, bounding latency at low rates.
const BLOCK_TIMEOUT_MS: u32 = 100;
/// Longer than a block can stay partly filled in the kernel: a reader that waits this long with nothing
/// arriving has seen every packet captured before the wait began.
pub const DRAIN_WAIT: Duration = Duration::from_millis(BLOCK_TIMEOUT_MS as u64 + 50);
const ETH_P_ALL: u16 = 0x0003;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const PACKET_OUTGOING: u8 = 4;
const ARPHRD_LOOPBACK: u16 = 772;
/// `sizeof(struct tpacket3_hdr)` rounded to `TPACKET_ALIGNMENT` (16): where `sockaddr_ll` starts.
const SLL_OFFSET: usize = 48;
/// `sockaddr_ll` size.
const SLL_LEN: usize = 20;

/// Why a live capture could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "capturing on {iface} needs CAP_NET_RAW: run as root, or `setcap cap_net_raw+ep` the binary ({error})"
    )]
    Permission { iface: String, error: io::Error },
    #[error("no such interface: {0}")]
    NoSuchInterface(String),
    #[error("capture on {iface}: {op}: {error}")]
    Io {
        iface: String,
        op: &'static str,
        error: io::Error,
    },
}

/// Kernel counters of the socket since it opened (`PACKET_STATISTICS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets that passed the filter.
    pub received: u64,
    /// Packets dropped because the ring was full: never hidden, always reported.
    pub dropped: u64,
    /// Times the ring froze because user space fell behind.
    pub freezes: u64,
}

/// What [`LiveCapture::next`] found.
#[derive(Debug)]
pub enum Next<'a> {
    Frame(Frame<'a>),
    /// Nothing arrived within the timeout.
    Idle,
}

/// The mapped ring.
struct Ring {
    base: *mut u8,
    len: usize,
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly what mmap returned; nothing borrows the ring past its owner.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

/// A live capture on one interface (or `any`).
pub struct LiveCapture {
    iface: String,
    ring: Ring,
    blocks: usize,
    fd: OwnedFd,
    /// The block being read, and whether user space owns it.
    block: usize,
    holding: bool,
    remaining: u32,
    offset: usize,
    frames: u64,
    stats: LiveStats,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("iface", &self.iface)
            .field("frames", &self.frames)
            .finish()
    }
}

// SAFETY: the ring is owned by this value alone and only touched through `&mut self`.
unsafe impl Send for LiveCapture {}

/// What the kernel filter lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// TCP only.
    Tcp,
    /// TCP, and what may carry it in a tunnel: IP in IP (4, 41), UDP (VXLAN, Geneve, Teredo, GTP-U:
    /// 17), GRE and ERSPAN (47), EtherIP (97).
    TcpAndTunnels,
}

/// IPv6 extension headers that may stand before the transport: hop-by-hop 0, routing 43, fragment 44,
/// destination options 60.
const V6_EXTENSIONS: [u8; 4] = [0, 43, 44, 60];
/// IP protocols that may carry TCP in a tunnel.
const TUNNEL_PROTOCOLS: [u8; 5] = [4, 17, 41, 47, 97];

/// BPF opcodes (`include/uapi/linux/bpf_common.h`).
const LD_B_ABS: u16 = 0x30;
const RSH_K: u16 = 0x74;
const JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;

/// Classic BPF over the IP header (the socket is cooked): accept IPv4 whose protocol, and IPv6 whose
/// next header, is TCP (or, for `TcpAndTunnels`, a tunnel protocol); IPv6 also when an extension
/// header comes first. The decoder sorts out the rest. Jump offsets are relative to the next
/// instruction.
fn filter(accept: Accept) -> Vec<(u16, u8, u8, u32)> {
    let tunnels: &[u8] = match accept {
        Accept::Tcp => &[],
        Accept::TcpAndTunnels => &TUNNEL_PROTOCOLS,
    };
    let v4: Vec<u8> = [6].iter().chain(tunnels).copied().collect();
    let v6: Vec<u8> = [6].iter().chain(&V6_EXTENSIONS).chain(tunnels).copied().collect();
    // Layout: 0 load version, 1 shift, 2 version 4?, 3 load protocol, the v4 tests, then "version
    // 6?", load next header, the v6 tests, accept, drop.
    let v6_at = 4 + v4.len();
    let accept_at = v6_at + 2 + v6.len();
    let drop_at = accept_at + 1;
    let rel = |from: usize, to: usize| u8::try_from(to - from - 1).unwrap_or(u8::MAX);
    let mut p = vec![
        (LD_B_ABS, 0, 0, 0),          // A = ip[0]
        (RSH_K, 0, 0, 4),             // A >>= 4: the version
        (JEQ_K, 0, rel(2, v6_at), 4), // IPv4?
        (LD_B_ABS, 0, 0, 9),          // A = ip[9]: the IPv4 protocol
    ];
    for (i, &proto) in v4.iter().enumerate() {
        let pc = 4 + i;
        let miss = if i + 1 == v4.len() { rel(pc, drop_at) } else { 0 };
        p.push((JEQ_K, rel(pc, accept_at), miss, u32::from(proto)));
    }
    p.push((JEQ_K, 0, rel(v6_at, drop_at), 6)); // IPv6? (A still holds the version)
    p.push((LD_B_ABS, 0, 0, 6)); // A = ip6[6]: the next header
    for (i, &next) in v6.iter().enumerate() {
        let pc = v6_at + 2 + i;
        let miss = if i + 1 == v6.len() { rel(pc, drop_at) } else { 0 };
        p.push((JEQ_K, rel(pc, accept_at), miss, u32::from(next)));
    }
    p.push((RET_K, 0, 0, SNAPLEN));
    p.push((RET_K, 0, 0, 0));
    p
}

fn ne32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn ne16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

impl LiveCapture {
    /// Opens `iface` (`any` for all interfaces) with a ring of `buffer` bytes (rounded to 1 MiB blocks,
    /// at least 4).
    pub fn open(iface: &str, buffer: usize, accept: Accept) -> Result<LiveCapture, LiveError> {
        let io_err = |op: &'static str| LiveError::Io {
            iface: iface.to_string(),
            op,
            error: io::Error::last_os_error(),
        };
        let ifindex = if iface == "any" {
            0
        } else {
            let name = CString::new(iface).map_err(|_| LiveError::NoSuchInterface(iface.to_string()))?;
            // SAFETY: `name` is a valid NUL-terminated string.
            let i = unsafe { libc::if_nametoindex(name.as_ptr()) };
            if i == 0 {
                return Err(LiveError::NoSuchInterface(iface.to_string()));
            }
            i32::try_from(i).map_err(|_| LiveError::NoSuchInterface(iface.to_string()))?
        };
        // Protocol 0: nothing is queued until bind() names the protocol, after the filter is attached.
        // SAFETY: plain syscall.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EPERM | libc::EACCES) => LiveError::Permission {
                    iface: iface.to_string(),
                    error: e,
                },
                _ => LiveError::Io {
                    iface: iface.to_string(),
                    op: "socket(AF_PACKET)",
                    error: e,
                },
            });
        }
        // SAFETY: `raw` is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let insns: Vec<libc::sock_filter> = filter(accept)
            .into_iter()
            .map(|(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
            .collect();
        let prog = libc::sock_fprog {
            len: u16::try_from(insns.len()).unwrap_or(u16::MAX),
            filter: insns.as_ptr().cast_mut(),
        };
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
            .map_err(|_| io_err("attach filter"))?;
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V3)
            .map_err(|_| io_err("TPACKET_V3"))?;
        let blocks = (buffer / BLOCK_SIZE).max(4);
        let req = libc::tpacket_req3 {
            tp_block_size: BLOCK_SIZE as u32,
            tp_block_nr: blocks as u32,
            tp_frame_size: FRAME_SIZE as u32,
            tp_frame_nr: (BLOCK_SIZE / FRAME_SIZE * blocks) as u32,
            tp_retire_blk_tov: BLOCK_TIMEOUT_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)
            .map_err(|_| io_err("PACKET_RX_RING"))?;
        let len = BLOCK_SIZE * blocks;
        // SAFETY: maps the ring the kernel just allocated for this socket; checked for MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io_err("mmap ring"));
        }
        let ring = Ring {
            base: base.cast(),
            len,
        };
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io_err("bind"));
        }
        Ok(LiveCapture {
            iface: iface.to_string(),
            ring,
            blocks,
            fd,
            block: 0,
            holding: false,
            remaining: 0,
            offset: 0,
            frames: 0,
            stats: LiveStats::default(),
        })
    }

    /// The ring's size in bytes.
    #[must_use]
    pub fn buffer_bytes(&self) -> usize {
        self.ring.len
    }

    fn status(&self, block: usize) -> &AtomicU32 {
        // SAFETY: the status word (`hdr.bh1.block_status`, offset 8 of `tpacket_block_desc`) lies inside
        // the mapping, is 4-byte aligned (blocks are page aligned), and is shared with the kernel, hence
        // accessed only atomically.
        unsafe { AtomicU32::from_ptr(self.ring.base.add(block * BLOCK_SIZE + 8).cast()) }
    }

    /// The block user space owns right now.
    fn held(&self) -> &[u8] {
        // SAFETY: called only while `holding`: the kernel set TP_STATUS_USER (read with Acquire) and
        // writes nothing to this block until `release` hands it back.
        unsafe { std::slice::from_raw_parts(self.ring.base.add(self.block * BLOCK_SIZE), BLOCK_SIZE) }
    }

    fn release(&mut self) {
        self.status(self.block).store(TP_STATUS_KERNEL, Ordering::Release);
        self.holding = false;
        self.block = (self.block + 1) % self.blocks;
    }

    /// The next frame, or `Idle` if none arrived within `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Result<Next<'_>, LiveError> {
        let mut waited = false;
        loop {
            if self.holding {
                if self.remaining == 0 {
                    self.release();
                    continue;
                }
                self.remaining -= 1;
                let at = self.offset;
                let blk = self.held();
                let next = ne32(blk, at).unwrap_or(0) as usize;
                let parsed = parse(blk, at);
                // A packet whose header does not fit, or a zero link with packets left: the block is not
                // what the kernel promises; drop the rest of it rather than read garbage.
                if parsed.is_none() || (next == 0 && self.remaining > 0) {
                    self.remaining = 0;
                }
                self.offset = at + next;
                let Some(p) = parsed else { continue };
                if p.skip {
                    continue;
                }
                self.frames += 1;
                let blk = self.held();
                let data = blk.get(p.data.clone()).unwrap_or_default();
                return Ok(Next::Frame(Frame {
                    ts: p.ts,
                    link_type: LINK_TYPE,
                    data,
                    orig_len: p.orig_len,
                    offset: self.frames - 1,
                }));
            }
            let status = self.status(self.block).load(Ordering::Acquire);
            if status & TP_STATUS_USER != 0 {
                let blk = self.held();
                // `tpacket_hdr_v1`: num_pkts at 12, offset_to_first_pkt at 16.
                let (count, first) = (ne32(blk, 12).unwrap_or(0), ne32(blk, 16).unwrap_or(0));
                self.remaining = count;
                self.offset = first as usize;
                self.holding = true;
                continue;
            }
            if waited {
                return Ok(Next::Idle);
            }
            self.wait(timeout)?;
            waited = true;
        }
    }

    fn wait(&self, timeout: Duration) -> Result<(), LiveError> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(LiveError::Io {
                    iface: self.iface.clone(),
                    op: "poll",
                    error: e,
                });
            }
        }
        Ok(())
    }

    /// Kernel counters since the capture opened (received, dropped, ring freezes).
    pub fn stats(&mut self) -> Result<LiveStats, LiveError> {
        let mut s = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `s` and `len` describe a writable tpacket_stats_v3.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut s).cast(),
                &raw mut len,
            )
        };
        if rc < 0 {
            return Err(LiveError::Io {
                iface: self.iface.clone(),
                op: "PACKET_STATISTICS",
                error: io::Error::last_os_error(),
            });
        }
        // The kernel resets these counters on every read: accumulate.
        self.stats.received += u64::from(s.tp_packets);
        self.stats.dropped += u64::from(s.tp_drops);
        self.stats.freezes += u64::from(s.tp_freeze_q_cnt);
        Ok(self.stats)
    }
}

/// One packet's header in a block.
struct Parsed {
    ts: u64,
    orig_len: u32,
    data: std::ops::Range<usize>,
    /// The outgoing copy on a loopback device (seen again as incoming).
    skip: bool,
}

/// Reads the `tpacket3_hdr` and `sockaddr_ll` at `at`, bounds-checked against the block.
fn parse(blk: &[u8], at: usize) -> Option<Parsed> {
    let sec = ne32(blk, at + 4)?;
    let nsec = ne32(blk, at + 8)?;
    let snaplen = ne32(blk, at + 12)? as usize;
    let orig_len = ne32(blk, at + 16)?;
    let net = usize::from(ne16(blk, at + 26)?);
    let sll = at + SLL_OFFSET;
    blk.get(sll..sll + SLL_LEN)?;
    let hatype = ne16(blk, sll + 8)?;
    let pkttype = *blk.get(sll + 10)?;
    let start = at + net;
    let end = start.checked_add(snaplen)?;
    blk.get(start..end)?;
    Some(Parsed {
        ts: u64::from(sec) * 1_000_000_000 + u64::from(nsec),
        orig_len,
        data: start..end,
        skip: pkttype == PACKET_OUTGOING && hatype == ARPHRD_LOOPBACK,
    })
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block as the kernel lays it out: one loopback packet leaving, the same arriving.
    fn block_with(pkttypes: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut blk = vec![0u8; 4096];
        let mut at = 64usize;
        for (i, &t) in pkttypes.iter().enumerate() {
            let next = if i + 1 == pkttypes.len() { 0 } else { 256 };
            blk[at..at + 4].copy_from_slice(&(next as u32).to_ne_bytes());
            blk[at + 4..at + 8].copy_from_slice(&1_700_000_000u32.to_ne_bytes());
            blk[at + 8..at + 12].copy_from_slice(&(i as u32).to_ne_bytes());
            blk[at + 12..at + 16].copy_from_slice(&(payload.len() as u32).to_ne_bytes());
            blk[at + 16..at + 20].copy_from_slice(&(payload.len() as u32).to_ne_bytes());
            blk[at + 24..at + 26].copy_from_slice(&80u16.to_ne_bytes());
            blk[at + 26..at + 28].copy_from_slice(&80u16.to_ne_bytes());
            blk[at + 48 + 8..at + 48 + 10].copy_from_slice(&ARPHRD_LOOPBACK.to_ne_bytes());
            blk[at + 48 + 10] = t;
            blk[at + 80..at + 80 + payload.len()].copy_from_slice(payload);
            at += next;
        }
        blk
    }

    #[test]
    fn parses_headers_and_skips_outgoing_loopback_copies() {
        let blk = block_with(&[PACKET_OUTGOING, 0], &[0x45, 0, 0, 40]);
        let out = parse(&blk, 64).unwrap();
        assert!(out.skip);
        let inc = parse(&blk, 64 + 256).unwrap();
        assert!(!inc.skip);
        assert_eq!(inc.ts, 1_700_000_000_000_000_001);
        assert_eq!(&blk[inc.data], &[0x45, 0, 0, 40]);
    }

    /// Runs a filter program over the first bytes of a packet (the few opcodes `filter` emits).
    fn run(prog: &[(u16, u8, u8, u32)], packet: &[u8]) -> u32 {
        let (mut pc, mut a) = (0usize, 0u32);
        loop {
            let (code, jt, jf, k) = prog[pc];
            pc += 1;
            match code {
                LD_B_ABS => a = u32::from(packet[k as usize]),
                RSH_K => a >>= k,
                JEQ_K => pc += usize::from(if a == k { jt } else { jf }),
                RET_K => return k,
                _ => panic!("opcode {code:#x}"),
            }
        }
    }

    #[test]
    fn the_filter_accepts_tcp_and_with_tunnels_what_may_carry_it() {
        let v4 = |proto: u8| {
            let mut p = [0u8; 40];
            p[0] = 0x45;
            p[9] = proto;
            p
        };
        let v6 = |next: u8| {
            let mut p = [0u8; 40];
            p[0] = 0x60;
            p[6] = next;
            p
        };
        let tcp_only = filter(Accept::Tcp);
        let tunnels = filter(Accept::TcpAndTunnels);
        for (packet, tcp, tunnel) in [
            (v4(6), true, true),
            (v4(17), false, true),
            (v4(47), false, true),
            (v4(4), false, true),
            (v4(1), false, false),
            (v6(6), true, true),
            (v6(44), true, true),
            (v6(41), false, true),
            (v6(58), false, false),
        ] {
            assert_eq!(run(&tcp_only, &packet) == SNAPLEN, tcp, "{packet:?}");
            assert_eq!(run(&tunnels, &packet) == SNAPLEN, tunnel, "{packet:?}");
        }
        let mut arp = v4(6);
        arp[0] = 0x00;
        assert_eq!(run(&tunnels, &arp), 0);
    }

    #[test]
    fn headers_past_the_block_are_refused() {
        let blk = block_with(&[0], &[1, 2, 3]);
        assert!(parse(&blk, 4096 - 30).is_none());
        let mut bad = blk.clone();
        bad[64 + 12..64 + 16].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(parse(&bad, 64).is_none());
    }
}
