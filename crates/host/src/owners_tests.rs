//! Tests of the owner scan on fake `/proc` trees: socket links, the order the scan reads processes in,
//! every holder of a shared socket, a failing scanner; and namespace inodes of this process.

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

/// A `/proc` of one process, pid 4242, whose fds are symbolic links like the kernel's.
fn fake_proc(tag: &str, fds: &[(u32, &str)]) -> std::path::PathBuf {
    fake_procs(tag, &[(4242, fds.to_vec())])
}

/// A `/proc` of these processes (pid, fds), each named `fake`.
fn fake_procs(tag: &str, procs: &[(u32, Vec<(u32, &str)>)]) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("tcpd-owners-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (pid, fds) in procs {
        std::fs::create_dir_all(root.join(format!("{pid}/fd"))).unwrap();
        std::fs::write(root.join(format!("{pid}/comm")), "fake\n").unwrap();
        for (fd, target) in fds {
            std::os::unix::fs::symlink(target, root.join(format!("{pid}/fd/{fd}"))).unwrap();
        }
    }
    root
}

fn socket(state: KernelState, inode: u64) -> lifecycle::kernel::SocketRecord {
    lifecycle::kernel::SocketRecord {
        family: lifecycle::kernel::Family::V4,
        state,
        local: "127.0.0.1:1".parse().unwrap(),
        remote: "127.0.0.1:2".parse().unwrap(),
        recv_q: 0,
        send_q: 0,
        uid: 0,
        inode,
        cookie: 0,
        expires_in_ms: None,
        timer: lifecycle::kernel::SocketTimer::Off,
        idle: None,
        owners: Vec::new(),
    }
}

fn only(states: &[KernelState]) -> Wanted<'_> {
    Wanted {
        states,
        idle_without_keepalive_ms: None,
    }
}

