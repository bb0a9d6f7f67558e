//! Laws of the lookup calls: `next_hops` (Common API local_lookup), `route_avoiding`,
//! `route_randomized`, `neighbor_set` and `range`, on narrow rings against brute force.

use std::collections::BTreeSet;

use pastry_kernel::arith::{closer, cw, makes_progress};
use pastry_kernel::{Config, NodeRef, NodeState, ReplicaSet, Route, Via, RANDOMIZED_CHOICES};
use proptest::prelude::*;

mod common;

type Node = NodeRef<usize, u16>;

/// A network on the 16-bit ring whose states come from global knowledge (true leaf sets), with
/// proximity |i − j| between handles and one candidate per slot.
fn network(config: Config, ids: &BTreeSet<u16>) -> (Vec<Node>, Vec<NodeState<usize, u16>>) {
    let ring: Vec<Node> = ids
        .iter()
        .enumerate()
        .map(|(h, &id)| NodeRef::new(id, h))
        .collect();
    let states = ring
        .iter()
        .map(|n| NodeState::from_ring(config, *n, &ring, |m| n.handle.abs_diff(m.handle) as u32, 1))
        .collect();
    (ring, states)
}

fn root(ring: &[Node], key: u16) -> Node {
    *ring
        .iter()
        .reduce(|a, b| if closer(&key, &b.id, &a.id) { b } else { a })
        .expect("non-empty")
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(vec![1u32, 2, 4, 8]),
        prop::sample::select(vec![2usize, 4, 8, 16]),
        0usize..8,
    )
        .prop_map(|(b, l, m)| Config::new(b, l, m).expect("valid"))
}

fn ids() -> impl Strategy<Value = BTreeSet<u16>> {
    prop::collection::btree_set(any::<u16>(), 1..120)
}

/// A valid next hop of `key` at `s`: strictly closer in the leaf-set case, else progress.
fn is_valid_hop(s: &NodeState<usize, u16>, key: u16, to: &Node) -> bool {
    let b = s.config().digit_width();
    let covered = s.leaf_set().covers(key);
    if covered {
        closer(&key, &to.id, &s.id())
    } else {
        makes_progress(&key, &s.id(), &to.id, b)
    }
}

