//! The tracker bench's work without criterion, `N` times (`tracker_count N`, default 1): for counting
//! instructions under `valgrind --tool=callgrind`, which a busy machine does not disturb as it does
//! timings. Per iteration: the count at N = 6 less the count at N = 1, divided by 5.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use lifecycle::{Config, Tracker};
use std::hint::black_box;

#[path = "support/workload.rs"]
mod workload;

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1);
    let w = workload::workload();
    for _ in 0..n {
        let mut t = Tracker::new(Config::default());
        for (now, seg) in &w {
            t.handle_segment(*now, seg);
            while t.poll_event().is_some() {}
        }
        t.finish();
        let mut ended = 0;
        while t.poll_event().is_some() {
            ended += 1;
        }
        black_box(ended);
    }
}
