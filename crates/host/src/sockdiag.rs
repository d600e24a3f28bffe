//! Socket snapshots over netlink `sock_diag` (`inet_diag`): the fast path `ss` uses, not `/proc/net/tcp`.
//!
//! One dump per address family, with the state bitmask in the request so the kernel filters, and
//! `tcp_info` asked only for the states that need it (it roughly triples the reply size). Replies are
//! parsed datagram by datagram as they arrive; nothing holds the whole dump as bytes.

use crate::HostError;
use lifecycle::kernel::{Family, KernelState, SocketRecord, TcpIdle};
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::{
    SockDiagMessage,
    constants::{AF_INET, AF_INET6, IPPROTO_TCP},
    inet::{ExtensionFlags, InetRequest, InetResponse, SocketId, StateFlags, nlas::Nla},
};
use netlink_sys::{Socket, SocketAddr as NlAddr, protocols::NETLINK_SOCK_DIAG};
use std::net::SocketAddr;

/// Offsets in `struct tcp_info` (`include/uapi/linux/tcp.h`): eight u8 fields, then u32s.
const TCPI_LAST_DATA_RECV: usize = 52;
const TCPI_LAST_ACK_RECV: usize = 56;

/// Appends the sockets of `family` whose state is in `states` to `out`. Sockets whose state is also in
/// `info_states` get their idle times from `tcp_info`: every dump walks the kernel's whole connection
/// table, so the second, `tcp_info` dump is made only when the first found such sockets, and replaces
/// them.
pub fn dump(
    family: Family,
    states: u32,
    info_states: u32,
    out: &mut Vec<SocketRecord>,
) -> Result<(), HostError> {
    let socket = open()?;
    let start = out.len();
    request(&socket, family, states, ExtensionFlags::empty())?;
    receive(&socket, family, out)?;
    let wants_info = |s: &SocketRecord| info_states & s.state.mask_bit() != 0;
    if out[start..].iter().any(wants_info) {
        let mut i = start;
        out.retain(|s| {
            i += 1;
            i <= start || !wants_info(s)
        });
        request(&socket, family, states & info_states, ExtensionFlags::INFO)?;
        receive(&socket, family, out)?;
    }
    Ok(())
}

fn open() -> Result<Socket, HostError> {
    let io = |e| HostError::Netlink("opening a NETLINK_SOCK_DIAG socket", e);
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(io)?;
    socket.bind_auto().map_err(io)?;
    socket.connect(&NlAddr::new(0, 0)).map_err(io)?;
    Ok(socket)
}

fn request(
    socket: &Socket,
    family: Family,
    states: u32,
    extensions: ExtensionFlags,
) -> Result<(), HostError> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let (af, socket_id) = match family {
        Family::V4 => (AF_INET, SocketId::new_v4()),
        Family::V6 => (AF_INET6, SocketId::new_v6()),
    };
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family: af,
            protocol: IPPROTO_TCP,
            extensions,
            states: StateFlags::from_bits_retain(states),
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf);
    socket
        .send(&buf, 0)
        .map_err(|e| HostError::Netlink("sending the inet_diag dump request", e))?;
    Ok(())
}

fn receive(socket: &Socket, family: Family, out: &mut Vec<SocketRecord>) -> Result<(), HostError> {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        socket
            .recv(&mut buf, 0)
            .map_err(|e| HostError::Netlink("receiving the inet_diag dump", e))?;
        if buf.is_empty() {
            return Err(HostError::Protocol(
                "empty netlink datagram in the middle of a dump".into(),
            ));
        }
        if parse_datagram(family, &buf, out)? == Dump::Done {
            return Ok(());
        }
    }
}

/// Whether a dump goes on after one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump {
    More,
    Done,
}

/// Parses one datagram of an `inet_diag` dump reply (one or more netlink messages) and appends its
/// sockets to `out`. Kept apart from the socket I/O so that it can be fuzzed: every length in the
/// datagram comes from the kernel, or from whatever answers on the socket.
pub fn parse_datagram(family: Family, buf: &[u8], out: &mut Vec<SocketRecord>) -> Result<Dump, HostError> {
    let mut offset = 0;
    while offset < buf.len() {
        let rest = &buf[offset..];
        let len = NetlinkBuffer::new_checked(rest)
            .map_err(|e| HostError::Protocol(e.to_string()))?
            .length() as usize;
        let message = <NetlinkMessage<SockDiagMessage>>::deserialize(&rest[..len])
            .map_err(|e| HostError::Protocol(e.to_string()))?;
        match message.payload {
            NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                if let Some(record) = record(family, &r) {
                    out.push(record);
                }
            }
            NetlinkPayload::Done(_) => return Ok(Dump::Done),
            NetlinkPayload::Error(e) => {
                // The kernel sends `-errno`; `i32::MIN` has no positive counterpart (found by the
                // `sockdiag` fuzz target), and any other reply is only an unknown error.
                let code = e.code.map_or(0, |c| c.get().saturating_neg());
                return Err(HostError::Netlink(
                    "the kernel refused the inet_diag dump",
                    std::io::Error::from_raw_os_error(code),
                ));
            }
            _ => {}
        }
        // Netlink messages are 4-byte aligned (NLMSG_ALIGN).
        offset += len.max(16).next_multiple_of(4);
    }
    Ok(Dump::More)
}

fn record(family: Family, r: &InetResponse) -> Option<SocketRecord> {
    let h = &r.header;
    let id = &h.socket_id;
    let idle = r.nlas.iter().find_map(|nla| match nla {
        Nla::TcpInfo(bytes) => Some(TcpIdle {
            last_data_recv_ms: u32_at(bytes, TCPI_LAST_DATA_RECV)?,
            last_ack_recv_ms: u32_at(bytes, TCPI_LAST_ACK_RECV)?,
        }),
        _ => None,
    });
    Some(SocketRecord {
        family,
        state: KernelState::from_number(h.state)?,
        local: SocketAddr::new(id.source_address, id.source_port),
        remote: SocketAddr::new(id.destination_address, id.destination_port),
        recv_q: h.recv_queue,
        send_q: h.send_queue,
        uid: h.uid,
        inode: u64::from(h.inode),
        idle,
        owners: Vec::new(),
    })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}