proptest! {
    #![proptest_config(common::seeded(64, "proptest-regressions/lookup_common_api.txt"))]

    #[test]
    fn next_hops_first_is_route_and_all_are_valid_distinct_and_ranked(
        config in config(), ids in ids(), keys in prop::collection::vec(any::<u16>(), 8),
        cap in 0usize..12,
    ) {
        let (_, states) = network(config, &ids);
        for s in states.iter().step_by(7) {
            for &key in &keys {
                let mut buf = vec![None; cap];
                let n = s.next_hops(key, &mut buf);
                prop_assert!(n <= cap);
                prop_assert!(buf[n..].iter().all(Option::is_none));
                let hops: Vec<Node> = buf[..n].iter().map(|h| h.expect("written")).collect();
                if cap > 0 {
                    prop_assert_eq!(hops.first().copied(), s.route(key).next_hop());
                }
                let distinct: BTreeSet<u16> = hops.iter().map(|h| h.id).collect();
                prop_assert_eq!(distinct.len(), hops.len());
                for h in &hops {
                    prop_assert!(is_valid_hop(s, key, h));
                    prop_assert!(s.knows(h.id));
                }
                // A larger buffer extends the ranking without reordering it.
                let mut more = vec![None; cap + 5];
                let m = s.next_hops(key, &mut more);
                prop_assert!(m >= n);
                prop_assert_eq!(&more[..n], &buf[..n]);
            }
        }
    }

    #[test]
    fn route_avoiding_without_suspects_is_route(
        config in config(), ids in ids(), keys in prop::collection::vec(any::<u16>(), 8),
    ) {
        let (_, states) = network(config, &ids);
        for s in &states {
            for &key in &keys {
                prop_assert_eq!(s.route_avoiding(key, |_| false), s.route(key));
                prop_assert_eq!(s.route_randomized(key, 0), s.route(key));
            }
        }
    }

    #[test]
    fn route_avoiding_is_the_first_unsuspected_next_hop(
        config in config(), ids in ids(), keys in prop::collection::vec(any::<u16>(), 8),
        suspects in prop::collection::btree_set(any::<u16>(), 0..60),
    ) {
        let (ring, states) = network(config, &ids);
        let suspect: BTreeSet<u16> =
            suspects.iter().map(|&i| ring[usize::from(i) % ring.len()].id).collect();
        for s in states.iter().step_by(5) {
            for &key in &keys {
                let mut buf = vec![None; 300];
                let n = s.next_hops(key, &mut buf);
                let first = buf[..n].iter().flatten().find(|h| !suspect.contains(&h.id)).copied();
                let r = s.route_avoiding(key, |m| suspect.contains(&m.id));
                prop_assert_eq!(r.next_hop(), first);
                if let Route::Forward { to, via } = r {
                    prop_assert!(!suspect.contains(&to.id));
                    prop_assert!(is_valid_hop(s, key, &to));
                    prop_assert_eq!(via == Via::LeafSet, s.leaf_set().covers(key));
                }
            }
        }
    }

    #[test]
    fn route_randomized_is_one_of_the_first_choices(
        config in config(), ids in ids(), key in any::<u16>(), r in any::<u64>(),
    ) {
        let (_, states) = network(config, &ids);
        for s in &states {
            let mut buf = [None; RANDOMIZED_CHOICES];
            let n = s.next_hops(key, &mut buf);
            let got = s.route_randomized(key, r);
            match got {
                Route::Deliver => prop_assert_eq!(n, 0),
                // The leaf-set case has no choice: route(k)'s root.
                _ if s.leaf_set().covers(key) => prop_assert_eq!(got, s.route(key)),
                Route::Forward { to, via } => {
                    let i = buf[..n].iter().position(|h| *h == Some(to));
                    prop_assert_eq!(i, Some((r.trailing_ones() as usize).min(n - 1)));
                    // Off the arc: step 2 when `to` is the key's table slot, else step 3.
                    let slot = s.table().next_hop(key).map(|e| e.node.id);
                    let step = if slot == Some(to.id) { Via::Table } else { Via::RareCase };
                    prop_assert_eq!(via, step);
                }
            }
        }
    }

    #[test]
    fn randomized_routes_reach_the_root(
        config in config(), ids in ids(), keys in prop::collection::vec(any::<u16>(), 16),
        seed in any::<u64>(),
    ) {
        let (ring, states) = network(config, &ids);
        let mut r = seed;
        for (i, &key) in keys.iter().enumerate() {
            let mut at = i % ring.len();
            let mut hops = 0;
            while let Route::Forward { to, .. } = states[at].route_randomized(key, r) {
                r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                at = to.handle;
                hops += 1;
                prop_assert!(hops <= 64, "randomized route loops");
            }
            prop_assert_eq!(ring[at], root(&ring, key));
        }
    }

    #[test]
    fn neighbor_set_is_the_nearest_members_in_id_order(
        config in config(), ids in ids(), n in 0usize..40,
    ) {
        let (_, states) = network(config, &ids);
        for s in states.iter().step_by(3) {
            let got: Vec<u16> = s.neighbor_set(n).map(|m| m.id).collect();
            let mut all: Vec<u16> = s.leaf_set().iter().map(|m| m.id).collect();
            let own = s.id();
            all.sort_by(|a, b| {
                if closer(&own, a, b) { core::cmp::Ordering::Less }
                else if a == b { core::cmp::Ordering::Equal }
                else { core::cmp::Ordering::Greater }
            });
            all.truncate(n);
            prop_assert_eq!(got, all);
        }
    }

    #[test]
    fn range_is_exactly_the_keys_of_rank_at_most_r(
        config in config(), ids in prop::collection::btree_set(any::<u16>(), 1..40),
        keys in prop::collection::vec(any::<u16>(), 64),
    ) {
        let (ring, states) = network(config, &ids);
        for s in states.iter().step_by(3) {
            let own = s.id();
            for rank in 0..config.leaf_set_len() {
                let Some(arc) = s.range(rank) else {
                    // Only undeterminable past L/2 − 1 when the leaf set does not know the ring.
                    prop_assert!(rank + 1 > config.leaf_set_half());
                    prop_assert!(!s.leaf_set().knows_whole_ring());
                    continue;
                };
                prop_assert!(arc.contains(own));
                // The two ends and the keys just outside them, plus random keys.
                let probes = keys.iter().copied().chain([
                    arc.start, arc.end, arc.start.wrapping_sub(1), arc.end.wrapping_add(1),
                ]);
                for key in probes {
                    let ahead = ring.iter().filter(|m| closer(&key, &m.id, &own)).count();
                    prop_assert_eq!(
                        arc.contains(key), ahead <= rank,
                        "rank {} key {:#06x} arc {:?}", rank, key, arc
                    );
                }
            }
        }
    }
}

