//! Property tests of the routing structures against brute-force models: the invariants
//! documented on `LeafSet`, `RoutingTable` and `NeighborhoodSet` name these tests.

mod common;

use pastry_kernel::fuzzing::{
    check_leaf_set_ops, check_leaf_set_sides, check_neighborhood_ops, check_table_ops,
    check_table_slots, LeafOp, LeafSetInput, TableInput, TableOp,
};
use pastry_kernel::strategies::{self, inputs};
use pastry_kernel::{
    Config, Guid, LeafRoot, LeafSet, NodeRef, NodeState, Placement, RoutingTable, Sides,
};
use proptest::prelude::*;

proptest! {
    #![proptest_config(common::seeded(256, "proptest-regressions/structures.txt"))]

    /// LeafSet invariants 1-3 and 5 after every insert and remove.
    #[test]
    fn leaf_set_sides_are_sorted_and_bounded(input in inputs::leaf_set::<Guid>(60)) {
        let mut leaf: LeafSet<u32> = LeafSet::new(input.own, &input.config);
        for (i, op) in input.ops.iter().enumerate() {
            match *op {
                LeafOp::Insert(id) => { let _ = leaf.insert(NodeRef::new(id, i as u32)); }
                LeafOp::Remove(id) => { let _ = leaf.remove(id); }
                LeafOp::RemoveMember(m) => {
                    let ids: Vec<Guid> = leaf.iter().map(|n| n.id).collect();
                    if let Some(&id) = ids.get(usize::from(m) % ids.len().max(1)) {
                        let _ = leaf.remove(id);
                    }
                }
            }
            check_leaf_set_sides(&leaf);
        }
    }

    /// LeafSet invariant 4 against the brute-force model, on 128-bit ids.
    #[test]
    fn leaf_set_matches_model(input in inputs::leaf_set::<Guid>(60)) {
        check_leaf_set_ops(&input);
    }

    /// The same on a 16-bit ring, where ids crowd and sides fill up and wrap.
    #[test]
    fn leaf_set_matches_model_on_u16_ring(input in inputs::leaf_set::<u16>(80)) {
        check_leaf_set_ops(&input);
    }

    /// The same on an 8-bit ring, where the leaf set often knows the whole ring.
    #[test]
    fn leaf_set_matches_model_on_u8_ring(input in inputs::leaf_set::<u8>(80)) {
        check_leaf_set_ops(&input);
    }

    /// With inserts only, the leaf set is the true leaf set of every node offered (the model that
    /// knows every node) after every step.
    #[test]
    fn leaf_set_is_the_true_leaf_set_without_removals(input in inputs::leaf_set_inserts::<u16>(90)) {
        check_leaf_set_ops(&input);
    }

    /// Fewer than L other nodes on the ring: the leaf set knows the whole ring, covers every key
    /// and holds every node.
    #[test]
    fn leaf_set_knows_the_whole_small_ring(
        (own, ids) in strategies::clustered::<Guid>(0..8),
        key in strategies::guid(),
    ) {
        let config = Config::new(4, 16, 8).unwrap();
        let mut leaf: LeafSet<u32> = LeafSet::new(own, &config);
        for (i, id) in ids.iter().enumerate() {
            let _ = leaf.insert(NodeRef::new(*id, i as u32));
        }
        prop_assert!(leaf.knows_whole_ring());
        prop_assert!(leaf.covers(key));
        let mut distinct: Vec<Guid> = ids.iter().copied().filter(|&x| x != own).collect();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(leaf.len(), distinct.len());
        check_leaf_set_ops(&LeafSetInput { config, own, ops: ids.into_iter().map(LeafOp::Insert).collect(), keys: vec![key] });
    }

}

