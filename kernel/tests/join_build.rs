//! Laws of `NodeState::join`, `members` and the merges, on narrow rings.

use std::collections::BTreeSet;

use pastry_kernel::arith::{closer, shl_len, slot_of};
use pastry_kernel::{Config, NodeRef, NodeState, Row, StateError};
use proptest::prelude::*;

mod common;

type Node = NodeRef<usize, u16>;
type State = NodeState<usize, u16>;

/// Proximity between handles: |i − j| (handles are indices, so nearby handles are near).
fn prox(from: usize) -> impl Fn(&Node) -> u32 + Copy {
    move |n: &Node| from.abs_diff(n.handle) as u32
}

/// States from global knowledge for the nodes of `ids`, handles in id order; the joining node
/// `x` gets handle `ids.len()`.
fn network(config: Config, ids: &BTreeSet<u16>) -> (Vec<Node>, Vec<State>) {
    let ring: Vec<Node> = ids
        .iter()
        .enumerate()
        .map(|(h, &id)| NodeRef::new(id, h))
        .collect();
    let states = ring
        .iter()
        .map(|n| NodeState::from_ring(config, *n, &ring, prox(n.handle), 2))
        .collect();
    (ring, states)
}

/// The join route of key `x` from node `a`.
fn route(states: &[State], a: usize, x: u16) -> Vec<usize> {
    let mut path = vec![a];
    while let Some(n) = states[*path.last().expect("non-empty")].route(x).next_hop() {
        path.push(n.handle);
        assert!(path.len() < 40, "route loops");
    }
    path
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![1u32, 2, 4]),
        prop::sample::select(vec![2usize, 4, 8, 16]),
        0usize..10,
    )
        .prop_map(|(b, l, m)| Config::new(b, l, m).expect("valid"))
}

fn setup() -> impl Strategy<Value = (Config, BTreeSet<u16>, u16, usize)> {
    (
        config(),
        prop::collection::btree_set(any::<u16>(), 1..150),
        any::<u16>(),
        any::<usize>(),
    )
        .prop_filter("x is new", |(_, ids, x, _)| !ids.contains(x))
}

proptest! {
    #![proptest_config(common::seeded(64, "proptest-regressions/join_build.txt"))]

    /// Row r comes from the first route node N with shl(N, X) ≥ r: every entry of that row is
    /// offered, so X's slot for it is filled with a node at least as near.
    #[test]
    fn join_takes_row_i_from_the_ith_node((config, ids, x, a) in setup()) {
        let (ring, states) = network(config, &ids);
        let a = a % ring.len();
        let me = NodeRef::new(x, ring.len());
        let path = route(&states, a, x);
        let snaps: Vec<&State> = path.iter().map(|&h| &states[h]).collect();
        let s = NodeState::join(config, me, &snaps, prox(me.handle)).expect("valid route");
        let b = config.digit_width();
        let mut next_row = 0u32;
        for &h in &path {
            let top = shl_len(ring[h].id, x, b);
            for r in next_row..=top {
                for (_, e) in states[h].table().row(Row(r as u8)) {
                    let (row, col) = slot_of(x, e.node.id, b).expect("other id");
                    let held = s.table().get(row, col).expect("offered slot is filled");
                    prop_assert!(held.proximity <= prox(me.handle)(&e.node));
                }
            }
            next_row = next_row.max(top + 1);
            // Each route node was offered: X holds it, or its slot holds a node as near.
            let (row, col) = slot_of(x, ring[h].id, b).expect("other id");
            let held = s.table().get(row, col).expect("offered slot is filled");
            prop_assert!(held.proximity <= prox(me.handle)(&ring[h]));
        }
    }

    /// The leaf set comes from Z plus Z: with true leaf sets on the route it is X's true leaf
    /// set.
    #[test]
    fn join_leaf_set_is_the_true_one((config, ids, x, a) in setup()) {
        let (ring, states) = network(config, &ids);
        let a = a % ring.len();
        let me = NodeRef::new(x, ring.len());
        let path = route(&states, a, x);
        prop_assert_eq!(ring[*path.last().expect("z")].id, {
            ring.iter().map(|n| n.id).reduce(|p, q| if closer(&x, &q, &p) { q } else { p }).expect("z")
        });
        let snaps: Vec<&State> = path.iter().map(|&h| &states[h]).collect();
        let s = NodeState::join(config, me, &snaps, prox(me.handle)).expect("valid route");
        let mut all = ring.clone();
        all.push(me);
        all.sort_by_key(|n| n.id);
        let truth = NodeState::from_ring(config, me, &all, prox(me.handle), 1);
        prop_assert_eq!(s.leaf_set(), truth.leaf_set());
    }

    /// The neighborhood set comes from A plus A: X keeps the |M| nearest of everything offered,
    /// so A (X's nearest by construction here) is in it whenever |M| > 0.
    #[test]
    fn join_neighborhood_starts_from_a((config, ids, x, a) in setup()) {
        let (ring, states) = network(config, &ids);
        let a = a % ring.len();
        let me = NodeRef::new(x, ring.len());
        let path = route(&states, a, x);
        let snaps: Vec<&State> = path.iter().map(|&h| &states[h]).collect();
        // Proximity: A is at 0, everyone else farther.
        let p = |n: &Node| if n.handle == a { 0 } else { 1 + n.handle as u32 };
        let s = NodeState::join(config, me, &snaps, p).expect("valid route");
        if config.neighborhood_len() > 0 {
            prop_assert_eq!(s.neighborhood().entries().first().map(|e| e.node), Some(ring[a]));
        }
        for e in states[a].neighborhood().entries() {
            let held = s.neighborhood().get(e.node.id).is_some();
            let full_of_nearer = s.neighborhood().len() == config.neighborhood_len()
                && s.neighborhood().entries().iter().all(|f| f.proximity <= p(&e.node));
            prop_assert!(held || full_of_nearer);
        }
    }

    /// members() lists every node of every structure exactly once.
    #[test]
    fn members_are_every_known_node_once((config, ids, x, a) in setup()) {
        let (ring, states) = network(config, &ids);
        let s = &states[a % ring.len()];
        let _ = x;
        let members: Vec<u16> = s.members().map(|n| n.id).collect();
        let distinct: BTreeSet<u16> = members.iter().copied().collect();
        prop_assert_eq!(distinct.len(), members.len());
        let mut union: BTreeSet<u16> = s.leaf_set().iter().map(|n| n.id).collect();
        union.extend(s.table().iter().map(|(_, _, e)| e.node.id));
        union.extend(s.neighborhood().entries().iter().map(|e| e.node.id));
        prop_assert_eq!(distinct, union);
    }

    /// The second stage only ever replaces a slot's node by a nearer one, and keeps the leaf set
    /// true.
    #[test]
    fn merge_state_makes_no_slot_farther((config, ids, x, a) in setup(), others in prop::collection::vec(any::<usize>(), 1..6)) {
        let (ring, states) = network(config, &ids);
        let a = a % ring.len();
        let me = NodeRef::new(x, ring.len());
        let path = route(&states, a, x);
        let snaps: Vec<&State> = path.iter().map(|&h| &states[h]).collect();
        let mut s = NodeState::join(config, me, &snaps, prox(me.handle)).expect("valid route");
        let leaf_before = s.leaf_set().clone();
        for o in others {
            let before = s.clone();
            let m = s.merge_state(&states[o % ring.len()], prox(me.handle)).expect("valid");
            prop_assert!(m.added <= m.offered);
            for (r, c, e) in before.table().iter() {
                let now = s.table().get(r, c).expect("slots never empty");
                prop_assert!(now.proximity <= e.proximity);
            }
            s.invariants();
        }
        prop_assert_eq!(s.leaf_set(), &leaf_before);
    }
}

