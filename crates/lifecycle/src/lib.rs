//! Sans-IO TCP connection lifecycle tracking.
//!
//! Feed observed segments with [`tracker::Tracker::handle_segment`], advance time with
//! [`tracker::Tracker::handle_timeout`], and collect ended connections with
//! [`tracker::Tracker::poll_event`]. Nothing here reads a clock, opens a file or spawns a thread.
#![forbid(unsafe_code)]

pub mod connection;
pub mod correlate;
pub mod ending;
pub mod endpoint;
mod first_segment;
mod flow_table;
#[doc(hidden)]
pub mod fuzzing;
pub mod idle_timeouts;
pub mod kernel;
pub mod kernel_event;
pub mod record;
pub mod reset_origin;
pub mod segment;
pub mod seq;
pub mod state;
pub mod steps;
pub mod tracker;
#[cfg(test)]
pub(crate) mod transcript;
pub mod transition;
pub mod zeek;

pub use connection::{Anomalies, ConnectionRecord, ZeekSummary};
pub use ending::{Cause, Closer, EndReason, Handshake, Side};
pub use reset_origin::{ResetEvidence, ResetOrigin};
pub use segment::{Flags, Segment, TcpOptions, Timestamp, endpoint_string};
pub use seq::Seq;
pub use state::State;
pub use steps::{Mark, Marks, Steps, WatchOptions};
pub use tracker::{Config, Event, Tracker, TrackerStats};