proptest! {
    // The table tests drive the bitmap rows hard, which is slow in unoptimised builds.
    #![proptest_config(common::seeded(128, "proptest-regressions/structures.txt"))]

    /// RoutingTable invariants: every entry in the slot (shl, digit) of the reference, the owner's
    /// column empty, no id twice, accessors consistent; placements equal the model's.
    #[test]
    fn table_slots_are_correct(input in inputs::table::<Guid>(60)) {
        check_table_ops(&input);
    }

    /// The same on a 16-bit ring, where slots collide constantly.
    #[test]
    fn table_slots_are_correct_on_u16_ring(input in inputs::table::<u16>(80)) {
        check_table_ops(&input);
    }

    /// Proximity-preferring replacement: of the candidates offered for one slot, the table holds
    /// the one with the smallest figure, the earliest offered among equals (ties keep the
    /// incumbent).
    #[test]
    fn table_keeps_the_nearest_candidate_and_ties_keep_the_incumbent(
        own in strategies::guid(),
        b in strategies::digit_width(),
        row in 0u32..8,
        candidates in prop::collection::vec((any::<u128>(), 0u32..4), 1..12),
    ) {
        // Candidates for slot (row, c) where c differs from the owner's digit: flip bit 0 of
        // digit `row` of the owner and randomise every bit after that digit.
        let bits = b.bits();
        let row = row % (128 / bits);
        let flip = 1u128 << (127 - (row * bits + bits - 1));
        let low = (row + 1) * bits;
        let mask = if low >= 128 { 0 } else { u128::MAX >> low };
        let mut table: RoutingTable<usize> = RoutingTable::new(own, b);
        let mut seen = Vec::new();
        for (i, (r, p)) in candidates.iter().enumerate() {
            let id = Guid::new((own.get() ^ flip) & !mask | (r & mask));
            if seen.iter().any(|(x, _, _)| *x == id) {
                continue;
            }
            seen.push((id, *p, i));
            let placed = table.insert(NodeRef::new(id, i), *p).unwrap();
            prop_assert_eq!(placed.slot().0.0 as u32, row);
            let best = seen.iter().min_by_key(|(_, p, i)| (*p, *i)).unwrap();
            let held = table.get(placed.slot().0, placed.slot().1).unwrap();
            prop_assert_eq!((held.node.id, held.proximity), (best.0, best.1));
            if *p == best.1 && best.2 != i {
                prop_assert!(matches!(placed, Placement::Rejected(..)), "a tie evicted the incumbent");
            }
        }
        check_table_slots(&table);
        prop_assert_eq!(table.len(), 1);
    }

    /// NeighborhoodSet invariants: with distinct offers it holds exactly the |M| nearest (earlier
    /// offers first among equals), nearest first, at most |M|.
    #[test]
    fn neighborhood_keeps_the_nearest(input in inputs::neighborhood::<Guid>(60, false)) {
        check_neighborhood_ops(&input);
    }

    /// With re-measurements and removals the set equals the brute-force model after every step.
    #[test]
    fn neighborhood_matches_model(input in inputs::neighborhood::<u8>(80, true)) {
        check_neighborhood_ops(&input);
    }
}

proptest! {
    #![proptest_config(common::seeded(128, "proptest-regressions/structures.txt"))]

    /// `NodeState::members` lists every node the leaf set, the table or the neighborhood set
    /// holds, each exactly once, leaf-set members first; the local node is not among them.
    #[test]
    fn members_are_every_held_node_once_leaf_set_first(
        state in strategies::node_state::<u16>(strategies::config(), 0..60),
    ) {
        let members: Vec<u16> = state.members().map(|n| n.id).collect();
        let distinct: std::collections::BTreeSet<u16> = members.iter().copied().collect();
        prop_assert_eq!(distinct.len(), members.len(), "a node listed twice");
        let held: std::collections::BTreeSet<u16> = state
            .leaf_set()
            .iter()
            .map(|n| n.id)
            .chain(state.table().iter().map(|(_, _, e)| e.node.id))
            .chain(state.neighborhood().entries().iter().map(|e| e.node.id))
            .collect();
        prop_assert_eq!(&distinct, &held);
        prop_assert!(!distinct.contains(&state.id()));
        let leaf = state.leaf_set().len();
        prop_assert!(members[..leaf].iter().all(|&id| state.leaf_set().contains(id)));
    }
}

