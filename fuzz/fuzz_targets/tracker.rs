//! Segment sequences through a tracker capped at 8 connections (see `lifecycle::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecycle::fuzzing::fuzz_tracker(data));
