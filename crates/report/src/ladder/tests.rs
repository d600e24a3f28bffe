//! The ladder of small transcripts run through the real tracker, compared as exact text.

use super::*;
use crate::Context;
use lifecycle::{Event, Flags, Segment, Seq, Timestamp, Tracker, WatchOptions};
use std::net::SocketAddr;

const SYN: u8 = Flags::SYN;
const ACK: u8 = Flags::ACK;
const FIN: u8 = Flags::FIN;
const RST: u8 = Flags::RST;
const PSH: u8 = Flags::PSH;

/// (sent by the client?, flags, seq, ack, payload length), a millisecond apart.
type Wire = (bool, u8, u32, u32, u32);

fn ladder(wire: &[Wire], fold: bool, options: TextOptions) -> String {
    let mut out = Vec::new();
    text::write(&mut out, &layout(wire, fold), options).unwrap();
    String::from_utf8(out).unwrap()
}

fn layout(wire: &[Wire], fold: bool) -> Layout {
    let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    let server: SocketAddr = "10.0.0.2:80".parse().unwrap();
    let mut tracker = Tracker::default();
    tracker.watch(|_| true, WatchOptions { limit: 1, fold });
    for (ms, &(from_client, flags, seq, ack, len)) in (0..).zip(wire) {
        let (src, dst) = if from_client {
            (client, server)
        } else {
            (server, client)
        };
        let mut seg = Segment::between(src, dst);
        (seg.flags, seg.seq, seg.ack, seg.payload_len) = (Flags(flags), Seq(seq), Seq(ack), len);
        tracker.handle_segment(Timestamp(1_700_000_000_000_000_000 + ms * 1_000_000), &seg);
    }
    tracker.finish();
    let Some(Event::Ended(record)) = tracker.poll_event() else {
        panic!("no record")
    };
    Layout::new(
        &record,
        record.steps.as_deref().unwrap(),
        &Context::default(),
        Some(7),
    )
}

const HANDSHAKE: [Wire; 3] = [
    (true, SYN, 1000, 0, 0),
    (false, SYN | ACK, 5000, 1001, 0),
    (true, ACK, 1001, 5001, 0),
];

#[test]
fn the_handshake_and_the_close_as_in_rfc_9293() {
    let mut wire = HANDSHAKE.to_vec();
    wire.extend([
        (true, PSH | ACK, 1001, 5001, 28),
        (false, ACK, 5001, 1029, 0),
        (true, FIN | ACK, 1029, 5001, 0),
        (false, ACK, 5001, 1030, 0),
        (false, FIN | ACK, 5001, 1030, 0),
        (true, ACK, 1030, 5002, 0),
    ]);
    assert_eq!(
        ladder(&wire, true, TextOptions::default()),
        "\
connection #7: 10.0.0.1:40000 → 10.0.0.2:80, 2023-11-14T22:13:20.000000Z
  time (s)  client                                        server
  0.000000  SYN-SENT     ──SYN seq=0────────────────────> CLOSED
  0.001000  SYN-SENT     <──────────SYN,ACK seq=0 ack=1── SYN-RECEIVED
  0.002000  ESTABLISHED  ──ACK seq=1 ack=1──────────────> ESTABLISHED
  0.003000  ESTABLISHED  ──PSH,ACK seq=1 ack=1 len=28───> ESTABLISHED
  0.004000  ESTABLISHED  <─────────────ACK seq=1 ack=29── ESTABLISHED
  0.005000  FIN-WAIT-1   ──FIN,ACK seq=29 ack=1─────────> ESTABLISHED
  0.006000  FIN-WAIT-2   <─────────────ACK seq=1 ack=30── CLOSE-WAIT
  0.007000  FIN-WAIT-2   <─────────FIN,ACK seq=1 ack=30── LAST-ACK
  0.008000  TIME-WAIT    ──ACK seq=30 ack=2─────────────> CLOSED
ending: graceful — closed by FIN from both sides
        the client closed first (FIN); no RST
        final states: client TIME-WAIT, server CLOSED (the capture ended); 9 segments in 0.008000 s, 28 B client→server, 0 B server→client
"
    );
}

/// A refused connection with the SYN sent twice: the copy is marked, the RST is the server's.
#[test]
fn a_refusal_after_a_retransmitted_syn_with_absolute_numbers() {
    let wire = [
        (true, SYN, 1000, 0, 0),
        (true, SYN, 1000, 0, 0),
        (false, RST | ACK, 0, 1001, 0),
    ];
    let options = TextOptions {
        absolute: true,
        color: false,
    };
    assert_eq!(
        ladder(&wire, true, options),
        "\
connection #7: 10.0.0.1:40000 → 10.0.0.2:80, 2023-11-14T22:13:20.000000Z
  time (s)  client                                    server
  0.000000  SYN-SENT     ──SYN seq=1000─────────────> CLOSED
  0.001000  SYN-SENT     ──SYN seq=1000─────────────> CLOSED        [retransmission]
  0.002000  CLOSED       <───RST,ACK seq=0 ack=1001── CLOSED
ending: refused — SYN answered by RST: nothing listening (connection refused)
        no FIN; the server host refused the SYN (RST)
        final states: client CLOSED, server CLOSED (the capture ended); 3 segments in 0.002000 s, 0 B client→server, 0 B server→client
"
    );
}

