//! Records of the four TCP tracepoints → [`KernelEvent`]s, by the layouts their format files give.
//!
//! Two address layouts exist (`include/trace/events/tcp.h`, `include/trace/events/sock.h`):
//! - split fields: `family`, `sport`/`dport` (host order: the tracepoints store `ntohs(...)`),
//!   `saddr[4]`/`daddr[4]` and `saddr_v6[16]`/`daddr_v6[16]` (network order; a v4 socket also fills the
//!   v6 fields with the v4-mapped address) — `inet_sock_set_state`, `tcp_receive_reset`,
//!   `tcp_retransmit_skb`, and `tcp_send_reset` before Linux 6.10;
//! - `saddr[28]`/`daddr[28]` holding a `struct sockaddr_in` or `sockaddr_in6` (`TP_STORE_ADDR_PORTS`,
//!   `TP_STORE_ADDR_PORTS_SKB`; port in network order) — `tcp_send_reset` since 6.10.
//!
//! In every one of them `s*` is this host's end: the socket's own address, or for a reset sent without
//! a socket the incoming segment's destination (the tracepoint reverses the tuple).

use super::format::{EventFormat, Field, SymbolTable};
use lifecycle::State;
use lifecycle::kernel::{Family, KernelState};
use lifecycle::kernel_event::{Direction, EventKind, KernelEvent, ResetReason, Task};
use lifecycle::segment::Timestamp;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `AF_INET`, `AF_INET6` (`include/linux/socket.h`).
const AF_INET: i64 = 2;
const AF_INET6: i64 = 10;
const IPPROTO_TCP: i64 = 6;
/// `common_flags` bits for interrupt context (`enum trace_flag_type`, `include/linux/trace_events.h`):
/// `TRACE_FLAG_HARDIRQ`, `TRACE_FLAG_SOFTIRQ`, `TRACE_FLAG_NMI`.
const IRQ_FLAGS: i64 = 0x08 | 0x10 | 0x40;

/// Which tracepoint a layout decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracepoint {
    SetState,
    SendReset,
    ReceiveReset,
    Retransmit,
}

impl Tracepoint {
    pub const ALL: [Tracepoint; 4] = [
        Tracepoint::SetState,
        Tracepoint::SendReset,
        Tracepoint::ReceiveReset,
        Tracepoint::Retransmit,
    ];

    /// `system/event` under `events/`.
    #[must_use]
    pub fn path(self) -> &'static str {
        match self {
            Tracepoint::SetState => "sock/inet_sock_set_state",
            Tracepoint::SendReset => "tcp/tcp_send_reset",
            Tracepoint::ReceiveReset => "tcp/tcp_receive_reset",
            Tracepoint::Retransmit => "tcp/tcp_retransmit_skb",
        }
    }
}

/// The split-field address layout.
#[derive(Clone, Debug)]
struct Split {
    family: Option<Field>,
    sport: Field,
    dport: Field,
    saddr: Option<Field>,
    daddr: Option<Field>,
    saddr_v6: Option<Field>,
    daddr_v6: Option<Field>,
}

#[derive(Clone, Debug)]
enum Addresses {
    Split(Box<Split>),
    SockAddr { saddr: Field, daddr: Field },
}

/// How to decode one tracepoint's records on this kernel.
#[derive(Clone, Debug)]
pub struct Layout {
    pub tracepoint: Tracepoint,
    pub id: u16,
    flags: Option<Field>,
    pid: Option<Field>,
    addresses: Addresses,
    /// `oldstate`/`newstate` for set_state; `state` for the others, each with its value → state map.
    states: Vec<(Field, StateMap)>,
    protocol: Option<Field>,
    reason: Option<(Field, Option<SymbolTable>)>,
}

