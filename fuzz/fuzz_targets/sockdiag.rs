//! One `inet_diag` dump datagram through the sock_diag reply parser (see `host::fuzzing`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| host::fuzzing::fuzz_sockdiag(data));
