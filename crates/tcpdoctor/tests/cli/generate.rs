//! Test-time generators and a bounded runner shared by the hostile-input tests (`damaged`, `floods`,
//! `output_safety`) and by the flood benchmark (`bench/floods.sh`, through the ignored test
//! `floods::write_flood_captures`).
//!
//! Captures are built at test time in a temporary directory from the corpus or from scratch: nothing
//! large is committed. Generated floods are raw-IP pcap (link type 101) whose frames keep only the
//! 40 bytes of IPv4 and TCP headers; the IP total length still says how much payload there was, as a
//! capture with a snaplen would.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// LINKTYPE_RAW: frames start with the IP header.
pub const RAW_IP: u32 = 101;

pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const PSH: u8 = 0x08;

/// One IPv4 + TCP header pair (40 bytes) and the packet's length on the wire (`40 + payload`).
#[allow(clippy::too_many_arguments)]
pub fn tcp4(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: u16,
) -> ([u8; 40], u32) {
    let total = 40 + u32::from(payload);
    let mut p = [0u8; 40];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    let mut sum = 0u32;
    for w in p[..20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[24..28].copy_from_slice(&seq.to_be_bytes());
    p[28..32].copy_from_slice(&ack.to_be_bytes());
    p[32] = 5 << 4;
    p[33] = flags;
    p[34..36].copy_from_slice(&65_535u16.to_be_bytes());
    (p, total)
}

/// A raw-IP pcap being written (nanosecond timestamps, snaplen 40: headers only).
pub struct RawPcap(capture::PcapWriter<io::BufWriter<std::fs::File>>);

impl RawPcap {
    pub fn create(path: &Path) -> RawPcap {
        let f = std::fs::File::create(path).unwrap();
        RawPcap(capture::PcapWriter::new(io::BufWriter::with_capacity(1 << 20, f), RAW_IP, 40).unwrap())
    }

    pub fn packet(&mut self, ts: u64, frame: ([u8; 40], u32)) {
        self.0.write(ts, &frame.0, frame.1).unwrap();
    }

    pub fn finish(mut self) {
        self.0.flush().unwrap();
    }
}

/// A bijection on 24 bits (odd multiplier, xorshift): distinct indexes give distinct, scattered values.
pub fn scatter24(i: u32) -> u32 {
    let mut x = i & 0xff_ffff;
    x = x.wrapping_mul(0x9E_3779) & 0xff_ffff;
    x ^= x >> 12;
    x = x.wrapping_mul(0x5A_5A5B) & 0xff_ffff;
    x ^= x >> 11;
    x
}

/// Capture time of the first generated segment (November 2026).
pub const FLOOD_START: u64 = 1_795_000_000_000_000_000;

/// A SYN flood: `n` SYNs (n < 2^24) to 192.0.2.1:80, each from a distinct source address in 10/8 and a
/// pseudo-random source port, 2 µs apart (so that the whole flood lasts less than any tracker timeout
/// for n up to tens of millions: every connection ends by eviction or at the end of the capture).
pub fn syn_flood(path: &Path, n: u32) {
    let mut w = RawPcap::create(path);
    for i in 0..n {
        let s = scatter24(i);
        let src = [10, (s >> 16) as u8, (s >> 8) as u8, s as u8];
        let sport = 1024 + (scatter24(i ^ 0x5555) % 60_000) as u16;
        let ts = FLOOD_START + u64::from(i) * 2_000;
        w.packet(
            ts,
            tcp4(
                src,
                sport,
                [192, 0, 2, 1],
                80,
                SYN,
                i.wrapping_mul(2_654_435_761),
                0,
                0,
            ),
        );
    }
    w.finish();
}

/// Many idle connections: `n` clients (n < 2^24, addressed as in [`syn_flood`]) each complete a
/// handshake with 192.0.2.1:80 and then send nothing, 2 µs apart: every connection is established
/// and tracked until the end of the capture (the idle timeout is 300 s).
pub fn idle_connections(path: &Path, n: u32) {
    let mut w = RawPcap::create(path);
    let server = [192, 0, 2, 1];
    for i in 0..n {
        let s = scatter24(i);
        let client = [10, (s >> 16) as u8, (s >> 8) as u8, s as u8];
        let port = 1024 + (scatter24(i ^ 0x5555) % 60_000) as u16;
        let (isn, server_isn) = (i.wrapping_mul(2_654_435_761), i.wrapping_mul(40_503));
        let ts = FLOOD_START + u64::from(i) * 2_000;
        w.packet(ts, tcp4(client, port, server, 80, SYN, isn, 0, 0));
        w.packet(
            ts + 500,
            tcp4(
                server,
                80,
                client,
                port,
                SYN | ACK,
                server_isn,
                isn.wrapping_add(1),
                0,
            ),
        );
        w.packet(
            ts + 1_000,
            tcp4(
                client,
                port,
                server,
                80,
                ACK,
                isn.wrapping_add(1),
                server_isn.wrapping_add(1),
                0,
            ),
        );
    }
    w.finish();
}

/// What [`port_scan`] answered, per destination port.
pub fn scan_answer(port: u16) -> &'static str {
    if port % 2 == 0 {
        "refused"
    } else if port % 1000 == 1 {
        "half_open"
    } else {
        "unanswered"
    }
}

