//! Zeek compatibility: `zeek_conn_state` and `zeek_history` against Zeek's own baseline conn.logs for
//! Zeek's test traces (`shared/peers/zeek/plain` and `encap`). At least 95% must agree, and every
//! disagreement must be listed, with its reason, in `docs/zeek-disagreements.tsv`.

use super::{shared, stdout, tcpdoctor};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// (orig_h, orig_p, resp_h, resp_p) -> every (conn_state, history) on that 4-tuple.
type Rows = BTreeMap<[String; 4], Vec<(String, String)>>;

/// Reads the TCP rows of a conn.log; column positions come from its `#fields` line (older logs name
/// the endpoints `src_ip`... instead of `id.orig_h`...).
fn conn_log(text: &str) -> Rows {
    let mut fields: Vec<&str> = Vec::new();
    let mut rows = Rows::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let col = |names: &[&str]| {
            let i = fields.iter().position(|f| names.contains(f)).unwrap();
            line.split('\t').nth(i).unwrap().to_string()
        };
        if col(&["proto"]) != "tcp" {
            continue;
        }
        let key = [
            col(&["id.orig_h", "src_ip"]),
            col(&["id.orig_p", "src_port"]),
            col(&["id.resp_h", "dst_ip"]),
            col(&["id.resp_p", "dst_port"]),
        ];
        rows.entry(key)
            .or_default()
            .push((col(&["conn_state"]), col(&["history"])));
    }
    rows
}

fn traces() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in ["plain", "encap"] {
        for e in std::fs::read_dir(shared().join("peers/zeek").join(dir)).unwrap() {
            let log = e.unwrap().path();
            let Some(stem) = log
                .to_str()
                .unwrap()
                .strip_suffix(".conn.log")
                .map(str::to_string)
            else {
                continue;
            };
            let cap = [format!("{stem}.pcap"), format!("{stem}.pcapng")]
                .into_iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
                .unwrap();
            out.push((cap, log));
        }
    }
    out.sort();
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_str().unwrap().to_string()
}

#[test]
fn zeek_conn_state_and_history_agree_with_zeek() {
    let mut total = 0usize;
    let mut disagreements = BTreeSet::new();
    for (cap, log) in traces() {
        let want = conn_log(&std::fs::read_to_string(&log).unwrap());
        let out = tcpdoctor(&["analyze", "--zeek", cap.to_str().unwrap()]);
        let got = conn_log(&stdout(&out));
        for (key, rows) in &want {
            let mut mine = got.get(key).cloned().unwrap_or_default();
            mine.sort();
            let mut rows = rows.clone();
            rows.sort();
            for (i, (state, history)) in rows.iter().enumerate() {
                total += 1;
                let ours = mine.get(i).cloned().unwrap_or(("(none)".into(), "(none)".into()));
                if ours != (state.clone(), history.clone()) {
                    disagreements.insert(format!(
                        "{}\t{}\t{state}\t{history}\t{}\t{}",
                        name(&cap),
                        key.join(" "),
                        ours.0,
                        ours.1
                    ));
                }
            }
        }
    }
    let listed: BTreeSet<String> = include_str!("../../../../docs/zeek-disagreements.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once('\t').unwrap().0.to_string())
        .collect();
    let agree = total - disagreements.len();
    println!(
        "Zeek agreement: {agree}/{total} TCP connections ({:.1}%)",
        100.0 * agree as f64 / total as f64
    );
    assert!(total >= 111, "only {total} baseline rows found");
    assert!(
        agree * 100 >= total * 95,
        "{agree}/{total} agree: {disagreements:#?}"
    );
    let unlisted: Vec<_> = disagreements.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "disagreements not in docs/zeek-disagreements.tsv:\n{}",
        unlisted.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    let stale: Vec<_> = listed.difference(&disagreements).collect();
    assert!(stale.is_empty(), "listed but no longer disagreeing: {stale:#?}");
}
