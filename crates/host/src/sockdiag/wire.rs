//! The `inet_diag` wire format (`include/uapi/linux/inet_diag.h`, `netlink.h`): requests built and
//! replies parsed by hand, in place.
//!
//! `netlink-packet-sock-diag` parses every reply into owned values (a `Vec` of attributes per socket,
//! a formatted context string per attribute): at 95k sockets that was a third of a snapshot's CPU
//! (85 ms of user time against 18–27 ms now, BENCHMARKS.md), and it knows neither the `TCPDIAG_GETSOCK` request that dumps both families in one
//! walk nor the socket timer fields. A record is 72 fixed bytes and the one attribute read here is
//! `INET_DIAG_INFO`, so the format is small enough to own.

use crate::HostError;
use lifecycle::kernel::{Family, KernelState, SocketRecord, SocketTimer, TcpIdle};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `nlmsg_type` of the original `inet_diag` request (`struct inet_diag_req`), which dumps with
/// `AF_UNSPEC`: IPv4 and IPv6 sockets in one walk of the kernel's tables.
pub const TCPDIAG_GETSOCK: u16 = 18;
/// `nlmsg_type` of the per-family request (`struct inet_diag_req_v2`).
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_HDRLEN: usize = 16;
/// `INET_DIAG_REQ_BYTECODE`, the request attribute carrying a filter.
const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// `INET_DIAG_INFO`, the reply attribute carrying `struct tcp_info`.
const INET_DIAG_INFO: u16 = 2;
/// `1 << INET_DIAG_INFO` in `idiag_ext`: ask for `tcp_info`.
pub const EXT_INFO: u8 = 1 << (INET_DIAG_INFO - 1);
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IPPROTO_TCP: u8 = 6;
/// `sizeof(struct inet_diag_msg)`.
const DIAG_MSG_LEN: usize = 72;
/// `idiag_timer` of a timewait socket (TIME-WAIT, or an orphaned FIN-WAIT-2 kept as one):
/// `idiag_expires` is the time it has left.
const TIMER_TIME_WAIT: u8 = 3;
/// Offsets in `struct tcp_info` (`include/uapi/linux/tcp.h`): eight u8 fields, then u32s.
const TCPI_LAST_DATA_SENT: usize = 44;
const TCPI_LAST_DATA_RECV: usize = 52;
const TCPI_LAST_ACK_RECV: usize = 56;

/// Which request asks for the dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `TCPDIAG_GETSOCK` with `AF_UNSPEC`: both families, one walk.
    BothFamilies,
    /// `SOCK_DIAG_BY_FAMILY`: one family per walk.
    Family(Family),
}

/// One dump request: `states` is the kernel's state bitmask, `ext` the `idiag_ext` flags, `bytecode`
/// a filter the kernel runs on every socket before filling its record (empty: none).
#[must_use]
pub fn request(kind: Request, states: u32, ext: u8, bytecode: &[u8]) -> Vec<u8> {
    let sockid = [0u8; 48]; // struct inet_diag_sockid: no address, port or cookie to match
    let mut body = Vec::with_capacity(64);
    let msg_type = match kind {
        Request::BothFamilies => {
            // struct inet_diag_req: family, src_len, dst_len, ext, id, states, dbs
            body.extend_from_slice(&[0, 0, 0, ext]);
            body.extend_from_slice(&sockid);
            body.extend_from_slice(&states.to_ne_bytes());
            body.extend_from_slice(&0u32.to_ne_bytes());
            TCPDIAG_GETSOCK
        }
        Request::Family(family) => {
            // struct inet_diag_req_v2: family, protocol, ext, pad, states, id
            let af = match family {
                Family::V4 => AF_INET,
                Family::V6 => AF_INET6,
            };
            body.extend_from_slice(&[af, IPPROTO_TCP, ext, 0]);
            body.extend_from_slice(&states.to_ne_bytes());
            body.extend_from_slice(&sockid);
            SOCK_DIAG_BY_FAMILY
        }
    };
    if !bytecode.is_empty() {
        let attr_len = u16::try_from(4 + bytecode.len()).unwrap_or(u16::MAX);
        body.extend_from_slice(&attr_len.to_ne_bytes());
        body.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
        body.extend_from_slice(bytecode);
    }
    let len = u32::try_from(NLMSG_HDRLEN + body.len()).unwrap_or(u32::MAX);
    let mut msg = Vec::with_capacity(NLMSG_HDRLEN + body.len());
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&msg_type.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&[0; 8]); // sequence number, port id (the kernel fills it in)
    msg.extend_from_slice(&body);
    msg
}

