//! Baselines for `route`, each built on exactly the entries one node state holds
//! ([`fixtures::entries`](crate::fixtures::entries)).
//!
//! * [`LinearScan`]: the closest entry by ring distance, scanning them all.
//! * [`SortedVec`]: the entries sorted by id; binary search for the key's successor and
//!   predecessor (wrapping), the closer of the two.
//! * [`BTreeMapIndex`]: the same with a `BTreeMap` range query.
//! * [`Floor`]: the least work any route decision can do: one load of the precomputed
//!   routing-table slot for the key's row and digit, plus the two leaf-range comparisons.
//!
//! The first three answer "which known node is closest to the key" (greedy ring routing); the
//! ring root of a set is its key's successor or predecessor, so all three agree (a test checks).

use std::collections::BTreeMap;

use pastry_kernel::arith::closer;
use pastry_kernel::{Guid, NodeState};

use crate::fixtures::{covered_arc, entries, Handle, Node};

/// The closer to `key` of two nodes (`closer` of docs/design.md, *closer*).
#[inline(always)]
fn nearer(key: Guid, x: Node, y: Node) -> Node {
    if closer(&key, &x.id, &y.id) {
        x
    } else {
        y
    }
}

/// The closest entry to a key by a scan over all entries.
#[derive(Clone, Debug)]
pub struct LinearScan {
    entries: Vec<Node>,
}

impl LinearScan {
    /// The baseline over the entries of `state` (the local node included).
    #[must_use]
    pub fn new(state: &NodeState<Handle>) -> LinearScan {
        LinearScan {
            entries: entries(state),
        }
    }

    /// The entry closest to `key`; `None` only for an empty set.
    #[inline]
    #[must_use]
    pub fn closest(&self, key: Guid) -> Option<Node> {
        let mut it = self.entries.iter().copied();
        let first = it.next()?;
        Some(it.fold(first, |best, n| nearer(key, n, best)))
    }
}

/// The closest entry by binary search in a sorted vector.
#[derive(Clone, Debug)]
pub struct SortedVec {
    sorted: Vec<Node>,
}

impl SortedVec {
    /// The baseline over the entries of `state` (the local node included).
    #[must_use]
    pub fn new(state: &NodeState<Handle>) -> SortedVec {
        SortedVec {
            sorted: entries(state),
        }
    }

    /// The entry closest to `key`: the nearer of its successor and predecessor, wrapping.
    #[inline]
    #[must_use]
    pub fn closest(&self, key: Guid) -> Option<Node> {
        let v = &self.sorted;
        let i = v.partition_point(|n| n.id < key);
        let succ = v.get(i).or_else(|| v.first())?;
        let pred = i
            .checked_sub(1)
            .and_then(|j| v.get(j))
            .or_else(|| v.last())?;
        Some(nearer(key, *succ, *pred))
    }
}

/// The closest entry by range queries on a `BTreeMap`.
#[derive(Clone, Debug)]
pub struct BTreeMapIndex {
    map: BTreeMap<Guid, Handle>,
}

impl BTreeMapIndex {
    /// The baseline over the entries of `state` (the local node included).
    #[must_use]
    pub fn new(state: &NodeState<Handle>) -> BTreeMapIndex {
        BTreeMapIndex {
            map: entries(state)
                .into_iter()
                .map(|n| (n.id, n.handle))
                .collect(),
        }
    }

    /// The entry closest to `key`: the nearer of its successor and predecessor, wrapping.
    #[inline]
    #[must_use]
    pub fn closest(&self, key: Guid) -> Option<Node> {
        let succ = self
            .map
            .range(key..)
            .next()
            .or_else(|| self.map.iter().next())?;
        let pred = self
            .map
            .range(..key)
            .next_back()
            .or_else(|| self.map.iter().next_back())?;
        let (s, p) = (Node::new(*succ.0, *succ.1), Node::new(*pred.0, *pred.1));
        Some(nearer(key, s, p))
    }
}