#[test]
fn range_covers_every_key_exactly_on_a_byte_ring() {
    // Exhaustive on an 8-bit ring: for every node, rank and key, membership in range(rank) is
    // "fewer than rank + 1 nodes are closer to the key".
    for (n, step) in [(1usize, 1u8), (2, 128), (5, 37), (17, 15), (40, 6)] {
        let mut ring: Vec<NodeRef<usize, u8>> = (0..n)
            .map(|i| NodeRef::new((i as u8).wrapping_mul(step).wrapping_add(3), i))
            .collect();
        ring.sort_by_key(|m| m.id);
        for l in [2usize, 4, 8] {
            let config = Config::new(2, l, 0).expect("valid");
            for own in &ring {
                let s = NodeState::from_ring(config, *own, &ring, |_| 0, 1);
                for rank in 0..l / 2 {
                    let arc = s.range(rank).expect("determinable below L/2");
                    let mut count = 0usize;
                    for key in 0..=u8::MAX {
                        let ahead = ring.iter().filter(|m| closer(&key, &m.id, &own.id)).count();
                        assert_eq!(
                            arc.contains(key),
                            ahead <= rank,
                            "n {n} own {own:?} rank {rank} key {key}"
                        );
                        count += usize::from(ahead <= rank);
                    }
                    assert_eq!(count, usize::from(arc.span()) + 1);
                    assert_eq!(arc.is_full(), count == 256);
                }
            }
        }
    }
}

#[test]
fn range_is_unknown_while_a_leaf_set_side_has_a_hole() {
    let ring: Vec<Node> = (0..64).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
    let mut s = NodeState::from_ring(Config::PAPER, ring[10], &ring, |_| 1, 1);
    assert!(s.range(7).is_some());
    s.forget(ring[11].id).expect("other id");
    // Seven successors remain: rank 6 (7 nodes) is known, rank 7 is not.
    assert!(s.range(6).is_some());
    assert_eq!(s.range(7), None);
    assert_eq!(s.range(usize::MAX), None);
    // Rank 0 after the hole: the keys up to the midpoint with node 12.
    let arc = s.range(0).expect("known");
    assert_eq!(arc.end, 10_000 + (cw(&10_000u16, &12_000) - 1) / 2);
    assert_eq!(arc.start, 10_000 - 500);
}

#[test]
fn next_hops_with_an_empty_buffer_writes_nothing() {
    let ring: Vec<Node> = (0..64).map(|i| NodeRef::new(i as u16 * 1000, i)).collect();
    let s = NodeState::from_ring(Config::PAPER, ring[0], &ring, |_| 1, 1);
    assert_eq!(s.next_hops(40_000, &mut []), 0);
    // Own id: route(k) delivers, so there is no next hop.
    let mut buf = [None; 4];
    assert_eq!(s.next_hops(0, &mut buf), 0);
    assert_eq!(buf, [None; 4]);
}

