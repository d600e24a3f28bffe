//! Privileges: run as `nobody` (uid 65534, through util-linux `setpriv`), every command either works
//! for what the kernel allows or says in one line which capability it lacks; and the least-privilege
//! setup the README documents (`setcap cap_net_raw+ep` on the binary) is enough for `capture` as a
//! non-root user. Needs root to drop privileges (skips, saying so, without).

use super::generate::{Run, run_command};
use super::live::{LISTENING, Netns, is_root, wait_for_line};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

/// `setpriv` arguments that drop to nobody with no supplementary groups and no capabilities (root's
/// capabilities go when the uid changes: no keep-caps).
const AS_NOBODY: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

fn setpriv_available() -> bool {
    Command::new("setpriv")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<&'static str> {
    if !is_root() {
        return Some("dropping to nobody needs root");
    }
    if !setpriv_available() {
        return Some("setpriv (util-linux) is not installed");
    }
    None
}

/// `BIN ARGS` as nobody, optionally inside a namespace (entered as root first).
fn as_nobody(ns: Option<&Netns>, bin: &str, args: &[&str]) -> Command {
    let mut argv = vec!["setpriv"];
    argv.extend_from_slice(&AS_NOBODY);
    argv.push(bin);
    argv.extend_from_slice(args);
    let mut cmd = match ns {
        Some(ns) => ns.cmd(&argv),
        None => {
            let mut c = Command::new(argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn one_line_naming(run: &Run, what: &str, needle: &str) {
    run.assert_no_crash(what);
    assert_eq!(run.code, Some(1), "{what}: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: {}", run.stderr);
    assert!(lines[0].starts_with("tcpdoctor: "), "{what}: {}", lines[0]);
    assert!(lines[0].contains(needle), "{what}: {}", lines[0]);
    // The OS error once, not repeated by an error chain.
    assert!(lines[0].matches("os error").count() <= 1, "{what}: {}", lines[0]);
}

#[test]
fn each_command_names_the_capability_it_lacks() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tcpdoctor");
    let ns = Netns::new("priv");
    // capture: an AF_PACKET socket needs CAP_NET_RAW.
    let run = run_command(
        as_nobody(Some(&ns), bin, &["capture", "-i", "lo", "--duration", "1"]),
        LIMIT,
        "capture as nobody",
    );
    one_line_naming(&run, "capture as nobody", "needs CAP_NET_RAW");
    assert!(run.stderr.contains("setcap cap_net_raw+ep"), "{}", run.stderr);
    // trace: tracefs instances need CAP_SYS_ADMIN (or write access to tracefs).
    let run = run_command(
        as_nobody(None, bin, &["trace", "--duration", "1"]),
        LIMIT,
        "trace as nobody",
    );
    one_line_naming(&run, "trace as nobody", "CAP_SYS_ADMIN");
    // lab: its namespaces need CAP_SYS_ADMIN; it says so before it starts anything.
    let run = run_command(
        as_nobody(None, bin, &["lab", "handshake"]),
        LIMIT,
        "lab as nobody",
    );
    one_line_naming(&run, "lab as nobody", "CAP_SYS_ADMIN");
    // status of another namespace: setns(CLONE_NEWNET) needs CAP_SYS_ADMIN.
    let run = run_command(
        as_nobody(None, bin, &["status", "--netns", &ns.0]),
        LIMIT,
        "status --netns as nobody",
    );
    one_line_naming(&run, "status --netns as nobody", "needs CAP_SYS_ADMIN");
    assert!(run.stderr.contains(&ns.0), "{}", run.stderr);
    // status of its own namespace works unprivileged: the socket table is readable by anyone.
    let run = run_command(
        as_nobody(Some(&ns), bin, &["status", "--json"]),
        LIMIT,
        "status as nobody",
    );
    run.assert_no_crash("status as nobody");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(run.stdout().trim_end()).unwrap();
    assert_eq!(doc["schema"], "tcpdoctor.status/1");
    // analyze needs nothing but read access to the file.
    let capture = super::shared().join("corpus/scenarios.pcap");
    let run = run_command(
        as_nobody(None, bin, &["analyze", capture.to_str().unwrap()]),
        LIMIT,
        "analyze as nobody",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout().contains("66 TCP connections"));
}

/// Whether file capabilities can take effect at `dir`: not on a `nosuid` mount (the kernel ignores them
/// there, as it ignores set-user-ID bits).
fn nosuid(dir: &Path) -> bool {
    let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: an all-zero statvfs is a valid value for statvfs(3) to fill; `c` is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers, see above.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_flag & libc::ST_NOSUID != 0
}

/// The README's least-privilege setup: a copy of the binary with only `cap_net_raw` in its file
/// capabilities captures as nobody, and nothing more (it still cannot trace).
#[test]
fn capture_works_as_nobody_with_only_cap_net_raw() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    // Beside the build (CARGO_TARGET_TMPDIR), where nobody can reach it: /tmp's private test
    // directories are 0700.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut parent = dir.path().parent();
    while let Some(p) = parent {
        if std::fs::metadata(p).unwrap().permissions().mode() & 0o001 == 0 {
            println!("skipped: {} is not searchable by nobody", p.display());
            return;
        }
        parent = p.parent();
    }
    if nosuid(dir.path()) {
        println!(
            "skipped: {} is on a nosuid mount: file capabilities do not apply",
            dir.path().display()
        );
        return;
    }
    let bin = dir.path().join("tcpdoctor");
    std::fs::copy(env!("CARGO_BIN_EXE_tcpdoctor"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = bin.to_str().unwrap();
    let setcap = match Command::new("setcap").args(["cap_net_raw+ep", bin]).output() {
        Ok(o) => o,
        Err(_) => {
            println!("skipped: setcap is not installed (Debian: libcap2-bin)");
            return;
        }
    };
    if !setcap.status.success() {
        println!(
            "skipped: this filesystem does not take file capabilities: {}",
            String::from_utf8_lossy(&setcap.stderr).trim_end()
        );
        return;
    }
    let ns = Netns::new("setcap");
    let mut cap = as_nobody(Some(&ns), bin, &["capture", "-i", "lo", "--duration", "3"])
        .spawn()
        .unwrap();
    let first = wait_for_line(&mut cap, LISTENING, LIMIT);
    assert!(
        first.starts_with("tcpdoctor: listening on lo for TCP"),
        "as nobody with cap_net_raw: {first}"
    );
    // One refused connection on the namespace's loopback (made as root: who makes it does not matter).
    let refused = "import socket\ntry: socket.create_connection(('127.0.0.1', 9), timeout=5)\nexcept ConnectionRefusedError: pass\n";
    assert!(ns.cmd(&["python3", "-c", refused]).status().unwrap().success());
    let out = super::live::wait_bounded(cap, Duration::from_secs(20));
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(
        summary.contains("tcpdoctor analyze live capture on lo"),
        "{summary}"
    );
    assert!(summary.contains("1 TCP connections"), "{summary}");
    assert!(summary.contains("refused"), "{summary}");
    assert!(summary.contains("0 dropped (ring full)"), "{summary}");
    // Only what capture needs: trace still refuses.
    let run = run_command(
        as_nobody(None, bin, &["trace", "--duration", "1"]),
        LIMIT,
        "trace with cap_net_raw",
    );
    one_line_naming(&run, "trace with cap_net_raw", "CAP_SYS_ADMIN");
}
