//! Roles: [`Dir`] names originator or responder, [`Pair`] holds one value per role.
//!
//! Zeek reaches its two `TCP_Endpoint`s through the `orig` and `resp` pointers and swaps them in
//! `TCPSessionAdapter::FlipRoles`; per-role state here lives in a [`Pair`] that a flip swaps the same
//! way. A flip changes an endpoint's role, not the endpoint: a [`Dir`] held for a segment's sender
//! across a flip names the other endpoint afterwards, so the sender's role must then be asked again
//! (Zeek keeps a pointer to the endpoint instead).

use std::ops::{Index, IndexMut};

/// A role in the connection: originator or responder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dir {
    Orig,
    Resp,
}

impl Dir {
    /// The peer's role.
    pub(super) fn other(self) -> Dir {
        match self {
            Dir::Orig => Dir::Resp,
            Dir::Resp => Dir::Orig,
        }
    }
}

/// One value per role.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pair<T> {
    orig: T,
    resp: T,
}

impl<T> Pair<T> {
    pub(super) fn new(orig: T, resp: T) -> Pair<T> {
        Pair { orig, resp }
    }

    /// Exchanges the two roles' values, for state that follows the endpoints through a flip.
    pub(super) fn swap(&mut self) {
        std::mem::swap(&mut self.orig, &mut self.resp);
    }
}

impl<T> Index<Dir> for Pair<T> {
    type Output = T;

    fn index(&self, d: Dir) -> &T {
        match d {
            Dir::Orig => &self.orig,
            Dir::Resp => &self.resp,
        }
    }
}

impl<T> IndexMut<Dir> for Pair<T> {
    fn index_mut(&mut self, d: Dir) -> &mut T {
        match d {
            Dir::Orig => &mut self.orig,
            Dir::Resp => &mut self.resp,
        }
    }
}
