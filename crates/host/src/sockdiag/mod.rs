//! Socket snapshots over netlink `sock_diag` (`inet_diag`): the interface `ss` uses, not `/proc/net/tcp`.
//!
//! What a dump costs the kernel (measured at 95k sockets, BENCHMARKS.md): walking its connection
//! table, about 0.3 µs per socket of every namespace, and filling a record for each socket the request
//! keeps, about 1.3 µs. So a snapshot
//! - walks once for both families: the original `TCPDIAG_GETSOCK` request dumps with `AF_UNSPEC`
//!   (kept by the kernel for old `ss`); if a kernel refuses it, one `SOCK_DIAG_BY_FAMILY` walk per family;
//! - fills on every core: the table is split into [`PortBand`]s, one dump each, side by side;
//! - asks the kernel to filter by state (the request's bitmask) and asks for `tcp_info` only for the
//!   states that need it: in the one walk when ESTABLISHED sockets need it, else in a second dump made
//!   only when such sockets exist;
//! - gives every socket once, though sockets change while the kernel walks ([`once_each`]).
//!
//! Replies are parsed datagram by datagram as they arrive (`wire`); nothing holds a dump as bytes.

mod band;
mod once;
mod wire;

pub use band::PortBand;
pub use once::once_each;
pub use wire::{Dump, Request, parse_datagram};

use crate::HostError;
use lifecycle::kernel::{Family, KernelState, SocketRecord};
use netlink_sys::{Socket, SocketAddr as NlAddr, protocols::NETLINK_SOCK_DIAG};

/// Appends the sockets whose state is in the bitmask `states` to `out`, dumped in `bands` side by side.
/// Sockets whose state is also in `info_states` carry their idle times from `tcp_info` (when that
/// includes ESTABLISHED, every socket that has a `tcp_info` does). Returns why IPv6 sockets are
/// missing, if they are (only a kernel that dumps one family per walk can fail one family alone).
/// Each socket is given once, with its latest record ([`once_each`]).
pub fn dump(
    states: u32,
    info_states: u32,
    bands: &[PortBand],
    out: &mut Vec<SocketRecord>,
) -> Result<Option<HostError>, HostError> {
    // `tcp_info` triples a record. ESTABLISHED sockets are the bulk of nearly any table: when they want
    // it, it is asked for in the one walk (at 38k sockets that cost 6 % more time, where a second walk
    // for them cost 55 %: BENCHMARKS.md). Otherwise the few sockets that want it are dumped again.
    let established = KernelState::Established.mask_bit();
    let in_one_walk = states & info_states & established != 0;
    let ext = if in_one_walk { wire::EXT_INFO } else { 0 };
    let mut parts = dump_bands(states, ext, bands)?;
    let wants_info = |s: &SocketRecord| info_states & s.state.mask_bit() != 0;
    if !in_one_walk && parts.iter().any(|part| part.sockets.iter().any(wants_info)) {
        // Dump those again with `tcp_info`; their records replace the first walk's, socket by socket.
        // A socket's ports never change: it is in the same band in both walks.
        let again = dump_bands(states & info_states, wire::EXT_INFO, bands)?;
        for (part, mut again) in parts.iter_mut().zip(again) {
            part.sockets.append(&mut again.sockets);
        }
    }
    // Band by band, side by side: one map probe per socket, the one cost this adds to a snapshot.
    if let Some((first, rest)) = parts.split_first_mut() {
        std::thread::scope(|scope| {
            for part in rest {
                scope.spawn(|| once_each(&mut part.sockets));
            }
            once_each(&mut first.sockets);
        });
    }
    let mut without_v6 = None;
    for mut part in parts {
        out.append(&mut part.sockets);
        without_v6 = without_v6.or(part.without_v6);
    }
    Ok(without_v6)
}

/// One dump per band, side by side: the first on this thread.
fn dump_bands(states: u32, ext: u8, bands: &[PortBand]) -> Result<Vec<Dumped>, HostError> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = bands
            .iter()
            .skip(1)
            .map(|&band| scope.spawn(move || dump_band(states, ext, band)))
            .collect();
        let first = dump_band(states, ext, bands.first().copied().unwrap_or(PortBand::ALL));
        std::iter::once(first)
            .chain(workers.into_iter().map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(HostError::Protocol("a dump thread panicked".into())))
            }))
            .collect()
    })
}

/// What one band's dump gave.
#[derive(Debug)]
pub struct Dumped {
    pub sockets: Vec<SocketRecord>,
    /// Why the IPv6 sockets are missing, when the per-family dump of IPv6 failed alone.
    pub without_v6: Option<HostError>,
}

/// One band, in one walk if the kernel takes the two-family request, else in one per family.
pub fn dump_band(states: u32, ext: u8, band: PortBand) -> Result<Dumped, HostError> {
    let bytecode = band.bytecode();
    let socket = open()?;
    let mut sockets = Vec::new();
    match run(
        &socket,
        Request::BothFamilies,
        states,
        ext,
        &bytecode,
        &mut sockets,
    ) {
        Err(HostError::Refused(_)) if sockets.is_empty() => {
            run(
                &socket,
                Request::Family(Family::V4),
                states,
                ext,
                &bytecode,
                &mut sockets,
            )?;
            let v6 = run(
                &socket,
                Request::Family(Family::V6),
                states,
                ext,
                &bytecode,
                &mut sockets,
            );
            Ok(Dumped {
                sockets,
                without_v6: v6.err(),
            })
        }
        result => result.map(|()| Dumped {
            sockets,
            without_v6: None,
        }),
    }
}

/// Sends one request on `socket` and appends what it dumps to `out`.
pub fn run(
    socket: &Socket,
    kind: Request,
    states: u32,
    ext: u8,
    bytecode: &[u8],
    out: &mut Vec<SocketRecord>,
) -> Result<(), HostError> {
    socket
        .send(&wire::request(kind, states, ext, bytecode), 0)
        .map_err(|e| HostError::Netlink("sending the inet_diag dump request", e))?;
    // The kernel fills at most 32 KiB per datagram, and only that much when the reader offers it.
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
        if parse_datagram(&buf, out)? == Dump::Done {
            return Ok(());
        }
    }
}

/// A `NETLINK_SOCK_DIAG` socket talking to the kernel, in the calling thread's network namespace.
pub fn open() -> Result<Socket, HostError> {
    let io = |e| HostError::Netlink("opening a NETLINK_SOCK_DIAG socket", e);
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(io)?;
    socket.bind_auto().map_err(io)?;
    socket.connect(&NlAddr::new(0, 0)).map_err(io)?;
    Ok(socket)
}
