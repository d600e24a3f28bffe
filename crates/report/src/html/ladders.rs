//! Which connections keep their ladder in the report: every ladder would make the file huge, so the
//! report keeps at most N (`--html-ladders`): the summary's problem examples first, then a sample
//! spread evenly over the capture.
//!
//! The sample is systematic and bounded: it keeps every `step`-th connection, and when it holds more
//! than it may, it doubles `step` and drops those no longer on it. Memory stays within N ladders
//! however long the capture, and the result is the same on every run (no randomness).

use crate::ladder::Layout;
use std::collections::BTreeMap;

/// Rows a kept ladder draws at most: the report's ladders stay a few kilobytes each.
pub const MAX_ROWS: usize = 300;

/// The kept ladders, by their row number (the `--connections` row).
#[derive(Debug)]
pub struct Kept {
    limit: usize,
    examples: BTreeMap<u64, Layout>,
    sample: BTreeMap<u64, Layout>,
    step: u64,
}

impl Kept {
    #[must_use]
    pub fn new(limit: usize) -> Kept {
        Kept {
            limit,
            examples: BTreeMap::new(),
            sample: BTreeMap::new(),
            step: 1,
        }
    }

    /// Row `row`'s ladder; `example` when the summary shows it as a problem's example.
    pub fn offer(&mut self, row: u64, mut layout: Layout, example: bool) {
        layout.truncate(MAX_ROWS);
        if example && self.examples.len() < self.limit {
            self.examples.insert(row, layout);
            return;
        }
        if row % self.step != 0 {
            return;
        }
        self.sample.insert(row, layout);
        while self.examples.len() + self.sample.len() > self.limit && !self.sample.is_empty() {
            self.step = self.step.saturating_mul(2);
            let step = self.step;
            self.sample.retain(|r, _| r % step == 0);
        }
    }

    /// Every kept ladder, by row.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Layout)> {
        let mut all: Vec<(u64, &Layout)> = self
            .examples
            .iter()
            .chain(&self.sample)
            .map(|(r, l)| (*r, l))
            .collect();
        all.sort_unstable_by_key(|(r, _)| *r);
        all.into_iter()
    }

    #[must_use]
    pub fn contains(&self, row: u64) -> bool {
        self.examples.contains_key(&row) || self.sample.contains_key(&row)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.examples.len() + self.sample.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most ladders kept.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Context;
    use lifecycle::{Flags, Segment, Steps, Timestamp, Tracker};

    fn layout() -> Layout {
        let mut tracker = Tracker::default();
        let mut syn = Segment::between("10.0.0.1:1".parse().unwrap(), "10.0.0.2:2".parse().unwrap());
        syn.flags = Flags(Flags::SYN);
        tracker.handle_segment(Timestamp(1), &syn);
        tracker.finish();
        let Some(lifecycle::Event::Ended(r)) = tracker.poll_event() else {
            panic!()
        };
        Layout::new(&r, &Steps::default(), &Context::default(), None)
    }

    /// Examples always, the sample evenly spread, never more than the limit.
    #[test]
    fn examples_then_an_even_sample_within_the_limit() {
        let mut kept = Kept::new(10);
        for row in 1..=1000 {
            kept.offer(row, layout(), row == 777);
        }
        let rows: Vec<u64> = kept.iter().map(|(r, _)| r).collect();
        assert!(rows.len() <= 10 && rows.len() >= 5, "{rows:?}");
        assert!(kept.contains(777));
        let sample: Vec<u64> = rows.iter().copied().filter(|r| *r != 777).collect();
        let step = sample[1] - sample[0];
        assert!(sample.windows(2).all(|w| w[1] - w[0] == step), "{sample:?}");
        assert!(*sample.last().unwrap() > 1000 - step, "{sample:?}");
        assert!(Kept::new(0).is_empty());
    }
}