fn small() -> (Vec<Node>, Vec<State>) {
    let ids: BTreeSet<u16> = (0..40u16).map(|i| i.wrapping_mul(1637)).collect();
    network(Config::PAPER, &ids)
}

#[test]
fn join_with_an_empty_route_is_a_lone_node() {
    let me = NodeRef::new(7u16, 0usize);
    let s = NodeState::join(Config::PAPER, me, &[], prox(0)).expect("lone node");
    assert_eq!(s, NodeState::new(Config::PAPER, me));
    assert_eq!(s.members().count(), 0);
}

#[test]
fn join_rejects_a_snapshot_of_another_config() {
    let (_, states) = small();
    let other = Config::new(4, 8, 32).expect("valid");
    let me = NodeRef::new(12_345u16, 99usize);
    let r = NodeState::join(other, me, &[&states[0], &states[1]], prox(99));
    assert_eq!(r, Err(StateError::ConfigMismatch));
}

#[test]
fn join_rejects_a_taken_id() {
    let (ring, states) = small();
    let me = NodeRef::new(ring[3].id, 99usize);
    let r = NodeState::join(Config::PAPER, me, &[&states[0], &states[3]], prox(99));
    assert_eq!(r, Err(StateError::OwnId));
}

#[test]
fn probe_none_leaves_a_node_out() {
    let (ring, states) = small();
    let me = NodeRef::new(12_345u16, 99usize);
    let banned = ring[5].id;
    let s = NodeState::join(Config::PAPER, me, &[&states[5]], |n: &Node| {
        (n.id != banned).then_some(1u32)
    })
    .expect("valid");
    assert!(!s.knows(banned));
    assert!(s.members().count() > 0);
    let mut t = s.clone();
    let m = t.merge_state(&states[6], |n: &Node| (n.id != banned).then_some(1u32));
    assert!(m.expect("valid").refused >= 1);
    assert!(!t.knows(banned));
}

