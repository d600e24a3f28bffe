//! Reading on a thread of its own: the `read(2)` calls run ahead of the decoder, in chunks.
//!
//! Why: on a capture in the page cache, `read` is the kernel copying the file into our buffer, and
//! that copy is as long as everything else `analyze` does. Measured on the 335 MB corpus mix (2 cores,
//! one thread for everything): 64.7 ms of system time, almost all of it `read`, beside 54.0 ms of
//! user time for decoding, tracking and rendering. With the reads on a second core the two overlap.
//!
//! The reading thread fills chunks of [`CHUNK`] bytes and passes them through a channel of at most
//! [`AHEAD`] chunks; the reader hands chunks back for reuse, so memory stays at a few chunks whatever
//! the input. Each chunk goes out as soon as one `read` returns, so a live pipe (`tcpdump -U -w - |`)
//! still delivers frames as they arrive. An error is delivered in order, after the bytes before it.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

/// Bytes per chunk: large enough that syscalls are few, small enough to stay in cache.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the reader.
const AHEAD: usize = 4;

/// A [`Read`] whose underlying reads happen on a thread of its own (see the module documentation).
#[derive(Debug)]
pub struct Prefetch {
    chunks: Receiver<io::Result<Vec<u8>>>,
    /// Chunks read out, back to the reading thread for reuse.
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    /// The reading thread said the input ended (or failed, which was returned).
    ended: bool,
}

impl Prefetch {
    /// Starts reading `inner` on a new thread. The thread ends at the input's end, at its first error,
    /// or when the `Prefetch` is dropped and it next has a chunk to pass on.
    pub fn new<R: Read + Send + 'static>(inner: R) -> io::Result<Prefetch> {
        let (chunk_tx, chunks) = sync_channel(AHEAD);
        let (spent, spent_rx) = sync_channel(AHEAD + 2);
        thread::Builder::new()
            .name("read".into())
            .spawn(move || read_ahead(inner, &chunk_tx, &spent_rx))?;
        Ok(Prefetch {
            chunks,
            spent,
            current: Vec::new(),
            pos: 0,
            ended: false,
        })
    }
}

/// The reading thread: chunk after chunk until the end, an error, or nobody listening.
fn read_ahead<R: Read>(mut inner: R, out: &SyncSender<io::Result<Vec<u8>>>, spent: &Receiver<Vec<u8>>) {
    loop {
        // A chunk given back, or a new one while none is.
        let mut chunk = spent.try_recv().unwrap_or_default();
        // A reused chunk is already CHUNK long but for its last read's tail: little or nothing to zero.
        chunk.resize(CHUNK, 0);
        let n = loop {
            match inner.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = out.send(Err(e));
                    return;
                }
                Ok(n) => break n,
            }
        };
        if n == 0 {
            return;
        }
        chunk.truncate(n);
        if out.send(Ok(chunk)).is_err() {
            return;
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.current.len() {
            if self.ended || buf.is_empty() {
                return Ok(0);
            }
            let next = match self.chunks.recv() {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                // The thread ended after the last chunk.
                Err(_) => {
                    self.ended = true;
                    return Ok(0);
                }
            };
            let spent = std::mem::replace(&mut self.current, next);
            // The thread may have ended, or have enough spare chunks: then this one is just freed.
            let _ = self.spent.try_send(spent);
            self.pos = 0;
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, Prefetch};
    use std::io::{self, Read};

    /// Gives `data` a few bytes at a time, then fails once if asked.
    struct Dribble {
        data: Vec<u8>,
        pos: usize,
        fail_at_end: bool,
    }

    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.data.len() {
                if std::mem::take(&mut self.fail_at_end) {
                    return Err(io::Error::other("disk on fire"));
                }
                return Ok(0);
            }
            let n = buf.len().min(7_919).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn reads_everything_in_order_across_many_chunks() {
        let want = data(CHUNK * 5 + 12_345);
        let source = io::Cursor::new(want.clone());
        let mut got = Vec::new();
        Prefetch::new(source).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn small_reads_and_an_error_after_the_data() {
        let want = data(100_000);
        let source = Dribble {
            data: want.clone(),
            pos: 0,
            fail_at_end: true,
        };
        let mut p = Prefetch::new(source).unwrap();
        let mut got = vec![0u8; want.len()];
        p.read_exact(&mut got).unwrap();
        assert_eq!(got, want);
        let err = p.read(&mut [0u8; 10]).unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(p.read(&mut [0u8; 10]).unwrap(), 0, "nothing after the error");
    }

    #[test]
    fn an_empty_input_ends_at_once() {
        let mut got = Vec::new();
        Prefetch::new(io::empty()).unwrap().read_to_end(&mut got).unwrap();
        assert!(got.is_empty());
    }
}