impl Layout {
    /// The layout of `tracepoint` from its format; `None` when a field the event cannot do without is
    /// missing (the caller says which tracepoint could not be used).
    #[must_use]
    pub fn new(tracepoint: Tracepoint, format: &EventFormat) -> Option<Layout> {
        let f = |n: &str| format.field(n).cloned();
        let addresses = match (f("saddr"), f("daddr")) {
            (Some(saddr), Some(daddr)) if saddr.size >= 24 && daddr.size >= 24 => {
                Addresses::SockAddr { saddr, daddr }
            }
            (saddr, daddr) => Addresses::Split(Box::new(Split {
                family: f("family"),
                sport: f("sport")?,
                dport: f("dport")?,
                saddr,
                daddr,
                saddr_v6: f("saddr_v6"),
                daddr_v6: f("daddr_v6"),
            })),
        };
        let state = |n: &str| Some((f(n)?, StateMap::new(format.symbols(n))));
        let states = match tracepoint {
            Tracepoint::SetState => vec![state("oldstate")?, state("newstate")?],
            _ => state("state").into_iter().collect(),
        };
        Some(Layout {
            tracepoint,
            id: format.id,
            flags: f("common_flags"),
            pid: f("common_pid"),
            addresses,
            states,
            protocol: f("protocol"),
            reason: f("reason").map(|r| (r, format.symbols("reason").cloned())),
        })
    }

    /// Whether this kernel says why it sent a reset.
    #[must_use]
    pub fn has_reasons(&self) -> bool {
        self.reason.is_some()
    }

    /// Decodes one record; `None` for a record too short for its layout, an unknown family, or a
    /// state change of another protocol (SCTP, MPTCP share `inet_sock_set_state`).
    #[must_use]
    pub fn decode(&self, record: &[u8], time: Timestamp, cpu: u32) -> Option<KernelEvent> {
        if let Some(p) = &self.protocol
            && p.int(record)? != IPPROTO_TCP
        {
            return None;
        }
        let (family, local, remote) = self.addresses(record)?;
        let in_irq = match &self.flags {
            Some(f) => f.int(record)? & IRQ_FLAGS != 0,
            None => false,
        };
        let task = match &self.pid {
            Some(p) if !in_irq => {
                let pid = u32::try_from(p.int(record)?).ok().filter(|p| *p != 0);
                pid.map(|pid| Task { pid, comm: None })
            }
            _ => None,
        };
        let state_at = |i: usize| -> Option<Option<State>> {
            let (field, map) = self.states.get(i)?;
            Some(map.get(field.int(record)?))
        };
        let kind = match self.tracepoint {
            Tracepoint::SetState => EventKind::StateChange {
                old: state_at(0)??,
                new: state_at(1)??,
            },
            Tracepoint::SendReset | Tracepoint::ReceiveReset => EventKind::Reset {
                direction: if self.tracepoint == Tracepoint::SendReset {
                    Direction::Sent
                } else {
                    Direction::Received
                },
                state: state_at(0).flatten(),
                reason: match &self.reason {
                    Some((field, table)) => {
                        let code = field.int(record)?;
                        Some(ResetReason {
                            code: u32::try_from(code).ok()?,
                            name: table.as_ref().and_then(|t| t.name_of(code)).map(str::to_string),
                        })
                    }
                    None => None,
                },
            },
            Tracepoint::Retransmit => EventKind::Retransmit {
                state: state_at(0).flatten(),
            },
        };
        Some(KernelEvent {
            time,
            cpu,
            task,
            family,
            local,
            remote,
            kind,
        })
    }