/// A table refuses its owner, and the refusal changes nothing.
#[test]
fn table_refuses_the_owner() {
    check_table_ops(&TableInput {
        own: Guid::new(7),
        b: pastry_kernel::DigitWidth::B4,
        ops: vec![
            TableOp::Offer(Guid::new(1 << 127), 3),
            TableOp::Offer(Guid::new(7), 0),
            TableOp::Offer(Guid::new(1 << 126), 1),
        ],
    });
}

/// `Learned::leaf_set` and `LeafSet::insert` report a node that *entered* the leaf set, not a
/// member placed on its other side. L = 4 on a 16-bit ring around 0, nodes 0x4000, 0x8000 and
/// 0xc000: the successors are 0x4000 and 0x8000, the predecessors 0xc000 and 0x8000, and the
/// shared 0x8000 makes the leaf set know the whole ring. Forgetting 0x4000 leaves one successor
/// (no hole: the whole ring is still known). Learning 0xc000 again appends it to the successors
/// as well, but it was a member already: a refresh, so `learn` reports nothing added, as
/// `admits` said beforehand. Before, `leaf_set` was true here (`insert` returned "a side gained
/// the node") and `Learned::added` counted the refresh as an addition, against its own
/// documentation.
#[test]
fn relearning_a_member_that_fits_its_other_side_is_a_refresh() {
    let config = Config::new(4, 4, 8).unwrap();
    let mut state: NodeState<u32, u16> = NodeState::new(config, NodeRef::new(0, 0));
    for (i, id) in [0x4000u16, 0x8000, 0xc000].into_iter().enumerate() {
        let learned = state.learn(NodeRef::new(id, i as u32 + 1), 5).unwrap();
        assert!(learned.leaf_set && learned.added(), "{id:#x} enters");
    }
    let ids = |s: &[NodeRef<u32, u16>]| s.iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids(state.leaf_set().successors()), [0x4000, 0x8000]);
    assert_eq!(ids(state.leaf_set().predecessors()), [0xc000, 0x8000]);
    let gone = state.forget(0x4000).unwrap();
    assert!(gone.leaf_set.successor);
    assert_eq!(ids(state.leaf_set().successors()), [0x8000]);
    assert!(state.leaf_set().knows_whole_ring());
    assert!(!state.admits(0xc000, 5).any());

    let again = state.learn(NodeRef::new(0xc000, 13), 5).unwrap();
    assert_eq!(ids(state.leaf_set().successors()), [0x8000, 0xc000]);
    assert!(
        !again.leaf_set,
        "a member placed on its other side did not enter the leaf set"
    );
    assert!(matches!(again.table, Placement::Refreshed(..)));
    assert!(!again.neighborhood);
    assert!(!again.added());
    // Its handle is the new one on both sides.
    assert_eq!(state.leaf_set().successors()[1].handle, 13);
    assert_eq!(state.leaf_set().predecessors()[0].handle, 13);

    // The leaf set on its own says the same, and a node that was on neither side still enters.
    let mut leaf: LeafSet<u32, u16> = state.leaf_set().clone();
    assert_eq!(leaf.insert(NodeRef::new(0xc000, 14)), Ok(false));
    assert_eq!(leaf.insert(NodeRef::new(0x2000, 15)), Ok(true));
    assert_eq!(ids(leaf.successors()), [0x2000, 0x8000]);
}

