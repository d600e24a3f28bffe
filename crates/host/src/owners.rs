//! Socket → owning process, by inode, from `/proc/<pid>/fd`.
//!
//! `ss -p` reads every fd link of every process, then dumps the sockets. Here the scan runs on as many
//! threads as there are cores and, in a default snapshot, stops once every wanted socket has an owner
//! (a link costs microseconds of kernel time, and at 100k fds that is the whole bill):
//! - when the owners of established sockets are wanted (`-p`), every fd is read (below): the scan
//!   runs alongside the dump. Otherwise (a default snapshot wants the holders of CLOSE-WAIT
//!   and listening sockets) it starts once the dump has said which sockets are wanted, if any, and
//!   leaves the dump its cores;
//! - the first `HEAD` fds of every process are read before any process is read to the end, since
//!   listeners and most long-lived sockets are opened first; then the rest of every process, those
//!   with the most wanted sockets in their heads first (a process that leaks CLOSE-WAIT sockets shows
//!   some there), then those with the most sockets, so that processes holding many files but no
//!   sockets (databases, log shippers) are read last, and in a default snapshot usually not at all;
//! - processes in the network namespace the sockets come from are scanned first; the others still are
//!   while sockets remain unowned, since a process can hold a socket of another namespace (passed over
//!   a Unix socket, or opened before `setns`).
//!
//! Which holders are listed: a socket held by several processes (a pre-fork server's listener, inherited
//! by every worker; an accepted connection a parent has not closed after `fork`), or twice by one
//! (`dup`), lists every holder found, ordered by pid, then fd, whatever the threads' race:
//! - when the owners of established sockets are wanted (`-p`), every fd of every process is read, as
//!   `ss -p` does, and a socket lists every process holding it;
//! - otherwise every head is read, then the rests until every wanted socket has an owner, and what
//!   has been read is decided by an order, not by the race: the rests are a sequence of units (in the
//!   order above, each cut in chunks of `CHUNK` fds), reports are applied in that order whichever
//!   thread read them first, and the scan stops after the shortest prefix of units that gives every
//!   wanted socket a holder. A socket lists its holders in the heads and in that prefix: a listener
//!   shared by a pre-fork server's workers (inherited at the same low fd, so in every head) lists them
//!   all; a CLOSE-WAIT socket beyond the heads lists its holders in the rests read until the last
//!   wanted socket was found. The same `/proc` gives the same owners, run after run. Reading every head
//!   costs little (`HEAD` links at most per process, none for a kernel thread), and a snapshot with a
//!   wanted socket beyond the heads read them all anyway.
//!
//! Links are read with `readlinkat` relative to the open fd directory, which spares the path walk of
//! `/proc/<pid>/fd/<n>` for every fd.

use lifecycle::kernel::{Gap, HostEvidence, KernelState, OwnerLookup, SocketOwner, SocketRecord};
use std::collections::{BTreeMap, HashMap};
use std::ffi::CStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError, mpsc};

/// Which dumped sockets get their owners looked up.
#[derive(Clone, Copy, Debug)]
pub struct Wanted<'a> {
    /// Every socket in these states (the ones [`OwnerLookup::states`] then names)...
    pub states: &'a [KernelState],
    /// ...and the ESTABLISHED ones idle this long (ms) without keepalive, which the keepalive audit
    /// names ([`SocketRecord::idle_without_keepalive`]).
    pub idle_without_keepalive_ms: Option<u64>,
}

impl Wanted<'_> {
    /// When the owners of established sockets are wanted, nearly every socket fd on the host must be
    /// read anyway: every fd is read, and every holder of every socket listed.
    fn every_holder(&self) -> bool {
        self.states.contains(&KernelState::Established)
    }

    fn nothing(&self) -> bool {
        self.states.is_empty() && self.idle_without_keepalive_ms.is_none()
    }

    fn wants(&self, s: &SocketRecord) -> bool {
        s.inode != 0
            && (self.states.contains(&s.state)
                || self
                    .idle_without_keepalive_ms
                    .is_some_and(|ms| s.idle_without_keepalive(ms)))
    }
}

