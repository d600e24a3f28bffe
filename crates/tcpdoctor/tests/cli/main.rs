//! The `tcpdoctor` binary, run for real against real evidence: the corpus of Linux kernel captures with
//! ground truth (`shared/corpus/`) and Zeek's test traces with Zeek's own conn.log (`shared/peers/zeek/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyze;
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
