//! Replays `fuzz/regressions/decode/` (every crash the `decode` fuzz target found, minimised, and a
//! small seed set) through the fuzz target's own entry point, so that CI needs neither cargo-fuzz nor
//! nightly to keep those inputs fixed.

use std::path::Path;

#[test]
fn fuzz_regressions_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/decode");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        eprintln!("replaying {}", path.display());
        packet::fuzzing::fuzz_decode(&data);
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