/// Runs `dump` on this thread and scans `/proc` (`proc_root`) on others, during the dump or after it
/// (see the module's documentation), then fills in the owners of the dumped sockets `wanted`. `netns`
/// is the inode of the namespace the sockets come from ([`netns_inode`]): its processes come first in
/// each pass. When nothing is wanted, nothing is scanned.
pub fn alongside<E>(
    proc_root: &Path,
    netns: Option<u64>,
    wanted: &Wanted,
    dump: impl FnOnce() -> Result<HostEvidence, E>,
) -> Result<HostEvidence, E> {
    scan_with(crate::worker_threads(), proc_root, netns, wanted, dump)
}

/// [`alongside`] on `threads` scanning threads.
fn scan_with<E>(
    threads: usize,
    proc_root: &Path,
    netns: Option<u64>,
    wanted: &Wanted,
    dump: impl FnOnce() -> Result<HostEvidence, E>,
) -> Result<HostEvidence, E> {
    let states = wanted.states;
    if wanted.nothing() {
        return dump();
    }
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        let mut evidence = dump()?;
        evidence.owners = OwnerLookup {
            states: states.to_vec(),
            unresolved: 0,
        };
        evidence.gaps.push(Gap {
            what: "socket owners".into(),
            why: format!("{} is not readable", proc_root.display()),
        });
        return Ok(evidence);
    };
    // Same namespace first, then by pid (the order of the heads, and of rests that tie).
    let mut candidates: Vec<(bool, u32)> = dir
        .filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((netns.is_none() || netns_inode(&e.path()) != netns, pid))
        })
        .collect();
    candidates.sort_unstable();
    let pids: Vec<u32> = candidates.into_iter().map(|(_, pid)| pid).collect();
    let scan = Scan {
        proc_root,
        pids: &pids,
        wanted: OnceLock::new(),
        next_head: AtomicUsize::new(0),
        head_sockets: pids.iter().map(|_| AtomicUsize::new(0)).collect(),
        head_wanted: pids.iter().map(|_| AtomicUsize::new(0)).collect(),
        head_end: pids.iter().map(|_| AtomicU32::new(0)).collect(),
        heads_read: Rendezvous::new(threads),
        rest_order: OnceLock::new(),
        next_rest: AtomicUsize::new(0),
        done: AtomicBool::new(false),
        // When every fd is read, read them during the dump. Otherwise the few wanted owners are
        // usually found in a few heads: wait for the dump to say which (reading during it takes cores
        // from it).
        open: Mutex::new(wanted.every_holder()),
        gate: Condvar::new(),
    };
    std::thread::scope(|scope| {
        // However this closure ends, a panic included, the scanners must stop (they may be waiting
        // for the gate), or the scope would wait for them forever.
        let _stop = Finish(&scan);
        let (tx, rx) = mpsc::channel();
        let mut scanners = Vec::with_capacity(threads);
        let mut failed = 0;
        for _ in 0..threads {
            let tx = tx.clone();
            let scan = &scan;
            let started = std::thread::Builder::new()
                .name("owners".into())
                .spawn_scoped(scope, move || scan.run(&tx));
            match started {
                Ok(handle) => scanners.push(handle),
                Err(_) => {
                    // It will never come to the rendezvous: the others must not wait for it.
                    scan.heads_read.leave();
                    failed += 1;
                }
            }
        }
        drop(tx);
        let result = dump();
        let result = result.map(|mut evidence| {
            assign(&mut evidence, wanted, &rx, &scan, proc_root);
            evidence
        });
        scan.finish();
        // Joined here, a scanner's panic is counted instead of resumed by the scope.
        failed += scanners
            .into_iter()
            .map(std::thread::ScopedJoinHandle::join)
            .filter(Result::is_err)
            .count();
        result.map(|mut evidence| {
            if failed > 0 {
                evidence.gaps.push(Gap {
                    what: "socket owners".into(),
                    why: format!(
                        "{failed} of {threads} threads scanning {} failed (a bug in tcpdoctor): the \
                         processes they were reading may be missing from the owners",
                        proc_root.display()
                    ),
                });
            }
            evidence
        })
    })
}