/// Heads and rests together read every fd once, whichever fds the head covered: low fds (the
/// head), high ones (the rest), in both modes (scanning during the dump, or after it).
#[test]
fn finds_sockets_below_and_beyond_the_head() {
    let mut fds: Vec<(u32, String)> = (0..70).map(|fd| (fd, "/dev/null".to_string())).collect();
    fds[5].1 = "socket:[111]".into();
    fds.push((500, "socket:[222]".into()));
    let fds: Vec<(u32, &str)> = fds.iter().map(|(fd, t)| (*fd, t.as_str())).collect();
    let root = fake_proc("head-rest", &fds);
    for state in [KernelState::Established, KernelState::Listen] {
        let evidence = HostEvidence {
            sockets: vec![socket(state, 111), socket(state, 222), socket(state, 333)],
            ..HostEvidence::default()
        };
        let found = alongside::<()>(&root, None, &only(&[state]), || Ok(evidence)).unwrap();
        let owners: Vec<_> = found.sockets.iter().map(|s| s.owners.clone()).collect();
        let fake = |fd| {
            vec![SocketOwner {
                pid: 4242,
                comm: "fake".into(),
                fd,
            }]
        };
        assert_eq!(owners, [fake(5), fake(500), vec![]], "{state:?}");
        assert_eq!(found.owners.unresolved, 1, "inode 333 is held by no process");
        assert_eq!(found.gaps.len(), 1);
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// The rest of a process whose head holds wanted sockets is read before those of processes whose
/// heads hold more sockets, none wanted: pid 4343 (one wanted socket in its head) is read to the
/// end before pid 4242 (a head of 64 unwanted sockets), so the socket both hold beyond their heads
/// is found in 4343, and the scan stops there. Ranked by sockets alone, 4242 came first.
#[test]
fn processes_with_wanted_sockets_in_their_heads_are_read_first() {
    let busy: Vec<String> = (0..HEAD).map(|fd| format!("socket:[{}]", 1000 + fd)).collect();
    let mut busy: Vec<(u32, &str)> = busy
        .iter()
        .enumerate()
        .map(|(fd, t)| (fd as u32, t.as_str()))
        .collect();
    busy.push((500, "socket:[222]"));
    let leaking = vec![(5, "socket:[111]"), (500, "socket:[222]")];
    let root = fake_procs("ranked", &[(4242, busy), (4343, leaking)]);
    let state = KernelState::CloseWait;
    let evidence = HostEvidence {
        sockets: vec![socket(state, 111), socket(state, 222)],
        ..HostEvidence::default()
    };
    let found = scan_with::<()>(1, &root, None, &only(&[state]), || Ok(evidence)).unwrap();
    let owners: Vec<Vec<(u32, u32)>> = found
        .sockets
        .iter()
        .map(|s| s.owners.iter().map(|o| (o.pid, o.fd)).collect())
        .collect();
    assert_eq!(owners, [vec![(4343, 5)], vec![(4343, 500)]]);
    assert_eq!(found.owners.unresolved, 0);
    std::fs::remove_dir_all(&root).unwrap();
}

/// Beyond the named states, the owners of the ESTABLISHED sockets the keepalive audit names are
/// looked up: idle long enough, with no timer armed; and only those.
#[test]
fn owners_of_idle_sockets_without_keepalive_are_looked_up_too() {
    use lifecycle::kernel::{SocketTimer, TcpIdle};
    let root = fake_proc(
        "idle",
        &[(5, "socket:[111]"), (6, "socket:[222]"), (7, "socket:[333]")],
    );
    let idle = |inode, timer, ms| SocketRecord {
        timer,
        idle: Some(TcpIdle {
            last_data_recv_ms: ms,
            last_ack_recv_ms: ms,
            last_data_sent_ms: ms,
        }),
        ..socket(KernelState::Established, inode)
    };
    let evidence = HostEvidence {
        sockets: vec![
            idle(111, SocketTimer::Off, 300_000),
            idle(222, SocketTimer::Keepalive, 300_000),
            idle(333, SocketTimer::Off, 1_000),
        ],
        ..HostEvidence::default()
    };
    let wanted = Wanted {
        states: &[KernelState::Listen],
        idle_without_keepalive_ms: Some(240_000),
    };
    let found = alongside::<()>(&root, None, &wanted, || Ok(evidence)).unwrap();
    let fds: Vec<Vec<u32>> = found
        .sockets
        .iter()
        .map(|s| s.owners.iter().map(|o| o.fd).collect())
        .collect();
    assert_eq!(fds, [vec![5], vec![], vec![]]);
    assert_eq!(found.owners.states, [KernelState::Listen]);
    assert_eq!(found.owners.unresolved, 0);
    std::fs::remove_dir_all(&root).unwrap();
}

/// (pid, fd) of each socket's owners.
fn holders(evidence: &HostEvidence) -> Vec<Vec<(u32, u32)>> {
    evidence
        .sockets
        .iter()
        .map(|s| s.owners.iter().map(|o| (o.pid, o.fd)).collect())
        .collect()
}

/// With the owners of established sockets wanted (`-p`), a socket lists every process holding it,
/// in its head or beyond, twice if a process holds it twice (`dup`), ordered by pid then fd, on
/// every run whatever the threads' race.
#[test]
fn every_holder_of_a_shared_socket_in_pid_order() {
    let worker = |extra: u32| vec![(3, "socket:[111]"), (64 + extra, "socket:[222]")];
    let mut parent = worker(400);
    parent.push((9, "socket:[222]"));
    let root = fake_procs("every", &[(4545, worker(7)), (4242, parent), (4343, worker(100))]);
    for run in 0..20 {
        let evidence = HostEvidence {
            sockets: vec![
                socket(KernelState::Listen, 111),
                socket(KernelState::Established, 222),
            ],
            ..HostEvidence::default()
        };
        let states = [KernelState::Established, KernelState::Listen];
        let found = scan_with::<()>(3, &root, None, &only(&states), || Ok(evidence)).unwrap();
        assert_eq!(
            holders(&found),
            [
                vec![(4242, 3), (4343, 3), (4545, 3)],
                vec![(4242, 9), (4242, 464), (4343, 164), (4545, 71)],
            ],
            "run {run}"
        );
        assert_eq!(found.owners.unresolved, 0);
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// A default snapshot stops once every wanted socket has an owner, and what it has read then is
/// decided by the order of the scan, not by which thread was faster: every head (each holds the
/// listener all three share; pid 4242's one CLOSE-WAIT socket too), then the rests, 4242's first (a
/// wanted socket in its head). 4242's rest gives the other CLOSE-WAIT socket an owner, so 4343's rest,
/// which holds it too, does not count, even when a thread has read it first.
#[test]
fn a_default_snapshot_lists_the_holders_its_order_reaches_on_every_run() {
    let head = |n: u32| (0..n).map(|fd| (fd, "/dev/null")).collect::<Vec<_>>();
    let mut first = head(3);
    first.extend([(3, "socket:[111]"), (4, "socket:[222]"), (500, "socket:[333]")]);
    let mut second = head(3);
    second.extend([(3, "socket:[111]"), (80, "socket:[333]")]);
    let mut third = head(3);
    third.push((3, "socket:[111]"));
    let root = fake_procs("ordered", &[(4242, first), (4343, second), (4444, third)]);
    for run in 0..20 {
        let evidence = HostEvidence {
            sockets: vec![
                socket(KernelState::Listen, 111),
                socket(KernelState::CloseWait, 222),
                socket(KernelState::CloseWait, 333),
            ],
            ..HostEvidence::default()
        };
        let states = [KernelState::CloseWait, KernelState::Listen];
        let found = scan_with::<()>(2, &root, None, &only(&states), || Ok(evidence)).unwrap();
        assert_eq!(
            holders(&found),
            [
                vec![(4242, 3), (4343, 3), (4444, 3)],
                vec![(4242, 4)],
                vec![(4242, 500)],
            ],
            "run {run}"
        );
        // Wanted in the heads only: the scan could stop at the first, but reads them all.
        let evidence = HostEvidence {
            sockets: vec![socket(KernelState::Listen, 111)],
            ..HostEvidence::default()
        };
        let states = [KernelState::Listen];
        let found = scan_with::<()>(2, &root, None, &only(&states), || Ok(evidence)).unwrap();
        assert_eq!(
            holders(&found),
            [vec![(4242, 3), (4343, 3), (4444, 3)]],
            "run {run}"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Above Linux's `PID_MAX_LIMIT` (4,194,304), so never a real process: a scanner that reads it
/// panics ([`Scan::process`]), as a bug would make it.
pub(super) const PANICS: u32 = 9_999_999;

/// A scanner that fails before the others are done with the heads neither hangs the scan (they
/// used to wait for it forever) nor loses the other processes: the threads that remain read them,
/// and the report says that scanners failed.
#[test]
fn a_failing_scanner_ends_the_scan_without_hanging() {
    let root = fake_proc("failing", &[(5, "socket:[111]"), (500, "socket:[222]")]);
    std::fs::create_dir_all(root.join(format!("{PANICS}/fd"))).unwrap();
    let state = KernelState::Listen;
    let evidence = HostEvidence {
        sockets: vec![socket(state, 111), socket(state, 222), socket(state, 333)],
        ..HostEvidence::default()
    };
    let (tx, rx) = mpsc::channel();
    let scanned = root.clone();
    std::thread::spawn(move || {
        let _ = tx.send(scan_with::<()>(3, &scanned, None, &only(&[state]), || {
            Ok(evidence)
        }));
    });
    let found = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the scan hung")
        .unwrap();
    let fds: Vec<Vec<u32>> = found
        .sockets
        .iter()
        .map(|s| s.owners.iter().map(|o| o.fd).collect())
        .collect();
    assert_eq!(fds, [vec![5], vec![500], vec![]]);
    // The head and the rest of the failing process each killed the thread that read them.
    let why: Vec<&str> = found.gaps.iter().map(|g| g.why.as_str()).collect();
    assert!(
        why.iter().any(|w| w.starts_with("2 of 3 threads scanning")),
        "{why:?}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn namespace_inodes_match_between_a_process_and_its_thread() {
    let own = netns_inode(Path::new("/proc/self"));
    assert!(own.is_some());
    assert_eq!(own, netns_inode(Path::new("/proc/thread-self")));
}
