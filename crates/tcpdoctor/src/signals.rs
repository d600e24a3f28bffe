//! Stopping long-running commands cleanly: SIGINT (Ctrl-C), SIGTERM and SIGHUP set one flag that the
//! command's loop polls, so that it can restore what it changed and print what it saw before it exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The stop flag, set by any of the handled signals.
#[derive(Clone, Debug)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Installs the handlers. A second signal while stopping still only sets the flag: the command is
    /// expected to stop within a poll interval, and a hard kill (SIGKILL) remains for the impatient.
    pub fn install() -> std::io::Result<Stop> {
        Stop::with(false)
    }

    /// As [`Stop::install`], but once a stop was requested another signal ends the process at once
    /// (exit status 130), for a command that may be waiting on a quiet pipe when the first one comes.
    pub fn install_second_exits() -> std::io::Result<Stop> {
        Stop::with(true)
    }

    /// A flag no signal sets, for a caller that handles signals itself.
    pub fn none() -> Stop {
        Stop(Arc::new(AtomicBool::new(false)))
    }

    fn with(second_exits: bool) -> std::io::Result<Stop> {
        let flag = Arc::new(AtomicBool::new(false));
        for sig in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ] {
            if second_exits {
                // Registered first, so it sees the flag as it was before this signal set it.
                signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag))?;
            }
            signal_hook::flag::register(sig, Arc::clone(&flag))?;
        }
        Ok(Stop(flag))
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
