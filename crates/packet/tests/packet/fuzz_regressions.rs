//! Replays `fuzz/regressions/decode/` and `fuzz/regressions/decode_stream/` (every crash the fuzz
//! targets found, minimised, and a small seed set) through the fuzz targets' own entry points, so that
//! CI needs neither cargo-fuzz nor nightly to keep those inputs fixed.

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
    replay("decode", packet::fuzzing::fuzz_decode);
}

#[test]
fn fuzz_stream_regressions_replay() {
    replay("decode_stream", packet::fuzzing::fuzz_decode_stream);
}
