//! Frames straight out of an in-memory capture: any byte buffer (`tcpdoctor lab`'s capture, tests).
//!
//! Frames borrow the buffer, so reading a frame copies and allocates nothing.

use crate::decode::{Decoder, Record, Unit};
use crate::error::CaptureError;
use crate::{Frame, FrameSource};

/// A [`FrameSource`] over bytes already in memory (see [`from_bytes`](crate::from_bytes)).
#[derive(Debug)]
pub struct SliceSource<B> {
    name: String,
    bytes: B,
    /// Offset of the next unread record or block.
    pos: usize,
    decoder: Option<Decoder>,
    /// Set after the end or an error: later calls return `Ok(None)`.
    done: bool,
}

impl<B: AsRef<[u8]>> SliceSource<B> {
    pub(crate) fn new(name: &str, bytes: B) -> SliceSource<B> {
        SliceSource {
            name: name.to_owned(),
            bytes,
            pos: 0,
            decoder: None,
            done: false,
        }
    }

    /// Steps to the next frame; returns it with the offset it starts at.
    fn advance(&mut self) -> Result<Option<(Record, usize)>, CaptureError> {
        let buf = self.bytes.as_ref();
        loop {
            let rest = buf.get(self.pos..).unwrap_or_default();
            let decoder = match &mut self.decoder {
                Some(d) => d,
                None => {
                    let d = Decoder::detect(rest).map_err(|p| p.into_error(&self.name))?;
                    self.decoder.insert(d)
                }
            };
            if rest.is_empty() {
                return Ok(None);
            }
            let at = self.pos;
            match decoder
                .decode(rest, at as u64)
                .map_err(|p| p.into_error(&self.name))?
            {
                Unit::Frame(record) => {
                    self.pos += record.len;
                    return Ok(Some((record, at)));
                }
                Unit::Skip(n) => self.pos += n,
                Unit::Incomplete(inc) => {
                    return Err(CaptureError::Truncated {
                        name: self.name.clone(),
                        what: inc.what,
                        offset: at as u64,
                        detail: inc.describe(rest.len()),
                    });
                }
            }
        }
    }
}

impl<B: AsRef<[u8]>> FrameSource for SliceSource<B> {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some((record, at))) => Ok(Some(Frame::new(record, self.bytes.as_ref(), at, at as u64))),
            other => {
                self.done = true;
                other.map(|_| None)
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.pos as u64
    }

    fn total_bytes(&self) -> Option<u64> {
        Some(self.bytes.as_ref().len() as u64)
    }
}
