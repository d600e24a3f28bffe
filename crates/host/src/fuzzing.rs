//! Entry points of the `sockdiag`, `tracefs` and `proc` fuzz targets (`fuzz/fuzz_targets/`), kept in
//! the library so that the fuzz targets and the regression replay test
//! (`tests/host/fuzz_regressions.rs`) run the same code: a crash found by the fuzzer is replayed by
//! plain `cargo test`, without cargo-fuzz or nightly. Not part of the crate's API.
//!
//! Everything here is pure parsing of bytes the kernel hands over; none of it needs privileges.

use crate::sockdiag::{self, Dump};
use crate::trace::event::{Layout, Tracepoint};
use crate::trace::format::{self, EventFormat};
use crate::trace::reader::{self, PageLayout};
use lifecycle::kernel::Counters;
use lifecycle::segment::Timestamp;

/// One `inet_diag` dump datagram. The first byte is skipped: it once picked the family the datagram
/// was parsed as (each record carries its own now), and the corpus in `fuzz/regressions` keeps it.
pub fn fuzz_sockdiag(data: &[u8]) {
    let Some((_, datagram)) = data.split_first() else {
        return;
    };
    let mut out = Vec::new();
    let result = sockdiag::parse_datagram(datagram, &mut out);
    // Each socket takes at least a netlink header and an `inet_diag_msg` (16 + 72 bytes).
    assert!(
        out.len() <= datagram.len() / 88,
        "more sockets than the datagram can hold"
    );
    match result {
        Ok(Dump::More | Dump::Done) => {}
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// The format files the running kernel gave on the machines the tests were written on, used when the
/// input brings no format text of its own (so that inputs can concentrate on the page).
const FORMATS: [&str; 4] = [
    include_str!("trace/testdata/inet_sock_set_state.6.18.format"),
    include_str!("trace/testdata/tcp_send_reset.6.18.format"),
    include_str!("trace/testdata/tcp_receive_reset.6.18.format"),
    include_str!("trace/testdata/tcp_retransmit_skb.6.18.format"),
];
const HEADER_PAGE: &str = include_str!("trace/testdata/header_page.6.18");

/// A tracepoint's `format` file and one ring-buffer page:
/// `data[0]` picks the tracepoint (bits 0–1) and whether the page layout comes from the input's text
/// rather than the real `header_page` (bit 2); then the format text, a NUL, and the page. An empty
/// text stands for the tracepoint's real format. Every record of the page is decoded as the tracer
/// does it (by `common_type`), and each event's fields are read.
pub fn fuzz_tracefs(data: &[u8]) {
    let Some((&select, rest)) = data.split_first() else {
        return;
    };
    let (text, page) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let which = usize::from(select & 3);
    let tracepoint = Tracepoint::ALL[which];
    let text = if text.is_empty() { FORMATS[which] } else { text };
    let fields = format::parse_fields(text);
    let page_layout = if select & 4 != 0 {
        PageLayout::from_fields(&fields)
    } else {
        PageLayout::from_fields(&format::parse_fields(HEADER_PAGE))
    };
    let format = format::parse(text);
    let layout = format.as_ref().and_then(|f| Layout::new(tracepoint, f));
    if let Some(f) = &format {
        check_format(f);
    }
    let (Some(page_layout), Some(layout)) = (page_layout, layout) else {
        return;
    };
    let common_type = format.as_ref().and_then(|f| f.field("common_type")).cloned();
    let mut records = 0u64;
    let summary = reader::parse_page(page, &page_layout, |ts, record| {
        records += 1;
        let id = common_type
            .as_ref()
            .and_then(|c| c.int(record))
            .and_then(|v| u16::try_from(v).ok());
        if id == Some(layout.id) || id.is_none() {
            if let Some(event) = layout.decode(record, Timestamp(ts), 0) {
                let _ = format!("{event:?}");
            }
        }
    });
    assert_eq!(summary.events, records);
    // Every event takes at least a 4-byte header and 4 bytes of data.
    assert!(
        records <= page.len() as u64 / 8,
        "more events than the page can hold"
    );
}

/// What a parsed format must satisfy: each field's bytes and value can be asked for on a record of
/// any length without panicking.
fn check_format(f: &EventFormat) {
    let record = [0xa5u8; 96];
    for field in &f.fields {
        let _ = field.bytes(&record);
        let _ = field.int(&record);
        let _ = f.symbols(&field.name).and_then(|t| t.name_of(1));
    }
}

/// Text from `/proc`: run through every `/proc` and `/etc` parser the host evidence uses — the paired
/// `netstat`/`snmp` lines, `snmp6`, `sockstat`, `sysctl.conf` lines, and each line as a
/// `/proc/<pid>/fd` link target (`socket:[inode]`).
pub fn fuzz_proc(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        let _ = crate::owners::socket_inode(line);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words = text.split_whitespace().count();
    let mut counters = Counters::default();
    crate::counters::parse_paired(text, &mut counters);
    assert!(counters.0.len() <= words, "more counters than words");
    let mut counters = Counters::default();
    crate::counters::parse_snmp6(text, &mut counters);
    assert!(counters.0.len() <= words, "more counters than words");
    let mut counters = Counters::default();
    crate::counters::parse_sockstat("sockstat", text, &mut counters);
    assert!(counters.0.len() <= words, "more counters than words");
    let lines = crate::sysctl::conf_lines("/etc/sysctl.conf", text);
    assert!(lines.len() <= text.lines().count());
}
