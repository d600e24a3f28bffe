//! Every socket once in a snapshot, whatever it did while the kernel was walking the table.
//!
//! A snapshot is not taken at one instant, and the same socket can be reported twice:
//! - by one walk: a dump is resumed after each full datagram at (hash bucket, position in its chain)
//!   (`inet_diag_dump_icsk`, `net/ipv4/inet_diag.c`); a socket added to or removed from the chain in
//!   between shifts the positions, and a socket already given is given again (or one is skipped: that
//!   loss no reader can see, `ss` has it too);
//! - by the `tcp_info` pass ([`super::dump`]), a second walk for a few states: a socket that moved
//!   from ESTABLISHED into CLOSE-WAIT between the walks is in both.
//!
//! The identity is the socket's cookie (`idiag_cookie`): the inode is 0 for every TIME-WAIT and request
//! socket, the 4-tuple is reused, the state changes. The TIME-WAIT socket that replaces a connection's
//! socket keeps its cookie (`inet_twsk_alloc`); a request socket's child does not (`sk_clone_lock`
//! starts a new one), so a request socket is also the same socket as a later record of its 4-tuple.
//!
//! Records are given in the order the kernel sent them (the `tcp_info` pass after the main walk), and
//! the later record of a socket replaces the earlier: it is the newer, and only the `tcp_info` pass
//! has the idle times. A socket that left the `tcp_info` states between the walks keeps its first
//! record, without idle times: counted once, as the main walk saw it. A socket only the second walk
//! saw (opened in between, or skipped by the first) is kept: it is in the table, in a state the
//! snapshot asked for.

use crate::int_map::IntMap;
use lifecycle::kernel::{Family, KernelState, SocketRecord};
use std::net::SocketAddr;

