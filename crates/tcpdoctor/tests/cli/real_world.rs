//! Traffic from other stacks and capture points (issue 9), end to end: a capture is written with one
//! connection per defect found on public captures, `analyze --json` reads it, and each connection's
//! verdict is checked. The tracker's own transcripts of the same cases, with both sides' states after
//! each segment, are in `crates/lifecycle/src/connection_tests.rs` (`real_world`).

use crate::generate::{ACK, FIN, PSH, RST, RawPcap, SYN, tcp4};
use crate::{json_lines_by_client, stdout, tcpdoctor};
use serde_json::Value;

const CLIENT: [u8; 4] = [10, 9, 0, 1];
const SERVER: [u8; 4] = [10, 9, 0, 2];
const MS: u64 = 1_000_000;

/// One segment: sent by the client?, flags, seq, ack, payload length, milliseconds since the
/// previous segment of the same connection.
type Seg = (bool, u8, u32, u32, u16, u64);

const HANDSHAKE: [Seg; 3] = [
    (true, SYN, 100, 0, 0, 1),
    (false, SYN | ACK, 500, 101, 0, 1),
    (true, ACK, 101, 501, 0, 1),
];
const EXCHANGE: [Seg; 3] = [
    (true, ACK | PSH, 101, 501, 10, 1),
    (false, ACK | PSH, 501, 111, 20, 1),
    (true, ACK, 111, 521, 0, 1),
];
const CLOSE: [Seg; 3] = [
    (true, FIN | ACK, 111, 521, 0, 1),
    (false, FIN | ACK, 521, 112, 0, 1),
    (true, ACK, 112, 522, 0, 1),
];

/// The connections, by client port.
fn connections() -> Vec<(u16, Vec<Seg>)> {
    let then = |parts: &[&[Seg]]| parts.concat();
    vec![
        // Half-open discovery (RFC 9293 §3.5.1 figure 10), the SYN retransmitted 3 s later.
        (
            41_001,
            then(&[
                &[
                    (true, SYN, 100, 0, 0, 1),
                    (false, ACK, 7_000, 55_555, 0, 1),
                    (true, RST, 55_555, 0, 0, 1),
                    (true, SYN, 100, 0, 0, 3_000),
                    (false, SYN | ACK, 500, 101, 0, 1),
                    (true, ACK, 101, 501, 0, 1),
                ],
                &EXCHANGE,
                &CLOSE,
            ]),
        ),
        // Only client -> server captured.
        (
            41_002,
            vec![
                (true, SYN, 100, 0, 0, 1),
                (true, ACK, 101, 501, 0, 1),
                (true, ACK | PSH, 101, 501, 10, 1),
                (true, ACK, 111, 1_521, 0, 1),
                (true, FIN | ACK, 111, 1_521, 0, 1),
                (true, ACK, 112, 1_522, 0, 1),
            ],
        ),
        // Only server -> client captured.
        (
            41_003,
            (0..40u32)
                .map(|i| (false, ACK | PSH, 501 + i * 1_000, 111, 1_000, 1))
                .fold(vec![(false, SYN | ACK, 500, 101, 0, 1)], |mut v, s| {
                    v.push(s);
                    v
                }),
        ),
        // A segment injected 1.3 GB ahead.
        (
            41_004,
            then(&[
                &HANDSHAKE,
                &EXCHANGE,
                &[(false, ACK | PSH, 1_300_000_521, 111, 1_000, 1)],
                &CLOSE,
            ]),
        ),
        // The server's FIN does not acknowledge the request captured before it; then it resets.
        (
            41_005,
            then(&[
                &HANDSHAKE,
                &[
                    (true, ACK | PSH, 101, 501, 10, 1),
                    (false, FIN | ACK, 501, 101, 0, 1),
                    (false, RST | ACK, 502, 111, 0, 1),
                ],
            ]),
        ),
        // FIN, then RST at once, nothing to provoke it.
        (
            41_006,
            then(&[
                &HANDSHAKE,
                &EXCHANGE,
                &[
                    (false, FIN | ACK, 521, 111, 0, 1),
                    (false, RST | ACK, 522, 111, 0, 1),
                ],
            ]),
        ),
        // Simultaneous open.
        (
            41_007,
            vec![
                (true, SYN, 100, 0, 0, 1),
                (false, SYN, 500, 0, 0, 1),
                (true, SYN | ACK, 100, 501, 0, 1),
                (false, SYN | ACK, 500, 101, 0, 1),
                (true, ACK, 101, 501, 0, 1),
            ],
        ),
        // A SYN answered only by a RST without ACK.
        (
            41_008,
            vec![
                (true, SYN, 100, 0, 0, 1),
                (false, RST, 0, 0, 0, 1),
                (true, SYN, 100, 0, 0, 1_000),
            ],
        ),
        // Refused, then a stray SYN-ACK.
        (
            41_009,
            vec![
                (true, SYN, 100, 0, 0, 1),
                (false, RST | ACK, 0, 101, 0, 1),
                (false, SYN | ACK, 500, 101, 0, 1),
            ],
        ),
        // Zeek ends the first SYN after its 5 s attempt timer; the retransmission completes.
        (
            41_010,
            vec![
                (true, SYN, 100, 0, 0, 1),
                (true, SYN, 100, 0, 0, 6_000),
                (false, SYN | ACK, 500, 101, 0, 1),
                (true, ACK, 101, 501, 0, 1),
            ],
        ),
        // A new SYN reopens the 4-tuple while the client holds TIME-WAIT.
        (
            41_011,
            then(&[
                &HANDSHAKE,
                &EXCHANGE,
                &CLOSE,
                &[
                    (true, SYN, 90_000, 0, 0, 1_000),
                    (false, SYN | ACK, 7_000, 90_001, 0, 1),
                    (true, ACK, 90_001, 7_001, 0, 1),
                ],
            ]),
        ),
    ]
}

