//! Running a snapshot inside another network namespace.
//!
//! `setns(CLONE_NEWNET)` changes only the calling thread, so the work runs on a short-lived thread
//! that is moved and then discarded: the caller's own namespace is never touched. Inside it, counters
//! must be read through `/proc/thread-self/net` (`/proc/self/net` follows the main thread).

use crate::HostError;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Runs `work` on a thread that has entered the network namespace at `path`.
pub fn run_in<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> Result<T, HostError> + Send + 'static,
) -> Result<T, HostError> {
    let file = std::fs::File::open(path).map_err(|e| HostError::Netns(path.to_path_buf(), e))?;
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        // SAFETY: setns on a valid, open namespace fd; it only changes this thread's namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc != 0 {
            return Err(HostError::Netns(path, std::io::Error::last_os_error()));
        }
        work()
    })
    .join()
    .map_err(|_| HostError::Protocol("the namespace thread panicked".into()))?
}

/// Runs `work` on a thread in a new, private network namespace with loopback up, for `tcpdoctor lab`.
///
/// The namespace has no name and no mount: it lives exactly as long as something refers to it (this
/// thread, the threads it spawns, which inherit it, and the sockets made in it), so it goes away on
/// every exit path — an error, a panic, Ctrl-C, even SIGKILL — without any cleanup code. Needs
/// CAP_SYS_ADMIN.
pub fn run_private<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HostError> {
    std::thread::spawn(move || {
        // SAFETY: unshare with CLONE_NEWNET only moves the calling thread (a multithreaded process may
        // do so); no memory is involved.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(HostError::Netns("(a new namespace)".into(), e));
        }
        loopback_up().map_err(|e| HostError::Netns("lo".into(), e))?;
        Ok(work())
    })
    .join()
    .map_err(|_| HostError::Protocol("the namespace thread panicked".into()))?
}

/// `ip link set lo up`, by the `SIOCSIFFLAGS` ioctl (netdevice(7)).
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: a plain socket(2) call; the descriptor is owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: a valid socket and a valid ifreq that outlives the call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
