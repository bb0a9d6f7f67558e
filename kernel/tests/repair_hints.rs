//! Laws of failure repair: the hints `forget` leads to, and merges that fill the holes.

use std::collections::BTreeSet;

use pastry_kernel::arith::{shl_len, slot_of};
use pastry_kernel::{Config, NodeRef, NodeState, RepairHint, Row, Side};
use proptest::prelude::*;

mod common;

type Node = NodeRef<usize, u16>;
type State = NodeState<usize, u16>;

fn ring_of(ids: &BTreeSet<u16>) -> Vec<Node> {
    ids.iter()
        .enumerate()
        .map(|(h, &id)| NodeRef::new(id, h))
        .collect()
}

/// The state a node would have with global knowledge of `live` (true leaf set, one candidate
/// per slot).
fn state(config: Config, own: Node, live: &[Node]) -> State {
    NodeState::from_ring(
        config,
        own,
        live,
        |m| own.handle.abs_diff(m.handle) as u32,
        2,
    )
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![1u32, 2, 4]),
        prop::sample::select(vec![4usize, 8, 16, 24]),
        1usize..10,
    )
        .prop_map(|(b, l, m)| Config::new(b, l, m).expect("valid"))
}

proptest! {
    #![proptest_config(common::seeded(128, "proptest-regressions/repair_hints.txt"))]

    /// After up to L/2 − 1 adjacent failures next to a node, asking the hints in order (skipping
    /// the dead) for their leaf sets makes the leaf set whole: equal to the true one among the
    /// live nodes. The asked nodes answer with their true leaf sets.
    #[test]
    fn leaf_set_is_whole_again_after_adjacent_failures(
        config in config(),
        ids in prop::collection::btree_set(any::<u16>(), 3..120),
        who in any::<usize>(),
        run in 1usize..32,
        offset in 0usize..32,
        clockwise in any::<bool>(),
    ) {
        let ring = ring_of(&ids);
        let n = ring.len();
        let half = config.leaf_set_half();
        let run = run.min(half - 1).min(n - 2).max(1);
        let me = who % n;
        // The run starts within the node's leaf set on one side.
        let first = offset % half + 1;
        let dead: BTreeSet<usize> = (0..run)
            .map(|i| if clockwise { (me + first + i) % n } else { (me + 64 * n - first - i) % n })
            .filter(|&h| h != me)
            .collect();
        let live: Vec<Node> = ring.iter().filter(|m| !dead.contains(&m.handle)).copied().collect();
        let mut s = state(config, ring[me], &ring);
        let mut holes = Vec::new();
        for &d in &dead {
            let f = s.forget(ring[d].id).expect("other id");
            prop_assert!(!s.knows(ring[d].id));
            holes.push(f);
        }
        for f in &holes {
            // Ask until a live hint has answered for each side with a hole.
            let mut answered: BTreeSet<Side> = BTreeSet::new();
            let hints: Vec<RepairHint<usize, u16>> = s.repair_hints(f).collect();
            for h in hints {
                let RepairHint::LeafSet { ask, side } = h else { continue };
                prop_assert!(!dead.contains(&ask.handle));
                if answered.contains(&side) || dead.contains(&ask.handle) {
                    continue;
                }
                let theirs = state(config, ask, &live);
                s.repair_leaf_set(&ask, theirs.leaf_set(), |m: &Node| {
                    (!dead.contains(&m.handle)).then_some(1u32)
                }).expect("their own leaf set");
                answered.insert(side);
            }
        }
        let truth = state(config, ring[me], &live);
        prop_assert_eq!(s.leaf_set(), truth.leaf_set());
    }

    /// Row hints are the other entries of the hole's row, then the entries of the next row, in
    /// table order; each can supply a node for the hole's slot.
    #[test]
    fn row_hints_are_the_row_then_the_next_row(
        config in config(),
        ids in prop::collection::btree_set(any::<u16>(), 2..150),
        who in any::<usize>(),
        pick in any::<usize>(),
    ) {
        let ring = ring_of(&ids);
        let me = ring[who % ring.len()];
        let mut s = state(config, me, &ring);
        let entries: Vec<(Row, _, Node)> = s.table().iter().map(|(r, c, e)| (r, c, e.node)).collect();
        prop_assume!(!entries.is_empty());
        let (row, column, gone) = entries[pick % entries.len()];
        let f = s.forget(gone.id).expect("other id");
        prop_assert_eq!(f.slot, Some((row, column)));
        let expected: Vec<u16> = s.table().row(row).map(|(_, e)| e.node.id)
            .chain(s.table().row(Row(row.0 + 1)).map(|(_, e)| e.node.id))
            .collect();
        let got: Vec<u16> = s.repair_hints(&f).filter_map(|h| match h {
            RepairHint::Row { ask, row: r, column: c } => {
                assert_eq!((r, c), (row, column));
                Some(ask.id)
            }
            _ => None,
        }).collect();
        prop_assert_eq!(&got, &expected);
        prop_assert!(!got.contains(&gone.id));
        let b = config.digit_width();
        for id in &got {
            let shared = shl_len(*id, me.id, b);
            prop_assert!(shared == u32::from(row.0) || shared == u32::from(row.0) + 1);
        }
        // Merging the first hint's row (its true state, without the gone node) fills the slot
        // when that node's row holds any node for it.
        let live: Vec<Node> = ring.iter().filter(|m| m.id != gone.id).copied().collect();
        if let Some(first) = got.first() {
            let ask = *ring.iter().find(|m| m.id == *first).expect("known");
            let theirs = state(config, ask, &live);
            let offers_slot = theirs.table().row(row).any(|(_, e)| slot_of(me.id, e.node.id, b) == Some((row, column)));
            s.merge_row(&ask, theirs.table(), row, |m: &Node| (m.id != gone.id).then_some(1u32)).expect("valid");
            if offers_slot {
                prop_assert!(s.table().get(row, column).is_some());
            }
        }
    }
}

