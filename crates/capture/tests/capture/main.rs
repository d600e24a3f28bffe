//! The capture readers against the shared corpus, captures built in code, and arbitrary bytes: one test
//! binary for the crate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod corpus;
mod fuzz;
mod fuzz_regressions;
mod support;
mod synthetic;