/// The inode of a network namespace: of `/proc/<pid>` or `/proc/thread-self` (through `ns/net`), or of
/// a namespace file such as `/run/netns/NAME` itself.
#[must_use]
pub fn netns_inode(path: &Path) -> Option<u64> {
    let ns = path.join("ns/net");
    let target = if ns.exists() { ns } else { path.to_path_buf() };
    std::fs::metadata(target).ok().map(|m| m.ino())
}

/// Stops the scan when dropped.
struct Finish<'s, 'a>(&'s Scan<'a>);

impl Drop for Finish<'_, '_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// A part of the scan, in the order whose prefix decides the owners of a default snapshot (see the
/// module's documentation): every head, then the rests chunk by chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    /// The head of the process at this index into `pids`.
    Head(usize),
    /// Chunk `.1` of the rest at rank `.0` (an index into `rest_order`). Only chunks holding sockets
    /// are sent, and the last one, so they are numbered as sent.
    Rest(usize, usize),
}

/// (socket inode, fd) for every socket among some fds of one process.
type SocketFds = Vec<(u64, u32)>;

/// What a scanning thread learned about part of one process's fd table.
enum Report {
    /// (socket inode, fd) for every socket among the fds of `unit`, read in process `pid`; `last` when
    /// the unit's process part (its head, or its rest) ends with it (an empty one if need be).
    Sockets {
        unit: Unit,
        pid: u32,
        fds: SocketFds,
        last: bool,
    },
    Denied,
}

/// Which part of a process's fd table [`Scan::process`] reads.
#[derive(Clone, Copy)]
enum Part {
    /// The head of the process at this index.
    Head(usize),
    /// The rest at this rank, from this fd on.
    Rest(usize, u32),
}

/// Fds `0..HEAD` of every process are read before any process is read to the end: listening sockets,
/// and most long-lived ones, are opened first, so the owners most often wanted (listeners, in a default
/// snapshot) are found without reading every fd of the busiest processes. The head is read by number,
/// without listing the directory (listing instantiates a dentry for each of its first ~1,000 fds), and
/// ends once it has met as many fds as the process has open: since Linux 6.2 that is the size `stat`
/// gives the fd directory. Where it gives 0 (a kernel thread; or an older kernel) there is no head, and
/// the rest reads the whole table: a rest starts where its head ended.
const HEAD: u32 = 64;
/// Fds per report, so that the scan can stop inside a large process.
const CHUNK: usize = 256;

/// The work shared by the scanning threads: every process's head, then the rests, those of the
/// processes with the most wanted sockets in their heads first, then those with the most sockets (a
/// process holding many connections shows them there; one holding many files and no sockets is read
/// last, and often not at all).
///
/// Ranking by wanted sockets matters on a busy host: at a million sockets (BENCHMARKS.md), 42
/// processes hold 830,000 established sockets, their heads full of them, and one process holds the
/// 500 CLOSE-WAIT sockets, dozens in its head. Ranked by sockets alone, the 42 were read to the end
/// first: 817,000 `readlink`s (two thirds of the snapshot's CPU time) where 4,500 now suffice.
struct Scan<'a> {
    proc_root: &'a Path,
    pids: &'a [u32],
    /// The inodes of the wanted sockets, when the dump has given them before the scan starts (it
    /// starts after the dump unless the owners of established sockets are wanted).
    wanted: OnceLock<InodeMap<()>>,
    /// The next head to read (an index into `pids`).
    next_head: AtomicUsize,
    /// Per process: socket fds found in its head.
    head_sockets: Vec<AtomicUsize>,
    /// Per process: wanted socket fds found in its head (0 while `wanted` is unknown).
    head_wanted: Vec<AtomicUsize>,
    /// Per process: the first fd its head did not cover (0 until the head is read), where its rest
    /// starts.
    head_end: Vec<AtomicU32>,
    /// Where every scanning thread waits for the others to finish the heads.
    heads_read: Rendezvous,
    /// Indices into `pids`, in the order their rests are read.
    rest_order: OnceLock<Vec<usize>>,
    /// The next rest to read (an index into `rest_order`).
    next_rest: AtomicUsize,
    done: AtomicBool,
    /// Whether the scan may start; scanners wait on `gate` until it may, or until `done`.
    open: Mutex<bool>,
    gate: Condvar,
}

