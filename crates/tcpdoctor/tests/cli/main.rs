//! The `tcpdoctor` binary, run for real against real evidence: the corpus of Linux kernel captures with
//! ground truth (`shared/corpus/`) and Zeek's test traces with Zeek's own conn.log (`shared/peers/zeek/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyze;
#[cfg(target_os = "linux")]
mod capture;
#[cfg(target_os = "linux")]
mod damaged;
#[cfg(target_os = "linux")]
mod exporter;
#[cfg(target_os = "linux")]
mod flags;
#[cfg(target_os = "linux")]
mod floods;
#[cfg(target_os = "linux")]
mod generate;
#[cfg(target_os = "linux")]
mod html;
#[cfg(target_os = "linux")]
mod lab;
mod ladder;
#[cfg(target_os = "linux")]
mod live;
#[cfg(target_os = "linux")]
mod output_safety;
#[cfg(target_os = "linux")]
mod privileges;
#[cfg(target_os = "linux")]
mod real_world;
#[cfg(target_os = "linux")]
mod resets;
#[cfg(target_os = "linux")]
mod signals;
mod status;
#[cfg(target_os = "linux")]
mod top;
#[cfg(target_os = "linux")]
mod trace;
#[cfg(target_os = "linux")]
mod tunnels;
mod zeek_peers;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// `shared/` beside the repository (CI lays a copy there).
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn tcpdoctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tcpdoctor"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// JSON lines keyed by their `client` field.
pub fn json_lines_by_client(out: &str) -> std::collections::HashMap<String, serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["client"].as_str().unwrap().to_string(), v))
        .collect()
}
