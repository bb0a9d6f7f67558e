//! Laws of failure repair: the hints `forget` leads to, and merges that fill the holes.

use std::collections::BTreeSet;

use pastry_kernel::arith::{shl_len, slot_of, Digit};
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

/// The local node 0x0000 of a 16-bit ring with L = 4 and no neighborhood set, after failures:
/// no successor left (a hole), one predecessor 0xff00 left (a hole), and a routing-table entry
/// 0x2f00 at proximity 1 in slot R\[0\]\[2\].
fn holed_origin() -> NodeState<usize, u16> {
    let config = Config::new(4, 4, 0).expect("valid");
    let mut s = NodeState::new(config, NodeRef::new(0x0000, 0));
    for (h, id) in [0x0100u16, 0x0200, 0xff00, 0xfe00].into_iter().enumerate() {
        s.learn(NodeRef::new(id, h + 1), 5).expect("other id");
    }
    s.learn(NodeRef::new(0x2f00, 9), 1).expect("other id");
    for id in [0x0100u16, 0x0200, 0xfe00] {
        s.forget(id).expect("other id");
    }
    assert!(s.leaf_set().successors().is_empty());
    assert_eq!(ids(s.leaf_set().predecessors()), [0xff00]);
    assert!(s.leaf_set().holes().successor && s.leaf_set().holes().predecessor);
    assert!(!s.leaf_set().knows_whole_ring());
    s
}

/// The leaf set of the node `own` (L = 4) that knows exactly `members`.
fn sender(own: u16, members: [u16; 4]) -> NodeState<usize, u16> {
    let config = Config::new(4, 4, 0).expect("valid");
    let mut s = NodeState::new(config, NodeRef::new(own, 100));
    for (h, id) in members.into_iter().enumerate() {
        s.learn(NodeRef::new(id, 101 + h), 5).expect("other id");
    }
    s
}

fn ids(side: &[Node]) -> Vec<u16> {
    side.iter().map(|n| n.id).collect()
}

/// `repair_leaf_set` from a sender whose leaf-set arc (0x2000..=0x4000) does not hold the local
/// node 0x0000: the whole arc goes to the side the sender is on, here the successor side (the
/// sender 0x3000 is nearer clockwise), and to that side only. The predecessor side has a hole
/// and room, so a node offered to it would be appended: it must stay as it was. The returned
/// counts are exact: five candidates, one refused by the probe (0x3800), four accepted, and
/// each accepted one entered a structure — 0x3000 and 0x4000 the leaf set and the table,
/// 0x2800 and 0x2000 the leaf set only (slot R\[0\]\[2\] keeps the nearer 0x2f00; there is no
/// neighborhood set). Offering the same answer again adds nothing.
#[test]
fn repair_from_a_sender_whose_arc_misses_the_local_node_fills_only_the_senders_side() {
    let mut me = holed_origin();
    let them = sender(0x3000, [0x2000, 0x2800, 0x3800, 0x4000]);
    assert_eq!(ids(them.leaf_set().predecessors()), [0x2800, 0x2000]);
    assert_eq!(ids(them.leaf_set().successors()), [0x3800, 0x4000]);
    let probe = |n: &Node| (n.id != 0x3800).then_some(10u32);
    let merged = me
        .repair_leaf_set(them.own(), them.leaf_set(), probe)
        .expect("their own leaf set");
    assert_eq!(ids(me.leaf_set().successors()), [0x2000, 0x2800]);
    assert_eq!(ids(me.leaf_set().predecessors()), [0xff00]);
    assert!(!me.leaf_set().knows_whole_ring());
    assert_eq!(
        (merged.offered, merged.added, merged.refused),
        (4, 4, 1),
        "{merged:?}"
    );
    assert_eq!(
        me.table().get(Row(0), Digit(2)).map(|e| e.node.id),
        Some(0x2f00)
    );
    assert_eq!(
        me.table().get(Row(0), Digit(3)).map(|e| e.node.id),
        Some(0x3000)
    );
    assert_eq!(
        me.table().get(Row(0), Digit(4)).map(|e| e.node.id),
        Some(0x4000)
    );

    let before = me.clone();
    let again = me
        .repair_leaf_set(them.own(), them.leaf_set(), probe)
        .expect("their own leaf set");
    assert_eq!(
        (again.offered, again.added, again.refused),
        (4, 0, 1),
        "{again:?}"
    );
    assert_eq!(me, before);
}

/// `repair_leaf_set` from the node exactly opposite the local node (0x8000 on a 16-bit ring
/// around 0x0000), whose arc (0x7000..=0x9000) does not hold the local node: both ways round
/// are equally near, and the arc goes to the predecessor side. The successor side stays empty,
/// the predecessor side takes the nearest node counter-clockwise, 0x9000. Of the five offers,
/// four add a node somewhere: 0x8000, 0x8800 and 0x9000 enter the leaf set (0x8000 the table
/// too), 0x7800 only the table (it is too far counter-clockwise for the leaf set); 0x7000 adds
/// nothing (slot R\[0\]\[7\] keeps 0x7800, an equally near incumbent).
#[test]
fn repair_from_the_exactly_opposite_sender_off_its_arc_fills_the_predecessor_side() {
    let mut me = holed_origin();
    let them = sender(0x8000, [0x7000, 0x7800, 0x8800, 0x9000]);
    let merged = me
        .repair_leaf_set(them.own(), them.leaf_set(), |_: &Node| 10u32)
        .expect("their own leaf set");
    assert!(me.leaf_set().successors().is_empty());
    assert_eq!(ids(me.leaf_set().predecessors()), [0xff00, 0x9000]);
    assert_eq!(
        (merged.offered, merged.added, merged.refused),
        (5, 4, 0),
        "{merged:?}"
    );
    assert_eq!(
        me.table().get(Row(0), Digit(7)).map(|e| e.node.id),
        Some(0x7800)
    );
    assert_eq!(
        me.table().get(Row(0), Digit(8)).map(|e| e.node.id),
        Some(0x8000)
    );
    assert_eq!(
        me.table().get(Row(0), Digit(9)).map(|e| e.node.id),
        Some(0x9000)
    );
}