impl Scan<'_> {
    fn run(&self, tx: &mpsc::Sender<Report>) {
        let mut link = [0u8; 64];
        // Leaves the rendezvous if this thread panics before it arrives there.
        let member = Member(Some(&self.heads_read));
        if self.wait_until_open() {
            while let Some(i) = self.claim(&self.next_head, self.pids.len()) {
                match self.process(self.pids[i], Part::Head(i), &mut link, tx) {
                    Ok((sockets, wanted, end)) => {
                        self.head_sockets[i].store(sockets, Ordering::Relaxed);
                        self.head_wanted[i].store(wanted, Ordering::Relaxed);
                        self.head_end[i].store(end, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if e.kind() == std::io::ErrorKind::PermissionDenied {
                            let _ = tx.send(Report::Denied); // counted once per process, here
                        } // else the process exited meanwhile
                        nothing_read(Unit::Head(i), self.pids[i], tx);
                    }
                }
            }
        }
        // Every thread comes here, whatever happened above, unless it panicked: then `member` left.
        member.arrive();
        let order = self.rest_order.get_or_init(|| {
            let mut order: Vec<usize> = (0..self.pids.len()).collect();
            order.sort_by_key(|&i| {
                std::cmp::Reverse((
                    self.head_wanted[i].load(Ordering::Relaxed),
                    self.head_sockets[i].load(Ordering::Relaxed),
                ))
            });
            order
        });
        while let Some(k) = self.claim(&self.next_rest, order.len()) {
            let i = order[k];
            let from = self.head_end[i].load(Ordering::Relaxed);
            if self
                .process(self.pids[i], Part::Rest(k, from), &mut link, tx)
                .is_err()
            {
                nothing_read(Unit::Rest(k, 0), self.pids[i], tx);
            }
        }
    }

    /// The next index below `len` from `counter`, unless the scan is over.
    fn claim(&self, counter: &AtomicUsize, len: usize) -> Option<usize> {
        if self.done.load(Ordering::Relaxed) {
            return None;
        }
        let i = counter.fetch_add(1, Ordering::Relaxed);
        (i < len).then_some(i)
    }

    /// Blocks until the scan may start (true) or is over (false).
    fn wait_until_open(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let open = self
            .gate
            .wait_while(open, |open| !*open && !self.done.load(Ordering::Relaxed))
            .unwrap_or_else(PoisonError::into_inner);
        *open && !self.done.load(Ordering::Relaxed)
    }

    /// Lets the scanners start, if they have not yet, telling them which sockets are wanted.
    fn open(&self, wanted: &InodeMap) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if !*open {
            let _ = self.wanted.set(wanted.keys().map(|&inode| (inode, ())).collect());
            *open = true;
        }
        self.gate.notify_all();
    }

    /// Stops the scanners, waiting ones included.
    fn finish(&self) {
        let _open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        self.done.store(true, Ordering::Relaxed);
        self.gate.notify_all();
    }

    /// Reads the head of one process's fd table (fds below [`HEAD`]), or its rest (every fd from the
    /// given one on), reporting its socket fds every [`CHUNK`] fds, and at the end (unless the scan
    /// stopped meanwhile). Returns how many socket fds it found, how many of them are wanted (when
    /// that is known), and the first fd it did not cover. An error comes before any report.
    fn process(
        &self,
        pid: u32,
        part: Part,
        link: &mut [u8],
        tx: &mpsc::Sender<Report>,
    ) -> std::io::Result<(usize, usize, u32)> {
        #[cfg(test)]
        assert_ne!(pid, tests::PANICS, "a scanner fails, as a bug would make it");
        let fd_dir = self.proc_root.join(pid.to_string()).join("fd");
        let dir = File::open(&fd_dir)?;
        let mut fds = Vec::new();
        let (mut found, mut found_wanted) = (0, 0);
        let wanted = self.wanted.get();
        // The unit of the next report (a head is one unit; a rest's chunks are numbered as sent).
        let mut unit = match part {
            Part::Head(i) => Unit::Head(i),
            Part::Rest(rank, _) => Unit::Rest(rank, 0),
        };
        // Whether the fd is open.
        let mut visit = |fd: u32, name: &[u8], read: usize| {
            let target = read_link_at(&dir, name, link);
            if let Some(inode) = target.and_then(socket_inode) {
                fds.push((inode, fd));
                found += 1;
                if wanted.is_some_and(|w| w.contains_key(&inode)) {
                    found_wanted += 1;
                }
            }
            if let Unit::Rest(rank, chunk) = unit
                && read % CHUNK == 0
                && !fds.is_empty()
            {
                let fds = std::mem::take(&mut fds);
                let _ = tx.send(Report::Sockets {
                    unit,
                    pid,
                    fds,
                    last: false,
                });
                unit = Unit::Rest(rank, chunk + 1);
            }
            target.is_some()
        };
        let mut end = u32::MAX;
        if let Part::Rest(_, from) = part {
            let mut read = 0;
            for entry in std::fs::read_dir(&fd_dir)? {
                if self.done.load(Ordering::Relaxed) {
                    return Ok((found, found_wanted, end)); // nobody waits for the rest
                }
                let Ok(entry) = entry else { continue };
                let name = entry.file_name();
                let Some(fd) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                if fd >= from {
                    read += 1;
                    visit(fd, name.as_bytes(), read);
                }
            }
        } else {
            let open = dir.metadata()?.len();
            let mut met = 0;
            end = HEAD;
            for fd in 0..HEAD {
                if met == open {
                    end = fd;
                    break;
                }
                if visit(fd, fd.to_string().as_bytes(), 1) {
                    met += 1;
                }
            }
        }
        let _ = tx.send(Report::Sockets {
            unit,
            pid,
            fds,
            last: true,
        });
        Ok((found, found_wanted, end))
    }
}