/// `LeafSet::is_full` holds exactly when both sides hold L/2 nodes: not when empty, not when
/// the few known nodes wrap around short sides, and not when one side is full and the other
/// has lost a member.
#[test]
fn leaf_set_is_full_only_when_both_sides_hold_half() {
    let config = Config::new(4, 4, 0).unwrap();
    let mut leaf: LeafSet<u32, u16> = LeafSet::new(0, &config);
    assert!(!leaf.is_full());
    // One node: it is on both sides, each holding one of two.
    assert_eq!(leaf.insert(NodeRef::new(0x0100, 1)), Ok(true));
    assert_eq!((leaf.successors().len(), leaf.predecessors().len()), (1, 1));
    assert!(!leaf.is_full());
    for (h, id) in [0x0200u16, 0xff00, 0xfe00].into_iter().enumerate() {
        assert_eq!(leaf.insert(NodeRef::new(id, h as u32 + 2)), Ok(true));
    }
    assert_eq!((leaf.successors().len(), leaf.predecessors().len()), (2, 2));
    assert!(leaf.is_full());
    // A full successor side and a predecessor side that lost a member, and the mirror case.
    let mut short_predecessors = leaf.clone();
    short_predecessors.remove(0xfe00);
    assert_eq!(
        (
            short_predecessors.successors().len(),
            short_predecessors.predecessors().len()
        ),
        (2, 1)
    );
    assert!(!short_predecessors.is_full());
    let mut short_successors = leaf.clone();
    short_successors.remove(0x0200);
    assert_eq!(
        (
            short_successors.successors().len(),
            short_successors.predecessors().len()
        ),
        (1, 2)
    );
    assert!(!short_successors.is_full());
}

/// `Sides::any` is true when either flag is set, and only then.
#[test]
fn sides_any_is_true_when_either_flag_is() {
    let only = |successor, predecessor| Sides {
        successor,
        predecessor,
    };
    assert!(!Sides::NONE.any());
    assert!(only(true, false).any());
    assert!(only(false, true).any());
    assert!(Sides::BOTH.any());
}

/// When the successor arc reaches past the farthest predecessor (the arcs overlap, but no node
/// is on both sides), a key's nearest member may lie on the other side: `LeafSet::root` must
/// look at both. Around 0 on a 16-bit ring with L = 4, successors 0x1000 and 0x9000 and
/// predecessors 0xf000 and 0x8000 (an accepted leaf set, built here from its serde form): the
/// key 0x8100 is on the successor arc between 0x1000 and 0x9000, but its root is the
/// predecessor 0x8000. The key 0x1100 has its root among the successors (0x1000).
#[test]
fn leaf_set_root_looks_at_both_sides_when_the_arcs_overlap() {
    let node = |id: u16, handle: u32| serde_json::json!({"id": id, "handle": handle});
    let leaf: LeafSet<u32, u16> = serde_json::from_value(serde_json::json!({
        "own": 0,
        "leaf_set_len": 4,
        "successors": [node(0x1000, 1), node(0x9000, 2)],
        "predecessors": [node(0xf000, 3), node(0x8000, 4)],
        "holes": {"successor": false, "predecessor": false},
    }))
    .expect("an accepted leaf set");
    assert!(!leaf.knows_whole_ring());
    assert!(leaf.covers(0x8100));
    let root = |key| match leaf.root(key) {
        LeafRoot::Member(n) => Some(n.id),
        LeafRoot::Own => Some(0),
        LeafRoot::NotCovered => None,
    };
    assert_eq!(root(0x8100), Some(0x8000));
    assert_eq!(root(0x8f00), Some(0x9000));
    assert_eq!(root(0x1100), Some(0x1000));
    assert_eq!(root(0x0100), Some(0));
}

/// `learn`'s answer carries no node, only the three structures' outcomes, so it is returned in
/// a register (issue 12, item 6: most offers are refused, and a 64-byte answer holding an
/// evicted entry cost more than the refusal). `RoutingTable::insert` reports a replacement
/// without the evicted incumbent; the slot tells where it was.
#[test]
fn learned_carries_no_node() {
    use pastry_kernel::{Learned, StateError};
    assert!(core::mem::size_of::<Result<Learned, StateError>>() <= 8);
    let mut table: RoutingTable<u32, u16> =
        RoutingTable::new(0, pastry_kernel::arith::DigitWidth::B4);
    assert!(matches!(
        table.insert(NodeRef::new(0x8000, 1), 50),
        Ok(Placement::Added(..))
    ));
    let replaced = table.insert(NodeRef::new(0x8100, 2), 10).unwrap();
    assert!(matches!(replaced, Placement::Replaced(..)));
    let (r, c) = replaced.slot();
    assert_eq!(table.get(r, c).map(|e| e.node.id), Some(0x8100));
    assert_eq!(table.len(), 1);
}
