//! Frames through one `packet::Decoder`: fragments meet their datagrams, tunnels are numbered across
//! frames (see `packet::fuzzing::fuzz_decode_stream`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| packet::fuzzing::fuzz_decode_stream(data));
