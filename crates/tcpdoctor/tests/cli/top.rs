//! `tcpdoctor top`, run for real: in a tmux pane (its own server, on a private socket) against the
//! known population of a network namespace, driven by keys, read back with `capture-pane`.

use crate::require_lab;
use crate::status::lab;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[test]
fn not_a_terminal_is_refused_in_one_line() {
    let out = crate::tcpdoctor(&["top"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = crate::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tcpdoctor: top needs a terminal"), "{err}");
    assert!(out.stdout.is_empty());
}

/// A tmux server of this test's own (`tmux -L`), killed on drop: never the user's.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A detached session running `sh` in a 132x40 pane.
    fn start() -> Tmux {
        let tmux = Tmux {
            socket: format!("tcpd-top-test-{}", std::process::id()),
        };
        let out = tmux.run(&["new-session", "-d", "-x", "132", "-y", "40", "env PS1='$ ' sh"]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    /// Keys as `send-keys` names them (`Tab`, `Enter`, `q`); `-l` sends `text` literally.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            assert!(self.run(&["send-keys", "-t", "0", k]).status.success());
        }
    }

    fn type_line(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", "0", "-l", text]).status.success());
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "0", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Polls the pane (every 100 ms, at most 20 s) until `done` holds; the screen is in the panic.
    fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited 20 s for {what}; the pane:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The number after `label` on the screen's first line that has it: the header's count.
fn count_after(screen: &str, label: &str) -> Option<u64> {
    let line = screen.lines().find(|l| l.contains(label))?;
    let rest = &line[line.find(label)? + label.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn live_in_tmux_on_a_known_population() {
    require_lab!();
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("skipped: tmux is not installed (apt-get install -y tmux)");
        return;
    }
    let mut ns = lab::Netns::new();
    let pop = ns.populate();
    let tmux = Tmux::start();
    let dir = tempfile::tempdir().unwrap();
    let stty = |name: &str| format!("stty -g > {}", dir.path().join(name).display());
    tmux.wait("the prompt", |s| s.trim() == "$");
    tmux.type_line(&format!("{}; clear; echo before-top", stty("before")));
    let before = tmux.wait("the shell", |s| s.trim() == "before-top\n$");

    let bin = env!("CARGO_BIN_EXE_tcpdoctor");
    tmux.type_line(&format!("{bin} top --netns {}", ns.name));
    let owner = format!("python3[{}]", pop.child);
    let screen = tmux.wait("the CLOSE-WAIT owner's row", |s| {
        s.lines().any(|l| l.starts_with(&owner)) && s.contains("Enter detail")
    });
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "top draws on the alternate screen"
    );

    // The counts, against ss in the same namespace.
    let time_wait = lab::SERVER_FIRST + lab::CLIENT_FIRST;
    assert_eq!(ns.ss_state_count("time-wait"), time_wait);
    assert_eq!(count_after(&screen, "TIME-WAIT"), Some(time_wait), "{screen}");
    assert_eq!(
        count_after(&screen, "CLOSE-WAIT"),
        Some(lab::CLOSE_WAIT),
        "{screen}"
    );
    // The CLOSE-WAIT table: the child, its count, towards the server it connected to.
    let row = screen.lines().find(|l| l.starts_with(&owner)).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "127.0.0.1:7003", "{row}");
    assert_eq!(cells[2], lab::CLOSE_WAIT.to_string(), "{row}");
    assert!(
        screen.contains(&format!("holds {} CLOSE-WAIT sockets", lab::CLOSE_WAIT)),
        "{screen}"
    );

    // TIME-WAIT by peer, filtered down to the server this host closed first towards.
    tmux.keys(&["Tab", "/"]);
    tmux.type_line("7002");
    let peer_rows = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("this host, as"))
            .map(str::to_string)
            .collect()
    };
    let screen = tmux.wait("one row left by the filter", |s| {
        s.contains("filter: 7002") && peer_rows(s).len() == 1 && s.contains("Enter detail")
    });
    let rows = peer_rows(&screen);
    assert!(rows[0].starts_with("127.0.0.1:7002"), "{screen}");
    assert!(rows[0].contains(&format!(" {} ", lab::CLIENT_FIRST)), "{screen}");
    assert!(rows[0].contains("as client"), "{screen}");

    // Its detail: the sockets towards that peer, each with its time left.
    tmux.keys(&["Enter"]);
    let n = lab::CLIENT_FIRST;
    // (Waiting for the whole of it: a capture can fall between two writes of one frame.)
    tmux.wait("the peer's detail: its sockets, each with its time left", |s| {
        s.contains("peer 127.0.0.1:7002")
            && s.contains(&format!("{n} sockets: TIME-WAIT {n}"))
            && s.matches(" s left").count() as u64 == n
    });

    // The detail of the process holding the CLOSE-WAIT sockets, with their fds.
    // (Backspace closes it as Esc does; a lone Esc right before other keys could be read as Alt.)
    tmux.keys(&[
        "BSpace", "/", "BSpace", "BSpace", "BSpace", "BSpace", "Enter", "BTab", "Enter",
    ]);
    let n = lab::CLOSE_WAIT;
    tmux.wait("the process's detail: its sockets, each with its fd", |s| {
        s.contains(&format!("{owner} · Esc"))
            && s.contains(&format!("{n} sockets: CLOSE-WAIT {n}"))
            && s.matches(&format!("{owner} (")).count() as u64 == n
    });

    // q: back to the shell as it was: the same screen, the same terminal settings.
    tmux.keys(&["q"]);
    let after = tmux.wait("the shell again", |s| {
        s.contains("before-top") && s.trim_end().ends_with('$')
    });
    assert_eq!(tmux.format("#{alternate_on}"), "0");
    assert_eq!(tmux.format("#{cursor_flag}"), "1", "the cursor is visible again");
    assert!(
        after.starts_with(before.trim_end()),
        "before:\n{before}\nafter:\n{after}"
    );
    tmux.type_line(&format!("{}; echo after-top", stty("after")));
    tmux.wait("the shell", |s| s.lines().any(|l| l == "after-top"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("before"), read("after"), "stty settings");
}