/// Where the scanning threads wait for each other between the heads and the rests. Unlike
/// `std::sync::Barrier`, it also counts the threads that will never arrive (one that panicked, or
/// could not be started) as they leave, so that the others do not wait for them forever: the rests
/// are then read by the threads that remain (a process whose head was lost is read whole).
struct Rendezvous {
    /// Threads that have neither arrived nor left.
    expected: Mutex<usize>,
    all_in: Condvar,
}

impl Rendezvous {
    fn new(threads: usize) -> Rendezvous {
        Rendezvous {
            expected: Mutex::new(threads),
            all_in: Condvar::new(),
        }
    }

    /// One thread will never arrive.
    fn leave(&self) {
        drop(self.depart());
    }

    /// Arrives, and waits until every other thread has arrived or left.
    fn arrive(&self) {
        let expected = self.depart();
        drop(
            self.all_in
                .wait_while(expected, |n| *n > 0)
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// One thread fewer to wait for (the last one wakes those waiting); the count stays locked.
    fn depart(&self) -> MutexGuard<'_, usize> {
        let mut expected = self.expected.lock().unwrap_or_else(PoisonError::into_inner);
        *expected = expected.saturating_sub(1);
        if *expected == 0 {
            self.all_in.notify_all();
        }
        expected
    }
}

/// A scanning thread's place at the [`Rendezvous`]: given up when dropped before it arrived.
struct Member<'r>(Option<&'r Rendezvous>);