/// Found by `randomized_routes_reach_the_root`: a randomized route that bounced between two
/// nodes for ever. Nodes 0x3055, 0x3056 and 0xd6d8 on the 16-bit ring, b = 1, L = 2, |M| = 0.
/// Key 0x8000 is covered at 0xd6d8; its valid next hops are the root 0x3056 and 0x3055, both
/// closer to the key. Root cause: `route_randomized` chose among them, and 0x3055, which does
/// not cover the key and shares no digit with it, sends it back by its table entry
/// R[0][1] = 0xd6d8. Now the leaf-set case takes route(k)'s root whatever the random value.
#[test]
fn randomized_route_of_a_covered_key_takes_the_root() {
    let config = Config::new(1, 2, 0).expect("valid");
    let ids: BTreeSet<u16> = [0x3055, 0x3056, 0xd6d8].into();
    let (ring, states) = network(config, &ids);
    let key = 0x8000;
    let root = root(&ring, key);
    assert_eq!(root.id, 0x3056);
    let at = &states[2];
    assert!(at.leaf_set().covers(key));
    let mut buf = [None; RANDOMIZED_CHOICES];
    assert_eq!(at.next_hops(key, &mut buf), 2, "two valid next hops");
    for r in [0, 1, 3, 0xff, u64::MAX] {
        assert_eq!(
            at.route_randomized(key, r),
            Route::Forward {
                to: root,
                via: Via::LeafSet
            },
            "r = {r:#x}"
        );
    }
    // The second choice would come straight back.
    assert_eq!(buf[1].map(|n| n.id), Some(0x3055));
    assert_eq!(states[0].route(key).next_hop().map(|n| n.id), Some(0xd6d8));
}

/// The largest replica set, L/2 + 1 = 33 nodes for L = 64, fits: `ReplicaSet::CAPACITY` is
/// exactly that, and a full leaf set of the largest size answers `replicaSet(k, 33)` with 33
/// distinct nodes, closest first, the root at rank 0. `is_empty` and `get` agree with `iter`.
#[test]
fn the_largest_replica_set_fits_and_its_accessors_agree() {
    assert_eq!(ReplicaSet::<usize, u16>::CAPACITY, 33);
    let config = Config::new(4, Config::MAX_LEAF_SET, 0).expect("valid");
    assert_eq!(config.max_replicas(), 33);
    assert_eq!(Config::PAPER.max_replicas(), 9);
    let ring: Vec<Node> = (0..100).map(|i| NodeRef::new(i as u16 * 600, i)).collect();
    let s = NodeState::from_ring(config, ring[50], &ring, |_| 1, 1);
    assert!(s.leaf_set().is_full());
    let key = 30_100;
    let set = s.replica_set(key, usize::MAX);
    assert_eq!(set.len(), 33);
    assert!(!set.is_empty());
    let got: Vec<u16> = set.iter().map(|n| n.id).collect();
    let mut expected: Vec<u16> = ring.iter().map(|n| n.id).collect();
    expected.sort_by(|a, b| {
        if closer(&key, a, b) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    // The leaf set holds ranks 18..=82 of the ring around node 50; the 33 closest to the key
    // (which lies at node 50 + 1/6) are all among them.
    assert_eq!(got, expected[..33]);
    assert_eq!(set.get(0).map(|n| n.id), Some(root(&ring, key).id));
    for (i, n) in set.iter().enumerate() {
        assert_eq!(set.get(i), Some(n));
    }
    assert_eq!(set.get(33), None);
    let none = s.replica_set(key, 0);
    assert!(none.is_empty());
    assert_eq!(none.len(), 0);
    assert_eq!(none.get(0), None);
    let one = s.replica_set(key, 1);
    assert!(!one.is_empty());
    assert_eq!(one.len(), 1);
}

/// A host's suspicion check may cost a lookup: with no suspects, `route_avoiding` asks about
/// the one node it returns when the leaf set covers the key or the key's table slot is filled,
/// and about no node when it delivers locally.
#[test]
fn route_avoiding_asks_only_about_the_chosen_node_when_no_one_is_suspect() {
    let ring: Vec<Node> = (0..200).map(|i| NodeRef::new(i as u16 * 317, i)).collect();
    let s = NodeState::from_ring(Config::PAPER, ring[100], &ring, |_| 1, 1);
    let mut covered = 0;
    for key in (0..=u16::MAX).step_by(101) {
        let mut asked = Vec::new();
        let got = s.route_avoiding(key, |n| {
            asked.push(n.id);
            false
        });
        assert_eq!(got, s.route(key), "key {key}");
        match got {
            Route::Deliver => assert!(asked.is_empty(), "key {key}: {asked:?}"),
            Route::Forward { to, via } if via != Via::RareCase => {
                assert_eq!(asked, [to.id], "key {key}");
                covered += usize::from(via == Via::LeafSet);
            }
            Route::Forward { .. } => {}
        }
    }
    assert!(covered > 0, "no key was covered");
}
