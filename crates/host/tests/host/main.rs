//! The host crate against real kernels and fixture trees: one test binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup should panic

#[macro_use]
mod lab;
mod churn;
mod conntrack;
mod fixtures;
mod fuzz_regressions;
mod keepalive;
mod namespace;
mod shared;
mod syn_recv;