impl Member<'_> {
    fn arrive(mut self) {
        if let Some(r) = self.0.take() {
            r.arrive();
        }
    }
}

impl Drop for Member<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            r.leave();
        }
    }
}

/// Socket inode → (for a wanted socket) the index of its record.
type InodeMap<V = usize> = crate::int_map::IntMap<V>;

/// Tells the assigner that `unit` of `pid` was not read (the process exited, or its fds are not
/// readable), so that it does not hold back the units after it.
fn nothing_read(unit: Unit, pid: u32, tx: &mpsc::Sender<Report>) {
    let fds = Vec::new();
    let _ = tx.send(Report::Sockets {
        unit,
        pid,
        fds,
        last: true,
    });
}

/// The scanners' reports put back in the order of their units, whichever thread sent them first.
struct InOrder {
    heads: usize,
    /// The unit whose report comes next.
    next: Unit,
    /// Reports come too early: (pid, socket fds, last of its part) by unit.
    early: BTreeMap<Unit, (u32, SocketFds, bool)>,
}

impl InOrder {
    fn new(heads: usize) -> InOrder {
        InOrder {
            heads,
            next: if heads > 0 {
                Unit::Head(0)
            } else {
                Unit::Rest(0, 0)
            },
            early: BTreeMap::new(),
        }
    }

    fn push(&mut self, unit: Unit, pid: u32, fds: SocketFds, last: bool) {
        self.early.insert(unit, (pid, fds, last));
    }

    /// The next report in order, if it has come: (pid, socket fds).
    fn pop(&mut self) -> Option<(u32, SocketFds)> {
        let (pid, fds, last) = self.early.remove(&self.next)?;
        self.next = match self.next {
            Unit::Head(i) if i + 1 < self.heads => Unit::Head(i + 1),
            Unit::Head(_) => Unit::Rest(0, 0),
            Unit::Rest(rank, _) if last => Unit::Rest(rank + 1, 0),
            Unit::Rest(rank, chunk) => Unit::Rest(rank, chunk + 1),
        };
        Some((pid, fds))
    }

    /// Whether every head has been applied.
    fn past_heads(&self) -> bool {
        matches!(self.next, Unit::Rest(..))
    }

    /// What remains, in order, gaps skipped (once no scanner is left to fill them).
    fn drain(&mut self) -> impl Iterator<Item = (u32, SocketFds)> {
        std::mem::take(&mut self.early)
            .into_values()
            .map(|(pid, fds, _)| (pid, fds))
    }
}

