//! Socket → owning process, by inode, from `/proc/<pid>/fd`.
//!
//! `ss -p` reads every fd link of every process, then dumps the sockets. Here the scan runs alongside
//! the dump (a link costs microseconds of kernel time, and at 100k fds that is the whole bill), on as
//! many threads as there are cores, and stops as soon as every wanted socket has an owner. Processes
//! in the network namespace the sockets come from are scanned first; the others still are while
//! sockets remain unowned, since a process can hold a socket of another namespace (passed over a Unix
//! socket, or opened before `setns`). A socket shared by several processes (after `fork`) lists the
//! first found. Links are read with `readlinkat` relative to the open fd directory, which spares the
//! path walk of `/proc/<pid>/fd/<n>` for every fd.

use lifecycle::kernel::{Gap, HostEvidence, KernelState, OwnerLookup, SocketOwner};
use std::collections::HashMap;
use std::ffi::CStr;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `dump` on this thread while scanning `/proc` (`proc_root`) on others, then fills in the owners
/// of the dumped sockets whose state is in `states`. `netns` is the inode of the namespace the sockets
/// come from ([`netns_inode`]). With no `states`, nothing is scanned.
pub fn alongside<E>(
    proc_root: &Path,
    netns: Option<u64>,
    states: &[KernelState],
    dump: impl FnOnce() -> Result<HostEvidence, E>,
) -> Result<HostEvidence, E> {
    if states.is_empty() {
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
    // Same namespace first, then by pid.
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
        next: AtomicUsize::new(0),
        done: AtomicBool::new(false),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        for _ in 0..threads {
            let tx = tx.clone();
            let scan = &scan;
            scope.spawn(move || scan.run(&tx));
        }
        drop(tx);
        let result = dump();
        let evidence = result.map(|mut evidence| {
            assign(&mut evidence, states, &rx, &scan.done, proc_root);
            evidence
        });
        scan.done.store(true, Ordering::Relaxed);
        evidence
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

/// What a scanning thread learned about one process.
enum Report {
    /// (socket inode, fd) for every socket fd the process holds.
    Sockets(u32, Vec<(u64, u32)>),
    Denied,
}

/// The work shared by the scanning threads: the next process to scan, and whether to stop.
struct Scan<'a> {
    proc_root: &'a Path,
    pids: &'a [u32],
    next: AtomicUsize,
    done: AtomicBool,
}

impl Scan<'_> {
    fn run(&self, tx: &mpsc::Sender<Report>) {
        let mut link = [0u8; 64];
        while !self.done.load(Ordering::Relaxed) {
            let Some(&pid) = self.pids.get(self.next.fetch_add(1, Ordering::Relaxed)) else {
                return;
            };
            let report = match self.process(pid, &mut link) {
                Ok(fds) => Report::Sockets(pid, fds),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Report::Denied,
                Err(_) => continue, // the process exited meanwhile
            };
            if tx.send(report).is_err() {
                return;
            }
        }
    }

    /// Every socket fd of one process.
    fn process(&self, pid: u32, link: &mut [u8]) -> std::io::Result<Vec<(u64, u32)>> {
        let fd_dir = self.proc_root.join(pid.to_string()).join("fd");
        let dir = File::open(&fd_dir)?;
        let mut fds = Vec::new();
        for entry in std::fs::read_dir(&fd_dir)? {
            if self.done.load(Ordering::Relaxed) {
                break;
            }
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(inode) = read_link_at(&dir, name.as_bytes(), link).and_then(socket_inode) else {
                continue;
            };
            if let Some(fd) = name.to_str().and_then(|s| s.parse().ok()) {
                fds.push((inode, fd));
            }
        }
        Ok(fds)
    }
}

/// Wanted socket inode → index of its record. Inodes are already well spread integers: a multiply
/// is enough, and at 100k sockets SipHash shows in profiles.
type InodeMap = HashMap<u64, usize, BuildHasherDefault<InodeHasher>>;

#[derive(Default)]
struct InodeHasher(u64);

impl Hasher for InodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Matches the scanners' reports against the dumped sockets until every wanted one has an owner (then
/// tells the scanners to stop) or every process has been scanned.
fn assign(
    evidence: &mut HostEvidence,
    states: &[KernelState],
    reports: &mpsc::Receiver<Report>,
    done: &AtomicBool,
    proc_root: &Path,
) {
    let mut wanted = InodeMap::default();
    for (i, s) in evidence.sockets.iter().enumerate() {
        if s.inode != 0 && states.contains(&s.state) {
            wanted.insert(s.inode, i);
        }
    }
    let mut denied = 0usize;
    while !wanted.is_empty() {
        let Ok(report) = reports.recv() else { break };
        let (pid, fds) = match report {
            Report::Sockets(pid, fds) => (pid, fds),
            Report::Denied => {
                denied += 1;
                continue;
            }
        };
        let mut comm: Option<String> = None;
        for (inode, fd) in fds {
            let Some(i) = wanted.remove(&inode) else { continue };
            let comm = comm.get_or_insert_with(|| {
                std::fs::read(proc_root.join(pid.to_string()).join("comm"))
                    .map(|b| String::from_utf8_lossy(&b).trim_end_matches('\n').to_string())
                    .unwrap_or_default()
            });
            if let Some(s) = evidence.sockets.get_mut(i) {
                s.owners.push(SocketOwner {
                    pid,
                    comm: comm.clone(),
                    fd,
                });
            }
        }
    }
    done.store(true, Ordering::Relaxed);
    // Reports still queued may come from denied processes: count them for the explanation.
    denied += reports.try_iter().filter(|r| matches!(r, Report::Denied)).count();
    let unresolved = wanted.len();
    evidence.owners = OwnerLookup {
        states: states.to_vec(),
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
mod tests {
    use super::*;

    #[test]
    fn only_socket_links_have_inodes() {
        assert_eq!(socket_inode(b"socket:[4242]"), Some(4242));
        assert_eq!(socket_inode(b"pipe:[4242]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
    }

    #[test]
    fn reads_links_relative_to_a_directory() {
        let dir = File::open("/proc/self/fd").unwrap();
        let mut buf = [0u8; 64];
        let own = dir.as_raw_fd().to_string();
        let target = read_link_at(&dir, own.as_bytes(), &mut buf).unwrap();
        assert!(target.ends_with(b"/fd"), "{}", String::from_utf8_lossy(target));
        assert_eq!(read_link_at(&dir, b"999999", &mut buf), None);
        assert_eq!(
            read_link_at(&dir, &[b'1'; 40], &mut buf),
            None,
            "names longer than any fd"
        );
    }

    #[test]
    fn namespace_inodes_match_between_a_process_and_its_thread() {
        let own = netns_inode(Path::new("/proc/self"));
        assert!(own.is_some());
        assert_eq!(own, netns_inode(Path::new("/proc/thread-self")));
    }
}