/// What [`Floor::decide`] reads: whether the key is on the leaf set's arc, and the table slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloorHop {
    /// The key lies on the arc from the farthest predecessor to the farthest successor.
    pub covered: bool,
    /// The node in the key's routing-table slot R\[l\]\[digit(k, l)\], if any.
    pub slot: Option<Node>,
}

/// The least work a route decision can do: the key's routing-table slot, precomputed in a dense
/// array indexed by (row, digit), and the two leaf-range comparisons. It does not find the root
/// within the leaf set, nor handle a leaf set that knows the whole ring or an empty slot: it is a
/// lower bound, not a router.
#[derive(Clone, Debug)]
pub struct Floor {
    own: u128,
    far_pred: u128,
    far_succ: u128,
    bits: u32,
    log2b: u32,
    slots: Vec<Option<Node>>,
}

impl Floor {
    /// The floor for `state`: its table copied into a dense `rows × 2^b` array.
    #[must_use]
    pub fn new(state: &NodeState<Handle>) -> Floor {
        let b = state.config().digit_width();
        let cols = b.columns();
        let rows = state
            .table()
            .iter()
            .map(|(r, _, _)| r.index() + 1)
            .max()
            .unwrap_or(0);
        let mut slots = vec![None; rows * cols];
        for (r, c, e) in state.table().iter() {
            slots[r.index() * cols + c.index()] = Some(e.node);
        }
        let (far_pred, far_succ) = covered_arc(state.leaf_set());
        Floor {
            own: state.id().get(),
            far_pred,
            far_succ,
            bits: b.bits(),
            log2b: b.log2(),
            slots,
        }
    }

    /// The slot load and the two leaf-range comparisons for `key`.
    #[inline]
    #[must_use]
    pub fn decide(&self, key: Guid) -> FloorHop {
        let k = key.get();
        let l = (k ^ self.own).leading_zeros() >> self.log2b;
        let d = k.checked_shl(l * self.bits).unwrap_or(0) >> (128 - self.bits);
        let slot = self
            .slots
            .get(((l as usize) << self.bits) | d as usize)
            .copied()
            .flatten();
        let covered = k.wrapping_sub(self.far_pred) <= self.own.wrapping_sub(self.far_pred)
            || k.wrapping_sub(self.own) <= self.far_succ.wrapping_sub(self.own);
        FloorHop { covered, slot }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{ring, samples, KeySet, Shape};

    #[test]
    fn baselines_agree_on_the_closest_entry() {
        let ring = ring(3_000, 21);
        for set in KeySet::ALL {
            for s in samples(
                &ring,
                Shape {
                    b: 4,
                    leaf: 16,
                    n: 3_000,
                },
                set,
                9,
            ) {
                let (lin, vec, map) = (
                    LinearScan::new(&s.state),
                    SortedVec::new(&s.state),
                    BTreeMapIndex::new(&s.state),
                );
                for k in &s.keys {
                    let want = lin.closest(*k);
                    assert!(want.is_some());
                    assert_eq!(vec.closest(*k), want);
                    assert_eq!(map.closest(*k), want);
                }
            }
        }
    }

    #[test]
    fn floor_reads_the_route_slot_and_the_leaf_range() {
        let ring = ring(3_000, 22);
        for b in [1, 2, 4, 8] {
            for set in KeySet::ALL {
                for s in samples(
                    &ring,
                    Shape {
                        b,
                        leaf: 24,
                        n: 3_000,
                    },
                    set,
                    3,
                ) {
                    let floor = Floor::new(&s.state);
                    for k in &s.keys {
                        let hop = floor.decide(*k);
                        assert_eq!(hop.covered, s.state.leaf_set().covers(*k));
                        let slot = s.state.table().next_hop(*k).map(|e| e.node);
                        assert_eq!(hop.slot, slot);
                    }
                }
            }
        }
    }
}