/// Writes every connection into one raw-IP capture, in time order.
fn write_capture(path: &std::path::Path) {
    let start = 1_795_000_000_000_000_000u64;
    let mut frames = Vec::new();
    for (i, (port, segs)) in connections().into_iter().enumerate() {
        let mut t = start + i as u64 * 10 * MS;
        for (from_client, flags, seq, ack, len, gap) in segs {
            t += gap * MS;
            let (src, sport, dst, dport) = if from_client {
                (CLIENT, port, SERVER, 80)
            } else {
                (SERVER, 80, CLIENT, port)
            };
            frames.push((t, tcp4(src, sport, dst, dport, flags, seq, ack, len)));
        }
    }
    frames.sort_by_key(|(t, _)| *t);
    let mut w = RawPcap::create(path);
    for (t, f) in frames {
        w.packet(t, f);
    }
    w.finish();
}

fn analyze(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real_world.pcap");
    write_capture(&path);
    let mut all = args.to_vec();
    all.push(path.to_str().unwrap());
    let out = tcpdoctor(&all);
    assert!(out.status.success(), "{out:?}");
    stdout(&out)
}

fn get(all: &std::collections::HashMap<String, Value>, port: u16) -> &Value {
    &all[&format!("10.9.0.1:{port}")]
}

#[test]
fn each_real_world_defect_gets_the_right_verdict() {
    let out = analyze(&["analyze", "--json"]);
    // 41011 gives two connections (the reopening SYN starts a new one); the map keeps the last.
    assert_eq!(out.lines().count(), 12, "{out}");
    let all = json_lines_by_client(&out);
    let c = |port| get(&all, port);

    let r = c(41_001);
    assert_eq!(
        (&r["handshake"], &r["cause"], &r["reset_by"]),
        (&"complete".into(), &"graceful".into(), &"none".into())
    );
    assert_eq!(r["anomalies"]["half_open_discovery"], 1);
    assert_eq!(r["syn_retransmits"], 1);

    let r = c(41_002);
    assert_eq!(r["handshake"], "complete");
    assert_eq!(r["one_sided"], true);
    assert_eq!(r["cause"], "one_sided");
    assert_eq!(
        (r["bytes_client"].as_u64(), r["bytes_server"].as_u64()),
        (Some(10), Some(1_021))
    );

    let r = c(41_003);
    assert_eq!(r["one_sided"], true);
    assert_eq!(
        (&r["client_state"], &r["server_state"]),
        (&"ESTABLISHED".into(), &"ESTABLISHED".into())
    );
    assert_eq!(r["bytes_server"], 40_000);

    let r = c(41_004);
    assert_eq!(
        (r["bytes_client"].as_u64(), r["bytes_server"].as_u64()),
        (Some(10), Some(20))
    );
    assert_eq!(r["anomalies"]["out_of_window_data"], 1);
    assert_eq!(r["cause"], "graceful");

    let r = c(41_005);
    assert_eq!(r["cause"], "reset_after_close");
    assert_eq!(r["resetter_state"], "FIN-WAIT-1");

    let r = c(41_006);
    assert_eq!(r["cause"], "fin_then_reset");
    assert_eq!(r["reset_by"], "server");

    let r = c(41_007);
    assert_eq!(r["handshake"], "simultaneous");
    assert_eq!(r["syn_retransmits"], 0);

    let r = c(41_008);
    assert_eq!(
        (&r["handshake"], &r["cause"]),
        (&"unanswered".into(), &"unanswered".into())
    );
    assert_eq!(r["anomalies"]["out_of_window_rst"], 1);

    let r = c(41_009);
    assert_eq!(r["cause"], "refused");
    assert_eq!(
        (&r["client_state"], &r["server_state"]),
        (&"CLOSED".into(), &"CLOSED".into())
    );

    let r = c(41_010);
    let rows = r["zeek"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(
        (&rows[0]["conn_state"], &rows[0]["history"]),
        (&"S0".into(), &"S".into())
    );
    assert_eq!(rows[1]["history"], "ShA");
    assert_eq!(r["zeek_conn_state"], "S0", "the flat fields are the first row");

    let reopened: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["client"] == "10.9.0.1:41011")
        .collect();
    assert_eq!(reopened.len(), 2);
    assert_eq!(reopened[0]["end_reason"], "port_reused");
    assert_eq!(reopened[0]["client_state"], "CLOSED");
    assert_eq!(reopened[1]["handshake"], "complete");
}

#[test]
fn the_summary_names_one_sided_connections_and_the_new_cause() {
    let out = analyze(&["analyze"]);
    assert!(
        out.contains("2 connections seen in one direction only: an asymmetric tap or route?"),
        "{out}"
    );
    assert!(out.contains("fin_then_reset"), "{out}");
    assert!(!out.contains("abort "), "no connection here is an abort: {out}");
}

#[test]
fn the_zeek_log_has_a_row_for_each_zeek_connection() {
    let out = analyze(&["analyze", "--zeek"]);
    let rows = out
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("\t41010\t"))
        .count();
    assert_eq!(rows, 2, "{out}");
}

/// The ladder marks each defect on the segment that shows it (snapshots in `snapshots/`).
#[test]
fn ladders_mark_the_defects() {
    for (name, port) in [
        ("half_open_discovery", 41_001),
        ("out_of_window_data", 41_004),
        ("out_of_window_rst", 41_008),
    ] {
        let conn = format!("10.9.0.1:{port}");
        insta::assert_snapshot!(name, analyze(&["analyze", "--ladder", &conn]));
    }
}
