//! Renderers over `io::Write`: every output of tcpdoctor, from the core's plain records.
//!
//! Renderers take what the lifecycle core and the host produce (records, counters) and never touch a
//! tracker or a socket: adding an output never changes the engine (ripgrep's `Sink` seam).
#![forbid(unsafe_code)]

pub mod connections;
pub mod events;
pub mod json;
pub mod safe;
pub mod status;
pub mod summary;
pub mod zeek_log;

pub use summary::{CaptureFacts, RingFacts, Summary};