/// A transfer of 40 segments folds to one row between its first and last ones; `--all` shows them.
#[test]
fn a_long_transfer_folds_unless_every_segment_is_asked_for() {
    let mut wire = HANDSHAKE.to_vec();
    for i in 0..20 {
        wire.push((false, ACK, 5001 + i * 1000, 1001, 1000));
        wire.push((true, ACK, 1001, 5001 + (i + 1) * 1000, 0));
    }
    wire.push((true, RST | ACK, 1001, 25001, 0));
    let folded = ladder(&wire, true, TextOptions::default());
    assert_eq!(
        folded,
        "\
connection #7: 10.0.0.1:40000 → 10.0.0.2:80, 2023-11-14T22:13:20.000000Z
  time (s)  client                                          server
  0.000000  SYN-SENT     ──SYN seq=0──────────────────────> CLOSED
  0.001000  SYN-SENT     <────────────SYN,ACK seq=0 ack=1── SYN-RECEIVED
  0.002000  ESTABLISHED  ──ACK seq=1 ack=1────────────────> ESTABLISHED
  0.003000  ESTABLISHED  <───────ACK seq=1 ack=1 len=1000── ESTABLISHED
  0.004000  ESTABLISHED  ──ACK seq=1 ack=1001─────────────> ESTABLISHED
  0.005000  ESTABLISHED  <────ACK seq=1001 ack=1 len=1000── ESTABLISHED
  0.006000               ··· 35 segments, 17.0 kB server→client in 0.034000 s ···
  0.041000  ESTABLISHED  <───ACK seq=19001 ack=1 len=1000── ESTABLISHED
  0.042000  ESTABLISHED  ──ACK seq=1 ack=20001────────────> ESTABLISHED
  0.043000  CLOSED       ──RST,ACK seq=1 ack=20001────────> CLOSED
ending: abort — reset by a side that had not closed (seed §7)
        no FIN; the client reset in ESTABLISHED
        final states: client CLOSED, server CLOSED (the capture ended); 44 segments in 0.043000 s, 0 B client→server, 20.0 kB server→client
"
    );
    let all = ladder(&wire, false, TextOptions::default());
    assert_eq!(all.lines().count(), 2 + 3 + 40 + 1 + 3);
}

/// Colour wraps whole cells: without the escapes, the text is the same.
#[test]
fn colour_changes_no_column() {
    let plain = ladder(&HANDSHAKE, true, TextOptions::default());
    let coloured = ladder(
        &HANDSHAKE,
        true,
        TextOptions {
            absolute: false,
            color: true,
        },
    );
    assert_ne!(plain, coloured);
    assert_eq!(strip(&coloured), plain);
}

fn strip(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What still arrives after the reset is marked, and a second RST too.
#[test]
fn segments_after_a_reset_are_marked() {
    let mut wire = HANDSHAKE.to_vec();
    wire.extend([
        (false, RST, 5001, 0, 0),
        (true, PSH | ACK, 1001, 5001, 10),
        (false, RST, 5001, 0, 0),
    ]);
    let text = ladder(&wire, true, TextOptions::default());
    let marks: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("  [").map(|(_, m)| m))
        .collect();
    assert_eq!(marks, ["after_reset]", "after_reset, extra_rst]"], "{text}");
    assert!(text.contains("the server reset in ESTABLISHED"), "{text}");
}

/// The SVG is well-formed XML (a real parser reads it), has one arrow per segment with the text's
/// labels and states, and marks the retransmission.
#[test]
fn the_svg_says_what_the_text_says() {
    let wire = [
        (true, SYN, 1000, 0, 0),
        (true, SYN, 1000, 0, 0),
        (false, RST | ACK, 0, 1001, 0),
    ];
    let figure = svg::render(&layout(&wire, true), SvgOptions { absolute: true });
    let doc = roxmltree::Document::parse(&figure.svg).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    assert_eq!(root.attribute("height"), Some(figure.height.to_string().as_str()));
    let segments = root
        .descendants()
        .filter(|n| n.attribute("class") == Some("seg"))
        .count();
    assert_eq!(segments, 3);
    let texts: Vec<String> = root
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            n.descendants()
                .filter(|t| t.is_text())
                .filter_map(|t| t.text())
                .collect()
        })
        .collect();
    for want in [
        "SYN seq=1000",
        "RST,ACK seq=0 ack=1001",
        "[retransmission]",
        "SYN-SENT",
        "ending: refused — SYN answered by RST: nothing listening (connection refused)",
        "no FIN; the server host refused the SYN (RST)",
    ] {
        assert!(texts.iter().any(|t| t == want), "{want} not in {texts:?}");
    }
}

/// Rows sit by time; a long silence is compressed to a fixed height and marked with its length.
#[test]
fn an_idle_gap_is_compressed_and_marked() {
    let mut short = layout(&HANDSHAKE, true);
    let mut long = short.clone();
    let Row::Arrow(last) = long.rows.last_mut().unwrap() else {
        panic!()
    };
    last.offset_ns += 3_600_000_000_000;
    let (a, b) = (
        svg::render(&short, SvgOptions::default()),
        svg::render(&long, SvgOptions::default()),
    );
    assert!(b.svg.contains("≈ 3600.001000 s idle (compressed)"), "{}", b.svg);
    assert!(!a.svg.contains("idle"));
    assert!(b.height < a.height + 60, "{} vs {}", b.height, a.height);
    roxmltree::Document::parse(&svg::stack(&[a.clone(), b])).unwrap();
    short.truncate(1);
    assert_eq!((short.rows.len(), short.omitted, short.limit), (1, 2, 1));
}
