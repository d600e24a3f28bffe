//! Plays a scenario's steps with real kernel sockets, inside the lab's namespace, and records what
//! each call returned: the errno the application saw is part of the evidence.

use super::scenarios::{Act, Step, Who};
use crate::output::wall_clock;
use lifecycle::Timestamp;
use lifecycle::kernel::HostEvidence;
use socket2::{Domain, SockAddr, SockFilter, Socket, Type};
use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a connect may take before the lab gives up on it (the handshake is microseconds on
/// loopback; only `unanswered-syn` waits, for its `TCP_USER_TIMEOUT`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// `TCP_USER_TIMEOUT` on every client: an unanswered SYN gives up after this long.
const USER_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a `recv` waits for something to arrive.
const RECV_WAIT: Duration = Duration::from_millis(200);
/// The longest a scenario may ask to wait in one step.
const MAX_WAIT_MS: u64 = 5_000;

/// What one step returned.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub who: Who,
    pub action: String,
    /// `ok`, `28 bytes`, `end of stream`, or the errno's name and words (`ECONNRESET (Connection
    /// reset by peer)`).
    pub result: String,
    /// The errno's name, when the call failed.
    pub errno: Option<&'static str>,
}

/// A snapshot of the socket table taken during the scenario.
pub struct Snapshot {
    pub label: &'static str,
    pub time: Timestamp,
    pub evidence: HostEvidence,
}

/// The sockets a scenario has open.
pub struct Player {
    server: SocketAddr,
    listener: Option<Socket>,
    accepted: Vec<Socket>,
    clients: Vec<Socket>,
    pub outcomes: Vec<Outcome>,
    pub snapshots: Vec<Snapshot>,
}

