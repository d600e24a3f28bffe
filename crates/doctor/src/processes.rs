//! Who owns the socket table: sockets per process and state, and those only the kernel holds.

use lifecycle::kernel::{KernelHeld, KernelState, ProcessSockets, SocketRecord};
use std::collections::HashMap;

/// Processes beyond this many are left out; the biggest holders are the ones that matter.
const TOP: usize = 20;

/// Sockets per process, counting only the states whose owners were all looked up (`owner_states`): the
/// few others that have owners (the idle connections the keepalive audit names) would make a
/// process's count look complete when it is not. A socket several processes hold (after `fork`) counts
/// once for each, as `ss -p` lists it under each; once for a process holding it at several fds.
pub fn tally(sockets: &[SocketRecord], owner_states: &[KernelState]) -> (Vec<ProcessSockets>, KernelHeld) {
    let mut by_pid: HashMap<u32, ProcessSockets> = HashMap::new();
    let mut kernel = KernelHeld::default();
    for s in sockets {
        let name = s.state.linux_name();
        if s.inode == 0 {
            kernel.total += 1;
            *kernel.states.entry(name).or_default() += 1;
        }
        if !owner_states.contains(&s.state) {
            continue;
        }
        // Owners come ordered by pid: a process's fds are together.
        for (k, o) in s.owners.iter().enumerate() {
            if k > 0 && s.owners.get(k - 1).is_some_and(|prev| prev.pid == o.pid) {
                continue;
            }
            let p = by_pid.entry(o.pid).or_insert_with(|| ProcessSockets {
                pid: o.pid,
                comm: o.comm.clone(),
                total: 0,
                states: Default::default(),
            });
            p.total += 1;
            *p.states.entry(name).or_default() += 1;
        }
    }
    let mut processes: Vec<ProcessSockets> = by_pid.into_values().collect();
    processes.sort_by(|a, b| b.total.cmp(&a.total).then(a.pid.cmp(&b.pid)));
    processes.truncate(TOP);
    (processes, kernel)
}
