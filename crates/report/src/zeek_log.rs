//! Zeek's `conn.log` in its TSV format (header lines included), for the TCP fields.
//!
//! Columns and conventions follow Zeek's `Conn::Info` record (`base/protocols/conn/main.zeek`): `-` for
//! unset fields, `duration` and the byte counts unset when Zeek's duration is zero. Fields tcpdoctor does
//! not know (`service`, `local_orig`, `local_resp`, `tunnel_parents`) are unset.

use lifecycle::{ConnectionRecord, Timestamp, ZeekSummary};
use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

const FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto";
const TYPES: &str = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount";

/// Zeek's `#open`/`#close` time format: `2026-11-25-11-42-45`.
fn log_time(t: Timestamp) -> String {
    let st = UNIX_EPOCH + Duration::from_secs(t.0 / 1_000_000_000);
    humantime::format_rfc3339_seconds(st)
        .to_string()
        .trim_end_matches('Z')
        .replace(['T', ':'], "-")
}

/// Writes the header lines; `opened` is the wall-clock time the log was opened.
pub fn write_header(out: &mut impl Write, opened: Timestamp) -> io::Result<()> {
    writeln!(out, "#separator \\x09")?;
    writeln!(out, "#set_separator\t,")?;
    writeln!(out, "#empty_field\t(empty)")?;
    writeln!(out, "#unset_field\t-")?;
    writeln!(out, "#path\tconn")?;
    writeln!(out, "#open\t{}", log_time(opened))?;
    writeln!(out, "#fields\t{FIELDS}")?;
    writeln!(out, "#types\t{TYPES}")
}

/// Writes the closing line.
pub fn write_footer(out: &mut impl Write, closed: Timestamp) -> io::Result<()> {
    writeln!(out, "#close\t{}", log_time(closed))
}

/// A stable connection uid in Zeek's shape (`C` + base62), derived from the record id.
fn uid(id: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // A bijective mix so that consecutive ids do not look consecutive (splitmix64 finaliser).
    let mut x = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let mut s = String::from("C");
    for _ in 0..11 {
        s.push(char::from(DIGITS[(x % 62) as usize]));
        x /= 62;
    }
    s
}

/// Writes the rows of one connection: one per Zeek connection it spans (Zeek may split one TCP
/// connection on its own timers), with uids derived from the record id.
pub fn write_connection(out: &mut impl Write, r: &ConnectionRecord) -> io::Result<()> {
    if r.zeek.is_empty() {
        // The tracker kept no Zeek view (`Config::zeek_view`): no row rather than a missing one.
        return Err(io::Error::other("a connection record without a Zeek row"));
    }
    for (i, z) in r.zeek.iter().enumerate() {
        write_row(out, r.id.wrapping_mul(64).wrapping_add(i as u64), z)?;
    }
    Ok(())
}

fn write_row(out: &mut impl Write, id: u64, z: &ZeekSummary) -> io::Result<()> {
    let ts = z.start.0;
    write!(
        out,
        "{}.{:06}\t{}\t{}\t{}\t{}\t{}\ttcp\t-\t",
        ts / 1_000_000_000,
        (ts % 1_000_000_000) / 1_000,
        uid(id),
        z.orig.ip(),
        z.orig.port(),
        z.resp.ip(),
        z.resp.port()
    )?;
    if z.duration_ns > 0 {
        let d = z.duration_ns;
        write!(
            out,
            "{}.{:06}\t{}\t{}\t",
            d / 1_000_000_000,
            (d % 1_000_000_000) / 1_000,
            z.orig_bytes,
            z.resp_bytes
        )?;
    } else {
        out.write_all(b"-\t-\t-\t")?;
    }
    writeln!(
        out,
        "{}\t-\t-\t{}\t{}\t{}\t{}\t{}\t{}\t-\t6",
        z.conn_state,
        z.missed_bytes,
        if z.history.is_empty() { "-" } else { &z.history },
        z.orig_pkts,
        z.orig_ip_bytes,
        z.resp_pkts,
        z.resp_ip_bytes
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_time_format() {
        assert_eq!(
            log_time(Timestamp(1_764_071_000 * 1_000_000_000)),
            "2025-11-25-11-43-20"
        );
    }

    #[test]
    fn uids_differ_and_look_like_zeek() {
        let (a, b) = (uid(0), uid(1));
        assert_ne!(a, b);
        assert_eq!(a.len(), 12);
        assert!(a.starts_with('C'));
    }
}
