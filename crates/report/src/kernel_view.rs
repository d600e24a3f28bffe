//! What the kernel said about a connection (`capture --trace`, `lab`): the resets it sent or received
//! with its reasons and processes, the process that connected, and where the kernel's account and the
//! packets' agree or part. One serialisation for the `kernel` field of `tcpdoctor.connection/1` and for
//! `tcpdoctor.lab/1`.

use lifecycle::correlate::Joined;
use serde::Serialize;

#[derive(Serialize, Debug)]
pub struct KernelView<'a> {
    pub resets: Vec<ResetView<'a>>,
    /// The process that called `connect()`, when one fits.
    pub connect_pid: Option<u32>,
    pub connect_comm: Option<&'a str>,
    /// The kernel's events joined to this connection.
    pub events: usize,
    pub checks: Vec<CheckView<'a>>,
    /// Every source that could answer agreed with the packets.
    pub agree: bool,
}

#[derive(Serialize, Debug)]
pub struct ResetView<'a> {
    pub side: &'static str,
    pub direction: &'static str,
    pub time: f64,
    pub state: Option<&'static str>,
    /// `NO_SOCKET`, `TCP_ABORT_ON_CLOSE`, ... (`enum sk_rst_reason`); null for received resets.
    pub reason: Option<&'a str>,
    pub reason_words: Option<&'static str>,
    pub pid: Option<u32>,
    pub comm: Option<&'a str>,
}

#[derive(Serialize, Debug)]
pub struct CheckView<'a> {
    pub aspect: &'a str,
    pub packets: &'a str,
    pub kernel: Option<&'a str>,
    pub table: Option<&'a str>,
    pub agree: bool,
}

impl<'a> KernelView<'a> {
    #[must_use]
    pub fn of(j: &'a Joined) -> KernelView<'a> {
        KernelView {
            resets: j
                .resets
                .iter()
                .map(|r| ResetView {
                    side: r.side.name(),
                    direction: r.direction.name(),
                    time: r.time.as_secs_f64(),
                    state: r.state.map(|s| s.rfc_name()),
                    reason: r.reason.as_ref().and_then(|x| x.name.as_deref()),
                    reason_words: r.reason.as_ref().map(|x| x.words()),
                    pid: r.task.as_ref().map(|t| t.pid),
                    comm: r.task.as_ref().and_then(|t| t.comm.as_deref()),
                })
                .collect(),
            connect_pid: j.connector.as_ref().map(|t| t.pid),
            connect_comm: j.connector.as_ref().and_then(|t| t.comm.as_deref()),
            events: j.events.len(),
            checks: j
                .checks
                .iter()
                .map(|c| CheckView {
                    aspect: &c.aspect,
                    packets: &c.packets,
                    kernel: c.kernel.as_deref(),
                    table: c.table.as_deref(),
                    agree: c.agree,
                })
                .collect(),
            agree: j.agrees(),
        }
    }
}