/// Whether a dump goes on after one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump {
    More,
    Done,
}

/// Parses one datagram of an `inet_diag` dump reply (one or more netlink messages) and appends its
/// sockets to `out`. Every length in it comes from the kernel, or from whatever answers on the
/// socket: it is fuzzed (`fuzz/fuzz_targets/sockdiag.rs`).
pub fn parse_datagram(buf: &[u8], out: &mut Vec<SocketRecord>) -> Result<Dump, HostError> {
    let mut offset = 0;
    while offset < buf.len() {
        let rest = &buf[offset..];
        let (Some(len), Some(msg_type)) = (u32_at(rest, 0), u16_at(rest, 4)) else {
            return Err(malformed(offset, "a netlink header cut short"));
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(malformed(offset, &format!("netlink message length {len}")));
        }
        let payload = &rest[NLMSG_HDRLEN..len];
        match msg_type {
            // A dump that failed on the kernel's side ends with its `-errno` in the DONE message
            // (`-ENOENT` when tcp_diag cannot be loaded, as in some containers), or with an ERROR
            // message (struct nlmsgerr) when the request itself is refused. `i32::MIN` has no positive
            // counterpart (found by the fuzzer).
            NLMSG_DONE => match i32_at(payload, 0) {
                Some(code) if code < 0 => return Err(refused(code)),
                _ => return Ok(Dump::Done),
            },
            NLMSG_ERROR => match i32_at(payload, 0) {
                Some(code) if code < 0 => return Err(refused(code)),
                _ => return Err(malformed(offset, "an acknowledgement in the middle of a dump")),
            },
            TCPDIAG_GETSOCK | SOCK_DIAG_BY_FAMILY => {
                if let Some(record) = record(payload).map_err(|what| malformed(offset, what))? {
                    out.push(record);
                }
            }
            _ => {}
        }
        // Netlink messages are 4-byte aligned (NLMSG_ALIGN).
        offset += len.next_multiple_of(4);
    }
    Ok(Dump::More)
}

/// `idiag_timer` as `inet_sk_diag_fill` (`net/ipv4/inet_diag.c`) sets it: 1 when the retransmission,
/// reordering or loss-probe timer is pending, else 4 for the zero-window probe timer, else 2 when
/// `sk_timer` (keepalive) is pending, else 0; `inet_twsk_diag_fill` sets 3, `inet_req_diag_fill` 1.
/// `ss -o` prints them as on, keepalive, timewait and persist.
fn timer(idiag_timer: u8) -> SocketTimer {
    match idiag_timer {
        0 => SocketTimer::Off,
        1 => SocketTimer::Retransmit,
        2 => SocketTimer::Keepalive,
        TIMER_TIME_WAIT => SocketTimer::TimeWait,
        4 => SocketTimer::ZeroWindowProbe,
        _ => SocketTimer::Unknown,
    }
}

fn refused(code: i32) -> HostError {
    HostError::Refused(std::io::Error::from_raw_os_error(code.saturating_neg()))
}

fn malformed(offset: usize, what: &str) -> HostError {
    HostError::Protocol(format!("inet_diag reply, byte {offset} of a datagram: {what}"))
}

