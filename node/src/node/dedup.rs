//! The routed messages a node handled lately, to drop the copies a retransmission brings.

use alloc::collections::VecDeque;
use core::hash::{Hash, Hasher};

use foldhash::fast::FixedState;
use hashbrown::HashSet;

/// The last `capacity` (origin, sequence number) pairs handled, oldest first.
///
/// # Invariants
/// Checked by [`Dedup::invariants`] (under `debug_assertions`, from the node's own check) and
/// by the test `dedup_keeps_exactly_the_last_capacity_keys`:
///
/// 1. `set` holds exactly the keys of `order`, and `order` has no key twice;
/// 2. at most `capacity` keys (the capacity passed to every [`Dedup::insert`]).
///
/// Equality and hashing look at `order` alone: `set` is derived from it. The set's hasher has
/// a fixed seed, and the set is only asked for membership, so nothing depends on its order.
#[derive(Clone, Debug)]
pub(crate) struct Dedup<W> {
    order: VecDeque<(W, u64)>,
    set: HashSet<(W, u64), FixedState>,
}

impl<W: Hash + Eq + Copy> Dedup<W> {
    /// Empty.
    pub fn new() -> Self {
        Dedup {
            order: VecDeque::new(),
            set: HashSet::with_hasher(FixedState::default()),
        }
    }

    /// Records `key`; `false` if it is among the last `capacity` recorded (a copy). The oldest
    /// keys are forgotten beyond `capacity`.
    pub fn insert(&mut self, key: (W, u64), capacity: usize) -> bool {
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    /// Checks the invariants (under `debug_assertions`, and in this module's tests).
    #[cfg(any(debug_assertions, test))]
    #[allow(clippy::panic)]
    pub fn invariants(&self, capacity: usize) {
        assert!(self.order.len() <= capacity, "dedup over its capacity");
        assert_eq!(
            self.order.len(),
            self.set.len(),
            "dedup set and order differ"
        );
        assert!(
            self.order.iter().all(|k| self.set.contains(k)),
            "dedup order names a key the set lacks"
        );
    }
}

impl<W: PartialEq> PartialEq for Dedup<W> {
    fn eq(&self, other: &Self) -> bool {
        self.order == other.order
    }
}

impl<W: Eq> Eq for Dedup<W> {}

impl<W: Hash> Hash for Dedup<W> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.order.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::Dedup;

    #[test]
    fn dedup_keeps_exactly_the_last_capacity_keys() {
        let mut d: Dedup<u16> = Dedup::new();
        for i in 0..10u64 {
            assert!(d.insert((1, i), 4));
            d.invariants(4);
        }
        assert_eq!(d.order.len(), 4);
        // The last four are copies; the older ones were forgotten.
        for i in 6..10u64 {
            assert!(!d.insert((1, i), 4));
        }
        assert!(d.insert((1, 0), 4));
        assert!(d.insert((2, 9), 4), "another origin's key is not a copy");
        d.invariants(4);
    }

    #[test]
    #[should_panic(expected = "dedup set and order differ")]
    fn dedup_invariants_catch_a_set_out_of_step() {
        let mut d: Dedup<u16> = Dedup::new();
        assert!(d.insert((1, 1), 4));
        // The planted fault: the order forgets a key the set keeps.
        d.order.clear();
        d.invariants(4);
    }
}
