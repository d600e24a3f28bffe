//! `analyze --ladder`: ladder diagrams of real captures, checked as exact text against the snapshots in
//! `snapshots/` (insta: `cargo insta review` after a deliberate change; in CI a mismatch fails and
//! writes nothing).

use super::{shared, stderr, stdout, tcpdoctor};
use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn corpus(name: &str) -> String {
    shared().join("corpus").join(name).to_str().unwrap().to_string()
}

/// The ladder of `conn` in scenarios.pcap, as a pipe receives it, with `extra` flags.
fn ladder(conn: &str, extra: &[&str]) -> Output {
    ladder_in("scenarios.pcap", conn, extra)
}

fn ladder_in(file: &str, conn: &str, extra: &[&str]) -> Output {
    let mut args = vec!["analyze", "--ladder", conn];
    args.extend_from_slice(extra);
    let file = corpus(file);
    args.push(&file);
    let out = tcpdoctor(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    out
}

/// One snapshot per ending of the scenarios (see `scenarios.truth.jsonl`).
#[test]
fn ladders_of_the_scenarios() {
    for (name, conn) in [
        ("graceful_client_close_time_wait", "127.0.0.1:47168"),
        ("graceful_server_close", "127.0.0.1:54274"),
        ("refused", "127.0.0.1:58210"),
        ("abort_unread", "127.0.0.1:47114"),
        ("linger0", "[::1]:41208"),
        ("reset_after_close", "[::1]:41146"),
        ("unanswered", "[::1]:57792"),
        ("half_close", "127.0.0.1:47140"),
        ("close_wait", "127.0.0.1:47172"),
        ("open", "127.0.0.1:54562"),
        ("bulk_folds", "127.0.0.1:47160"),
    ] {
        insta::assert_snapshot!(name, stdout(&ladder(conn, &[])));
    }
}

/// A 1.4 MB download of mix.pcap folds its 1709 data segments into one row.
#[test]
fn a_long_transfer_folds_to_one_row() {
    let out = stdout(&ladder_in("mix.pcap", "141", &[]));
    insta::assert_snapshot!("mix_download_folds", out);
    let all = stdout(&ladder_in("mix.pcap", "141", &["--all"]));
    assert!(!all.contains("···"), "{all}");
    assert_eq!(all.lines().count(), 2 + 1720 + 3);
}

#[test]
fn absolute_numbers_are_the_wire_s() {
    insta::assert_snapshot!(
        "refused_absolute",
        stdout(&ladder("127.0.0.1:58210", &["--absolute"]))
    );
}

/// Every form of CONN names the same connection; a row number is the `#` of `--connections`.
#[test]
fn every_selector_form_finds_the_connection() {
    let want = stdout(&ladder("[::1]:41146", &[]));
    assert!(
        want.starts_with("connection #3: [::1]:41146 → [::1]:41259,"),
        "{want}"
    );
    let table = stdout(&tcpdoctor(&[
        "analyze",
        "--connections",
        &corpus("scenarios.pcap"),
    ]));
    let row3 = table.lines().nth(3).unwrap();
    assert!(row3.starts_with("    3 [::1]:41146 "), "{row3}");
    for conn in ["3", "[::1]:41146-[::1]:41259", "[::1]:41259-[::1]:41146"] {
        assert_eq!(stdout(&ladder(conn, &[])), want, "{conn}");
    }
    // An address names every connection it is an end of.
    let host = ladder("[::1]:9998", &[]);
    assert_eq!(stdout(&host).matches("\nending: refused").count(), 3);
}

#[test]
fn more_matches_than_the_limit_are_counted() {
    let file = corpus("scenarios.pcap");
    let out = tcpdoctor(&["analyze", "--ladder", "127.0.0.1", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).matches("\nending: ").count(), 20);
    assert_eq!(
        stderr(&out),
        "tcpdoctor: showing the first 20 of 33 matching connections; narrow CONN\n"
    );
}

#[test]
fn nothing_matching_is_one_line_and_exit_1() {
    let file = corpus("scenarios.pcap");
    let out = tcpdoctor(&["analyze", "--ladder", "10.9.9.9", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "tcpdoctor: no connection matches 10.9.9.9\n");
    let out = tcpdoctor(&["analyze", "--ladder", "67", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "tcpdoctor: no row 67: --connections lists 66 connections\n"
    );
}

#[test]
fn bad_conn_and_flag_combinations_are_usage_errors() {
    let file = corpus("scenarios.pcap");
    for args in [
        vec!["analyze", "--ladder", "nonsense", &file],
        vec!["analyze", "--ladder", "0", &file],
        vec!["analyze", "--ladder", "3", "--json", &file],
        vec!["analyze", "--absolute", &file],
        vec!["analyze", "--all", &file],
    ] {
        let out = tcpdoctor(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
    }
    let out = tcpdoctor(&["analyze", "--ladder", "nonsense", &file]);
    assert_eq!(
        stderr(&out),
        "tcpdoctor: invalid value 'nonsense' for '--ladder <CONN>': expected an address (10.0.0.1, 10.0.0.1:80, \
         [::1]:80), both ends (10.0.0.1:40000-10.0.0.2:80), a row number of --connections, or all\n"
    );
}

/// A row number needs two passes over the input: standard input cannot give them.
#[test]
fn a_row_number_on_standard_input_is_a_usage_error() {
    let out = with_stdin(&["analyze", "--ladder", "3", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "tcpdoctor: --ladder with a row number reads the input twice: it needs files, not standard input (-)\n"
    );
    // An address is fine there.
    let piped = with_stdin(&["analyze", "--ladder", "[::1]:41146", "-"]);
    assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
    assert_eq!(stdout(&piped), stdout(&ladder("[::1]:41146", &[])));
}

/// Colour only for a terminal: a pipe gets none, even when asked by CLICOLOR_FORCE if NO_COLOR is set.
#[test]
fn colour_only_when_wanted() {
    let file = corpus("scenarios.pcap");
    let run = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"));
        c.args(["analyze", "--ladder", "3", &file])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR");
        for (k, v) in env {
            c.env(k, v);
        }
        stdout(&c.output().unwrap())
    };
    let plain = run(&[]);
    assert!(!plain.contains('\x1b'), "{plain}");
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b["), "{forced}");
    assert_eq!(run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]), plain);
}

/// Runs with scenarios.pcap on standard input.
fn with_stdin(args: &[&str]) -> Output {
    let bytes = std::fs::read(corpus("scenarios.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The row-number error exits before reading: a broken pipe here is expected.
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}
