//! Sans-IO TCP connection lifecycle tracking.
//!
//! Feed observed segments with [`tracker::Tracker::handle_segment`], advance time with
//! [`tracker::Tracker::handle_timeout`], and collect ended connections with
//! [`tracker::Tracker::poll_event`]. Nothing here reads a clock, opens a file or spawns a thread.

pub mod segment;
pub mod seq;

pub use segment::{Flags, Segment, TcpOptions, Timestamp, endpoint_string};
pub use seq::Seq;
