//! Renderers over `io::Write`: every output of tcpdoctor, from the core's plain records.
//!
//! Renderers take what the lifecycle core and the host produce (records, counters) and never touch a
//! tracker or a socket: adding an output never changes the engine (ripgrep's `Sink` seam).
#![forbid(unsafe_code)]

pub mod connections;
pub mod events;
pub mod html;
pub mod json;
pub mod kernel_view;
pub mod ladder;
pub mod resets;
pub mod safe;
pub mod status;
pub mod summary;
pub mod zeek_log;

pub use summary::{CaptureFacts, FragmentFacts, RingFacts, Summary};

/// What the capture adds to a connection's record beyond the tracker's verdict: the tunnel that
/// carried it, (in an Apple PKTAP capture) the process that owned its socket, and (with `capture
/// --trace`) the kernel's own account of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// `vxlan vni 42 10.1.1.1>10.1.1.2`, innermost tunnel first.
    pub tunnel: Option<String>,
    /// `curl (pid 4242)`.
    pub process: Option<String>,
    /// What the kernel's tracepoints said about it (`capture --trace`).
    pub kernel: Option<lifecycle::correlate::Joined>,
}