impl Player {
    pub fn new(server: SocketAddr) -> Player {
        Player {
            server,
            listener: None,
            accepted: Vec::new(),
            clients: Vec::new(),
            outcomes: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    /// Plays every step in order.
    pub fn play(&mut self, steps: &[Step]) {
        for step in steps {
            let (action, result) = self.act(step.who, step.act);
            let errno = result.as_ref().err().and_then(errno_name);
            let result = match result {
                Ok(r) => r,
                Err(e) => describe_error(&e),
            };
            self.outcomes.push(Outcome {
                who: step.who,
                action,
                result,
                errno,
            });
        }
    }

    /// The socket a server step acts on: the connection accepted last, else the listener.
    fn server_socket(&self) -> io::Result<&Socket> {
        self.accepted
            .last()
            .or(self.listener.as_ref())
            .ok_or_else(|| io::Error::other("the server has no socket yet"))
    }

    fn client_socket(&self) -> io::Result<&Socket> {
        self.clients
            .last()
            .ok_or_else(|| io::Error::other("the client has no socket yet"))
    }

    fn socket(&self, who: Who) -> io::Result<&Socket> {
        match who {
            Who::Server => self.server_socket(),
            Who::Client | Who::Lab => self.client_socket(),
        }
    }

    fn act(&mut self, who: Who, act: Act) -> (String, io::Result<String>) {
        let ok = |r: io::Result<()>| r.map(|()| "ok".to_string());
        match act {
            Act::Listen { backlog } => (
                format!("listen on {} (backlog {backlog})", self.server),
                ok(self.listen(backlog)),
            ),
            Act::Connect => (
                format!("connect to {}", self.server),
                self.connect(self.server).map(|local| format!("ok, from {local}")),
            ),
            Act::ConnectClosedPort => {
                let mut closed = self.server;
                closed.set_port(self.server.port().wrapping_add(1));
                (
                    format!("connect to {closed}"),
                    self.connect(closed).map(|_| "ok".into()),
                )
            }
            Act::Accept => ("accept".into(), self.accept()),
            Act::Send(n) => (format!("send {n} bytes"), self.send(who, n)),
            Act::Recv => ("recv".into(), self.recv(who)),
            Act::ShutdownWrite => (
                "shutdown(SHUT_WR)".into(),
                ok(self
                    .socket(who)
                    .and_then(|s| s.shutdown(std::net::Shutdown::Write))),
            ),
            Act::Close => ("close".into(), ok(self.close(who))),
            Act::LingerZero => (
                "setsockopt(SO_LINGER, {on, 0})".into(),
                ok(self.socket(who).and_then(|s| s.set_linger(Some(Duration::ZERO)))),
            ),
            Act::DropArriving(on) => (
                if on {
                    "drop every arriving segment (socket filter)".into()
                } else {
                    "stop dropping".into()
                },
                ok(self.socket(who).and_then(|s| drop_arriving(s, on))),
            ),
            Act::Wait(ms) => {
                std::thread::sleep(Duration::from_millis(ms.min(MAX_WAIT_MS)));
                (format!("wait {ms} ms"), Ok("ok".into()))
            }
            Act::Snapshot(label) => (format!("socket table: {label}"), self.snapshot(label)),
            Act::Sysctl(key, value) => (
                format!("sysctl net.{}={value}", key.replace('/', ".")),
                ok(std::fs::write(format!("/proc/sys/net/{key}"), value)),
            ),
            Act::Churn(count) => (
                format!("{count} short connections, each closed by the client first"),
                self.churn(count),
            ),
            Act::ConnectPending(count) => (
                format!("{count} connects, left pending"),
                self.connect_pending(count),
            ),
        }
    }

    fn listen(&mut self, backlog: i32) -> io::Result<()> {
        let s = Socket::new(Domain::for_address(self.server), Type::STREAM, None)?;
        s.set_reuse_address(true)?;
        s.bind(&SockAddr::from(self.server))?;
        s.listen(backlog)?;
        self.listener = Some(s);
        Ok(())
    }

    /// A blocking connect (bounded by [`CONNECT_TIMEOUT`]); the client keeps the socket even when it
    /// failed, as a program holds its socket until it closes it.
    fn connect(&mut self, to: SocketAddr) -> io::Result<SocketAddr> {
        let s = Socket::new(Domain::for_address(to), Type::STREAM, None)?;
        s.set_tcp_user_timeout(Some(USER_TIMEOUT))?;
        let result = s.connect_timeout(&SockAddr::from(to), CONNECT_TIMEOUT);
        let local = s.local_addr().ok().and_then(|a| a.as_socket());
        self.clients.push(s);
        result?;
        local.ok_or_else(|| io::Error::other("no local address"))
    }

    fn accept(&mut self) -> io::Result<String> {
        let listener = self
            .listener
            .as_ref()
            .ok_or_else(|| io::Error::other("the server does not listen"))?;
        listener.set_nonblocking(true)?;
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            match listener.accept() {
                Ok((s, peer)) => {
                    s.set_nonblocking(false)?;
                    self.accepted.push(s);
                    let peer = peer.as_socket().map(|p| p.to_string()).unwrap_or_default();
                    return Ok(format!("ok, from {peer}"));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn send(&self, who: Who, n: usize) -> io::Result<String> {
        let mut s = self.socket(who)?;
        let sent = s.write(&vec![b'x'; n])?;
        Ok(format!("ok, {sent} bytes"))
    }

    fn recv(&self, who: Who) -> io::Result<String> {
        let mut s = self.socket(who)?;
        s.set_read_timeout(Some(RECV_WAIT))?;
        let mut buf = vec![0u8; 1 << 16];
        match s.read(&mut buf)? {
            0 => Ok("end of stream (the peer's FIN)".into()),
            n => Ok(format!("{n} bytes")),
        }
    }

    fn close(&mut self, who: Who) -> io::Result<()> {
        let socket = match who {
            Who::Server if !self.accepted.is_empty() => self.accepted.pop(),
            Who::Server => self.listener.take(),
            Who::Client | Who::Lab => self.clients.pop(),
        };
        socket
            .map(drop)
            .ok_or_else(|| io::Error::other("nothing to close"))
    }

    fn snapshot(&mut self, label: &'static str) -> io::Result<String> {
        let options = host::SnapshotOptions {
            owner_states: lifecycle::kernel::KernelState::WITH_FILES.to_vec(),
            ..host::SnapshotOptions::default()
        };
        let time = wall_clock();
        let evidence = host::snapshot(&options).map_err(io::Error::other)?;
        let n = evidence.sockets.len();
        self.snapshots.push(Snapshot {
            label,
            time,
            evidence,
        });
        Ok(format!("{n} sockets"))
    }

    /// Short connections closed by the client first, until `count` or the first failure (the port
    /// range running out).
    fn churn(&mut self, count: u32) -> io::Result<String> {
        for _ in 0..count {
            if let Err(e) = self.connect(self.server) {
                self.clients.pop();
                return Err(e);
            }
            self.accept()?;
            self.close(Who::Client)?;
            // The server reads the FIN before it closes, so that the client keeps TIME-WAIT.
            let _ = self.recv(Who::Server);
            self.close(Who::Server)?;
        }
        Ok(format!("ok, {count} connections"))
    }

    fn connect_pending(&mut self, count: u32) -> io::Result<String> {
        for _ in 0..count {
            let s = Socket::new(Domain::for_address(self.server), Type::STREAM, None)?;
            s.set_nonblocking(true)?;
            s.set_tcp_user_timeout(Some(USER_TIMEOUT))?;
            match s.connect(&SockAddr::from(self.server)) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
                Err(e) => return Err(e),
            }
            self.clients.push(s);
            // One at a time, so that which ones the queue takes is deterministic.
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok("ok".into())
    }
}

/// A classic BPF socket filter (socket(7) `SO_ATTACH_FILTER`) of one instruction, `ret #0`: every
/// arriving segment is dropped before TCP sees it (`tcp_filter()`); the capture still sees it.
fn drop_arriving(s: &Socket, on: bool) -> io::Result<()> {
    if on {
        const BPF_RET_K: u16 = 0x06;
        s.attach_filter(&[SockFilter::new(BPF_RET_K, 0, 0, 0)])
    } else {
        s.detach_filter()
    }
}

/// The errno's name, for the errors a scenario expects.
fn errno_name(e: &io::Error) -> Option<&'static str> {
    let name = match e.raw_os_error()? {
        libc::ECONNRESET => "ECONNRESET",
        libc::EPIPE => "EPIPE",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EAGAIN => "EAGAIN",
        libc::EINPROGRESS => "EINPROGRESS",
        libc::ENOTCONN => "ENOTCONN",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        _ => return None,
    };
    Some(name)
}

fn describe_error(e: &io::Error) -> String {
    let words = e.to_string();
    let words = words.split(" (os error").next().unwrap_or(&words).to_string();
    match errno_name(e) {
        Some(name) => format!("{name} ({words})"),
        None => words,
    }
}
