//! Replays `fuzz/regressions/{sockdiag,tracefs,proc}/` (every crash the host fuzz targets found,
//! minimised, and a small seed set) through the fuzz targets' own entry points, so that CI needs
//! neither cargo-fuzz nor nightly to keep those inputs fixed; and the bugs they found, by name.

use host::HostError;
use host::sockdiag::parse_datagram;
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        run(&data);
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn fuzz_regressions_replay() {
    replay("sockdiag", host::fuzzing::fuzz_sockdiag);
    replay("tracefs", host::fuzzing::fuzz_tracefs);
    replay("proc", host::fuzzing::fuzz_proc);
}

/// A netlink header of `len` bytes of type `msg_type`, in the host's byte order.
fn nlmsghdr(len: u32, msg_type: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&len.to_ne_bytes());
    b.extend_from_slice(&msg_type.to_ne_bytes());
    b.extend_from_slice(&[0; 10]); // flags, sequence number, port id
    b
}

/// An `NLMSG_ERROR` whose error code is `i32::MIN` made `-code` overflow (a panic in debug builds).
#[test]
fn netlink_error_code_i32_min_is_an_error_not_a_panic() {
    let mut msg = nlmsghdr(36, 2);
    msg.extend_from_slice(&i32::MIN.to_ne_bytes());
    msg.extend_from_slice(&nlmsghdr(16, 20));
    let err = parse_datagram(&msg, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, HostError::Refused(..)), "{err:?}");
}