#[test]
fn leaf_hints_are_the_side_farthest_first_then_the_other_side() {
    let ring: Vec<Node> = (0..60).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
    let mut s = state(Config::PAPER, ring[30], &ring);
    let f = s.forget(ring[31].id).expect("other id");
    assert!(f.leaf_set.successor && !f.leaf_set.predecessor);
    let asks: Vec<usize> = s
        .repair_hints(&f)
        .filter_map(|h| match h {
            RepairHint::LeafSet { ask, side } => {
                assert_eq!(side, Side::Successor);
                Some(ask.handle)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        asks,
        [38, 37, 36, 35, 34, 33, 32, 29, 28, 27, 26, 25, 24, 23, 22]
    );
    // A node that was in no structure leaves no hints.
    let f = s.forget(ring[31].id).expect("other id");
    assert!(!f.was_known());
    assert_eq!(s.repair_hints(&f).count(), 0);
}

#[test]
fn neighborhood_hints_are_the_other_members_nearest_first() {
    let ring: Vec<Node> = (0..60).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
    let mut s = state(Config::new(4, 8, 4).expect("valid"), ring[10], &ring);
    let members: Vec<usize> = s
        .neighborhood()
        .entries()
        .iter()
        .map(|e| e.node.handle)
        .collect();
    let f = s.forget(ring[members[0]].id).expect("other id");
    assert!(f.neighborhood);
    let asks: Vec<usize> = s
        .repair_hints(&f)
        .filter_map(|h| match h {
            RepairHint::Neighborhood { ask } => Some(ask.handle),
            _ => None,
        })
        .collect();
    assert_eq!(asks, members[1..]);
}

#[test]
fn leaf_set_shortfall_counts_holes_but_not_a_small_ring() {
    let ring: Vec<Node> = (0..60).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
    let mut s = state(Config::PAPER, ring[30], &ring);
    assert_eq!(s.leaf_set_shortfall(), (0, 0));
    s.forget(ring[31].id).expect("other id");
    s.forget(ring[25].id).expect("other id");
    s.forget(ring[24].id).expect("other id");
    assert_eq!(s.leaf_set_shortfall(), (1, 2));
    // Five nodes with L = 16: the leaf set knows the whole ring.
    let few: Vec<Node> = ring[..5].to_vec();
    let mut t = state(Config::PAPER, few[0], &few);
    t.forget(few[1].id).expect("other id");
    assert_eq!(t.leaf_set_shortfall(), (0, 0));
}

#[test]
fn repair_leaf_set_never_pads_a_short_side_from_the_far_side() {
    // Nodes 31..=37 (seven, L/2 − 1) fail; node 30 keeps one successor, 38. Node 38 answers
    // half repaired: its predecessors are 30, 29, ..., 23 again, but it has just forgotten
    // its own eight successors 39..=46 (failed too) and can offer nothing beyond itself.
    let ring: Vec<Node> = (0..60).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
    let dead = |h: usize| (31..=37).contains(&h) || (39..=46).contains(&h);
    let mut me = state(Config::PAPER, ring[30], &ring);
    for h in (31..=37).chain(39..=46) {
        me.forget(ring[h].id).expect("other id");
    }
    let without_first_run: Vec<Node> = ring
        .iter()
        .filter(|m| !(31..=37).contains(&m.handle))
        .copied()
        .collect();
    let mut them = state(Config::PAPER, ring[38], &without_first_run);
    for m in &ring[39..=46] {
        them.forget(m.id).expect("other id");
    }
    let live = |m: &Node| (!dead(m.handle)).then_some(1u32);
    assert_eq!(me.leaf_set_shortfall(), (7, 0));

    // The forgets left a hole on the successor side. Plain merging would pad that side with the
    // local node's own predecessors (they are the nearest known nodes clockwise once the side
    // is short), making it look full and share members with the other side: a false claim to
    // know the whole ring. The hole stops it: a holed side takes only nodes nearer than its
    // farthest member, so the side stays short and still asks for repair.
    assert!(me.leaf_set().holes().successor);
    let mut plain = me.clone();
    plain
        .merge_leaf_set(&ring[38], them.leaf_set(), live)
        .expect("their own leaf set");
    assert_eq!(plain.leaf_set_shortfall(), (7, 0));
    assert!(!plain.leaf_set().knows_whole_ring());
    assert!(plain.leaf_set().holes().successor);
    assert_eq!(plain.leaf_set().successors(), me.leaf_set().successors());

    // Repair keeps each node on the side the sender's view gives it: still short, still asking.
    let mut repaired = me.clone();
    repaired
        .repair_leaf_set(&ring[38], them.leaf_set(), live)
        .expect("their own leaf set");
    assert_eq!(repaired.leaf_set_shortfall(), (7, 0));
    assert!(!repaired.leaf_set().knows_whole_ring());
    assert_eq!(
        repaired.leaf_set().predecessors(),
        me.leaf_set().predecessors()
    );

    // Once 38 has repaired (it knows 47..=54 again), the next answer fills the side.
    let live_ring: Vec<Node> = ring.iter().filter(|m| !dead(m.handle)).copied().collect();
    let them = state(Config::PAPER, ring[38], &live_ring);
    repaired
        .repair_leaf_set(&ring[38], them.leaf_set(), live)
        .expect("their own leaf set");
    assert_eq!(
        repaired.leaf_set(),
        state(Config::PAPER, ring[30], &live_ring).leaf_set()
    );
}
