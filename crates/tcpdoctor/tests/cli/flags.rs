//! Every numeric flag of every command, given hostile values: a usage error (exit 2) in one line on
//! stderr, before the command does anything (no panic, no capture, no tracefs instance, nothing on
//! stdout), whether or not the command could run here.

use super::generate::{RawPcap, run_bounded};
use std::time::Duration;

/// What `f64` and integer parsing accept or choke on: infinities, negatives, NaN, overflows, nothing.
const HOSTILE: [&str; 7] = ["inf", "-1", "nan", "1e20", "99999999999999999999", "", "abc"];

/// Each command line that a numeric flag is added to, and its numeric flags.
const COMMANDS: [(&[&str], &[&str]); 6] = [
    // No command: status's options.
    (&[], &["--watch", "--port", "--dump-bands", "--idle-threshold"]),
    (
        &["status"],
        &["--watch", "--port", "--dump-bands", "--idle-threshold"],
    ),
    (&["status", "--watch", "1"], &["--count"]),
    (
        &["analyze", "x.pcap"],
        &["--port", "--time-wait", "--idle-timeout", "--max-connections"],
    ),
    (
        &["capture", "-i", "lo"],
        &[
            "--duration",
            "--count",
            "--buffer-size",
            "--port",
            "--time-wait",
            "--idle-timeout",
            "--max-connections",
        ],
    ),
    (
        &["trace"],
        &["--duration", "--count", "--buffer-kb", "--port", "--pid"],
    ),
];

#[test]
fn hostile_numbers_are_usage_errors_in_one_line() {
    for (command, flags) in COMMANDS {
        for flag in flags {
            for value in HOSTILE {
                // `--flag=VALUE` hands the value to the flag's parser whatever it looks like (and the
                // message names the flag); `--flag VALUE` is how people type it (`-1` then looks like
                // an option).
                let joined = format!("{flag}={value}");
                for (named, tail) in [(true, vec![joined.as_str()]), (false, vec![flag, value])] {
                    let args = [command, tail.as_slice()].concat();
                    let what = format!("tcpdoctor {args:?}");
                    let run = run_bounded(&args, None, Duration::from_secs(10));
                    run.assert_no_crash(&what);
                    assert_eq!(run.code, Some(2), "{what}: {}", run.stderr);
                    let lines: Vec<&str> = run.stderr.lines().collect();
                    assert_eq!(lines.len(), 1, "{what}: {}", run.stderr);
                    assert!(lines[0].starts_with("tcpdoctor: "), "{what}: {}", lines[0]);
                    assert!(!named || lines[0].contains(flag), "{what}: {}", lines[0]);
                    assert!(run.stdout.is_empty(), "{what}: {}", run.stdout());
                }
            }
        }
    }
}

/// The parser of seconds rejects only what it must: fractions and zero are durations.
#[test]
fn seconds_take_fractions_and_zero() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    RawPcap::create(&empty).finish();
    let args = ["analyze", "--time-wait", "0.5", "--idle-timeout", "0"];
    let run = run_bounded(
        &[&args[..], &[empty.to_str().unwrap()]].concat(),
        None,
        Duration::from_secs(10),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}