/// A full port scan of 198.51.100.7 from 203.0.113.9:40000: one SYN to each port 1..=65535, 10 µs
/// apart; even ports answer RST-ACK (nothing listens), odd ports ending in 001 answer SYN-ACK (and the
/// scanner never completes the handshake), the rest never answer.
pub fn port_scan(path: &Path) {
    let mut w = RawPcap::create(path);
    let (scanner, target) = ([203, 0, 113, 9], [198, 51, 100, 7]);
    let mut ts = FLOOD_START;
    for port in 1..=u16::MAX {
        let isn = u32::from(port).wrapping_mul(0x9E37_79B9);
        w.packet(ts, tcp4(scanner, 40_000, target, port, SYN, isn, 0, 0));
        ts += 5_000;
        match scan_answer(port) {
            "refused" => w.packet(ts, tcp4(target, port, scanner, 40_000, RST | ACK, 0, isn + 1, 0)),
            "half_open" => w.packet(ts, tcp4(target, port, scanner, 40_000, SYN | ACK, 7, isn + 1, 0)),
            _ => {}
        }
        ts += 5_000;
    }
    w.finish();
}

/// Bytes of the data segment that [`retransmissions`] sends `copies` times.
pub const RETRANSMITTED: u16 = 1000;

/// One connection 10.1.1.1:5555 -> 10.2.2.2:443: the handshake, one data segment of [`RETRANSMITTED`]
/// bytes sent `copies` times (the original and `copies - 1` retransmissions, 1 ms apart), the server's
/// ACK, then a four-way close started by the client. Segments: `copies + 7`.
pub fn retransmissions(path: &Path, copies: u32) {
    let mut w = RawPcap::create(path);
    let (c, s) = ([10, 1, 1, 1], [10, 2, 2, 2]);
    let (cp, sp) = (5555, 443);
    let (ci, si) = (1_000u32, 9_000u32);
    let mut ts = FLOOD_START;
    let mut step = |d: u64| {
        ts += d;
        ts
    };
    w.packet(step(0), tcp4(c, cp, s, sp, SYN, ci, 0, 0));
    w.packet(step(100_000), tcp4(s, sp, c, cp, SYN | ACK, si, ci + 1, 0));
    w.packet(step(100_000), tcp4(c, cp, s, sp, ACK, ci + 1, si + 1, 0));
    for _ in 0..copies {
        w.packet(
            step(1_000_000),
            tcp4(c, cp, s, sp, ACK | PSH, ci + 1, si + 1, RETRANSMITTED),
        );
    }
    let end = ci + 1 + u32::from(RETRANSMITTED);
    w.packet(step(100_000), tcp4(s, sp, c, cp, ACK, si + 1, end, 0));
    w.packet(step(100_000), tcp4(c, cp, s, sp, FIN | ACK, end, si + 1, 0));
    w.packet(step(100_000), tcp4(s, sp, c, cp, FIN | ACK, si + 1, end + 1, 0));
    w.packet(step(100_000), tcp4(c, cp, s, sp, ACK, end + 1, si + 2, 0));
    w.finish();
}

/// What a bounded run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub pid: u32,
    /// The exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// Peak resident set size of the program, KiB (its `VmHWM`, read while it ran).
    pub max_rss_kib: u64,
    pub elapsed: Duration,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).unwrap()
    }

    /// Fails with everything known unless the run ended by itself (exit code, no panic, no signal).
    pub fn assert_no_crash(&self, what: &str) {
        assert!(
            self.signal.is_none(),
            "{what}: killed by signal {:?}; stderr: {}",
            self.signal,
            self.stderr
        );
        assert_ne!(self.code, Some(101), "{what}: panicked: {}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{what}: {}", self.stderr);
    }
}

/// Runs `tcpdoctor ARGS` with stdin from `stdin` (or nothing), killing it by pid if it overstays
/// `limit` (the test then fails: a hang). Returns the output and the peak RSS the kernel measured.
pub fn run_bounded(args: &[&str], stdin: Option<&Path>, limit: Duration) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    run_command(cmd, limit, &format!("tcpdoctor {}", args.join(" ")))
}

/// Runs a prepared command (stdout and stderr piped) as [`run_bounded`] does.
pub fn run_command(mut cmd: Command, limit: Duration, what: &str) -> Run {
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut overstayed = false;
    let mut peak_kib: Option<u64> = None;
    loop {
        // SAFETY: waiting for our own child, by pid, with valid out-pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if rc == pid {
            break;
        }
        if let Some(hwm) = exec_high_water_kib(pid) {
            peak_kib = Some(peak_kib.map_or(hwm, |p| p.max(hwm)));
        }
        assert!(rc == 0, "wait4: {}", io::Error::last_os_error());
        if start.elapsed() > limit && !overstayed {
            overstayed = true;
            // SAFETY: signalling our own child, not yet reaped, by pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    drop(child); // already reaped: dropping a Child does not wait
    let stdout = out_reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    assert!(
        !overstayed,
        "{what}: still running after {limit:?}: killed (a hang); stderr: {stderr}"
    );
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Run {
        pid: pid.unsigned_abs(),
        code,
        signal,
        stdout,
        stderr,
        // `ru_maxrss` also counts the test process's own peak (the child shares its memory until it
        // execs, and exec folds the old memory's high-water mark into it); the child's own, read every
        // few milliseconds while it ran, is its peak but for growth in its last milliseconds. A run too
        // quick to be read at all keeps the larger figure; one read while still loading reads low
        // (a baseline taken from it only makes a bound stricter).
        max_rss_kib: peak_kib.unwrap_or_else(|| u64::try_from(usage.ru_maxrss).unwrap_or(0)),
        elapsed,
    }
}

/// The child's peak resident set (`VmHWM`, KiB) once it has become another program; `None` before
/// its exec (its memory is still the test's) or once it is gone.
fn exec_high_water_kib(pid: i32) -> Option<u64> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    if std::fs::read_link("/proc/self/exe").ok()? == exe {
        return None;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes `bytes` to `dir/name` and returns the path as a string.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(bytes).unwrap();
    path.to_str().unwrap().to_string()
}
