//! A capture file through the in-memory source (see `capture::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| capture::fuzzing::fuzz_pcap_slice(data));