/// One `struct inet_diag_msg` and its attributes; `None` for a family or state this does not know.
fn record(msg: &[u8]) -> Result<Option<SocketRecord>, &'static str> {
    let Some(fixed) = msg.get(..DIAG_MSG_LEN) else {
        return Err("an inet_diag_msg cut short");
    };
    let addr = |at: usize, family| -> IpAddr {
        let mut b = [0u8; 16];
        b.copy_from_slice(&fixed[at..at + 16]);
        match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(b)),
        }
    };
    let family = match fixed[0] {
        AF_INET => Family::V4,
        AF_INET6 => Family::V6,
        _ => return Ok(None),
    };
    let Some(state) = KernelState::from_number(fixed[1]) else {
        return Ok(None);
    };
    let u32_in = |at| u32_at(fixed, at).unwrap_or(0);
    let port = |at: usize| u16::from_be_bytes([fixed[at], fixed[at + 1]]);
    Ok(Some(SocketRecord {
        family,
        state,
        local: SocketAddr::new(addr(8, family), port(4)),
        remote: SocketAddr::new(addr(24, family), port(6)),
        recv_q: u32_in(56),
        send_q: u32_in(60),
        uid: u32_in(64),
        inode: u64::from(u32_in(68)),
        // `sock_diag_save_cookie`: the low half first.
        cookie: u64::from(u32_in(44)) | u64::from(u32_in(48)) << 32,
        expires_in_ms: (fixed[2] == TIMER_TIME_WAIT).then(|| u32_in(52)),
        timer: timer(fixed[2]),
        idle: idle(&msg[DIAG_MSG_LEN..])?,
        owners: Vec::new(),
    }))
}

