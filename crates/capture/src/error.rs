//! What can go wrong while reading a capture, as one-line messages that name the input and the byte.
//!
//! The caller reports the frames read before a failure and then the error, so each message must stand
//! on its own: input name (`<stdin>` for `-`), byte offset of the record or block at fault, and what
//! was wrong. The variants separate what a user does differently about each: a file that is no capture
//! at all, one cut short (tcpdump killed mid-write: the frames before the cut are good), one whose
//! structure is broken (lengths that cannot be right), and I/O failures.

use std::io;

/// An error from a [`FrameSource`](crate::FrameSource) or [`open`](crate::open).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The input does not start with a pcap or pcapng magic number.
    #[error("{name}: not a capture file ({detail}): expected pcap or pcapng")]
    NotCapture { name: String, detail: String },

    /// The input ends inside a header, record or block: everything before `offset` was read.
    #[error("{name}: truncated {what} at byte {offset}: {detail}")]
    Truncated {
        name: String,
        what: &'static str,
        offset: u64,
        detail: String,
    },

    /// A header, record or block at `offset` cannot be right (absurd or inconsistent lengths, a packet
    /// for an interface never described, ...). Reading stops there: past a bad length there is no way
    /// to find the next record.
    #[error("{name}: damaged {what} at byte {offset}: {detail}")]
    Damaged {
        name: String,
        what: &'static str,
        offset: u64,
        detail: String,
    },

    /// The input could not be opened.
    #[error("{name}: cannot open: {error}")]
    Open { name: String, error: io::Error },

    /// Reading failed at `offset` (the first byte not yet read).
    #[error("{name}: read error at byte {offset}: {error}")]
    Io {
        name: String,
        offset: u64,
        error: io::Error,
    },
}

impl CaptureError {
    /// Byte offset the error points at, if it is about a place in the input.
    #[must_use]
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::NotCapture { .. } => Some(0),
            CaptureError::Truncated { offset, .. }
            | CaptureError::Damaged { offset, .. }
            | CaptureError::Io { offset, .. } => Some(*offset),
            CaptureError::Open { .. } => None,
        }
    }
}

/// A decoding failure before it is given the input's name and the byte count that remained.
#[derive(Debug)]
pub(crate) enum Problem {
    NotCapture(String),
    Damaged {
        what: &'static str,
        offset: u64,
        detail: String,
    },
}

impl Problem {
    pub(crate) fn damaged(what: &'static str, offset: u64, detail: String) -> Problem {
        Problem::Damaged { what, offset, detail }
    }

    pub(crate) fn into_error(self, name: &str) -> CaptureError {
        let name = name.to_owned();
        match self {
            Problem::NotCapture(detail) => CaptureError::NotCapture { name, detail },
            Problem::Damaged { what, offset, detail } => CaptureError::Damaged {
                name,
                what,
                offset,
                detail,
            },
        }
    }
}