#[test]
fn rejected_merges_leave_the_state_unchanged() {
    let (ring, states) = small();
    let mut s = states[0].clone();
    let before = s.clone();

    // Another configuration.
    let alien = NodeState::from_ring(Config::FREEPASTRY, ring[1], &ring, prox(1), 1);
    assert_eq!(
        s.merge_state(&alien, prox(0)),
        Err(StateError::ConfigMismatch)
    );
    assert_eq!(
        s.merge_leaf_set(&ring[1], alien.leaf_set(), prox(0)),
        Err(StateError::ConfigMismatch)
    );
    let narrow = NodeState::from_ring(
        Config::new(2, 16, 32).expect("valid"),
        ring[1],
        &ring,
        prox(1),
        1,
    );
    assert_eq!(
        s.merge_row(&ring[1], narrow.table(), Row(0), prox(0)),
        Err(StateError::ConfigMismatch)
    );
    let small_m = NodeState::from_ring(
        Config::new(4, 16, 3).expect("valid"),
        ring[1],
        &ring,
        prox(1),
        1,
    );
    assert_eq!(
        s.merge_neighborhood(&ring[1], small_m.neighborhood(), prox(0)),
        Err(StateError::ConfigMismatch)
    );

    // Its own state, or data attributed to the wrong node.
    assert_eq!(s.merge_state(&before, prox(0)), Err(StateError::OwnId));
    assert_eq!(
        s.merge_leaf_set(&ring[0], states[1].leaf_set(), prox(0)),
        Err(StateError::OwnId)
    );
    assert_eq!(
        s.merge_leaf_set(&ring[2], states[1].leaf_set(), prox(0)),
        Err(StateError::WrongOwner)
    );
    assert_eq!(
        s.repair_leaf_set(&ring[0], states[1].leaf_set(), prox(0)),
        Err(StateError::OwnId)
    );
    assert_eq!(
        s.repair_leaf_set(&ring[2], states[1].leaf_set(), prox(0)),
        Err(StateError::WrongOwner)
    );
    assert_eq!(
        s.repair_leaf_set(&ring[1], alien.leaf_set(), prox(0)),
        Err(StateError::ConfigMismatch)
    );
    assert_eq!(
        s.merge_row(&ring[2], states[1].table(), Row(0), prox(0)),
        Err(StateError::WrongOwner)
    );
    // A set that holds `from` cannot be `from`'s own set.
    let holder = states[1]
        .neighborhood()
        .entries()
        .iter()
        .map(|e| e.node)
        .find(|n| n.id != ring[0].id)
        .expect("a member");
    assert_eq!(
        s.merge_neighborhood(&holder, states[1].neighborhood(), prox(0)),
        Err(StateError::WrongOwner)
    );
    assert_eq!(s, before);
}

#[test]
fn accepted_merges_only_add_knowledge() {
    let (ring, states) = small();
    let mut s = NodeState::new(Config::PAPER, ring[0]);
    let m = s
        .merge_leaf_set(&ring[1], states[1].leaf_set(), prox(0))
        .expect("valid");
    assert_eq!(m.offered, states[1].leaf_set().len());
    assert!(s.knows(ring[1].id));
    let m = s
        .merge_row(&ring[2], states[2].table(), Row(0), prox(0))
        .expect("valid");
    assert!(m.offered >= 1);
    let m = s
        .merge_neighborhood(&ring[3], states[3].neighborhood(), prox(0))
        .expect("valid");
    assert!(m.offered >= 1);
    let m = s.merge_nodes(ring.iter().copied(), prox(0));
    assert_eq!(m.offered, ring.len() - 1);
    assert_eq!(s.leaf_set(), states[0].leaf_set());
}

/// A plain proximity figure is a probe that keeps the node at that figure (`Probe` for
/// `Proximity`), unlike `None`, which leaves it out: merged nodes enter the neighborhood set
/// nearest first at exactly the figures given, and the nearer of two candidates takes a
/// routing-table slot.
#[test]
fn a_plain_proximity_probe_keeps_each_node_at_its_figure() {
    use pastry_kernel::Probe;
    assert_eq!(7u32.figure(), Some(7));
    assert_eq!(Some(7u32).figure(), Some(7));
    assert_eq!(None::<u32>.figure(), None);

    let config = Config::new(4, 4, 8).expect("valid");
    let mut s: State = NodeState::new(config, NodeRef::new(0x0000, 0));
    // 0x8100 and 0x8200 share slot R[0][8]; 0x8200 is nearer.
    let nodes = [(0x4000u16, 30u32), (0x8100, 20), (0x8200, 10)];
    let merged = s.merge_nodes(
        nodes
            .iter()
            .enumerate()
            .map(|(h, &(id, _))| NodeRef::new(id, h + 1)),
        |n: &Node| {
            nodes
                .iter()
                .find(|&&(id, _)| id == n.id)
                .map_or(99, |&(_, p)| p)
        },
    );
    assert_eq!((merged.offered, merged.added, merged.refused), (3, 3, 0));
    let hood: Vec<(u16, u32)> = s
        .neighborhood()
        .entries()
        .iter()
        .map(|e| (e.node.id, e.proximity))
        .collect();
    assert_eq!(hood, [(0x8200, 10), (0x8100, 20), (0x4000, 30)]);
    let slot = s.table().get(Row(0), pastry_kernel::arith::Digit(8));
    assert_eq!(slot.map(|e| (e.node.id, e.proximity)), Some((0x8200, 10)));
}
