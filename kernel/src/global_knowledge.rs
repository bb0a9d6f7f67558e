//! Building a node's state from global knowledge of the ring.
//!
//! Tests, benchmarks and simulators need the state a node would have if it knew every live node:
//! the true leaf set, and for each routing-table slot a node with the slot's prefix. Offering all
//! N nodes to each of N nodes costs O(N²); [`NodeState::from_ring`] instead reads the leaf set
//! and every slot's prefix range off the sorted ring with binary searches, in
//! O((log N + rows × 2^b × candidates) × log N) per node.

use crate::arith::DigitWidth;
use crate::config::Config;
use crate::node::{NodeRef, Proximity};
use crate::state::NodeState;
use crate::word::RingWord;

impl<H: Copy, W: RingWord> NodeState<H, W> {
    /// The state of `own` in a network whose live nodes are `ring`, sorted by id with no
    /// duplicates (`own` may or may not be in it).
    ///
    /// * the leaf set gets the L/2 nearest nodes on each side: the true leaf set;
    /// * each routing-table slot is offered up to `candidates_per_slot` nodes with its prefix,
    ///   spread evenly over the slot's id range; with the host's `proximity` figure the table
    ///   keeps the nearest of them (`usize::MAX` offers every node, the proximity-best choice);
    /// * the neighborhood set keeps the nearest of every node offered.
    ///
    /// A slot whose prefix range holds any node is never left empty, so routes in a network built
    /// this way never take the rare case.
    ///
    /// ```
    /// use pastry_kernel::{Config, NodeRef, NodeState, Route};
    ///
    /// let ring: Vec<NodeRef<usize, u16>> =
    ///     (0..64u16).map(|i| NodeRef::new(i.wrapping_mul(1031), usize::from(i))).collect::<Vec<_>>();
    /// let mut ring = ring;
    /// ring.sort_by_key(|n| n.id);
    /// let s = NodeState::from_ring(Config::PAPER, ring[5], &ring, |_| 1, 1);
    /// assert_eq!(s.leaf_set().successors().len(), 8);
    /// assert!(matches!(s.route(ring[5].id), Route::Deliver));
    /// ```
    #[must_use]
    pub fn from_ring(
        config: Config,
        own: NodeRef<H, W>,
        ring: &[NodeRef<H, W>],
        mut proximity: impl FnMut(&NodeRef<H, W>) -> Proximity,
        candidates_per_slot: usize,
    ) -> Self {
        let mut state = NodeState::new(config, own);
        let n = ring.len();
        if n == 0 {
            return state;
        }
        let here = ring.partition_point(|m| m.id < own.id);
        let own_in_ring = ring.get(here).is_some_and(|m| m.id == own.id);
        let half = config.leaf_set_half();
        // Successors: the nodes after `own` in ring order, wrapping; predecessors: before it.
        let after = ring
            .iter()
            .cycle()
            .skip(if own_in_ring { here + 1 } else { here });
        for m in after.take(half.min(n)) {
            offer(&mut state, *m, &mut proximity);
        }
        let before = ring.iter().rev().cycle().skip(n - here);
        for m in before.take(half.min(n)) {
            offer(&mut state, *m, &mut proximity);
        }

        let b = config.digit_width();
        for row in 0..b.digits::<W>() {
            let (lo, hi) = prefix_range(own.id, row, None, b);
            let (start, end) = range_of(ring, lo, hi);
            let others = end - start - usize::from(own_in_ring);
            if others == 0 {
                break;
            }
            for column in 0..b.columns() {
                let (lo, hi) = prefix_range(own.id, row, Some(column), b);
                let (start, end) = range_of(ring, lo, hi);
                let count = end - start;
                if count == 0 || (lo..=hi).contains(&own.id) {
                    continue;
                }
                let take = candidates_per_slot.clamp(1, count);
                for i in 0..take {
                    // Evenly spread picks: start + floor(i * count / take).
                    if let Some(m) = ring.get(start + i * count / take) {
                        offer(&mut state, *m, &mut proximity);
                    }
                }
            }
        }
        state
    }
}

fn offer<H: Copy, W: RingWord>(
    state: &mut NodeState<H, W>,
    node: NodeRef<H, W>,
    proximity: &mut impl FnMut(&NodeRef<H, W>) -> Proximity,
) {
    if node.id != state.id() {
        let p = proximity(&node);
        // Only the local node is refused, and it was excluded above.
        let _ = state.learn(node, p);
    }
}

/// The ids sharing the first `row` digits with `own`, followed by digit `column` when given:
/// the inclusive range `[lo, hi]`.
fn prefix_range<W: RingWord>(own: W, row: u32, column: Option<usize>, b: DigitWidth) -> (W, W) {
    let bits = W::BITS;
    let shared = row * b.bits();
    let fixed = shared + column.map_or(0, |_| b.bits());
    let top = own.to_u128() & !low_bits(bits.saturating_sub(shared)) & low_bits(bits);
    let col = column.map_or(0, |c| {
        (c as u128)
            .checked_shl(bits.saturating_sub(fixed))
            .unwrap_or(0)
    });
    let lo = top | col;
    (
        W::from_u128(lo),
        W::from_u128(lo | low_bits(bits.saturating_sub(fixed))),
    )
}

