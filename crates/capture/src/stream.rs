//! Frames from a byte stream (a file, stdin, a pipe, a FIFO) through one bounded buffer.
//!
//! The buffer holds at most one partial record plus what the last read brought: it starts at
//! [`CHUNK`] and grows only to fit a single record or block larger than that, which the decoders cap
//! at [`MAX_BLOCK`](crate::MAX_BLOCK). So memory does not grow with the input, and a length field of
//! 4 GB is refused before anything is allocated for it. Frames borrow the buffer: nothing is copied
//! per frame except the partial record moved to the front when the buffer is refilled.
//!
//! Reads stop as soon as the current record is complete, so frames from a live pipe
//! (`tcpdump -U -w - | ...`) come out as they arrive instead of waiting for a full buffer.

use crate::decode::{Decoder, Record, Unit};
use crate::error::CaptureError;
use crate::{Frame, FrameSource};
use std::io::{ErrorKind, Read};

/// Buffer size, and so the size of most reads: large enough that syscalls are few, small enough to
/// stay in cache.
const CHUNK: usize = 256 * 1024;

/// A [`FrameSource`] over any [`Read`] (see [`from_reader`](crate::from_reader)).
#[derive(Debug)]
pub struct StreamSource<R> {
    name: String,
    reader: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    base: u64,
    eof: bool,
    decoder: Option<Decoder>,
    /// Set after the end or an error: later calls return `Ok(None)`.
    done: bool,
    /// The input's length, when known ([`FrameSource::total_bytes`]).
    size: Option<u64>,
}

impl<R: Read> StreamSource<R> {
    pub(crate) fn new(name: &str, reader: R) -> StreamSource<R> {
        StreamSource {
            name: name.to_owned(),
            reader,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            decoder: None,
            done: false,
            size: None,
        }
    }

    /// Says how long the input is (a regular file's length), for a progress bar.
    pub(crate) fn with_size(mut self, size: Option<u64>) -> StreamSource<R> {
        self.size = size;
        self
    }

    /// Steps to the next frame; returns it with its position in `buf` and in the stream.
    fn advance(&mut self) -> Result<Option<(Record, usize, u64)>, CaptureError> {
        loop {
            let rest = &self.buf[self.start..self.end];
            let need = match &mut self.decoder {
                None if rest.len() < Decoder::MAGIC_LEN && !self.eof => Decoder::MAGIC_LEN,
                None => {
                    let d = Decoder::detect(rest).map_err(|p| p.into_error(&self.name))?;
                    self.decoder = Some(d);
                    continue;
                }
                Some(_) if rest.is_empty() && self.eof => return Ok(None),
                Some(_) if rest.is_empty() => 1,
                Some(decoder) => match decoder
                    .decode(rest, self.base)
                    .map_err(|p| p.into_error(&self.name))?
                {
                    Unit::Frame(record) => {
                        let (at, offset) = (self.start, self.base);
                        self.consume(record.len);
                        return Ok(Some((record, at, offset)));
                    }
                    Unit::Skip(n) => {
                        self.consume(n);
                        continue;
                    }
                    Unit::Incomplete(inc) if self.eof => {
                        return Err(CaptureError::Truncated {
                            name: self.name.clone(),
                            what: inc.what,
                            offset: self.base,
                            detail: inc.describe(rest.len()),
                        });
                    }
                    Unit::Incomplete(inc) => inc.needed,
                },
            };
            self.fill(need)?;
        }
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.base += n as u64;
    }

    /// Reads until `need` unconsumed bytes are buffered or the input ends. `need` is at most
    /// `MAX_BLOCK` (the decoders refuse longer lengths before asking for them).
    fn fill(&mut self, need: usize) -> Result<(), CaptureError> {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < need.max(CHUNK) {
            self.buf.resize(need.max(CHUNK), 0);
        }
        while self.end < need {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(error) => {
                    return Err(CaptureError::Io {
                        name: self.name.clone(),
                        offset: self.base + self.end as u64,
                        error,
                    });
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> FrameSource for StreamSource<R> {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some((record, at, offset))) => Ok(Some(Frame::new(record, &self.buf, at, offset))),
            other => {
                self.done = true;
                other.map(|_| None)
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.base
    }

    fn total_bytes(&self) -> Option<u64> {
        self.size
    }
}
