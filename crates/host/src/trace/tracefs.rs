//! Tracefs: finding (or mounting) it, and a private instance that is removed when dropped.
//!
//! An instance (`instances/NAME`, `kernel/trace/trace.c`, `instance_mkdir`) has its own ring buffers,
//! event switches and options, so tcpdoctor never touches the top-level buffer another tool may be
//! using, and removing the directory undoes everything it enabled.

use super::TraceError;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where tracefs is mounted by default since Linux 4.1.
const DEFAULT_MOUNT: &str = "/sys/kernel/tracing";
/// The prefix of instance names; the rest is the owning process id, so that a leftover of a killed run
/// (`SIGKILL` leaves no chance to clean up) can be recognised and removed by the next one.
const INSTANCE_PREFIX: &str = "tcpdoctor-";

/// The tracefs mount point: the first `tracefs` in `/proc/self/mounts`, else the directory tracefs is
/// mounted on here (tracefs stays mounted afterwards, as `perf` and `trace-cmd` leave it).
pub fn root() -> Result<PathBuf, TraceError> {
    if let Some(p) = mounted()? {
        return Ok(p);
    }
    // SAFETY: valid NUL-terminated strings (the target is DEFAULT_MOUNT); no data argument.
    let rc = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            c"/sys/kernel/tracing".as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(TraceError::NoTracefs(format!(
            "tracefs is not mounted and mounting it on {DEFAULT_MOUNT} failed: {e}"
        )));
    }
    Ok(PathBuf::from(DEFAULT_MOUNT))
}

fn mounted() -> Result<Option<PathBuf>, TraceError> {
    let mounts =
        fs::read_to_string("/proc/self/mounts").map_err(|e| TraceError::Io("/proc/self/mounts".into(), e))?;
    Ok(mounts.lines().find_map(|line| {
        let mut f = line.split_whitespace();
        let (_, dir, kind) = (f.next()?, f.next()?, f.next()?);
        (kind == "tracefs").then(|| PathBuf::from(unescape_mount(dir)))
    }))
}

/// `/proc/mounts` writes space, tab, newline and backslash in paths as octal escapes (`\040`).
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(
                    d.iter()
                        .fold(0u8, |n, c| n.wrapping_mul(8).wrapping_add(c - b'0')),
                );
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A private tracefs instance; the directory is removed on drop.
#[derive(Debug)]
pub struct Instance {
    dir: PathBuf,
    removed: bool,
}

impl Instance {
    /// Creates `instances/tcpdoctor-<pid>` after removing leftovers of runs that no longer exist.
    pub fn create(root: &Path) -> Result<Instance, TraceError> {
        let instances = root.join("instances");
        remove_stale(&instances);
        let dir = instances.join(format!("{INSTANCE_PREFIX}{}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => {}
            // Our own pid: a leftover of an earlier run whose pid was reused.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_dir(&dir).map_err(|e| TraceError::Io(dir.clone(), e))?;
                fs::create_dir(&dir).map_err(|e| TraceError::Io(dir.clone(), e))?;
            }
            Err(e) => return Err(TraceError::Io(dir, e)),
        }
        Ok(Instance { dir, removed: false })
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a control file of the instance (`events/tcp/tcp_send_reset/enable`, `trace_clock`, ...).
    pub fn write(&self, file: &str, value: &str) -> Result<(), TraceError> {
        let path = self.dir.join(file);
        fs::write(&path, value).map_err(|e| TraceError::Io(path, e))
    }

    /// Reads a control or format file whole.
    pub fn read(&self, file: &str) -> Result<String, TraceError> {
        let path = self.dir.join(file);
        read_whole(&path).map_err(|e| TraceError::Io(path, e))
    }

    /// Removes the instance, saying why it could not be (open files of it keep it busy).
    pub fn remove(mut self) -> Result<(), TraceError> {
        self.removed = true;
        remove_dir(&self.dir).map_err(|e| TraceError::Io(self.dir.clone(), e))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if !self.removed {
            let _ = remove_dir(&self.dir);
        }
    }
}

/// Tracefs files report size 0, and some answer only a read at offset 0 (`events/header_page`:
/// `show_header_page_file` returns nothing once `*ppos` is set), so a small first read — as
/// `read_to_string` makes for a 0-size file — loses the rest. One large read first, then the remainder.
pub fn read_whole(path: &Path) -> io::Result<String> {
    use std::io::Read as _;
    const LIMIT: usize = 1 << 20;
    let mut file = fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            if buf.len() >= LIMIT {
                break;
            }
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `rmdir` of an instance can fail with `EBUSY` for a moment after its files were closed (the kernel
/// drops its references asynchronously); a few short retries, bounded.
fn remove_dir(dir: &Path) -> io::Result<()> {
    let mut last = Ok(());
    for _ in 0..20 {
        last = fs::remove_dir(dir);
        match &last {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(_) => return last,
        }
    }
    last
}

/// Instances named `tcpdoctor-<pid>` whose process is gone were left by a run that was killed.
fn remove_stale(instances: &Path) {
    let Ok(entries) = fs::read_dir(instances) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(INSTANCE_PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if !alive {
            let _ = remove_dir(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_are_unescaped() {
        assert_eq!(unescape_mount("/sys/kernel/tracing"), "/sys/kernel/tracing");
        assert_eq!(unescape_mount("/a\\040b"), "/a b");
        assert_eq!(unescape_mount("/a\\04"), "/a\\04");
        assert_eq!(unescape_mount("\\"), "\\");
    }
}