/// Keeps one record per socket in `records`, the latest, where the socket's first record was.
/// Records without a cookie (0: not from a kernel) are all kept.
pub fn once_each(records: &mut Vec<SocketRecord>) {
    let mut at = IntMap::<usize>::default();
    at.reserve(records.len());
    // Request sockets by 4-tuple, until a later record of the connection replaces them. Few: only
    // looked up when there are some.
    let mut requests = foldhash::HashMap::<(Family, SocketAddr, SocketAddr), usize>::default();
    let mut kept = 0;
    for i in 0..records.len() {
        let record = &records[i];
        let tuple = || (record.family, record.local, record.remote);
        let is_request = record.state == KernelState::SynRecv;
        let mut new_slot = || {
            let child_of = (!requests.is_empty() && !is_request)
                .then(|| requests.remove(&tuple()))
                .flatten();
            child_of.unwrap_or_else(|| {
                kept += 1;
                kept - 1
            })
        };
        // One probe of the map per record: the one cost a snapshot of every socket adds.
        let slot = match record.cookie {
            0 => new_slot(),
            cookie => *at.entry(cookie).or_insert_with(new_slot),
        };
        if is_request {
            requests.insert(tuple(), slot);
        }
        if slot != i {
            records.swap(slot, i);
        }
    }
    records.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use KernelState::{CloseWait, Established, LastAck, Listen, SynRecv, TimeWait};

    fn sock(cookie: u64, state: KernelState, client_port: u16) -> SocketRecord {
        let mut s = SocketRecord::new(
            state,
            "10.0.0.1:8080".parse().unwrap(),
            SocketAddr::new("10.0.0.2".parse().unwrap(), client_port),
        );
        s.cookie = cookie;
        s
    }

    fn with_info(mut s: SocketRecord) -> SocketRecord {
        s.idle = Some(lifecycle::kernel::TcpIdle::default());
        s
    }

    fn summary(records: &[SocketRecord]) -> Vec<(u64, KernelState, bool)> {
        records
            .iter()
            .map(|s| (s.cookie, s.state, s.idle.is_some()))
            .collect()
    }

    /// The main walk (no `tcp_info`), then the `tcp_info` pass for CLOSE-WAIT, as `dump` gives them.
    fn passes(first: Vec<SocketRecord>, second: Vec<SocketRecord>) -> Vec<(u64, KernelState, bool)> {
        let mut records = first;
        records.extend(second.into_iter().map(with_info));
        once_each(&mut records);
        summary(&records)
    }

    #[test]
    fn the_info_pass_replaces_the_main_walks_record() {
        let got = passes(
            vec![
                sock(1, Listen, 0),
                sock(2, CloseWait, 40000),
                sock(3, TimeWait, 40001),
            ],
            vec![sock(2, CloseWait, 40000)],
        );
        assert_eq!(
            got,
            [(1, Listen, false), (2, CloseWait, true), (3, TimeWait, false)]
        );
    }

    #[test]
    fn a_socket_that_moved_into_close_wait_between_the_walks_is_counted_once() {
        // Seen ESTABLISHED by the main walk, CLOSE-WAIT by the info pass: one socket, as it is now.
        let got = passes(
            vec![sock(7, Established, 40000), sock(8, Established, 40001)],
            vec![sock(7, CloseWait, 40000)],
        );
        assert_eq!(got, [(7, CloseWait, true), (8, Established, false)]);
    }

    #[test]
    fn a_socket_that_left_close_wait_between_the_walks_is_not_lost() {
        // CLOSE-WAIT in the main walk, LAST-ACK (or gone) by the info pass: the main walk's record.
        let got = passes(vec![sock(5, CloseWait, 40000)], vec![]);
        assert_eq!(got, [(5, CloseWait, false)]);
        let got = passes(
            vec![sock(5, CloseWait, 40000), sock(6, CloseWait, 40001)],
            vec![sock(6, CloseWait, 40001)],
        );
        assert_eq!(got, [(5, CloseWait, false), (6, CloseWait, true)]);
    }

    #[test]
    fn a_socket_only_the_info_pass_saw_is_kept_once() {
        let got = passes(vec![sock(1, Listen, 0)], vec![sock(9, CloseWait, 40000)]);
        assert_eq!(got, [(1, Listen, false), (9, CloseWait, true)]);
    }

    #[test]
    fn a_socket_given_twice_by_one_walk_is_kept_once_with_its_later_record() {
        // A resumed dump repeats a socket; the TIME-WAIT socket keeps its connection's cookie.
        let mut records = vec![
            sock(4, Established, 40000),
            sock(5, Established, 40001),
            sock(4, TimeWait, 40000),
            sock(6, Established, 40002),
            sock(5, Established, 40001),
        ];
        once_each(&mut records);
        assert_eq!(
            summary(&records),
            [
                (4, TimeWait, false),
                (5, Established, false),
                (6, Established, false)
            ]
        );
    }

    #[test]
    fn a_request_socket_and_its_child_are_one_connection() {
        // The request socket (its own cookie) in the main walk, the accepted child closed by the
        // peer by the info pass; a SYN-RECV of another 4-tuple stays.
        let got = passes(
            vec![
                sock(1, SynRecv, 40000),
                sock(2, SynRecv, 40001),
                sock(3, Established, 40002),
            ],
            vec![sock(10, CloseWait, 40000)],
        );
        assert_eq!(
            got,
            [
                (10, CloseWait, true),
                (2, SynRecv, false),
                (3, Established, false)
            ]
        );
    }

    #[test]
    fn records_without_a_cookie_are_all_kept() {
        let mut records = vec![
            sock(0, TimeWait, 40000),
            sock(0, TimeWait, 40000),
            sock(0, LastAck, 1),
        ];
        once_each(&mut records);
        assert_eq!(records.len(), 3);
    }

    #[test]
    fn many_sockets_each_once_in_first_seen_order() {
        // Every socket of the main walk in order, each given again by the info pass in reverse.
        let first: Vec<_> = (1..=1000).map(|c| sock(c, Established, c as u16)).collect();
        let second: Vec<_> = (1..=1000)
            .rev()
            .step_by(3)
            .map(|c| sock(c, CloseWait, c as u16))
            .collect();
        let got = passes(first, second);
        assert_eq!(got.len(), 1000);
        for (i, (cookie, state, info)) in got.into_iter().enumerate() {
            assert_eq!(cookie, i as u64 + 1);
            let again = (1000 - cookie) % 3 == 0;
            assert_eq!((state == CloseWait, info), (again, again), "{cookie}");
        }
    }
}
