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