/// The mask of the low `n` bits (all ones from 128 up).
fn low_bits(n: u32) -> u128 {
    1u128.checked_shl(n).map_or(u128::MAX, |p| p - 1)
}

/// The index range of `ring` (sorted by id) whose ids lie in `[lo, hi]`.
fn range_of<H, W: RingWord>(ring: &[NodeRef<H, W>], lo: W, hi: W) -> (usize, usize) {
    (
        ring.partition_point(|m| m.id < lo),
        ring.partition_point(|m| m.id <= hi),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::{closer, slot_of};
    use alloc::vec::Vec;

    fn ring16(n: u16, mul: u16) -> Vec<NodeRef<u16, u16>> {
        let mut v: Vec<_> = (0..n)
            .map(|i| NodeRef::new(i.wrapping_mul(mul) ^ 0x5a5a, i))
            .collect();
        v.sort_by_key(|m| m.id);
        v.dedup_by_key(|m| m.id);
        v
    }

    #[test]
    fn prefix_ranges() {
        assert_eq!(
            prefix_range(0xabcdu16, 0, None, DigitWidth::B4),
            (0x0000, 0xffff)
        );
        assert_eq!(
            prefix_range(0xabcdu16, 1, None, DigitWidth::B4),
            (0xa000, 0xafff)
        );
        assert_eq!(
            prefix_range(0xabcdu16, 1, Some(3), DigitWidth::B4),
            (0xa300, 0xa3ff)
        );
        assert_eq!(
            prefix_range(0xabcdu16, 3, Some(0xf), DigitWidth::B4),
            (0xabcf, 0xabcf)
        );
        assert_eq!(
            prefix_range(0xabu8, 0, Some(1), DigitWidth::B1),
            (0x80, 0xff)
        );
    }

    #[test]
    fn from_ring_gives_true_leaf_sets_and_full_slots() {
        let ring = ring16(300, 2311);
        let config = Config::PAPER;
        for own in ring.iter().step_by(37) {
            let s = NodeState::from_ring(config, *own, &ring, |m| u32::from(m.handle), 1);
            // Leaf set: the 8 nearest on each side by brute force.
            let mut by_cw: Vec<_> = ring.iter().filter(|m| m.id != own.id).collect();
            by_cw.sort_by_key(|m| m.id.wrapping_sub(own.id));
            let succ: Vec<_> = by_cw.iter().take(8).map(|m| m.id).collect();
            let got: Vec<_> = s.leaf_set().successors().iter().map(|m| m.id).collect();
            assert_eq!(got, succ);
            by_cw.sort_by_key(|m| own.id.wrapping_sub(m.id));
            let pred: Vec<_> = by_cw.iter().take(8).map(|m| m.id).collect();
            let got: Vec<_> = s.leaf_set().predecessors().iter().map(|m| m.id).collect();
            assert_eq!(got, pred);
            // Every slot that has a candidate is filled.
            for m in ring.iter().filter(|m| m.id != own.id) {
                let (r, c) = slot_of(own.id, m.id, config.digit_width()).unwrap();
                assert!(s.table().get(r, c).is_some(), "slot {r:?} {c:?} empty");
            }
            // Keys route to the root from this node within one table step or the leaf set.
            let k = own.id.wrapping_add(3);
            let root = ring
                .iter()
                .map(|m| m.id)
                .reduce(|a, b| if closer(&k, &b, &a) { b } else { a });
            if let crate::Route::Forward { to, .. } = s.route(k) {
                assert!(closer(&k, &to.id, &own.id) || Some(to.id) == root);
            }
        }
    }

    #[test]
    fn every_candidate_lets_the_table_pick_the_nearest() {
        let ring = ring16(400, 40503);
        let own = ring[17];
        let s = NodeState::from_ring(
            Config::PAPER,
            own,
            &ring,
            |m| u32::from(m.handle),
            usize::MAX,
        );
        for (r, c, e) in s.table().iter() {
            let best = ring
                .iter()
                .filter(|m| slot_of(own.id, m.id, DigitWidth::B4) == Some((r, c)))
                .map(|m| u32::from(m.handle))
                .min();
            assert_eq!(Some(e.proximity), best);
        }
    }

    #[test]
    fn small_rings_and_absent_owner() {
        let ring = ring16(5, 999);
        let own = NodeRef::new(0x1234u16, 99);
        let s = NodeState::from_ring(Config::PAPER, own, &ring, |_| 0, 1);
        assert!(s.leaf_set().knows_whole_ring());
        assert_eq!(s.leaf_set().len(), ring.len());
        let empty: Vec<NodeRef<u16, u16>> = Vec::new();
        let s = NodeState::from_ring(Config::PAPER, own, &empty, |_| 0, 1);
        assert!(s.leaf_set().is_empty());
    }
}
