//! The packet decoder on hand-built frames, arbitrary bytes, and the shared traces: one test binary for
//! the crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod decode;
mod fuzz_regressions;
mod never_panics;
mod traces;
mod tunnels;
