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
