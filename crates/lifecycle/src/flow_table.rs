//! The tracker's flow table: entries in a slab, found through a hash index of slot numbers.
//!
//! Why not a hash map of entries: memory per tracked connection, which is what a flood or a big host
//! costs. A hash map keeps between 1.15 and 2.3 buckets per entry (power-of-two sizes, 7/8 load), and
//! every bucket of its array gets written as entries land at random; while it grows, the old and the
//! new array are both alive. With the entry in the bucket (a key of 72 bytes and the entry) that is
//! 2 to 3 times the entry. Here the index's buckets hold 4-byte slot numbers, and the slab is a `Vec`
//! that only ever grows at its end: glibc grows a large allocation with `mremap`, without a copy, and
//! the pages of its unused capacity are never touched, so only the slots in use are resident.
//!
//! A freed slot is reused by the next insertion (last freed, first reused), so the slab stays as large
//! as the most entries held at once.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};

/// Entries of type `V` under keys of type `K`, each in a numbered slot that stays its own until it is
/// removed.
pub(crate) struct FlowTable<K, V> {
    slots: Vec<Option<(K, V)>>,
    /// Slots of `slots` that hold `None`, the last freed last.
    free: Vec<u32>,
    /// The slot numbers of the entries, by the hash of their key.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
}

impl<K: Hash + Eq, V> Default for FlowTable<K, V> {
    fn default() -> Self {
        FlowTable {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }
}

impl<K: Hash + Eq, V> FlowTable<K, V> {
    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// The hash [`FlowTable::find`] and [`FlowTable::insert`] take, computed once per segment.
    #[inline]
    pub(crate) fn hash(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot holding `key`, whose hash is `hash`.
    #[inline]
    pub(crate) fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash, |&s| matches!(&slots[s as usize], Some((k, _)) if k == key))
            .copied()
    }

    /// The entry in `slot` (none once it is removed).
    pub(crate) fn get(&self, slot: u32) -> Option<&(K, V)> {
        self.slots.get(slot as usize)?.as_ref()
    }

    /// The entry in `slot`, to change it.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut (K, V)> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Adds an entry under a key the table does not hold ([`FlowTable::find`] said so), and returns
    /// its slot.
    pub(crate) fn insert(&mut self, hash: u64, key: K, value: V) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some((key, value));
                s
            }
            None => {
                // A table of 2^32 entries would need over 400 GB: the tracker's cap stops far below.
                let s = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                self.slots.push(Some((key, value)));
                s
            }
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert_unique(hash, slot, |&s| match &slots[s as usize] {
                Some((k, _)) => hasher.hash_one(k),
                None => 0,
            });
        slot
    }

    /// Takes the entry out of `slot`, which becomes free.
    pub(crate) fn remove(&mut self, slot: u32) -> Option<(K, V)> {
        let (key, _) = self.get(slot)?;
        let hash = self.hash(key);
        if let Ok(found) = self.index.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        self.free.push(slot);
        self.slots.get_mut(slot as usize)?.take()
    }

    /// Every entry with its slot, in slot order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut (K, V))> {
        (0u32..)
            .zip(self.slots.iter_mut())
            .filter_map(|(s, e)| Some((s, e.as_mut()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::FlowTable;

    #[test]
    fn entries_are_found_by_key_and_freed_slots_are_reused() {
        let mut t = FlowTable::<u64, &str>::default();
        let (h1, h2, h3) = (t.hash(&1), t.hash(&2), t.hash(&3));
        let a = t.insert(h1, 1, "a");
        let b = t.insert(h2, 2, "b");
        assert_eq!(
            (t.find(h1, &1), t.find(h2, &2), t.find(h3, &3)),
            (Some(a), Some(b), None)
        );
        assert_eq!(t.remove(a), Some((1, "a")));
        assert_eq!((t.find(h1, &1), t.len(), t.get(a)), (None, 1, None));
        assert_eq!(t.remove(a), None, "a freed slot holds nothing");
        assert_eq!(t.insert(h3, 3, "c"), a, "the freed slot is reused");
        assert_eq!(t.find(h3, &3), Some(a));
        let mut left: Vec<_> = t.iter_mut().map(|(s, e)| (s, *e)).collect();
        left.sort_unstable();
        assert_eq!(left, vec![(a, (3, "c")), (b, (2, "b"))]);
    }

    #[test]
    fn many_entries_survive_the_index_growing() {
        let mut t = FlowTable::<u32, u32>::default();
        for k in 0..10_000u32 {
            let h = t.hash(&k);
            t.insert(h, k, k * 2);
        }
        for k in (0..10_000u32).step_by(3) {
            let slot = t.find(t.hash(&k), &k);
            assert_eq!(slot.and_then(|s| t.remove(s)), Some((k, k * 2)));
        }
        for k in 0..10_000u32 {
            let found = t.find(t.hash(&k), &k).and_then(|s| t.get(s)).map(|e| e.1);
            assert_eq!(found, (k % 3 != 0).then_some(k * 2), "key {k}");
        }
        assert_eq!(t.len(), 10_000 - 3334);
    }
}
