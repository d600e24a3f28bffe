//! The conn.log rows of one tracked connection: Zeek's view of its current part, and the parts Zeek
//! already ended on this 4-tuple while our connection went on.
//!
//! Only `--json` and `--zeek` print them, so a connection carries them only when asked
//! ([`Config::zeek_view`](crate::tracker::Config::zeek_view)): they are half a connection's memory and
//! a fifth of the tracker's work per segment.

use super::ZeekConn;
use crate::record::ZeekSummary;
use crate::segment::{Segment, Timestamp};

/// Earlier Zeek connections kept per connection: bounds memory for a long connection that Zeek splits
/// again and again (every idle period of its inactivity timeout).
const MAX_SPLITS: usize = 8;

#[derive(Debug)]
pub(crate) struct ZeekRows {
    /// Zeek's view of the current part.
    pub(crate) now: ZeekConn,
    /// Zeek connections on this 4-tuple that Zeek ended while this connection went on.
    earlier: Vec<ZeekSummary>,
    /// Zeek connections beyond [`MAX_SPLITS`], counted only.
    dropped: u32,
}

impl ZeekRows {
    /// Zeek's view from the connection's first segment on (already observed).
    pub(crate) fn new(first: &Segment, now: Timestamp) -> ZeekRows {
        let mut view = ZeekConn::new(first, now);
        view.observe(first, now);
        ZeekRows {
            now: view,
            earlier: Vec::new(),
            dropped: 0,
        }
    }

    /// Zeek's view ends a connection on its own timers and its own port-reuse test, which need not
    /// agree with ours (it splits a one-sided connection after 5 s, for example): when it does, the
    /// finished Zeek connection is kept beside this one so that the conn.log has every row Zeek would.
    pub(crate) fn observe(&mut self, seg: &Segment, now: Timestamp) {
        if self.now.expired(now) || self.now.is_reuse(seg) {
            let done = std::mem::replace(&mut self.now, ZeekConn::new(seg, now));
            if self.earlier.len() < MAX_SPLITS {
                self.earlier.push(ZeekSummary::of(&done));
            } else {
                self.dropped += 1;
            }
        }
        self.now.observe(seg, now);
    }

    /// Every row, the earliest first, and how many more were only counted.
    pub(crate) fn summaries(&self) -> (Vec<ZeekSummary>, u32) {
        let mut rows = self.earlier.clone();
        rows.push(ZeekSummary::of(&self.now));
        (rows, self.dropped)
    }
}
