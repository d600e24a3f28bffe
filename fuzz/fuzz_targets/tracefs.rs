//! A tracefs format file and a ring-buffer page through the trace parsers (see `host::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| host::fuzzing::fuzz_tracefs(data));
