//! Sockets per state and family: what `netstat -n | awk '{++S[$NF]}'` computed, without the text.

use lifecycle::kernel::{Family, KernelState, SocketRecord, StateCount};

/// Every state in kernel order, zeros included, so JSON consumers always see the same keys.
pub fn count(sockets: &[SocketRecord]) -> Vec<StateCount> {
    let mut counts: Vec<StateCount> = KernelState::ALL
        .into_iter()
        .map(|state| StateCount { state, v4: 0, v6: 0 })
        .collect();
    for s in sockets {
        if let Some(c) = counts.get_mut(usize::from(s.state.number()) - 1) {
            match s.family {
                Family::V4 => c.v4 += 1,
                Family::V6 => c.v6 += 1,
            }
        }
    }
    counts
}
