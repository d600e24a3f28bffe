//! /proc and sysctl text through the counter, sysctl and fd-link parsers (see `host::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| host::fuzzing::fuzz_proc(data));
