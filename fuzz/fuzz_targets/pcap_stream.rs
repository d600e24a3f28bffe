//! A capture file through the streaming source, against the in-memory one (see `capture::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| capture::fuzzing::fuzz_pcap_stream(data));