    fn addresses(&self, record: &[u8]) -> Option<(Family, SocketAddr, SocketAddr)> {
        match &self.addresses {
            Addresses::SockAddr { saddr, daddr } => {
                let (l, r) = (sockaddr(saddr.bytes(record)?)?, sockaddr(daddr.bytes(record)?)?);
                let family = if l.is_ipv4() { Family::V4 } else { Family::V6 };
                Some((family, l, r))
            }
            Addresses::Split(split) => {
                let Split {
                    family,
                    sport,
                    dport,
                    saddr,
                    daddr,
                    saddr_v6,
                    daddr_v6,
                } = &**split;
                let port = |f: &Field| u16::try_from(f.int(record)?).ok();
                let (sport, dport) = (port(sport)?, port(dport)?);
                let v4 = |f: &Option<Field>| -> Option<IpAddr> {
                    let b: [u8; 4] = f.as_ref()?.bytes(record)?.try_into().ok()?;
                    Some(IpAddr::V4(Ipv4Addr::from(b)))
                };
                let v6 = |f: &Option<Field>| -> Option<IpAddr> {
                    let b: [u8; 16] = f.as_ref()?.bytes(record)?.try_into().ok()?;
                    Some(Ipv6Addr::from(b).to_canonical())
                };
                let family = match family {
                    Some(f) => Some(f.int(record)?),
                    None => None,
                };
                let (family, l, r) = match family {
                    Some(AF_INET) => (Family::V4, v4(saddr)?, v4(daddr)?),
                    Some(AF_INET6) => (Family::V6, v6(saddr_v6)?, v6(daddr_v6)?),
                    Some(_) => return None,
                    // Without a family field, the v6 fields tell: v4 sockets fill them v4-mapped.
                    None => {
                        let (l, r) = (v6(saddr_v6).or(v4(saddr))?, v6(daddr_v6).or(v4(daddr))?);
                        let family = if l.is_ipv4() { Family::V4 } else { Family::V6 };
                        (family, l, r)
                    }
                };
                Some((family, SocketAddr::new(l, sport), SocketAddr::new(r, dport)))
            }
        }
    }
}

/// A `struct sockaddr_in` (`family`, `port` big-endian, `addr`) or `sockaddr_in6` (`family`, `port`,
/// `flowinfo`, `addr[16]`, `scope_id`), family in host order (`include/uapi/linux/in.h`, `in6.h`).
fn sockaddr(b: &[u8]) -> Option<SocketAddr> {
    let family = i64::from(u16::from_ne_bytes([*b.first()?, *b.get(1)?]));
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    let ip = match family {
        AF_INET => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(4..8)?).ok()?)),
        AF_INET6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(8..24)?).ok()?)).to_canonical(),
        // Zeroed: the tracepoint had neither a full socket nor a segment to take addresses from.
        0 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Linux `TCP_*` state numbers (`include/net/tcp_states.h`) → RFC states, worked out once per layout
/// (name lookups per event would cost more than the rest of decoding). 0 is "unknown" (a reset sent
/// without a socket). The format's own table names a number when it lists numbers; tables that list
/// the enum's names instead (`{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }`) leave it to the stable numbering
/// of `tcp_states.h`.
#[derive(Clone, Debug)]
struct StateMap(Vec<Option<State>>);

impl StateMap {
    /// States are numbered 1..=12 today; room for a few more.
    const SIZE: i64 = 32;

    fn new(table: Option<&SymbolTable>) -> StateMap {
        StateMap(
            (0..Self::SIZE)
                .map(|value| {
                    let by_name = table
                        .and_then(|t| t.name_of(value))
                        .and_then(|name| KernelState::parse(name.trim_start_matches("TCP_")));
                    by_name
                        .or_else(|| KernelState::from_number(u8::try_from(value).ok()?))
                        .map(KernelState::rfc_state)
                })
                .collect(),
        )
    }