/// Matches the scanners' reports, in the order of their units, against the dumped sockets: until
/// every process has been scanned when every holder is wanted, else until every wanted socket has an
/// owner (then tells the scanners to stop). Leaves each socket's owners ordered by pid, then fd.
fn assign(
    evidence: &mut HostEvidence,
    which: &Wanted,
    reports: &mpsc::Receiver<Report>,
    scan: &Scan,
    proc_root: &Path,
) {
    let mut wanted = InodeMap::default();
    for (i, s) in evidence.sockets.iter().enumerate() {
        if which.wants(s) {
            wanted.insert(s.inode, i);
        }
    }
    let mut unowned = wanted.len();
    let mut names = Names::new(proc_root);
    let mut order = InOrder::new(scan.pids.len());
    // Every head is read (the holders of a listener a pre-fork server's workers share are all found
    // there), then the rests until every wanted socket has an owner, or all when every holder is.
    let complete = |unowned: usize, order: &InOrder| {
        wanted.is_empty() || (unowned == 0 && !which.every_holder() && order.past_heads())
    };
    let mut denied = 0usize;
    if !wanted.is_empty() {
        scan.open(&wanted);
    }
    while !complete(unowned, &order) {
        let Ok(report) = reports.recv() else {
            // Every scanner is done: what they read counts, in order.
            for (pid, fds) in order.drain() {
                unowned -= give(&mut evidence.sockets, &wanted, &mut names, pid, fds);
            }
            break;
        };
        let Report::Sockets { unit, pid, fds, last } = report else {
            denied += 1;
            continue;
        };
        order.push(unit, pid, fds, last);
        while !complete(unowned, &order)
            && let Some((pid, fds)) = order.pop()
        {
            unowned -= give(&mut evidence.sockets, &wanted, &mut names, pid, fds);
        }
    }
    scan.finish();
    for &i in wanted.values() {
        if let Some(s) = evidence.sockets.get_mut(i) {
            s.owners.sort_unstable_by_key(|o| (o.pid, o.fd));
            // A head read again whole after its thread failed gives its fds twice.
            s.owners.dedup();
        }
    }
    // Reports still queued may come from denied processes: count them for the explanation.
    denied += reports.try_iter().filter(|r| matches!(r, Report::Denied)).count();
    let unresolved = unowned;
    evidence.owners = OwnerLookup {
        states: which.states.to_vec(),
        unresolved,
    };
    if unresolved > 0 {
        evidence.gaps.push(Gap {
            what: format!("owners of {unresolved} sockets"),
            why: if denied > 0 {
                format!(
                    "the fd tables of {denied} processes are not readable by this user \
                     (reading another user's /proc/<pid>/fd needs root or CAP_SYS_PTRACE)"
                )
            } else {
                format!(
                    "no process visible under {} holds them (a process in another PID namespace, or one that \
                     closed them after the dump)",
                    proc_root.display()
                )
            },
        });
    }
}

/// Process names (`/proc/<pid>/comm`), each read once.
struct Names<'a> {
    proc_root: &'a Path,
    by_pid: HashMap<u32, String>,
}

impl Names<'_> {
    fn new(proc_root: &Path) -> Names<'_> {
        Names {
            proc_root,
            by_pid: HashMap::new(),
        }
    }

    fn of(&mut self, pid: u32) -> &str {
        self.by_pid.entry(pid).or_insert_with(|| {
            std::fs::read(self.proc_root.join(pid.to_string()).join("comm"))
                .map(|b| String::from_utf8_lossy(&b).trim_end_matches('\n').to_string())
                .unwrap_or_default()
        })
    }
}

/// Adds `pid` to the owners of the wanted sockets among `fds` (socket inode, fd); returns how many of
/// them had no owner before.
fn give(
    sockets: &mut [SocketRecord],
    wanted: &InodeMap,
    names: &mut Names,
    pid: u32,
    fds: SocketFds,
) -> usize {
    let mut first = 0;
    for (inode, fd) in fds {
        let Some(s) = wanted.get(&inode).and_then(|&i| sockets.get_mut(i)) else {
            continue;
        };
        first += usize::from(s.owners.is_empty());
        let comm = names.of(pid).to_string();
        s.owners.push(SocketOwner { pid, comm, fd });
    }
    first
}

/// `readlinkat(dir, name)` into `buf`; `None` for anything unexpected (a closed fd, a long name).
fn read_link_at<'b>(dir: &File, name: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let mut cname = [0u8; 32];
    cname.get_mut(..name.len())?.copy_from_slice(name);
    let cname = CStr::from_bytes_until_nul(&cname).ok()?;
    // SAFETY: `dir` is an open directory, `cname` is NUL-terminated, and the kernel writes at most
    // `buf.len()` bytes into `buf`.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    buf.get(..usize::try_from(n).ok()?)
}

/// `socket:[12345]` → 12345.
pub(crate) fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
#[path = "owners_tests.rs"]
mod tests;
