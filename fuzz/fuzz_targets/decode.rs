//! One frame of any supported link type through `packet::decode` (see `packet::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| packet::fuzzing::fuzz_decode(data));