    fn get(&self, value: i64) -> Option<State> {
        usize::try_from(value)
            .ok()
            .and_then(|v| self.0.get(v).copied().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::parse;

    fn layout(tp: Tracepoint, text: &str) -> Layout {
        Layout::new(tp, &parse(text).unwrap()).unwrap()
    }

    /// A record of `size` bytes with common fields set (`flags`, `pid`).
    fn record(size: usize, flags: u8, pid: i32) -> Vec<u8> {
        let mut r = vec![0u8; size];
        r[2] = flags;
        r[4..8].copy_from_slice(&pid.to_ne_bytes());
        r
    }

    fn put(r: &mut [u8], at: usize, b: &[u8]) {
        r[at..at + b.len()].copy_from_slice(b);
    }

    const T: Timestamp = Timestamp(7);

    #[test]
    fn set_state_close_to_syn_sent_in_process_context() {
        let l = layout(
            Tracepoint::SetState,
            include_str!("testdata/inet_sock_set_state.6.18.format"),
        );
        let mut r = record(72, 0, 4242);
        put(&mut r, 16, &7i32.to_ne_bytes()); // TCP_CLOSE
        put(&mut r, 20, &2i32.to_ne_bytes()); // TCP_SYN_SENT
        put(&mut r, 24, &40000u16.to_ne_bytes());
        put(&mut r, 26, &80u16.to_ne_bytes());
        put(&mut r, 28, &2u16.to_ne_bytes());
        put(&mut r, 30, &6u16.to_ne_bytes());
        put(&mut r, 32, &[10, 0, 0, 1]);
        put(&mut r, 36, &[10, 0, 0, 2]);
        let e = l.decode(&r, T, 1).unwrap();
        assert_eq!(
            e.kind,
            EventKind::StateChange {
                old: State::Closed,
                new: State::SynSent
            }
        );
        assert_eq!(e.local, "10.0.0.1:40000".parse().unwrap());
        assert_eq!(e.remote, "10.0.0.2:80".parse().unwrap());
        assert_eq!(e.family, Family::V4);
        assert_eq!(e.task.unwrap().pid, 4242);
        // The same in a softirq names no process; another protocol is skipped.
        r[2] = 0x10;
        assert_eq!(l.decode(&r, T, 1).unwrap().task, None);
        put(&mut r, 30, &132u16.to_ne_bytes());
        assert_eq!(l.decode(&r, T, 1), None);
        // A short record is skipped, not read past.
        assert_eq!(l.decode(&r[..40], T, 1), None);
    }

    #[test]
    fn set_state_ipv6() {
        let l = layout(
            Tracepoint::SetState,
            include_str!("testdata/inet_sock_set_state.6.18.format"),
        );
        let mut r = record(72, 0, 1);
        put(&mut r, 16, &1i32.to_ne_bytes());
        put(&mut r, 20, &4i32.to_ne_bytes());
        put(&mut r, 24, &443u16.to_ne_bytes());
        put(&mut r, 26, &50000u16.to_ne_bytes());
        put(&mut r, 28, &10u16.to_ne_bytes());
        put(&mut r, 30, &6u16.to_ne_bytes());
        put(&mut r, 40, &"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        put(&mut r, 56, &"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        let e = l.decode(&r, T, 0).unwrap();
        assert_eq!(e.local, "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(e.family, Family::V6);
        assert_eq!(
            e.kind,
            EventKind::StateChange {
                old: State::Established,
                new: State::FinWait1
            }
        );
    }

    #[test]
    fn send_reset_with_reason_and_sockaddr() {
        let l = layout(
            Tracepoint::SendReset,
            include_str!("testdata/tcp_send_reset.6.18.format"),
        );
        assert!(l.has_reasons());
        let mut r = record(88, 0x10, 99);
        put(&mut r, 24, &0i32.to_ne_bytes()); // no socket
        put(&mut r, 28, &1u32.to_ne_bytes()); // NO_SOCKET
        put(&mut r, 32, &2u16.to_ne_bytes());
        put(&mut r, 34, &40101u16.to_be_bytes());
        put(&mut r, 36, &[127, 0, 0, 1]);
        put(&mut r, 60, &2u16.to_ne_bytes());
        put(&mut r, 62, &39762u16.to_be_bytes());
        put(&mut r, 64, &[127, 0, 0, 1]);
        let e = l.decode(&r, T, 0).unwrap();
        assert_eq!(e.local, "127.0.0.1:40101".parse().unwrap());
        assert_eq!(e.remote, "127.0.0.1:39762".parse().unwrap());
        assert_eq!(e.task, None);
        let EventKind::Reset {
            direction,
            state,
            reason,
        } = e.kind
        else {
            panic!("not a reset")
        };
        assert_eq!((direction, state), (Direction::Sent, None));
        let reason = reason.unwrap();
        assert_eq!((reason.code, reason.name.as_deref()), (1, Some("NO_SOCKET")));
        // A number this kernel's table does not list keeps its code and has no name.
        put(&mut r, 28, &200u32.to_ne_bytes());
        let EventKind::Reset { reason, .. } = l.decode(&r, T, 0).unwrap().kind else {
            panic!("not a reset")
        };
        assert_eq!(reason.unwrap().name, None);
        // An IPv6 sockaddr, with the state named symbolically in the table.
        let mut r = record(88, 0, 5);
        put(&mut r, 24, &1i32.to_ne_bytes());
        put(&mut r, 28, &11u32.to_ne_bytes());
        put(&mut r, 32, &10u16.to_ne_bytes());
        put(&mut r, 34, &8080u16.to_be_bytes());
        put(&mut r, 40, &Ipv6Addr::LOCALHOST.octets());
        put(&mut r, 60, &10u16.to_ne_bytes());
        put(&mut r, 62, &1234u16.to_be_bytes());
        put(&mut r, 68, &Ipv6Addr::LOCALHOST.octets());
        let e = l.decode(&r, T, 0).unwrap();
        assert_eq!(e.local, "[::1]:8080".parse().unwrap());
        let EventKind::Reset { state, reason, .. } = e.kind else {
            panic!("not a reset")
        };
        assert_eq!(state, Some(State::Established));
        assert_eq!(reason.unwrap().name.as_deref(), Some("TCP_ABORT_ON_CLOSE"));
    }

    #[test]
    fn send_reset_on_an_older_kernel_has_no_reason() {
        let l = layout(
            Tracepoint::SendReset,
            include_str!("testdata/tcp_send_reset.pre-6.10.format"),
        );
        assert!(!l.has_reasons());
        let mut r = record(72, 0, 3);
        put(&mut r, 24, &8i32.to_ne_bytes()); // TCP_CLOSE_WAIT
        put(&mut r, 28, &8080u16.to_ne_bytes());
        put(&mut r, 30, &5555u16.to_ne_bytes());
        put(
            &mut r,
            40,
            &"::ffff:192.0.2.1".parse::<Ipv6Addr>().unwrap().octets(),
        );
        put(
            &mut r,
            56,
            &"::ffff:192.0.2.9".parse::<Ipv6Addr>().unwrap().octets(),
        );
        let e = l.decode(&r, T, 0).unwrap();
        assert_eq!(e.family, Family::V4);
        assert_eq!(e.local, "192.0.2.1:8080".parse().unwrap());
        assert_eq!(
            e.kind,
            EventKind::Reset {
                direction: Direction::Sent,
                state: Some(State::CloseWait),
                reason: None
            }
        );
    }

    #[test]
    fn receive_reset_and_retransmit() {
        let l = layout(
            Tracepoint::ReceiveReset,
            include_str!("testdata/tcp_receive_reset.6.18.format"),
        );
        assert!(!l.has_reasons());
        let mut r = record(72, 0, 3);
        put(&mut r, 16, &1000u16.to_ne_bytes());
        put(&mut r, 18, &2000u16.to_ne_bytes());
        put(&mut r, 20, &2u16.to_ne_bytes());
        put(&mut r, 22, &[127, 0, 0, 1]);
        put(&mut r, 26, &[127, 0, 0, 2]);
        let e = l.decode(&r, T, 0).unwrap();
        assert_eq!(e.remote, "127.0.0.2:2000".parse().unwrap());
        assert!(matches!(
            e.kind,
            EventKind::Reset {
                direction: Direction::Received,
                state: None,
                reason: None
            }
        ));
        let l = layout(
            Tracepoint::Retransmit,
            include_str!("testdata/tcp_retransmit_skb.6.18.format"),
        );
        let mut r = record(80, 0, 3);
        put(&mut r, 24, &2i32.to_ne_bytes());
        put(&mut r, 32, &2u16.to_ne_bytes());
        let e = l.decode(&r, T, 0).unwrap();
        assert_eq!(
            e.kind,
            EventKind::Retransmit {
                state: Some(State::SynSent)
            }
        );
    }
}