/// The idle times in the `INET_DIAG_INFO` attribute, if present (struct nlattr: u16 length, u16 type,
/// value, padded to 4 bytes).
fn idle(mut attrs: &[u8]) -> Result<Option<TcpIdle>, &'static str> {
    while attrs.len() >= 4 {
        let (Some(len), Some(kind)) = (u16_at(attrs, 0), u16_at(attrs, 2)) else {
            break;
        };
        let len = usize::from(len);
        if len < 4 {
            return Err("an attribute shorter than its header");
        }
        let Some(value) = attrs.get(4..len) else {
            return Err("an attribute longer than its message");
        };
        if kind & 0x3fff == INET_DIAG_INFO {
            let at = |offset| u32_at(value, offset).ok_or("a short tcp_info");
            return Ok(Some(TcpIdle {
                last_data_recv_ms: at(TCPI_LAST_DATA_RECV)?,
                last_ack_recv_ms: at(TCPI_LAST_ACK_RECV)?,
                last_data_sent_ms: at(TCPI_LAST_DATA_SENT)?,
            }));
        }
        attrs = attrs.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(None)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply message as the kernel lays it out, for one socket.
    fn reply(msg_type: u16, family: u8, state: u8, timer: u8, attrs: &[u8]) -> Vec<u8> {
        let mut m = vec![family, state, timer, 0];
        m.extend_from_slice(&8080u16.to_be_bytes());
        m.extend_from_slice(&40000u16.to_be_bytes());
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src[..4].copy_from_slice(&[10, 0, 0, 1]);
        dst[..4].copy_from_slice(&[10, 0, 0, 2]);
        if family == AF_INET6 {
            src = Ipv6Addr::LOCALHOST.octets();
            dst = Ipv6Addr::LOCALHOST.octets();
        }
        m.extend_from_slice(&src);
        m.extend_from_slice(&dst);
        m.extend_from_slice(&[0; 4]); // interface
        m.extend_from_slice(&0x1122_3344u32.to_ne_bytes()); // cookie, low half
        m.extend_from_slice(&0x0055_6677u32.to_ne_bytes());
        for v in [45_000u32, 7, 9, 1000, 4242] {
            m.extend_from_slice(&v.to_ne_bytes()); // expires, rqueue, wqueue, uid, inode
        }
        m.extend_from_slice(attrs);
        let mut out = ((16 + m.len()) as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(&msg_type.to_ne_bytes());
        out.extend_from_slice(&[0; 10]);
        out.extend_from_slice(&m);
        out
    }

    fn done() -> Vec<u8> {
        let mut d = 20u32.to_ne_bytes().to_vec();
        d.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        d.extend_from_slice(&[0; 14]);
        d
    }

    #[test]
    fn reads_both_families_from_one_datagram() {
        let mut buf = reply(TCPDIAG_GETSOCK, AF_INET, 6, TIMER_TIME_WAIT, &[]);
        buf.extend(reply(TCPDIAG_GETSOCK, AF_INET6, 8, 0, &[]));
        buf.extend(done());
        let mut out = Vec::new();
        assert_eq!(parse_datagram(&buf, &mut out).unwrap(), Dump::Done);
        assert_eq!(out.len(), 2);
        let tw = &out[0];
        assert_eq!(tw.family, Family::V4);
        assert_eq!(tw.state, KernelState::TimeWait);
        assert_eq!(tw.local, "10.0.0.1:8080".parse().unwrap());
        assert_eq!(tw.remote, "10.0.0.2:40000".parse().unwrap());
        assert_eq!((tw.recv_q, tw.send_q, tw.uid, tw.inode), (7, 9, 1000, 4242));
        assert_eq!(tw.cookie, 0x0055_6677_1122_3344);
        assert_eq!(tw.expires_in_ms, Some(45_000));
        let cw = &out[1];
        assert_eq!(cw.family, Family::V6);
        assert_eq!(cw.state, KernelState::CloseWait);
        assert_eq!(cw.local, "[::1]:8080".parse().unwrap());
        assert_eq!(cw.expires_in_ms, None, "only the timewait timer is kept");
        assert_eq!((tw.timer, cw.timer), (SocketTimer::TimeWait, SocketTimer::Off));
    }

    #[test]
    fn timers_as_inet_diag_numbers_them() {
        let mut buf = Vec::new();
        for n in 0..6 {
            buf.extend(reply(TCPDIAG_GETSOCK, AF_INET, 1, n, &[]));
        }
        let mut out = Vec::new();
        parse_datagram(&buf, &mut out).unwrap();
        let timers: Vec<SocketTimer> = out.iter().map(|s| s.timer).collect();
        assert_eq!(
            timers,
            [
                SocketTimer::Off,
                SocketTimer::Retransmit,
                SocketTimer::Keepalive,
                SocketTimer::TimeWait,
                SocketTimer::ZeroWindowProbe,
                SocketTimer::Unknown
            ]
        );
    }

    #[test]
    fn reads_idle_times_from_tcp_info() {
        let mut info = vec![0u8; 104];
        info[TCPI_LAST_DATA_RECV..TCPI_LAST_DATA_RECV + 4].copy_from_slice(&61_000u32.to_ne_bytes());
        info[TCPI_LAST_ACK_RECV..TCPI_LAST_ACK_RECV + 4].copy_from_slice(&500u32.to_ne_bytes());
        info[TCPI_LAST_DATA_SENT..TCPI_LAST_DATA_SENT + 4].copy_from_slice(&7_000u32.to_ne_bytes());
        let mut attrs = 5u16.to_ne_bytes().to_vec(); // INET_DIAG_SHUTDOWN, 1 byte, padded
        attrs.extend_from_slice(&8u16.to_ne_bytes());
        attrs.extend_from_slice(&[0, 0, 0, 0]);
        attrs.extend_from_slice(&(4 + info.len() as u16).to_ne_bytes());
        attrs.extend_from_slice(&INET_DIAG_INFO.to_ne_bytes());
        attrs.extend_from_slice(&info);
        let mut out = Vec::new();
        let buf = reply(SOCK_DIAG_BY_FAMILY, AF_INET, 8, 0, &attrs);
        assert_eq!(parse_datagram(&buf, &mut out).unwrap(), Dump::More);
        let idle = out[0].idle.unwrap();
        assert_eq!(
            (
                idle.last_data_recv_ms,
                idle.last_ack_recv_ms,
                idle.last_data_sent_ms
            ),
            (61_000, 500, 7_000)
        );
        assert_eq!(idle.quiet_ms(), 500);
    }

    #[test]
    fn unknown_families_and_states_are_skipped_not_misread() {
        let mut buf = reply(TCPDIAG_GETSOCK, 1, 6, 0, &[]); // AF_UNIX
        buf.extend(reply(TCPDIAG_GETSOCK, AF_INET, 99, 0, &[]));
        let mut out = Vec::new();
        assert_eq!(parse_datagram(&buf, &mut out).unwrap(), Dump::More);
        assert!(out.is_empty());
    }

    #[test]
    fn damage_is_an_error_with_its_place() {
        let good = reply(TCPDIAG_GETSOCK, AF_INET, 1, 0, &[]);
        let mut out = Vec::new();
        let cut = parse_datagram(&good[..good.len() - 1], &mut out).unwrap_err();
        assert!(cut.to_string().contains("byte 0"), "{cut}");
        let mut short = good.clone();
        short[..4].copy_from_slice(&40u32.to_ne_bytes()); // shorter than an inet_diag_msg
        assert!(parse_datagram(&short, &mut out).is_err());
        let mut bad_attr = reply(TCPDIAG_GETSOCK, AF_INET, 1, 0, &[200, 0, 2, 0]);
        let n = bad_attr.len();
        bad_attr[n - 4..n - 2].copy_from_slice(&200u16.to_ne_bytes());
        assert!(parse_datagram(&bad_attr, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn a_kernel_error_is_refused_with_its_errno() {
        let mut e = 36u32.to_ne_bytes().to_vec();
        e.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        e.extend_from_slice(&[0; 10]);
        e.extend_from_slice(&(-22i32).to_ne_bytes());
        e.extend_from_slice(&[0; 16]);
        match parse_datagram(&e, &mut Vec::new()) {
            Err(HostError::Refused(io)) => assert_eq!(io.raw_os_error(), Some(22)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_dump_that_failed_in_the_kernel_is_refused_not_empty() {
        let mut d = done();
        d[16..20].copy_from_slice(&(-2i32).to_ne_bytes()); // -ENOENT: no tcp_diag
        match parse_datagram(&d, &mut Vec::new()) {
            Err(HostError::Refused(io)) => assert_eq!(io.raw_os_error(), Some(2)),
            other => panic!("{other:?}"),
        }
        let mut ack = done();
        ack[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes()); // error 0: an acknowledgement
        assert!(matches!(
            parse_datagram(&ack, &mut Vec::new()),
            Err(HostError::Protocol(_))
        ));
    }

    #[test]
    fn requests_have_the_kernel_layouts() {
        let both = request(Request::BothFamilies, 1 << 6, EXT_INFO, &[]);
        assert_eq!(both.len(), 16 + 60, "nlmsghdr + struct inet_diag_req");
        assert_eq!(u16_at(&both, 4), Some(TCPDIAG_GETSOCK));
        assert_eq!(both[16], 0, "AF_UNSPEC");
        assert_eq!(both[19], EXT_INFO);
        assert_eq!(u32_at(&both, 16 + 52), Some(1 << 6));
        let v6 = request(Request::Family(Family::V6), 1 << 6, 0, &[1, 2, 3, 4]);
        assert_eq!(
            v6.len(),
            16 + 56 + 8,
            "nlmsghdr + struct inet_diag_req_v2 + bytecode attribute"
        );
        assert_eq!(u32_at(&v6, 0), Some(80));
        assert_eq!(&v6[16..20], &[AF_INET6, IPPROTO_TCP, 0, 0]);
        assert_eq!(u32_at(&v6, 20), Some(1 << 6));
        assert_eq!(u16_at(&v6, 72), Some(8));
        assert_eq!(u16_at(&v6, 74), Some(INET_DIAG_REQ_BYTECODE));
    }
}
